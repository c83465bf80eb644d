#pragma once
// Strided copy with dtype conversion: dst[...] = cast(src[...]), src broadcast to dst's shape.
#include "tapeflow/tensor.hpp"

namespace tapeflow::cpu {
void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, Scalar value);
}  // namespace tapeflow::cpu
