// Dropout: the functional dropout, active only in training mode.
#include "tapeflow/nn/dropout.hpp"

#include "nn/layer_checks.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow::nn {

DropoutImpl::DropoutImpl(const DropoutOptions& options_) : options(options_) {
  if (!(options.p() >= 0.0 && options.p() <= 1.0))
    fail<ValueError>("Dropout", "dropout probability must be in [0, 1], got ", options.p());
}

Tensor DropoutImpl::forward(const Tensor& x) {
  detail::check_input_dtype(name(), x, Tensor());
  return dropout(x, options.p(), is_training());
}

void DropoutImpl::pretty_print(std::ostream& os) const { os << name() << "(p=" << options.p() << ")"; }

}  // namespace tapeflow::nn
