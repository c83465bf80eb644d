// The regression losses (mse, l1, smooth_l1, huber) and kl_div, composed of public elementwise
// ops (so their gradients of any order come from those ops), and the checks and reduction step
// every loss shares.
#include <cmath>
#include <ostream>

#include "core/tensor_factory.hpp"
#include "ops/loss_common.hpp"
#include "tapeflow/nn/functional/loss.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow::nn {

const char* reduction_name(Reduction r) noexcept {
  switch (r) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
  }
  return "?";
}

const char* reduction_name(KLDivReduction r) noexcept {
  switch (r) {
    case KLDivReduction::None: return "none";
    case KLDivReduction::BatchMean: return "batchmean";
    case KLDivReduction::Sum: return "sum";
    case KLDivReduction::Mean: return "mean";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, Reduction r) { return os << reduction_name(r); }
std::ostream& operator<<(std::ostream& os, KLDivReduction r) { return os << reduction_name(r); }

namespace detail {

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return loss;
    case Reduction::Mean: return mean(loss);
    case Reduction::Sum: return sum(loss);
  }
  fail<ValueError>("loss", "invalid reduction ", static_cast<int>(reduction));
}

void check_input_target(const char* op, const Tensor& input, const Tensor& target) {
  tapeflow::detail::check_defined(op, input, "input");
  tapeflow::detail::check_defined(op, target, "target");
  tapeflow::detail::check_same_device(op, input, target);
  if (!input.is_floating_point()) fail<DTypeError>(op, "expected a floating-point input, got ", input.dtype());
  if (target.dtype() != input.dtype())
    fail<DTypeError>(op, "expected a target of the input's dtype ", input.dtype(), ", got ", target.dtype());
  if (!(input.shape() == target.shape()))
    fail<ShapeError>(op, "input and target must have the same shape, got input ", input.shape(), " and target ",
                     target.shape());
}

void check_broadcast_weight(const char* op, const Tensor& input, const Tensor& weight, const char* what) {
  if (!weight.defined()) return;
  tapeflow::detail::check_same_device(op, input, weight);
  if (weight.dtype() != input.dtype())
    fail<DTypeError>(op, what, " must have the input's dtype ", input.dtype(), ", got ", weight.dtype());
  if (!(broadcast_shapes(op, weight.shape(), input.shape()) == input.shape()))
    fail<ShapeError>(op, what, " of shape ", weight.shape(), " does not broadcast to the input's shape ",
                     input.shape());
}

void check_class_weight(const char* op, const Tensor& weight, std::int64_t classes) {
  if (!weight.defined()) return;
  if (!weight.is_floating_point()) fail<DTypeError>(op, "expected a floating-point weight, got ", weight.dtype());
  if (weight.dim() != 1 || (classes >= 0 && weight.size(0) != classes))
    fail<ShapeError>(op, "weight must be a 1-D tensor with one value per class (", classes,
                     " classes), got shape ", weight.shape());
}

void check_beta(const char* op, double beta) {
  if (!(beta >= 0)) fail<ValueError>(op, "beta must be non-negative, got ", beta);
}

void check_delta(const char* op, double delta) {
  if (!(delta > 0)) fail<ValueError>(op, "delta must be positive, got ", delta);
}

void check_label_smoothing(const char* op, double ls) {
  if (!(ls >= 0 && ls <= 1)) fail<ValueError>(op, "label_smoothing must be in [0, 1], got ", ls);
}

namespace {
void check_float_weight(const char* op, const Tensor& weight, const char* what) {
  if (weight.defined() && !weight.is_floating_point())
    fail<DTypeError>(op, "expected a floating-point ", what, ", got ", weight.dtype());
}
}  // namespace

void check_options(const char* op, const CrossEntropyLossOptions& o) {
  check_class_weight(op, o.weight, -1);
  check_label_smoothing(op, o.label_smoothing);
}
void check_options(const char* op, const NLLLossOptions& o) { check_class_weight(op, o.weight, -1); }
void check_options(const char* op, const BCELossOptions& o) { check_float_weight(op, o.weight, "weight"); }
void check_options(const char* op, const BCEWithLogitsLossOptions& o) {
  check_float_weight(op, o.weight, "weight");
  check_float_weight(op, o.pos_weight, "pos_weight");
}

}  // namespace detail

namespace functional {

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  detail::check_input_target("mse_loss", input, target);
  return detail::reduce(square(input - target), reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  detail::check_input_target("l1_loss", input, target);
  return detail::reduce(abs(input - target), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  const char* op = "smooth_l1_loss";
  detail::check_input_target(op, input, target);
  detail::check_beta(op, beta);
  const Tensor d = input - target;
  // beta = 0: |d|, whose gradient at d = 0 PyTorch takes as -1 (its kernel tests d <= -beta first).
  if (beta == 0) return detail::reduce(where(d <= 0, -d, d), reduction);
  const Tensor z = abs(d);
  return detail::reduce(where(z < beta, square(d) * (0.5 / beta), z - 0.5 * beta), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  const char* op = "huber_loss";
  detail::check_input_target(op, input, target);
  detail::check_delta(op, delta);
  const Tensor d = input - target;
  const Tensor z = abs(d);
  return detail::reduce(where(z < delta, square(d) * 0.5, (z - 0.5 * delta) * delta), reduction);
}

Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& options) {
  detail::check_input_target("kl_div", input, target);
  Tensor loss;
  if (options.log_target) {
    loss = exp(target) * (target - input);
  } else {
    // xlogy(t, t) - t * input: t log t is 0 where t is 0 (log(1) stands in there, which also keeps
    // the gradient finite); a negative t still gives NaN, as PyTorch.
    loss = target * log(where(target == 0, 1.0, target)) - target * input;
  }
  switch (options.reduction) {
    case KLDivReduction::None: return loss;
    case KLDivReduction::Mean: return mean(loss);
    case KLDivReduction::Sum: return sum(loss);
    case KLDivReduction::BatchMean:  // a 0-D input is one sample (PyTorch returns the sum)
      return input.dim() == 0 ? sum(loss) : sum(loss) / static_cast<double>(input.size(0));
  }
  fail<ValueError>("kl_div", "invalid reduction ", static_cast<int>(options.reduction));
}

}  // namespace functional
}  // namespace tapeflow::nn
