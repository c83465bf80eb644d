#pragma once
// Linear index -> byte offsets of N operands, for device kernels that give one element to each
// thread. Built on the host from coalesced strided operands (core/strided_loop.hpp), copied to
// the device by value as a kernel argument. Index is uint32_t when every offset fits (divisions
// in 32 bits are several times cheaper on a GPU), else int64_t.
#include <array>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "core/strided_loop.hpp"
#include "kernels/host_device.hpp"
#include "tapeflow/error.hpp"

namespace tapeflow::kernels {

// Dims an operand may keep after coalescing (more throws ShapeError in the host-side builder).
inline constexpr int kMaxKernelDims = 12;

template <int N, class Index>
struct OffsetCalc {
  int dims = 0;
  Index sizes[kMaxKernelDims] = {};      // innermost dim first
  Index strides[kMaxKernelDims][N] = {};  // bytes, per dim, per operand

  // Byte offsets of element `linear` (row-major over the iteration shape) for every operand.
  TAPEFLOW_HD std::array<Index, N> get(Index linear) const {
    std::array<Index, N> off{};
    for (int d = 0; d < dims; ++d) {
      const Index i = linear % sizes[d];
      linear /= sizes[d];
      for (int k = 0; k < N; ++k) off[k] += i * strides[d][k];
    }
    return off;
  }
};

// The coalesced operands as an OffsetCalc (innermost dim first); false when some offset needs
// more than Index holds.
template <std::size_t N, class Index>
bool make_offset_calc(const detail::StridedOperands<N>& ops, OffsetCalc<static_cast<int>(N), Index>& oc) {
  const int nd = static_cast<int>(ops.shape.size());
  if (nd > kMaxKernelDims)
    fail<ShapeError>("elementwise", "operands of ", nd, " non-mergeable dims; the CUDA kernels handle at most ",
                     kMaxKernelDims);
  constexpr long long limit = static_cast<long long>(std::numeric_limits<Index>::max());
  oc.dims = nd;
  for (int d = 0; d < nd; ++d) {
    const std::size_t src = static_cast<std::size_t>(nd - 1 - d);
    oc.sizes[d] = static_cast<Index>(ops.shape[src]);
    for (int k = 0; k < static_cast<int>(N); ++k) {
      const long long s = ops.strides[static_cast<std::size_t>(k)][src];
      // A negative stride (unsigned Index) or an extent beyond Index's range needs the 64-bit kernel.
      if ((s < 0 && !std::is_signed_v<Index>) || (s < 0 ? -s : s) * (ops.shape[src] - 1) > limit / 2) return false;
      oc.strides[d][k] = static_cast<Index>(s);
    }
  }
  return true;
}

}  // namespace tapeflow::kernels
