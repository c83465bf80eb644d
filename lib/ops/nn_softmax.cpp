// softmax and log_softmax along one dim (float32/float64).
#include "cpu/softmax.hpp"
#include "ops/nn_common.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow {
namespace {

Tensor softmax_impl(const char* op, const Tensor& x, std::int64_t dim, bool log) {
  detail::check_defined(op, x);
  detail::check_floating(op, x);
  const std::int64_t d = wrap_dim(op, dim, x.dim());
  Tensor out = detail::make_tensor(x.shape(), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  const Shape& s = x.shape();
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t i = 0; i < x.dim(); ++i) {
    if (i < d) outer *= s[static_cast<std::size_t>(i)];
    if (i > d) inner *= s[static_cast<std::size_t>(i)];
  }
  const std::int64_t n = x.dim() == 0 ? 1 : s[static_cast<std::size_t>(d)];
  cpu::softmax(out, x.contiguous(), outer, n, inner, log);
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) { return softmax_impl("softmax", x, dim, false); }
Tensor log_softmax(const Tensor& x, std::int64_t dim) { return softmax_impl("log_softmax", x, dim, true); }

Tensor Tensor::softmax(std::int64_t dim) const { return tapeflow::softmax(*this, dim); }
Tensor Tensor::log_softmax(std::int64_t dim) const { return tapeflow::log_softmax(*this, dim); }

}  // namespace tapeflow
