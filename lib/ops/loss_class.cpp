// The class-target losses: cross_entropy and nll_loss, each one recorded op over class indices
// (cross_entropy fuses log_softmax and the pick of the target), and cross_entropy over class
// probabilities, composed of log_softmax and reductions.
//
// With q the target distribution (one-hot of the index, mixed with the uniform one by
// label_smoothing), w the class weights and D the normaliser (the summed weight of non-ignored
// targets for Mean, else 1):
//   cross_entropy: loss_s = -sum_c w[c] q_s[c] log_softmax(x_s)[c]
//                  dloss/dx_s = (softmax(x_s) * sum_c a_s[c] - a_s) * g,   a_s = w q_s / D
//   nll_loss:      loss_s = -w[t_s] x_s[t_s],   dloss/dx_s = -a_s * g
// The backward has two forms of that one formula: with create_graph it is written in public ops
// (softmax, mul, sub) on the constant a, so it is differentiable again; without (training), when
// nothing would record anyway, one kernel computes it from the forward's per-sample max and
// log-sum-exp, which is what makes the fused op twice as fast as log_softmax + nll_loss.
#include <numeric>
#include <vector>

#include "autograd/tape.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"
#include "ops/loss_common.hpp"
#include "ops/nn_common.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/nn/functional/loss.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/nn.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow::nn::functional {
namespace {

const bool kRegistered = autograd::register_ops({"cross_entropy", "nll_loss"});

// The class dim of an input (C) or (N, C, d1, ...), and the input viewed as (outer, C, inner).
struct ClassLayout {
  std::int64_t class_dim = 0, outer = 1, classes = 0, inner = 1;
  Shape target_shape;  // the input's shape without the class dim
};

ClassLayout class_layout(const char* op, const Tensor& input) {
  if (input.dim() == 0)
    fail<ShapeError>(op, "expected an input of shape (C), (N, C) or (N, C, d1, ...), got a 0-D tensor");
  ClassLayout l;
  l.class_dim = input.dim() == 1 ? 0 : 1;
  l.classes = input.size(l.class_dim);
  for (std::int64_t d = 0; d < input.dim(); ++d) {
    const std::int64_t n = input.size(d);
    if (d < l.class_dim) l.outer *= n;
    if (d > l.class_dim) l.inner *= n;
    if (d != l.class_dim) l.target_shape.push_back(n);
  }
  return l;
}

void check_input(const char* op, const Tensor& input, const Tensor& target) {
  tapeflow::detail::check_defined(op, input, "input");
  tapeflow::detail::check_defined(op, target, "target");
  tapeflow::detail::check_same_device(op, input, target);
  if (!input.is_floating_point()) fail<DTypeError>(op, "expected a floating-point input, got ", input.dtype());
}

void check_class_indices(const char* op, const Tensor& input, const Tensor& target, const ClassLayout& l) {
  if (target.dtype() != kInt64 && target.dtype() != kInt32)
    fail<DTypeError>(op, "expected class indices of dtype int64 or int32, got ", target.dtype());
  if (!(target.shape() == l.target_shape))
    fail<ShapeError>(op, "for input of shape ", input.shape(), " expected a target of shape ", l.target_shape,
                     ", got target of shape ", target.shape());
}

void check_weight(const char* op, const Tensor& input, const Tensor& weight, std::int64_t classes) {
  if (!weight.defined()) return;
  nn::detail::check_class_weight(op, weight, classes);
  tapeflow::detail::check_companion(op, input, weight, "weight");
}

// The per-sample losses (float64) reduced: total / normaliser, the total, or one per sample for
// None, in the input's dtype. Not recorded: the loss op records itself as a whole.
Tensor reduce_samples(const Tensor& per_sample, Reduction reduction, double normaliser, const Shape& target_shape,
                      DType dtype) {
  NoGradGuard no_grad;
  if (reduction == Reduction::None) return per_sample.reshape(target_shape).to(dtype);
  const Tensor total = sum(per_sample);
  return (reduction == Reduction::Mean ? total / normaliser : total).to(dtype);
}

// The gradient in public ops: (softmax(x) * sums - a) * g, or -a * g, with the constants a (the
// coefficients of -logp) and their per-sample sums.
Tensor class_index_backward(const Tensor& input, const Tensor& target, const Tensor& weight, const kernels::ClassTargets& c,
                            const ClassLayout& l, Reduction reduction, double scale, Tensor g, bool from_logits) {
  Shape sums_shape = input.shape();
  sums_shape[static_cast<std::size_t>(l.class_dim)] = 1;
  const Tensor coef = tapeflow::detail::make_tensor(input.shape(), input.dtype(), input.device());
  const Tensor sums = tapeflow::detail::make_tensor(sums_shape, input.dtype(), input.device());
  kernels::on(target).class_loss_coefficients(c, target, weight, scale, coef, sums);
  if (reduction == Reduction::None) g = g.unsqueeze(l.class_dim);
  if (!from_logits) return coef * (-g);
  return (softmax(input, l.class_dim) * sums - coef) * g;
}

// cross_entropy (from_logits) and nll_loss over class indices.
Tensor class_index_loss(const char* op, const Tensor& input, const Tensor& target, const Tensor& weight,
                        std::int64_t ignore_index, Reduction reduction, double label_smoothing, bool from_logits) {
  const ClassLayout l = class_layout(op, input);
  check_class_indices(op, input, target, l);
  check_weight(op, input, weight, l.classes);
  kernels::ClassTargets c{op, l.outer, l.classes, l.inner, l.target_shape, ignore_index, label_smoothing};
  const Tensor x = input.contiguous(), t = target.contiguous();
  const Tensor w = weight.defined() ? weight.contiguous() : Tensor();
  const double total_weight = kernels::on(t).class_target_weight(c, t, w);
  const bool record = autograd::should_record(input);
  // Each sample's max and log-sum-exp, kept for the backward when it will run.
  const Tensor stats =
      record && from_logits ? tapeflow::detail::make_tensor({2, t.numel()}, input.dtype(), input.device()) : Tensor();
  const Tensor per_sample = tapeflow::detail::make_tensor({t.numel()}, kFloat64, input.device());
  if (per_sample.numel() > 0) kernels::on(x).class_loss(c, x, t, w, from_logits, per_sample, stats);
  Tensor out = reduce_samples(per_sample, reduction, total_weight, l.target_shape, input.dtype());
  if (record) {
    const double scale = reduction == Reduction::Mean ? 1.0 / total_weight : 1.0;
    autograd::record(op, {input}, {out}, [=](const autograd::BackwardArgs& a) {
      const Tensor g = a.grad();
      // Without create_graph nothing records: one kernel computes the gradient from the saved
      // stats. With it, the same formula in public ops, differentiable again.
      if (!GradMode::is_enabled()) {
        Tensor grad = tapeflow::detail::make_tensor(input.shape(), input.dtype(), input.device());
        if (grad.numel() > 0) kernels::on(grad).class_loss_backward(c, grad, x, t, w, stats, scale, g.contiguous(), from_logits);
        return autograd::Grads{grad};
      }
      return autograd::Grads{class_index_backward(input, t, w, c, l, reduction, scale, g, from_logits)};
    }, /*saved=*/w.defined() ? std::vector<Tensor>{input, t, w} : std::vector<Tensor>{input, t});
  }
  return out;
}

// Class probabilities: -sum_c w[c] q[c] log_softmax(x)[c], with q the (smoothed) target; the mean
// divides by the number of samples. Composed, so the target gets a gradient too.
Tensor cross_entropy_probabilities(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& o) {
  const char* op = "cross_entropy";
  const ClassLayout l = class_layout(op, input);
  if (!(target.shape() == input.shape()))
    fail<ShapeError>(op, "class probabilities must have the input's shape ", input.shape(), ", got target of shape ",
                     target.shape());
  if (target.dtype() != input.dtype())
    fail<DTypeError>(op, "class probabilities must have the input's dtype ", input.dtype(), ", got ", target.dtype());
  if (o.ignore_index >= 0)
    fail<ValueError>(op, "ignore_index (", o.ignore_index, ") is not supported with class-probability targets");
  check_weight(op, input, o.weight, l.classes);
  Tensor q = target;
  if (o.label_smoothing > 0)
    q = target * (1.0 - o.label_smoothing) + o.label_smoothing / static_cast<double>(l.classes);
  Tensor terms = log_softmax(input, l.class_dim) * q;
  if (o.weight.defined()) {
    Shape w_shape(static_cast<std::size_t>(input.dim()), 1);
    w_shape[static_cast<std::size_t>(l.class_dim)] = l.classes;
    terms = terms * o.weight.reshape(w_shape);
  }
  const Tensor per_sample = -sum(terms, {l.class_dim});
  switch (o.reduction) {
    case Reduction::None: return per_sample;
    case Reduction::Sum: return sum(per_sample);
    case Reduction::Mean: return sum(per_sample) / static_cast<double>(per_sample.numel());
  }
  fail<ValueError>(op, "invalid reduction ", static_cast<int>(o.reduction));
}

}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& options) {
  const char* op = "cross_entropy";
  check_input(op, input, target);
  class_layout(op, input);  // rejects a 0-D input before its target is looked at
  nn::detail::check_label_smoothing(op, options.label_smoothing);
  // Class probabilities: a floating target with the input's dims (PyTorch's rule is "the input's
  // shape"; a floating target of another shape with as many dims is a mis-shaped one).
  if (target.is_floating_point() && target.dim() == input.dim())
    return cross_entropy_probabilities(input, target, options);
  if (target.shape() == input.shape() && target.dtype() != kBool)
    fail<DTypeError>(op, "a target of the input's shape ", input.shape(),
                     " holds class probabilities and must be floating-point, got ", target.dtype());
  if (target.is_floating_point())
    fail<DTypeError>(op, "class indices must be int64 or int32, got ", target.dtype(), " of shape ", target.shape(),
                     " (class probabilities need the input's shape ", input.shape(), ")");
  return class_index_loss(op, input, target, options.weight, options.ignore_index, options.reduction,
                          options.label_smoothing, /*from_logits=*/true);
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options) {
  const char* op = "nll_loss";
  check_input(op, input, target);
  return class_index_loss(op, input, target, options.weight, options.ignore_index, options.reduction, 0.0,
                          /*from_logits=*/false);
}

}  // namespace tapeflow::nn::functional
