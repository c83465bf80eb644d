#pragma once
// Copies between layouts whose fastest dims differ (x.transpose(1, 3).contiguous(), a permute
// to NHWC): the element-by-element strided loop reads one element per cache line there.
#include "tapeflow/tensor.hpp"

namespace tapeflow::cpu {

// dst = src (same dtype and shape) through cache-sized square tiles when, after merging dims,
// dst's innermost dim is strided in src and some other dim is src's contiguous one. Returns
// false, copying nothing, when that is not the case (the caller's general loop then runs).
bool transpose_copy(const Tensor& dst, const Tensor& src);

}  // namespace tapeflow::cpu
