#pragma once
// 2-D convolution on CUDA devices, the contract of kernels::Backend's conv2d family (see
// lib/cpu/conv.hpp): contiguous NCHW tensors of one floating dtype, g.C = C_in / groups.
// im2col (kernels/conv_index.hpp) over a chunk of images, then cuBLAS GEMMs batched over images
// and groups; col2im is a gather (each input element sums its own column entries, no atomics).
#include <cstdint>

#include "kernels/params.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::cuda_backend {

void conv2d_forward(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                    const kernels::ConvGeom& g, std::int64_t groups);
void conv2d_backward_input(const Tensor& grad_input, const Tensor& grad, const Tensor& weight,
                           const kernels::ConvGeom& g, std::int64_t groups);
void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad, const Tensor& input,
                            const kernels::ConvGeom& g, std::int64_t groups);

}  // namespace tapeflow::cuda_backend
