// nn::init against PyTorch: gains and fans from torch.nn.init (tests/nn/data/init_reference.txt,
// made by tests/nn/make_init_reference.py), distributions checked statistically on large tensors
// (bounds exactly; mean and standard deviation within 5 standard errors of PyTorch's formula),
// orthogonal_ by Q^T Q = I, and the layers' default initialisation.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
namespace init = tapeflow::nn::init;

namespace {

const std::filesystem::path kReference =
    std::filesystem::path(TAPEFLOW_TESTS_DIR) / "nn" / "data" / "init_reference.txt";

struct Stats {
  double min, max, mean, std;
  std::int64_t n;
};

Stats stats(const Tensor& t) {
  const Tensor c = t.detach().contiguous().to(kFloat64);
  const double* p = c.data_ptr<double>();
  Stats s{p[0], p[0], 0.0, 0.0, c.numel()};
  for (std::int64_t i = 0; i < s.n; ++i) {
    s.min = std::min(s.min, p[i]);
    s.max = std::max(s.max, p[i]);
    s.mean += p[i];
  }
  s.mean /= static_cast<double>(s.n);
  for (std::int64_t i = 0; i < s.n; ++i) s.std += (p[i] - s.mean) * (p[i] - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(s.n - 1));
  return s;
}

// U(-bound, bound): values inside, the extremes close to the bounds, and mean 0, std bound/sqrt(3)
// within 5 standard errors (for a uniform, SE(std) = sigma * sqrt(0.8 / n) / 2).
void check_uniform(const Tensor& t, double lo, double hi) {
  const Stats s = stats(t);
  const double sigma = (hi - lo) / std::sqrt(12.0), n = static_cast<double>(s.n);
  INFO("min " << s.min << " max " << s.max << " mean " << s.mean << " std " << s.std << " expected U(" << lo << ", "
              << hi << ")");
  CHECK(s.min >= lo);
  CHECK(s.max <= hi);
  CHECK(s.min < lo + 0.01 * (hi - lo));
  CHECK(s.max > hi - 0.01 * (hi - lo));
  CHECK(std::abs(s.mean - (lo + hi) / 2) < 5 * sigma / std::sqrt(n));
  CHECK(std::abs(s.std - sigma) < 5 * sigma * std::sqrt(0.8 / n) / 2);
}

// N(mean, sigma^2): sample mean and std within 5 standard errors (SE(std) = sigma / sqrt(2n)).
void check_normal(const Tensor& t, double mean, double sigma) {
  const Stats s = stats(t);
  const double n = static_cast<double>(s.n);
  INFO("mean " << s.mean << " std " << s.std << " expected N(" << mean << ", " << sigma << "^2)");
  CHECK(std::abs(s.mean - mean) < 5 * sigma / std::sqrt(n));
  CHECK(std::abs(s.std - sigma) < 5 * sigma / std::sqrt(2 * n));
}

init::Nonlinearity nonlinearity(const std::string& name) {
  static const std::map<std::string, init::Nonlinearity> by_name{
      {"linear", init::Nonlinearity::Linear},
      {"conv1d", init::Nonlinearity::Conv1D},
      {"conv2d", init::Nonlinearity::Conv2D},
      {"conv3d", init::Nonlinearity::Conv3D},
      {"conv_transpose1d", init::Nonlinearity::ConvTranspose1D},
      {"conv_transpose2d", init::Nonlinearity::ConvTranspose2D},
      {"conv_transpose3d", init::Nonlinearity::ConvTranspose3D},
      {"sigmoid", init::Nonlinearity::Sigmoid},
      {"tanh", init::Nonlinearity::Tanh},
      {"relu", init::Nonlinearity::ReLU},
      {"leaky_relu", init::Nonlinearity::LeakyReLU},
      {"selu", init::Nonlinearity::SELU}};
  return by_name.at(name);
}

// max |a^T a - gain^2 I| for the columns of a (m x n).
double orthogonality_error(const Tensor& a, double gain) {
  const Tensor gram = matmul(a.t(), a).to(kFloat64);
  return (gram - eye(a.size(1), std::nullopt, kFloat64) * (gain * gain)).abs().max().item<double>();
}

}  // namespace

