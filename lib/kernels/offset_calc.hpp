#pragma once
// Linear index -> byte offsets of N operands, for device kernels that give one element to each
// thread. Built on the host from coalesced strided operands (core/strided_loop.hpp), copied to
// the device by value as a kernel argument. Index is uint32_t when every offset fits (divisions
// in 32 bits are several times cheaper on a GPU), else int64_t.
#include <array>
#include <cstdint>

#include "kernels/host_device.hpp"

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

}  // namespace tapeflow::kernels
