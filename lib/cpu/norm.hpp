#pragma once
// Normalisation kernels. Statistics (mean, 1/sqrt(var + eps)) are computed in one place and
// returned, so a backward pass can reuse them. All tensors contiguous, one floating dtype.
#include <cstdint>

#include "tapeflow/tensor.hpp"

namespace tapeflow::cpu {

// x viewed as (M, N): per row mean and rstd (M values each), and
// out = (x - mean) * rstd * weight + bias with weight/bias (N values) optional (undefined).
void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                const Tensor& bias, std::int64_t M, std::int64_t N, double eps);

// x viewed as (N, C, S): per-channel mean and biased variance (C values each).
void channel_moments(const Tensor& mean, const Tensor& var, const Tensor& x, std::int64_t N, std::int64_t C,
                     std::int64_t S);
// rstd[c] = 1 / sqrt(var[c] + eps).
void inverse_std(const Tensor& rstd, const Tensor& var, double eps);
// x viewed as (N, C, S): out = (x - mean[c]) * rstd[c] * weight[c] + bias[c], weight/bias optional.
void channel_normalize(const Tensor& out, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                       const Tensor& weight, const Tensor& bias, std::int64_t N, std::int64_t C, std::int64_t S);
// running = (1 - momentum) * running + momentum * factor * stat, elementwise (C values).
void momentum_update(const Tensor& running, const Tensor& stat, double momentum, double factor);

// First-order backward passes from the forward's statistics (no create_graph). Any of grad_x,
// grad_weight, grad_bias may be undefined (not wanted); weight may be undefined (1).
// layer_norm, x viewed as (M, N): gx = rstd * (gy - mean(gy) - xhat * mean(gy * xhat)), gy = g * w,
// per row; grad_weight = sum over rows of g * xhat, grad_bias = sum of g (N values).
void layer_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                         const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, std::int64_t M,
                         std::int64_t N);
// batch_norm, x viewed as (N, C, S) with per-channel mean/rstd (C values): grad_weight =
// sum(g * xhat), grad_bias = sum(g) per channel; gx = rstd * w * (g - mean(g) - xhat * mean(g * xhat))
// in training (statistics of the batch), rstd * w * g in inference (constant statistics).
void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                         const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, std::int64_t N,
                         std::int64_t C, std::int64_t S, bool training);

}  // namespace tapeflow::cpu
