// Flatten: Tensor::flatten over the configured dims, with errors that name the layer.
#include "tapeflow/nn/flatten.hpp"

#include "nn/layer_checks.hpp"

namespace tapeflow::nn {

Tensor FlattenImpl::forward(const Tensor& x) {
  detail::check_input_defined(name(), x);
  const std::int64_t n = x.dim() == 0 ? 1 : x.dim();  // a 0-D input flattens to (1), as PyTorch
  const std::int64_t start = options.start_dim(), end = options.end_dim();
  const auto in_range = [n](std::int64_t d) { return d >= -n && d < n; };
  if (!in_range(start) || !in_range(end))
    fail<IndexError>(name().c_str(), "start_dim ", start, " and end_dim ", end, " must be in [", -n, ", ", n - 1,
                     "] for input of shape ", x.shape());
  const std::int64_t s = start < 0 ? start + n : start, e = end < 0 ? end + n : end;
  if (s > e)
    fail<ValueError>(name().c_str(), "start_dim ", start, " comes after end_dim ", end, " for input of shape ",
                     x.shape());
  return x.flatten(start, end);
}

void FlattenImpl::pretty_print(std::ostream& os) const {
  os << name() << "(start_dim=" << options.start_dim() << ", end_dim=" << options.end_dim() << ")";
}

}  // namespace tapeflow::nn
