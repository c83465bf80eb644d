#pragma once
// Activation modules, as torch::nn's, wrapping the functional ops (ops/elementwise.hpp,
// ops/nn.hpp): ReLU, GELU, Tanh, Sigmoid, SiLU, LeakyReLU, Softmax, LogSoftmax.
//   nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10), nn::LogSoftmax(1))
// Of PyTorch's `inplace` options only ReLU's is offered (LeakyReLU's is not).
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>

#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/options.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

class ReLUOptions {
 public:
  ReLUOptions(bool inplace = false) : inplace_(inplace) {}  // NOLINT: implicit, as PyTorch's
  // Overwrites the input (x.relu_()) instead of allocating; the input must not be needed later.
  TAPEFLOW_ARG(bool, inplace);
};

class ReLUImpl : public Module {
 public:
  explicit ReLUImpl(const ReLUOptions& options_ = {}) : options(options_) {}
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  ReLUOptions options;
};
TAPEFLOW_MODULE(ReLU);

class GELUOptions {
 public:
  GELUOptions() = default;
  // "none": x * Phi(x) with the exact normal CDF; "tanh": the tanh approximation.
  TAPEFLOW_ARG(std::string, approximate) = "none";
};

class GELUImpl : public Module {
 public:
  explicit GELUImpl(const GELUOptions& options_ = {});
  explicit GELUImpl(std::string approximate) : GELUImpl(GELUOptions().approximate(std::move(approximate))) {}
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  GELUOptions options;
};
TAPEFLOW_MODULE(GELU);

class LeakyReLUOptions {
 public:
  LeakyReLUOptions() = default;
  TAPEFLOW_ARG(double, negative_slope) = 0.01;
};

class LeakyReLUImpl : public Module {
 public:
  explicit LeakyReLUImpl(double negative_slope) : LeakyReLUImpl(LeakyReLUOptions().negative_slope(negative_slope)) {}
  explicit LeakyReLUImpl(const LeakyReLUOptions& options_ = {}) : options(options_) {}
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  LeakyReLUOptions options;
};
TAPEFLOW_MODULE(LeakyReLU);

class SoftmaxOptions {
 public:
  SoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT: implicit, as PyTorch's
  TAPEFLOW_ARG(std::int64_t, dim);
};

class SoftmaxImpl : public Module {
 public:
  explicit SoftmaxImpl(const SoftmaxOptions& options_) : options(options_) {}
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  SoftmaxOptions options;
};
TAPEFLOW_MODULE(Softmax);

class LogSoftmaxOptions {
 public:
  LogSoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT: implicit, as PyTorch's
  TAPEFLOW_ARG(std::int64_t, dim);
};

class LogSoftmaxImpl : public Module {
 public:
  explicit LogSoftmaxImpl(const LogSoftmaxOptions& options_) : options(options_) {}
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  LogSoftmaxOptions options;
};
TAPEFLOW_MODULE(LogSoftmax);

// The option-less ones print as "Tanh()" etc.
class TanhImpl : public Module {
 public:
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
};
TAPEFLOW_MODULE(Tanh);

class SigmoidImpl : public Module {
 public:
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
};
TAPEFLOW_MODULE(Sigmoid);

class SiLUImpl : public Module {
 public:
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
};
TAPEFLOW_MODULE(SiLU);

}  // namespace tapeflow::nn
