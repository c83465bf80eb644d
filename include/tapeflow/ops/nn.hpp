#pragma once
// Neural-network primitives (functional form; modules come later). Layouts are PyTorch's: NCHW.
#include <optional>

#include "tapeflow/tensor.hpp"

namespace tapeflow {

Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);  // stable: x - logsumexp

// input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW), bias (C_out) or undefined.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              IntArrayRef stride = {1, 1}, IntArrayRef padding = {0, 0},
              IntArrayRef dilation = {1, 1}, std::int64_t groups = 1);
// input (N, C_in, L) or unbatched (C_in, L), weight (C_out, C_in/groups, K), bias (C_out) or
// undefined; stride/padding/dilation one value each. Zero padding only. Runs conv2d on a
// height-1 view, so its gradients (of any order) are conv2d's.
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, IntArrayRef stride = {1},
              IntArrayRef padding = {0}, IntArrayRef dilation = {1}, std::int64_t groups = 1);

// kernel/stride/padding: one value or (h, w); stride defaults to kernel_size.
Tensor max_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {},
                  IntArrayRef padding = {0}, IntArrayRef dilation = {1}, bool ceil_mode = false);
// Also returns the flat (h * W + w) argmax index per output, as PyTorch's return_indices. A
// window wholly in the padding (possible with dilation > 1) gives -inf with index -1, and no
// gradient (PyTorch gives an index past the window's clipped start there).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                  IntArrayRef stride = {}, IntArrayRef padding = {0},
                                                  IntArrayRef dilation = {1}, bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {},
                  IntArrayRef padding = {0}, bool ceil_mode = false, bool count_include_pad = true);
Tensor adaptive_avg_pool2d(const Tensor& input, IntArrayRef output_size);

// Zeroes each element with probability p and scales the rest by 1/(1-p) when training.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true);
// Rows of weight (num_embeddings, dim) picked by integer indices of any shape. The row at
// padding_idx (negative counts from the end) gets no gradient, as in PyTorch; the forward pass
// is unaffected.
Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<std::int64_t> padding_idx = std::nullopt);
// Normalises over the trailing normalized_shape dims; weight/bias optional (undefined).
Tensor layer_norm(const Tensor& x, IntArrayRef normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);
// Input (N, C, ...). Training: batch statistics, and running_mean/var (if defined) updated in
// place with momentum (unbiased variance, as PyTorch). Inference: running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);

}  // namespace tapeflow
