#pragma once
// 2-D pooling on CUDA devices, the contract of kernels::Backend's pooling family (see
// lib/cpu/pool.hpp): `planes` contiguous H x W planes, windows from kernels/pool_window.hpp, the
// same max rule (NaN wins) and divisors as the CPU. Forward: one thread per output. Backward of
// the averages: a gather, one thread per input element over the outputs covering it; backward
// of max: the gradient added at each argmax (atomicAdd: windows may share an argmax).
#include <cstdint>

#include "kernels/params.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::cuda_backend {

void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, std::int64_t planes,
                const kernels::PoolGeom& g);
void max_pool2d_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& indices, std::int64_t planes);
void avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, const kernels::PoolGeom& g,
                bool count_include_pad);
void avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, const kernels::PoolGeom& g,
                         bool count_include_pad);
void adaptive_avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, std::int64_t H, std::int64_t W,
                         std::int64_t Ho, std::int64_t Wo);
void adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, std::int64_t H,
                                  std::int64_t W, std::int64_t Ho, std::int64_t Wo);

}  // namespace tapeflow::cuda_backend
