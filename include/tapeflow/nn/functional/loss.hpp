#pragma once
// Loss functions, functional form (PyTorch's torch.nn.functional, version 1.13 semantics):
//
//   namespace F = tapeflow::nn::functional;
//   Tensor loss = F::cross_entropy(logits, labels);
//   Tensor l = F::smooth_l1_loss(pred, target, F::Reduction::Sum, /*beta=*/0.5);
//
// Every loss is differentiable with respect to its input (and its target where PyTorch's is),
// to any order. Errors: ShapeError when input and target shapes do not fit (both are named),
// DTypeError for non-floating inputs or non-integer class indices, IndexError for a class index
// out of range, ValueError for bad option values.
//
// Deviation from PyTorch: the elementwise losses (mse, l1, smooth_l1, huber, kl_div,
// binary_cross_entropy[_with_logits]) require target.shape() == input.shape(); PyTorch
// broadcasts them with a warning, which almost always hides a bug ((N, 1) against (N)).
#include "tapeflow/nn/loss_options.hpp"
#include "tapeflow/nn/reduction.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn::functional {

using nn::KLDivReduction;
using nn::Reduction;
// PyTorch C++ names for the option structs of the functional forms.
using CrossEntropyFuncOptions = CrossEntropyLossOptions;
using NLLLossFuncOptions = NLLLossOptions;
using BinaryCrossEntropyFuncOptions = BCELossOptions;
using BinaryCrossEntropyWithLogitsFuncOptions = BCEWithLogitsLossOptions;
using KLDivFuncOptions = KLDivLossOptions;

// (input - target)^2.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// |input - target| (its gradient at 0 is 0).
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// See SmoothL1LossOptions.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);
// See HuberLossOptions.
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0);

// -sum_c weight[c] * q[c] * log_softmax(input)[c] per sample, where q is the target distribution
// (one-hot of the class index, or the given probabilities), mixed with the uniform one by
// label_smoothing. Mean divides by the summed weight of the non-ignored targets (class indices)
// or by the number of samples (probabilities). Class-index targets run as one fused op: one
// pass computes log-softmax and picks the target, and the gradient is
// (softmax - q) * weight / normaliser (differentiable again). Class probabilities are composed
// of log_softmax and reductions, and also give the target a gradient.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& options = {});
// -weight[t] * input[t] per sample (input holds log-probabilities); mean as cross_entropy.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options = {});

// -weight * (t * log(x) + (1 - t) * log(1 - x)), each log clamped at -100 as PyTorch. Input in
// [0, 1] (else ValueError). The gradient uses PyTorch's formula (x - t) / max(x (1 - x), 1e-12),
// which stays finite where x is exactly 0 or 1.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& options = {});
// binary_cross_entropy(sigmoid(input), target), computed stably for any |input|:
// (1 - t) x + (1 + (pos_weight - 1) t) * log(1 + exp(-x)), weighted by weight.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& options = {});

// target * (log(target) - input) (0 where target is 0), or exp(target) * (target - input) with
// log_target. Input holds log-probabilities.
Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& options = {});

}  // namespace tapeflow::nn::functional