TEST_CASE("calculate_gain and fans match torch.nn.init", "[nn][init]") {
  std::ifstream in(kReference);
  REQUIRE(in.good());
  int gains = 0, fans = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "gain") {
      std::string name, param;
      double want = 0;
      words >> name >> param >> want;
      INFO(line);
      const double got = param == "-" ? init::calculate_gain(nonlinearity(name))
                                       : init::calculate_gain(nonlinearity(name), std::stod(param));
      CHECK(got == Approx(want).epsilon(1e-15));
      ++gains;
    } else if (kind == "fan") {
      std::int64_t fan_in = 0, fan_out = 0, d = 0;
      words >> fan_in >> fan_out;
      std::vector<std::int64_t> shape;
      while (words >> d) shape.push_back(d);
      INFO(line);
      const auto got = init::calculate_fan_in_and_fan_out(tapeflow::empty(shape));
      CHECK(got.first == fan_in);
      CHECK(got.second == fan_out);
      ++fans;
    }
  }
  CHECK(gains == 14);
  CHECK(fans == 6);
  CHECK_THROWS_AS(init::calculate_fan_in_and_fan_out(empty({5})), ValueError);
}

TEST_CASE("uniform_, normal_, constant_, ones_, zeros_", "[nn][init]") {
  manual_seed(1);
  Tensor t = empty({400, 500});
  Tensor same = init::uniform_(t, -0.5, 1.5);
  CHECK(same.is_same(t));
  check_uniform(t, -0.5, 1.5);
  check_uniform(init::uniform_(empty({200000}, kFloat64)), 0.0, 1.0);
  check_normal(init::normal_(t, 2.0, 0.25), 2.0, 0.25);
  check_normal(init::normal_(empty({300, 400}, kFloat64)), 0.0, 1.0);
  CHECK(equal(init::constant_(t, 0.75), full({400, 500}, 0.75)));
  CHECK(equal(init::ones_(t), ones({400, 500})));
  CHECK(equal(init::zeros_(t), zeros({400, 500})));
}

TEST_CASE("initialisers fill parameters that require grad without recording", "[nn][init]") {
  Tensor w = zeros({3, 4});
  w.requires_grad_(true);
  init::kaiming_uniform_(w);
  init::ones_(w);
  init::orthogonal_(w);
  CHECK(w.is_leaf());
  CHECK(w.requires_grad());
  CHECK(w.grad_fn_name().empty());
  CHECK(orthogonality_error(w.detach().t(), 1.0) < 1e-6);  // 3 orthonormal rows
}

TEST_CASE("xavier_uniform_ and xavier_normal_ follow Glorot's formulas", "[nn][init]") {
  manual_seed(2);
  // fan_in = 60 * 9 = 540, fan_out = 100 * 9 = 900
  Tensor w = empty({100, 60, 3, 3});
  const double std1 = std::sqrt(2.0 / (540 + 900));
  init::xavier_uniform_(w);
  check_uniform(w, -std::sqrt(3.0) * std1, std::sqrt(3.0) * std1);
  init::xavier_uniform_(w, 2.5);
  check_uniform(w, -2.5 * std::sqrt(3.0) * std1, 2.5 * std::sqrt(3.0) * std1);
  init::xavier_normal_(w, init::calculate_gain(init::Nonlinearity::Tanh));
  check_normal(w, 0.0, 5.0 / 3.0 * std1);
}

