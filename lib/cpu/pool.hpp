#pragma once
// 2-D pooling on the CPU over `planes` contiguous H x W planes (N*C of an NCHW tensor).
#include <cstdint>

#include "tapeflow/tensor.hpp"
#include "kernels/params.hpp"

namespace tapeflow::cpu {

using kernels::PoolGeom;

// out = window maxima (NaN wins, as PyTorch); indices (int64, may be undefined) = the flat
// h * W + w position of each maximum within its plane, -1 for a window wholly in the padding
// (output -inf). All contiguous.
void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, std::int64_t planes, const PoolGeom& g);
// Its adjoint: grad_input (planes x H x W, overwritten) = grad (planes x Ho x Wo) added at the
// argmax `indices` of each output; an index outside the plane (-1) adds nothing. All contiguous.
void max_pool2d_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& indices, std::int64_t planes);
// out = window means; padding counts in the divisor when count_include_pad (dilation unused).
void avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, const PoolGeom& g, bool count_include_pad);
// PyTorch's adaptive windows: rows [floor(i*H/Ho), ceil((i+1)*H/Ho)), the same for columns.
void adaptive_avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, std::int64_t H, std::int64_t W,
                         std::int64_t Ho, std::int64_t Wo);
// The adjoints (backward) of the two averages: grad (planes x Ho x Wo) spread evenly over each
// window into grad_input (planes x H x W), which they overwrite.
void avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, const PoolGeom& g,
                         bool count_include_pad);
void adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, std::int64_t H,
                                  std::int64_t W, std::int64_t Ho, std::int64_t Wo);

}  // namespace tapeflow::cpu
