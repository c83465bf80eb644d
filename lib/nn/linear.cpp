// Linear, Bilinear and Identity.
#include "tapeflow/nn/linear.hpp"

#include <cmath>

#include "nn/layer_checks.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/nn/init.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/linalg.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow::nn {
namespace {

void check_positive_features(const char* layer, std::int64_t n, const char* what) {
  if (n < 0) fail<ValueError>(layer, what, " must be non-negative, got ", n);
}

// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), or zeros for an empty fan (PyTorch's bias rule).
void init_bias_bound(Tensor& bias, std::int64_t fan_in) {
  if (!bias.defined()) return;
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
  init::uniform_(bias, -bound, bound);
}

}  // namespace

// ---- Linear ----

LinearImpl::LinearImpl(const LinearOptions& options_) : options(options_) {
  check_positive_features("Linear", options.in_features(), "in_features");
  check_positive_features("Linear", options.out_features(), "out_features");
  weight = register_parameter("weight", empty({options.out_features(), options.in_features()}));
  bias = register_parameter("bias", options.bias() ? empty({options.out_features()}) : Tensor(), options.bias());
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  init_bias_bound(bias, options.in_features());
}

Tensor LinearImpl::forward(const Tensor& x) {
  detail::check_input_dtype(name(), x, weight);
  if (x.dim() == 0 || x.size(-1) != options.in_features())
    fail<ShapeError>(name().c_str(), "expected input with last dimension ", options.in_features(),
                     " (in_features), got shape ", x.shape());
  // The common (batch, features) case is one fused GEMM with the bias as its initial value.
  if (x.dim() == 2 && bias.defined()) return addmm(bias, x, weight.t());
  Tensor y = matmul(x, weight.t());
  return bias.defined() ? y + bias : y;
}

void LinearImpl::pretty_print(std::ostream& os) const {
  os << std::boolalpha << name() << "(in_features=" << options.in_features()
     << ", out_features=" << options.out_features() << ", bias=" << options.bias() << ")";
}

// ---- Bilinear ----

BilinearImpl::BilinearImpl(const BilinearOptions& options_) : options(options_) {
  check_positive_features("Bilinear", options.in1_features(), "in1_features");
  check_positive_features("Bilinear", options.in2_features(), "in2_features");
  check_positive_features("Bilinear", options.out_features(), "out_features");
  weight = register_parameter("weight",
                              empty({options.out_features(), options.in1_features(), options.in2_features()}));
  bias = register_parameter("bias", options.bias() ? empty({options.out_features()}) : Tensor(), options.bias());
  reset_parameters();
}

void BilinearImpl::reset_parameters() {
  const double bound = options.in1_features() > 0 ? 1.0 / std::sqrt(static_cast<double>(options.in1_features())) : 0.0;
  init::uniform_(weight, -bound, bound);
  if (bias.defined()) init::uniform_(bias, -bound, bound);
}

Tensor BilinearImpl::forward(const Tensor& x1, const Tensor& x2) {
  detail::check_input_dtype(name(), x1, weight);
  detail::check_input_dtype(name(), x2, weight);
  const std::int64_t in1 = options.in1_features(), in2 = options.in2_features(), out = options.out_features();
  if (x1.dim() == 0 || x1.size(-1) != in1)
    fail<ShapeError>(name().c_str(), "expected input1 with last dimension ", in1, " (in1_features), got shape ",
                     x1.shape());
  if (x2.dim() == 0 || x2.size(-1) != in2)
    fail<ShapeError>(name().c_str(), "expected input2 with last dimension ", in2, " (in2_features), got shape ",
                     x2.shape());
  const Shape lead1(IntArrayRef(x1.shape().data(), x1.shape().size() - 1));
  const Shape lead2(IntArrayRef(x2.shape().data(), x2.shape().size() - 1));
  if (!(lead1 == lead2))
    fail<ShapeError>(name().c_str(), "expected inputs with the same leading dimensions, got shapes ", x1.shape(),
                     " and ", x2.shape());
  // y[n, k] = sum_ij x1[n, i] W[k, i, j] x2[n, j]: one GEMM against W laid out as (in1, out * in2),
  // then a row-wise dot with x2.
  const std::int64_t n = shape_numel(lead1);
  const Tensor a = x1.reshape({n, in1});
  const Tensor t = matmul(a, weight.permute({1, 0, 2}).reshape({in1, out * in2})).reshape({n, out, in2});
  Tensor y = sum(t * x2.reshape({n, 1, in2}), {2});
  if (bias.defined()) y = y + bias;
  Shape out_shape = lead1;
  out_shape.push_back(out);
  return y.reshape(out_shape);
}

void BilinearImpl::pretty_print(std::ostream& os) const {
  os << std::boolalpha << name() << "(in1_features=" << options.in1_features()
     << ", in2_features=" << options.in2_features() << ", out_features=" << options.out_features()
     << ", bias=" << options.bias() << ")";
}

// ---- Identity ----

void IdentityImpl::pretty_print(std::ostream& os) const { os << name() << "()"; }

}  // namespace tapeflow::nn
