#pragma once
// Convolution as shifted GEMMs, without im2col. With an image zero-padded into an Hp x Wp plane,
// at stride 1 kernel tap (ki, kj) reads output pixel (oh, ow)'s input at plane offset
// oh * Wp + ow + (ki * dH * Wp + kj * dW): the same offset for every pixel plus a per-tap shift.
// So on an output grid of Ho rows of Wp columns (the last Wp - Wo of each row are thrown away),
// each tap is one GEMM of its Cout x C weights with a strided view of the padded planes, and the
// kH*kW-fold copy that im2col writes (and OpenBLAS then packs again) is gone. At stride s the
// padded planes are first split into s x s phase planes (every s-th row and column from each
// offset), and each tap reads one phase plane at a fixed shift (conv_shifted.cpp, Plane).
// conv.cpp routes a convolution here when conv_uses_shifted_gemm says it pays; pointers are to
// contiguous NCHW data as in conv.hpp, g.C is C_in / groups.
#include <cstdint>

#include "kernels/params.hpp"

namespace tapeflow::cpu {

using kernels::ConvGeom;

// Not pointwise, enough input channels per group for a GEMM over them alone, a window at least as
// wide as the stride, and few thrown-away grid columns.
bool conv_uses_shifted_gemm(const ConvGeom& g);

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
