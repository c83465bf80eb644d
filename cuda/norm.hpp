#pragma once
// CUDA normalisation kernels: the contracts of lib/cpu/norm.hpp (contiguous tensors of one
// floating dtype, statistics accumulated in double, weight/bias and gradients optional).
#include <cstdint>

#include "tapeflow/tensor.hpp"

namespace tapeflow::cuda_backend {

void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                const Tensor& bias, std::int64_t M, std::int64_t N, double eps);
void layer_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                         const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, std::int64_t M,
                         std::int64_t N);
void channel_moments(const Tensor& mean, const Tensor& var, const Tensor& x, std::int64_t N, std::int64_t C,
                     std::int64_t S);
void inverse_std(const Tensor& rstd, const Tensor& var, double eps);
void channel_normalize(const Tensor& out, const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                       const Tensor& bias, std::int64_t N, std::int64_t C, std::int64_t S);
void momentum_update(const Tensor& running, const Tensor& stat, double momentum, double factor);
void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                         const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, std::int64_t N,
                         std::int64_t C, std::int64_t S, bool training);

}  // namespace tapeflow::cuda_backend
