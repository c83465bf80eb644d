// nn::init: PyTorch 1.13's initialisation formulas over the random draws of tapeflow/random.hpp.
#include "tapeflow/nn/init.hpp"

#include <cmath>
#include <vector>

#include "tapeflow/autograd.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/random.hpp"

namespace tapeflow::nn::init {
namespace {

void check_defined(const char* op, const Tensor& t) {
  if (!t.defined()) fail<ValueError>(op, "expected a defined tensor, got an undefined one");
}

double fan(const char* op, const Tensor& t, FanMode mode) {
  check_defined(op, t);
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return static_cast<double>(mode == FanMode::FanIn ? fan_in : fan_out);
}

double xavier_std(const char* op, const Tensor& t, double gain) {
  check_defined(op, t);
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
}

// Orthonormalises the columns of the column-major m x n matrix a (m >= n) in place by
// Gram-Schmidt with re-orthogonalisation ("twice is enough"). The result is the Q of a QR
// decomposition whose R has a positive diagonal: PyTorch's Q after its sign correction.
void orthonormalise_columns(std::vector<double>& a, std::int64_t m, std::int64_t n) {
  for (std::int64_t j = 0; j < n; ++j) {
    double* v = a.data() + j * m;
    for (int pass = 0; pass < 2; ++pass)
      for (std::int64_t k = 0; k < j; ++k) {
        const double* q = a.data() + k * m;
        double r = 0.0;
        for (std::int64_t i = 0; i < m; ++i) r += q[i] * v[i];
        for (std::int64_t i = 0; i < m; ++i) v[i] -= r * q[i];
      }
    double norm = 0.0;
    for (std::int64_t i = 0; i < m; ++i) norm += v[i] * v[i];
    norm = std::sqrt(norm);
    // A standard normal matrix is rank-deficient with probability zero.
    if (!(norm > 0.0)) fail<ValueError>("orthogonal_", "the random matrix drawn is rank-deficient");
    for (std::int64_t i = 0; i < m; ++i) v[i] /= norm;
  }
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv1D:
    case Nonlinearity::Conv2D:
    case Nonlinearity::Conv3D:
    case Nonlinearity::ConvTranspose1D:
    case Nonlinearity::ConvTranspose2D:
    case Nonlinearity::ConvTranspose3D:
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::SELU: return 3.0 / 4.0;
  }
  fail<ValueError>("calculate_gain", "unsupported nonlinearity ", static_cast<int>(nonlinearity));
}

std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  check_defined("calculate_fan_in_and_fan_out", tensor);
  if (tensor.dim() < 2)
    fail<ValueError>("calculate_fan_in_and_fan_out",
                     "fan in and fan out need a tensor of at least 2 dimensions, got shape ", tensor.shape());
  std::int64_t receptive_field = 1;
  for (std::int64_t d = 2; d < tensor.dim(); ++d) receptive_field *= tensor.size(d);
  return {tensor.size(1) * receptive_field, tensor.size(0) * receptive_field};
}

Tensor uniform_(Tensor tensor, double a, double b) {
  check_defined("uniform_", tensor);
  NoGradGuard no_grad;
  tapeflow::uniform_(tensor, a, b);
  return tensor;
}

Tensor normal_(Tensor tensor, double mean, double std) {
  check_defined("normal_", tensor);
  NoGradGuard no_grad;
  tapeflow::normal_(tensor, mean, std);
  return tensor;
}

Tensor constant_(Tensor tensor, double value) {
  check_defined("constant_", tensor);
  NoGradGuard no_grad;
  tensor.fill_(value);
  return tensor;
}

Tensor ones_(Tensor tensor) { return constant_(std::move(tensor), 1.0); }
Tensor zeros_(Tensor tensor) { return constant_(std::move(tensor), 0.0); }

Tensor xavier_uniform_(Tensor tensor, double gain) {
  const double bound = std::sqrt(3.0) * xavier_std("xavier_uniform_", tensor, gain);
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor xavier_normal_(Tensor tensor, double gain) {
  const double std = xavier_std("xavier_normal_", tensor, gain);
  return normal_(std::move(tensor), 0.0, std);
}

Tensor kaiming_uniform_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_defined("kaiming_uniform_", tensor);
  if (tensor.numel() == 0) return tensor;  // nothing to fill (PyTorch warns and returns)
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(fan("kaiming_uniform_", tensor, mode));
  const double bound = std::sqrt(3.0) * std;
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor kaiming_normal_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_defined("kaiming_normal_", tensor);
  if (tensor.numel() == 0) return tensor;
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(fan("kaiming_normal_", tensor, mode));
  return normal_(std::move(tensor), 0.0, std);
}

Tensor orthogonal_(Tensor tensor, double gain) {
  const char* op = "orthogonal_";
  check_defined(op, tensor);
  if (tensor.dim() < 2)
    fail<ValueError>(op, "only tensors with 2 or more dimensions are supported, got shape ", tensor.shape());
  if (tensor.numel() == 0) return tensor;
  const std::int64_t rows = tensor.size(0), cols = tensor.numel() / rows;
  // Work on the tall orientation (m >= n): columns of the (rows, cols) matrix, or of its transpose.
  const bool tall = rows >= cols;
  const std::int64_t m = tall ? rows : cols, n = tall ? cols : rows;
  // A row-major (n, m) matrix holds the m x n one column-major: column j is row j.
  const Tensor flat = randn({rows, cols}, kFloat64);
  const Tensor by_column = (tall ? flat.t() : flat).contiguous();
  std::vector<double> a(by_column.data_ptr<double>(), by_column.data_ptr<double>() + m * n);
  orthonormalise_columns(a, m, n);
  Tensor q = tapeflow::tensor(a, {n, m});  // row j = column j of Q
  if (tall) q = q.t();                      // Q is (rows, cols)
  NoGradGuard no_grad;
  tensor.copy_((q * gain).reshape(tensor.shape()));
  return tensor;
}

}  // namespace tapeflow::nn::init