TEST_CASE("kaiming_uniform_ and kaiming_normal_ follow He's formulas", "[nn][init]") {
  manual_seed(3);
  Tensor w = empty({64, 32, 3, 3});  // fan_in 288, fan_out 576
  SECTION("fan_in, leaky_relu with slope a (the defaults)") {
    init::kaiming_uniform_(w, 0.2);
    const double bound = std::sqrt(3.0) * std::sqrt(2.0 / (1 + 0.04)) / std::sqrt(288.0);
    check_uniform(w, -bound, bound);
  }
  SECTION("fan_out, relu") {
    init::kaiming_uniform_(w, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
    const double bound = std::sqrt(3.0) * std::sqrt(2.0) / std::sqrt(576.0);
    check_uniform(w, -bound, bound);
  }
  SECTION("normal, fan_out, relu") {
    init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
    check_normal(w, 0.0, std::sqrt(2.0) / std::sqrt(576.0));
  }
  SECTION("normal, fan_in, linear gain ignores a") {
    init::kaiming_normal_(w, 3.0, init::FanMode::FanIn, init::Nonlinearity::Linear);
    check_normal(w, 0.0, 1.0 / std::sqrt(288.0));
  }
  SECTION("an empty tensor is left alone") {
    Tensor e = empty({0, 4});
    CHECK(init::kaiming_uniform_(e).numel() == 0);
  }
}

TEST_CASE("orthogonal_ gives orthonormal rows or columns, scaled by gain", "[nn][init]") {
  manual_seed(4);
  SECTION("tall: Q^T Q = I") {
    Tensor w = init::orthogonal_(empty({50, 30}));
    CHECK(orthogonality_error(w, 1.0) < 1e-5);
  }
  SECTION("wide: Q Q^T = I, float64, gain 2") {
    Tensor w = init::orthogonal_(empty({20, 45}, kFloat64), 2.0);
    CHECK(orthogonality_error(w.t(), 2.0) < 1e-12);
  }
  SECTION("a conv weight is orthogonal as (out, in * k * k)") {
    Tensor w = init::orthogonal_(empty({8, 2, 3, 3}, kFloat64));
    CHECK(orthogonality_error(w.reshape({8, 18}).t(), 1.0) < 1e-12);
  }
  SECTION("square: an orthogonal matrix, different on each draw, reproducible from the seed") {
    Tensor a = init::orthogonal_(empty({16, 16}, kFloat64));
    Tensor b = init::orthogonal_(empty({16, 16}, kFloat64));
    CHECK(orthogonality_error(a, 1.0) < 1e-12);
    CHECK(orthogonality_error(a.t(), 1.0) < 1e-12);
    CHECK_FALSE(allclose(a, b));
    manual_seed(4);
    CHECK(equal(init::orthogonal_(empty({16, 16}, kFloat64)), a));
  }
  SECTION("errors") {
    CHECK_THROWS_AS(init::orthogonal_(empty({5})), ValueError);
    CHECK_THROWS_AS(init::orthogonal_(Tensor()), ValueError);
  }
}

TEST_CASE("default initialisation of the layers matches PyTorch's", "[nn][init][layers]") {
  manual_seed(5);
  SECTION("Linear: weight and bias U(-1/sqrt(in), 1/sqrt(in))") {
    nn::Linear fc(1000, 400);
    const double bound = 1.0 / std::sqrt(1000.0);
    check_uniform(fc->weight, -bound, bound);
    const Stats b = stats(fc->bias);
    CHECK(b.min >= -bound);
    CHECK(b.max <= bound);
    CHECK(fc->weight.dtype() == kFloat32);
    CHECK(fc->weight.requires_grad());
  }
  SECTION("Conv2d: fan_in = in / groups * kH * kW") {
    nn::Conv2d conv(nn::Conv2dOptions(16, 256, {5, 4}).groups(2));
    const double bound = 1.0 / std::sqrt(8.0 * 20.0);
    check_uniform(conv->weight, -bound, bound);
    const Stats b = stats(conv->bias);
    CHECK(b.min >= -bound);
    CHECK(b.max <= bound);
  }
  SECTION("Conv1d") {
    nn::Conv1d conv(30, 500, 7);
    check_uniform(conv->weight, -1.0 / std::sqrt(210.0), 1.0 / std::sqrt(210.0));
  }
  SECTION("Bilinear: U(-1/sqrt(in1), 1/sqrt(in1)) for weight and bias") {
    nn::Bilinear bl(20, 30, 300);
    const double bound = 1.0 / std::sqrt(20.0);
    check_uniform(bl->weight, -bound, bound);
    CHECK(stats(bl->bias).max <= bound);
    CHECK(stats(bl->bias).min >= -bound);
  }
  SECTION("Embedding: N(0, 1) with the padding row zeroed") {
    nn::Embedding emb(nn::EmbeddingOptions(2000, 64).padding_idx(3));
    check_normal(emb->weight, 0.0, 1.0);
    CHECK(equal(emb->weight[3], zeros({64})));
    CHECK(emb->weight[4].abs().sum().item<double>() > 0);
  }
  SECTION("norm layers: weight 1, bias 0, running stats 0 / 1 / 0") {
    nn::BatchNorm2d bn(7);
    CHECK(equal(bn->weight, ones({7})));
    CHECK(equal(bn->bias, zeros({7})));
    CHECK(equal(bn->running_mean, zeros({7})));
    CHECK(equal(bn->running_var, ones({7})));
    CHECK(bn->num_batches_tracked.dtype() == kInt64);
    CHECK(bn->num_batches_tracked.dim() == 0);
    CHECK(bn->num_batches_tracked.item<std::int64_t>() == 0);
    nn::LayerNorm ln(std::vector<std::int64_t>{3, 4});
    CHECK(equal(ln->weight, ones({3, 4})));
    CHECK(equal(ln->bias, zeros({3, 4})));
  }
  SECTION("reset_parameters draws again; the seed reproduces a layer") {
    manual_seed(6);
    nn::Linear a(10, 10);
    manual_seed(6);
    nn::Linear b(10, 10);
    CHECK(equal(a->weight, b->weight));
    CHECK(equal(a->bias, b->bias));
    b->reset_parameters();
    CHECK_FALSE(equal(a->weight, b->weight));
  }
}
