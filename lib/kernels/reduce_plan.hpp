#pragma once
// How a reduction walks its input, for kernels that give outputs to threads (CUDA): from the
// input's shape and strides and the ReduceMask, the number of outputs (row-major over the kept
// dims, the layout of the contiguous output tensor), the number of reduced positions, and two
// offset calculators: output index -> byte offset of the output's first input element, and
// reduced index -> byte offset from there. Size-1 dims are dropped and neighbours that are one
// constant stride are merged (also across dims of the other kind: the linear index stays the
// same). Reduced positions are row-major over the reduced dims in logical order when keep_order
// (argmax/argmin return them), else sorted by decreasing stride so that consecutive positions
// are as close in memory as the layout allows.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/host_device.hpp"
#include "kernels/offset_calc.hpp"
#include "kernels/params.hpp"
#include "tapeflow/error.hpp"
#include "tapeflow/shape.hpp"

namespace tapeflow::kernels {

struct ReducePlan {
  std::int64_t outputs = 1;           // kept elements (0: nothing to do)
  std::int64_t reduced = 1;           // positions per output (0: every output is the reducer's identity)
  OffsetCalc<1, std::int64_t> out;    // output index -> byte offset into the input
  OffsetCalc<1, std::int64_t> red;    // reduced index -> byte offset from an output's base
  std::int64_t out_inner_stride = 0;  // bytes between neighbouring outputs' bases (innermost kept dim)
  std::int64_t red_inner_stride = 0;  // bytes between neighbouring reduced positions (innermost reduced dim)

  TAPEFLOW_HD std::int64_t out_offset(std::int64_t o) const {
    return out.dims == 1 ? o * out.strides[0][0] : out.get(o)[0];
  }
  TAPEFLOW_HD std::int64_t red_offset(std::int64_t k) const {
    return red.dims == 1 ? k * red.strides[0][0] : red.get(k)[0];
  }
};

namespace reduce_plan_detail {

inline void push_merged(Shape& sizes, Shape& strides, std::int64_t size, std::int64_t stride) {
  if (size == 1) return;
  if (!sizes.empty() && strides.back() == stride * size) {
    sizes.back() *= size;
    strides.back() = stride;
  } else {
    sizes.push_back(size);
    strides.push_back(stride);
  }
}

// sizes/strides outermost first -> an OffsetCalc (innermost first); no dims means one position.
inline void fill_calc(const char* op, const Shape& sizes, const Shape& strides, OffsetCalc<1, std::int64_t>& oc) {
  const int nd = static_cast<int>(sizes.size());
  if (nd > kMaxKernelDims)
    fail<ShapeError>(op, "an input of ", nd, " non-mergeable dims; the CUDA reductions handle at most ",
                     kMaxKernelDims);
  oc.dims = nd;
  for (int d = 0; d < nd; ++d) {
    oc.sizes[d] = sizes[static_cast<std::size_t>(nd - 1 - d)];
    oc.strides[d][0] = strides[static_cast<std::size_t>(nd - 1 - d)];
  }
}

}  // namespace reduce_plan_detail

// sizes/strides: the input's (strides in elements); elem_size: bytes per element.
inline ReducePlan make_reduce_plan(const char* op, IntArrayRef sizes, IntArrayRef strides, std::int64_t elem_size,
                                   const ReduceMask& reduced, bool keep_order) {
  using reduce_plan_detail::push_merged;
  ReducePlan p;
  Shape kept_sizes, kept_strides, red_sizes, red_strides;
  std::vector<std::size_t> red;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (reduced[d]) {
      red.push_back(d);
      p.reduced *= sizes[d];
    } else {
      push_merged(kept_sizes, kept_strides, sizes[d], strides[d] * elem_size);
      p.outputs *= sizes[d];
    }
  }
  if (!keep_order)
    std::stable_sort(red.begin(), red.end(), [&](std::size_t a, std::size_t b) { return strides[a] > strides[b]; });
  for (std::size_t d : red) push_merged(red_sizes, red_strides, sizes[d], strides[d] * elem_size);
  reduce_plan_detail::fill_calc(op, kept_sizes, kept_strides, p.out);
  reduce_plan_detail::fill_calc(op, red_sizes, red_strides, p.red);
  p.out_inner_stride = kept_strides.empty() ? 0 : kept_strides.back();
  p.red_inner_stride = red_strides.empty() ? 0 : red_strides.back();
  return p;
}

}  // namespace tapeflow::kernels
