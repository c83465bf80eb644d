// Activation modules: thin wrappers over the functional ops, and their printing.
#include "tapeflow/nn/activation.hpp"

#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow::nn {

Tensor ReLUImpl::forward(const Tensor& x) {
  if (!options.inplace()) return relu(x);
  Tensor out = x;  // a handle to the same tensor
  out.relu_();
  return out;
}

void ReLUImpl::pretty_print(std::ostream& os) const {
  os << name() << "(";
  if (options.inplace()) os << "inplace=true";
  os << ")";
}

GELUImpl::GELUImpl(const GELUOptions& options_) : options(options_) {
  if (options.approximate() != "none" && options.approximate() != "tanh")
    fail<ValueError>("GELU", "approximate must be \"none\" or \"tanh\", got \"", options.approximate(), "\"");
}

Tensor GELUImpl::forward(const Tensor& x) { return gelu(x, options.approximate() == "tanh"); }

void GELUImpl::pretty_print(std::ostream& os) const {
  os << name() << "(";
  if (options.approximate() != "none") os << "approximate='" << options.approximate() << "'";
  os << ")";
}

Tensor LeakyReLUImpl::forward(const Tensor& x) { return leaky_relu(x, options.negative_slope()); }

void LeakyReLUImpl::pretty_print(std::ostream& os) const {
  os << name() << "(negative_slope=" << options.negative_slope() << ")";
}

Tensor SoftmaxImpl::forward(const Tensor& x) { return softmax(x, options.dim()); }
void SoftmaxImpl::pretty_print(std::ostream& os) const { os << name() << "(dim=" << options.dim() << ")"; }

Tensor LogSoftmaxImpl::forward(const Tensor& x) { return log_softmax(x, options.dim()); }
void LogSoftmaxImpl::pretty_print(std::ostream& os) const { os << name() << "(dim=" << options.dim() << ")"; }

Tensor TanhImpl::forward(const Tensor& x) { return tanh(x); }
void TanhImpl::pretty_print(std::ostream& os) const { os << name() << "()"; }

Tensor SigmoidImpl::forward(const Tensor& x) { return sigmoid(x); }
void SigmoidImpl::pretty_print(std::ostream& os) const { os << name() << "()"; }

Tensor SiLUImpl::forward(const Tensor& x) { return silu(x); }
void SiLUImpl::pretty_print(std::ostream& os) const { os << name() << "()"; }

}  // namespace tapeflow::nn
