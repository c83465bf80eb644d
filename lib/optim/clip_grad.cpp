// Gradient clipping by total norm and by value (torch.nn.utils.clip_grad_*_).
#include "tapeflow/optim/clip_grad.hpp"

#include <cmath>
#include <limits>

#include "tapeflow/autograd.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/reduce.hpp"
#include "tapeflow/ops/shape.hpp"

namespace tapeflow::optim {
namespace {

// The defined gradients of the parameters, in order.
std::vector<Tensor> gradients_of(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> grads;
  for (const Tensor& p : parameters)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

}  // namespace

Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  if (!(max_norm >= 0)) fail<ValueError>("clip_grad_norm_", "max_norm must be >= 0, got ", max_norm);
  if (!(norm_type >= 0)) fail<ValueError>("clip_grad_norm_", "norm_type must be >= 0 or infinity, got ", norm_type);
  const std::vector<Tensor> grads = gradients_of(parameters);
  if (grads.empty()) return scalar_tensor(0.0);
  NoGradGuard no_grad;
  const bool inf = std::isinf(norm_type);
  DType dtype = grads.front().dtype();
  for (const Tensor& g : grads) {
    if (!g.is_floating_point())
      fail<DTypeError>("clip_grad_norm_", "gradients must be floating-point, got ", dtype_name(g.dtype()));
    dtype = promote_types(dtype, g.dtype());
  }
  // As PyTorch: the norm of the per-tensor norms (the max of the maxima for infinity).
  std::vector<Tensor> norms;
  for (const Tensor& g : grads) {
    if (g.numel() == 0) continue;  // contributes nothing (and has no maximum)
    norms.push_back((inf ? max(abs(g)) : norm(g, norm_type)).to(dtype));
  }
  const Tensor total = norms.empty() ? scalar_tensor(0.0, dtype)
                       : inf         ? max(stack(norms))
                                     : norm(stack(norms), norm_type);
  const double total_value = total.item<double>();
  if (error_if_nonfinite && !std::isfinite(total_value))
    fail<ValueError>("clip_grad_norm_", "the total norm of order ", norm_type, " of the gradients is ", total_value,
                     ", so they cannot be clipped; pass error_if_nonfinite = false to scale them by it anyway");
  const double clip_coef = max_norm / (total_value + 1e-6);
  if (!(clip_coef >= 1.0))  // NaN scales too, as in PyTorch
    for (const Tensor& g : grads) {
      Tensor view = g;
      view.mul_(clip_coef);
    }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  if (!(clip_value >= 0)) fail<ValueError>("clip_grad_value_", "clip_value must be >= 0, got ", clip_value);
  NoGradGuard no_grad;
  for (const Tensor& g : gradients_of(parameters)) {
    Tensor view = g;
    view.clamp_(-clip_value, clip_value);
  }
}

}  // namespace tapeflow::optim
