#pragma once
// Convolution over shifted planes, without im2col. With an image zero-padded into planes of Wq
// columns, at stride 1 kernel tap (ki, kj) reads output pixel (oh, ow)'s input at plane offset
// oh * Wq + ow + (ki * dH * Wq + kj * dW): the same offset for every pixel plus a per-tap shift.
// So on an output grid of Ho rows of Wq columns (the last Wq - Wo of each row are thrown away), a
// convolution is a sum over channels and taps of shifted planes, which the vectorised kernels of
// conv_kernels.hpp compute with each block of outputs held in registers for the whole sum (the
// weight gradient of few output channels, or of a large accumulator, runs one OpenBLAS GEMM per
// tap instead). At stride s the padded planes are first split into s x s phase planes (every s-th
// row and column from each offset), and each tap reads one phase plane at a fixed shift
// (conv_shifted.cpp, Plane). conv.cpp routes a convolution here when conv_uses_shifted_planes
// says it pays; pointers are to contiguous NCHW data as in conv.hpp, g.C is C_in / groups.
#include <cstdint>

#include "kernels/params.hpp"

namespace tapeflow::cpu {

using kernels::ConvGeom;

// Vectorised kernels on this CPU, not pointwise, enough input channels per group, a window at
// least as wide as the stride, and few thrown-away grid columns.
bool conv_uses_shifted_planes(const ConvGeom& g);

// out (N, Cout, Ho, Wo) = conv(in (N, C_in, H, W), w (Cout, C, kH, kW)) + bias (may be null).
template <typename T>
void conv2d_forward_shifted(T* out, const T* in, const T* w, const T* bias, std::int64_t N, std::int64_t Cout,
                            const ConvGeom& g, std::int64_t groups);
// grad_in (N, C_in, H, W), overwritten, from grad_out (N, Cout, Ho, Wo) and w.
template <typename T>
void conv2d_backward_input_shifted(T* grad_in, const T* grad_out, const T* w, std::int64_t N, std::int64_t Cout,
                                   const ConvGeom& g, std::int64_t groups);
// grad_w (Cout, C, kH, kW), overwritten, from grad_out and in.
template <typename T>
void conv2d_backward_weight_shifted(T* grad_w, const T* grad_out, const T* in, std::int64_t N, std::int64_t Cout,
                                    const ConvGeom& g, std::int64_t groups);

}  // namespace tapeflow::cpu
