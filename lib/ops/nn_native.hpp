#pragma once
// Forward ops that also return what their backward needs (internal; for the autograd layer).
#include <tuple>

#include "tapeflow/tensor.hpp"

namespace tapeflow::detail {

// (out, mean, rstd): mean and 1/sqrt(biased var + eps) per normalised row, shaped as x with the
// normalised dims set to 1 (so they broadcast against x).
std::tuple<Tensor, Tensor, Tensor> native_layer_norm(const Tensor& x, IntArrayRef normalized_shape,
                                                     const Tensor& weight, const Tensor& bias, double eps);
// (out, mean, rstd): the per-channel statistics (shape (C)) that normalised x: the batch's in
// training (running stats updated in place), the running ones in inference.
std::tuple<Tensor, Tensor, Tensor> native_batch_norm(const Tensor& x, const Tensor& running_mean,
                                                     const Tensor& running_var, const Tensor& weight,
                                                     const Tensor& bias, bool training, double momentum, double eps);

}  // namespace tapeflow::detail
