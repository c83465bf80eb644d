#pragma once
// Dropout, as torch::nn::Dropout: in training mode each element is zeroed with probability p and
// the survivors are scaled by 1 / (1 - p); in eval mode (module->eval()) it is the identity.
// Masks come from the default generator (manual_seed makes them reproducible). Unlike PyTorch
// there is no `inplace` option: the result is always a new tensor.
#include <ostream>

#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/options.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

class DropoutOptions {
 public:
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT: implicit, as PyTorch's
  TAPEFLOW_ARG(double, p);
};

class DropoutImpl : public Module {
 public:
  explicit DropoutImpl(double p) : DropoutImpl(DropoutOptions(p)) {}
  explicit DropoutImpl(const DropoutOptions& options = {});
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  DropoutOptions options;
};
TAPEFLOW_MODULE(Dropout);

}  // namespace tapeflow::nn
