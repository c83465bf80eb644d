#pragma once
// Linear (y = x W^T + b), Bilinear (y_k = x1^T W_k x2 + b_k) and Identity, as torch::nn's.
//   nn::Linear fc(784, 256);                                  // or nn::LinearOptions(784, 256).bias(false)
//   Tensor y = fc(x);                                         // x: (..., 784) -> (..., 256)
// Parameters are created in float32 (module->to(kFloat64) converts them) with PyTorch's default
// initialisation: weight kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in)), and the
// same bound for the bias. Names match torch.nn: "weight" (out, in) and "bias" (out).
#include <cstdint>
#include <ostream>

#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/options.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

class LinearOptions {
 public:
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TAPEFLOW_ARG(std::int64_t, in_features);
  TAPEFLOW_ARG(std::int64_t, out_features);
  TAPEFLOW_ARG(bool, bias) = true;
};

class LinearImpl : public Module {
 public:
  LinearImpl(std::int64_t in_features, std::int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options);

  // x: (..., in_features) -> (..., out_features).
  Tensor forward(const Tensor& x);
  void reset_parameters();
  void pretty_print(std::ostream& os) const override;

  LinearOptions options;
  Tensor weight;  // (out_features, in_features)
  Tensor bias;    // (out_features), undefined without bias
};
TAPEFLOW_MODULE(Linear);

class BilinearOptions {
 public:
  BilinearOptions(std::int64_t in1_features, std::int64_t in2_features, std::int64_t out_features)
      : in1_features_(in1_features), in2_features_(in2_features), out_features_(out_features) {}
  TAPEFLOW_ARG(std::int64_t, in1_features);
  TAPEFLOW_ARG(std::int64_t, in2_features);
  TAPEFLOW_ARG(std::int64_t, out_features);
  TAPEFLOW_ARG(bool, bias) = true;
};

// Weight and bias both start U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as PyTorch.
class BilinearImpl : public Module {
 public:
  BilinearImpl(std::int64_t in1_features, std::int64_t in2_features, std::int64_t out_features)
      : BilinearImpl(BilinearOptions(in1_features, in2_features, out_features)) {}
  explicit BilinearImpl(const BilinearOptions& options);

  // x1: (..., in1_features), x2: (..., in2_features) with the same leading dims -> (..., out_features).
  Tensor forward(const Tensor& x1, const Tensor& x2);
  void reset_parameters();
  void pretty_print(std::ostream& os) const override;

  BilinearOptions options;
  Tensor weight;  // (out_features, in1_features, in2_features)
  Tensor bias;    // (out_features), undefined without bias
};
TAPEFLOW_MODULE(Bilinear);

// Returns its input (a placeholder, e.g. for a layer switched off in a Sequential).
class IdentityImpl : public Module {
 public:
  IdentityImpl() = default;
  Tensor forward(const Tensor& x) { return x; }
  void pretty_print(std::ostream& os) const override;
};
TAPEFLOW_MODULE(Identity);

}  // namespace tapeflow::nn
