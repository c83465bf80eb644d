#pragma once
// CPU kernels of the losses that are not plain compositions of other ops: the class-target
// losses (cross_entropy from logits, nll_loss from log-probabilities) and the elementwise
// binary cross entropies. The op layer (lib/ops/loss_*.cpp) has checked shapes and dtypes and
// passes contiguous tensors.
#include <cstdint>

#include "tapeflow/tensor.hpp"
#include "kernels/params.hpp"

namespace tapeflow::cpu {

using kernels::ClassTargets;

// Throws IndexError for the first target outside [0, classes) that is not ignore_index, naming
// its value and position; returns the summed weight[t] of the non-ignored targets (their
// count when weight is undefined): the normaliser of the mean. target is int64 or int32.
double class_target_weight(const ClassTargets& c, const Tensor& target, const Tensor& weight);

// per_sample[s] = -sum_c weight[c] q_s[c] logp_s[c] (0 where ignored), q_s the target's
// distribution: (1 - label_smoothing) one_hot(t_s) + label_smoothing / classes. logp is
// log_softmax(input) over the classes when from_logits, else the input itself. Targets must
// have been checked by class_target_weight. With from_logits, stats (when defined: 2 * outer *
// inner contiguous elements of the input's dtype) receives each sample's max, then each
// sample's log(sum(exp(x - max))), for the backward.
void class_loss(const ClassTargets& c, const Tensor& input, const Tensor& target, const Tensor& weight,
                bool from_logits, double* per_sample, const Tensor& stats);

// The gradient when no graph of it is needed, in one kernel: grad_input = (softmax(x) *
// sum(a) - a) * g from logits, -a * g from log-probabilities, with a as in
// class_loss_coefficients and softmax from class_loss's stats. grad_output: one value (mean/sum) or one per sample (none),
// contiguous, of the input's dtype; grad_input: contiguous, the input's shape.
void class_loss_backward(const ClassTargets& c, const Tensor& grad_input, const Tensor& input, const Tensor& target,
                         const Tensor& weight, const Tensor& stats, double scale, const Tensor& grad_output,
                         bool from_logits);

// What the gradient needs, for the differentiable (create_graph) form: a[o, c, j] = scale * weight[c] * q_s[c] (the coefficient of -logp)
// and sums[o, 0, j] = sum_c a[o, c, j]; zero for ignored targets. a and sums are contiguous
// tensors of the input's dtype, shaped (outer, classes, inner) and (outer, 1, inner) (any
// shape with those element counts).
void class_loss_coefficients(const ClassTargets& c, const Tensor& target, const Tensor& weight, double scale,
                             const Tensor& a, const Tensor& sums);

// out = (t - 1) max(log(1 - x), -100) - t max(log(x), -100), PyTorch's expression. Throws
// ValueError naming op when some x is outside [0, 1] (or NaN). All of one shape and dtype.
void binary_cross_entropy(const char* op, const Tensor& out, const Tensor& x, const Tensor& t);

// out = (1 - t) x + (1 + (pw - 1) t) (log(exp(-m) + exp(-x - m)) + m), m = max(-x, 0): PyTorch's
// stable expression. pos_weight has x's shape, or is undefined (pw = 1).
void binary_cross_entropy_with_logits(const Tensor& out, const Tensor& x, const Tensor& t, const Tensor& pos_weight);

}  // namespace tapeflow::cpu
