// binary_cross_entropy and binary_cross_entropy_with_logits: each an elementwise recorded op
// (the unweighted, unreduced loss) with PyTorch's gradient formulas, followed by the weight and
// the reduction as public ops. Recorded rather than composed because the composition misbehaves
// at the edges: log(x) at x = 0 or 1 (a saturated float32 sigmoid) gives 0 * inf = NaN
// gradients, and with logits the composed gradient of log(1 + exp(-x)) cancels catastrophically
// where PyTorch's sigmoid(x) - t does not.
#include <optional>

#include "autograd/tape.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"
#include "ops/loss_common.hpp"
#include "tapeflow/nn/functional/loss.hpp"
#include "tapeflow/ops/elementwise.hpp"

namespace tapeflow::nn::functional {
namespace {

const bool kRegistered = autograd::register_ops({"binary_cross_entropy", "binary_cross_entropy_with_logits"});

// PyTorch's floor under x (1 - x) in the gradient: a float constant, 1e-12f (not 1e-12).
const double kGradientFloor = static_cast<double>(1e-12f);

// log(sigmoid(z)) = min(z, 0) - log1p(exp(-|z|)), finite for every z.
Tensor log_sigmoid(const Tensor& z) { return -relu(-z) - log1p(exp(-abs(z))); }

Tensor weighted_reduction(const Tensor& loss, const Tensor& weight, Reduction reduction) {
  return detail::reduce(weight.defined() ? loss * weight : loss, reduction);
}

}  // namespace

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& options) {
  const char* op = "binary_cross_entropy";
  detail::check_input_target(op, input, target);
  detail::check_broadcast_weight(op, input, options.weight, "weight");
  Tensor out = tapeflow::detail::make_tensor(input.shape(), input.dtype(), input.device());
  kernels::on(out).binary_cross_entropy(op, out, input.contiguous(), target.contiguous());
  if (autograd::should_record(input, target))
    autograd::record(op, {input, target}, {out}, [input, target](const autograd::BackwardArgs& a) {
      const Tensor& g = a.grad();
      // PyTorch's formulas: the input's is finite at x = 0 or 1 thanks to the floor, the target's
      // is -logit(x).
      return autograd::Grads{
          a.needs(0) ? g * (input - target) / clamp(input * (1.0 - input), kGradientFloor, std::nullopt) : Tensor(),
          a.needs(1) ? g * (log1p(-input) - log(input)) : Tensor()};
    }, /*saved=*/{input, target});
  return weighted_reduction(out, options.weight, options.reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& options) {
  const char* op = "binary_cross_entropy_with_logits";
  detail::check_input_target(op, input, target);
  detail::check_broadcast_weight(op, input, options.weight, "weight");
  detail::check_broadcast_weight(op, input, options.pos_weight, "pos_weight");
  const Tensor pw = options.pos_weight;
  Tensor out = tapeflow::detail::make_tensor(input.shape(), input.dtype(), input.device());
  kernels::on(out).binary_cross_entropy_with_logits(out, input.contiguous(), target.contiguous(),
                                        pw.defined() ? pw.expand(input.shape()).contiguous() : Tensor());
  if (autograd::should_record(input, target))
    autograd::record(op, {input, target}, {out}, [input, target, pw](const autograd::BackwardArgs& a) {
      const Tensor& g = a.grad();
      Tensor gx, gt;
      if (a.needs(0)) {
        // d/dx = (1 + (pw - 1) t) sigmoid(x) - pw t
        gx = pw.defined() ? (pw * target + 1.0 - target) * sigmoid(input) - pw * target : sigmoid(input) - target;
        gx = gx * g;
      }
      if (a.needs(1)) {
        // d/dt = log_sigmoid(-x) - pw log_sigmoid(x), which is -x when pw = 1
        gt = pw.defined() ? log_sigmoid(-input) - pw * log_sigmoid(input) : -input;
        gt = gt * g;
      }
      return autograd::Grads{gx, gt};
    }, /*saved=*/pw.defined() ? std::vector<Tensor>{input, target, pw} : std::vector<Tensor>{input, target});
  return weighted_reduction(out, options.weight, options.reduction);
}

}  // namespace tapeflow::nn::functional
