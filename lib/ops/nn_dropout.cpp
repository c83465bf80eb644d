// dropout: a random keep-mask from the default generator, survivors scaled by 1 / (1 - p).
// The backward keeps the mask (bool, not the output): dx = g * mask * scale.
#include "autograd/tape.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow {
namespace {
const bool kRegistered = autograd::register_ops({"dropout"});
}  // namespace

Tensor dropout(const Tensor& x, double p, bool training) {
  detail::check_defined("dropout", x);
  if (!(p >= 0.0 && p <= 1.0)) fail<ValueError>("dropout", "probability must be in [0, 1], got ", p);
  if (!x.is_floating_point()) fail<DTypeError>("dropout", "expected a floating-point tensor, got ", x.dtype());
  if (!training) return x;  // the identity: gradients pass through unchanged
  const bool rec = autograd::should_record(x);
  Tensor out, mask;
  double scale = 0.0;
  if (p == 1.0) {  // everything dropped; 1 / (1 - p) would be infinite
    out = zeros_like(x);
  } else {
    out = detail::make_tensor(x.shape(), x.dtype(), x.device());
    if (rec) mask = detail::make_tensor(x.shape(), kBool, x.device());
    kernels::on(out).dropout(out, mask, x.contiguous(), p, default_generator());
    scale = 1.0 / (1.0 - p);
  }
  if (rec)
    autograd::record("dropout", {x}, {out}, [mask, scale](const autograd::BackwardArgs& a) {
      const Tensor g = a.grad();
      if (!mask.defined()) return autograd::Grads{zeros_like(g)};
      return autograd::Grads{g * mask.to(g.dtype()) * scale};
    });
  return out;
}

}  // namespace tapeflow
