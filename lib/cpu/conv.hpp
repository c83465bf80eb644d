#pragma once
// 2-D convolution on the CPU: im2col/col2im (an adjoint pair, so conv backward can reuse them)
// and the im2col + GEMM forward. Tensors are contiguous NCHW; the op layer validates shapes.
#include <cstdint>

#include "tapeflow/tensor.hpp"
#include "kernels/params.hpp"

namespace tapeflow::cpu {

using kernels::ConvGeom;

// col = im2col(im): im is C x H x W, col is (C*kH*kW) x (Ho*Wo); padding reads as zero.
template <typename T> void im2col(const T* im, const ConvGeom& g, T* col);
// The adjoint of im2col: im += col2im(col) (each column entry is added where it was read from).
template <typename T> void col2im(const T* col, const ConvGeom& g, T* im);

// out (N, C_out, Ho, Wo) = conv(input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW)) + bias.
// All contiguous and of one floating dtype; bias may be undefined. g.C is C_in / groups.
void conv2d_forward(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                    const ConvGeom& g, std::int64_t groups);

// grad_input (N, C_in, H, W) of conv2d from grad (N, C_out, Ho, Wo) and weight: the adjoint in the
// input (col2im of W^T * grad). grad_weight (C_out, C_in/groups, kH, kW): the adjoint in the
// weight (grad * im2col(input)^T, summed over images). Overwrite their outputs; all contiguous.
void conv2d_backward_input(const Tensor& grad_input, const Tensor& grad, const Tensor& weight, const ConvGeom& g,
                           std::int64_t groups);
void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad, const Tensor& input, const ConvGeom& g,
                            std::int64_t groups);

extern template void im2col<float>(const float*, const ConvGeom&, float*);
extern template void im2col<double>(const double*, const ConvGeom&, double*);
extern template void col2im<float>(const float*, const ConvGeom&, float*);
extern template void col2im<double>(const double*, const ConvGeom&, double*);

}  // namespace tapeflow::cpu
