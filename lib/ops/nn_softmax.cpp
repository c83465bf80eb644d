// softmax and log_softmax along one dim (float32/float64), with their backward formulas.
#include "autograd/tape.hpp"
#include "kernels/backend.hpp"
#include "ops/nn_common.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/nn.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow {
namespace {

const bool kRegistered = autograd::register_ops({"softmax", "log_softmax"});

// Both backward formulas read only the output y (never the input), written with public ops so
// that they are differentiable again:
//   softmax:      dx = y * (g - sum(g * y, dim))
//   log_softmax:  dx = g - exp(y) * sum(g, dim)
Tensor softmax_backward(const Tensor& g, const Tensor& y, std::int64_t d, bool log) {
  if (y.dim() == 0) return zeros_like(g);  // a single element: the output is constant (1 or 0)
  if (log) return g - exp(y) * sum(g, d, /*keepdim=*/true);
  return y * (g - sum(g * y, d, /*keepdim=*/true));
}

Tensor softmax_impl(const char* op, const Tensor& x, std::int64_t dim, bool log) {
  detail::check_defined(op, x);
  detail::check_floating(op, x);
  const std::int64_t d = wrap_dim(op, dim, x.dim());
  Tensor out = detail::make_tensor(x.shape(), x.dtype(), x.device());
  if (out.numel() > 0) {
    const Shape& s = x.shape();
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t i = 0; i < x.dim(); ++i) {
      if (i < d) outer *= s[static_cast<std::size_t>(i)];
      if (i > d) inner *= s[static_cast<std::size_t>(i)];
    }
    const std::int64_t n = x.dim() == 0 ? 1 : s[static_cast<std::size_t>(d)];
    kernels::on(out).softmax(out, x.contiguous(), outer, n, inner, log);
  }
  if (autograd::should_record(x))
    autograd::record(op, {x}, {out}, [d, log](const autograd::BackwardArgs& g) {
      return autograd::Grads{softmax_backward(g.grad(), g.outputs[0], d, log)};
    }, /*saved=*/{out.detach()});  // a view: tracks versions without keeping out alive
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) { return softmax_impl("softmax", x, dim, false); }
Tensor log_softmax(const Tensor& x, std::int64_t dim) { return softmax_impl("log_softmax", x, dim, true); }

Tensor Tensor::softmax(std::int64_t dim) const { return tapeflow::softmax(*this, dim); }
Tensor Tensor::log_softmax(std::int64_t dim) const { return tapeflow::log_softmax(*this, dim); }

}  // namespace tapeflow
