// L1 and L2 penalty terms built from public (recorded) ops, so they are differentiable.
#include "tapeflow/optim/regularization.hpp"

#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow::optim {
namespace {

// lambda * sum over the tensors of sum(term(p)).
template <typename Term>
Tensor penalty(const char* op, const std::vector<Tensor>& parameters, double lambda, Term term) {
  if (parameters.empty()) fail<ValueError>(op, "expected at least one tensor, got an empty list");
  if (!(lambda >= 0)) fail<ValueError>(op, "lambda must be >= 0, got ", lambda);
  Tensor total;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const Tensor& p = parameters[i];
    if (!p.defined()) fail<ValueError>(op, "tensor ", i, " is undefined");
    if (!p.is_floating_point())
      fail<DTypeError>(op, "expected floating-point tensors, tensor ", i, " has dtype ", dtype_name(p.dtype()));
    Tensor s = sum(term(p));
    total = total.defined() ? total + s : s;
  }
  return total * lambda;
}

}  // namespace

Tensor l1_regularization(const std::vector<Tensor>& parameters, double lambda) {
  return penalty("l1_regularization", parameters, lambda, [](const Tensor& p) { return abs(p); });
}

Tensor l2_regularization(const std::vector<Tensor>& parameters, double lambda) {
  return penalty("l2_regularization", parameters, lambda, [](const Tensor& p) { return square(p); });
}

}  // namespace tapeflow::optim
