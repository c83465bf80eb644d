// clip_grad_norm_ / clip_grad_value_ against PyTorch's values (data/clip_*.npy from
// make_optim_reference.py), and the L1/L2 regularisation terms against float64 loops, their
// gradients, and their relation to weight_decay.
#include <cmath>
#include <fstream>

#include "optim_problem.hpp"

using namespace optim_test;
using Catch::Contains;

namespace {

struct ClipCase {
  std::string name, kind;
  double limit, norm_type;
};

std::vector<ClipCase> load_clip_cases() {
  std::ifstream in(data_path("clip_grad_cases.txt"));
  REQUIRE(in.good());
  std::vector<ClipCase> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    ClipCase c;
    std::string norm_type;
    words >> c.name >> c.kind >> c.limit >> norm_type;
    c.norm_type = norm_type == "inf" ? INFINITY : std::stod(norm_type);
    out.push_back(c);
  }
  return out;
}

std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  for (const Tensor& p : params) out.push_back(p.grad());
  return out;
}

}  // namespace

TEST_CASE("clip_grad_norm_ and clip_grad_value_ match PyTorch", "[optim][clip]") {
  const std::vector<ClipCase> cases = load_clip_cases();
  REQUIRE(cases.size() == 6);
  for (DType dtype : {kFloat64, kFloat32}) {
    for (const ClipCase& c : cases) {
      INFO(c.name << " " << dtype);
      const Tensor reference = load_npy(data_path("clip_" + c.name + ".npy"));
      const double* ref = reference.data_ptr<double>();
      TinyNet net(dtype);
      net->loss().backward();
      const std::vector<Tensor> params = net->parameters();
      const double tol = dtype == kFloat64 ? 1e-14 : 1e-6;
      if (c.kind == "norm") {
        const Tensor total = optim::clip_grad_norm_(params, c.limit, c.norm_type);
        CHECK(total.dim() == 0);
        CHECK(total.dtype() == dtype);
        CHECK(total.item<double>() == Approx(ref[0]).epsilon(tol));
      } else {
        optim::clip_grad_value_(params, c.limit);
      }
      const std::vector<double> clipped = flat_values(grads_of(params));
      REQUIRE(static_cast<std::int64_t>(clipped.size()) + 1 == reference.numel());
      for (std::size_t i = 0; i < clipped.size(); ++i) CHECK(clipped[i] == Approx(ref[i + 1]).epsilon(tol).margin(tol));
    }
  }
}

TEST_CASE("clip_grad_norm_: no gradients, skipped tensors, non-finite norms, bad arguments", "[optim][clip]") {
  const Tensor a = zeros({3}, kFloat64).requires_grad_(), b = zeros({2}).requires_grad_();
  CHECK(optim::clip_grad_norm_({a, b}, 1.0).item<double>() == 0);  // no gradients yet

  a.set_grad(tensor({3.0, 0.0, 4.0}, kFloat64));
  // b has no gradient: skipped. Norm 5, clipped to 1 (coefficient 1 / (5 + 1e-6)).
  const Tensor total = optim::clip_grad_norm_({a, b}, 1.0);
  CHECK(total.item<double>() == 5);
  CHECK(a.grad().data_ptr<double>()[2] == Approx(4.0 / (5 + 1e-6)).epsilon(1e-15));
  // Mixed dtypes: the norm comes back in the promoted dtype.
  b.set_grad(tensor({1.0f, 1.0f}));
  CHECK(optim::clip_grad_norm_({a, b}, 10.0).dtype() == kFloat64);

  a.set_grad(tensor({NAN, 1.0, 1.0}, kFloat64));
  CHECK_THROWS_AS(optim::clip_grad_norm_({a}, 1.0, 2.0, /*error_if_nonfinite=*/true), ValueError);
  CHECK_THROWS_WITH(optim::clip_grad_norm_({a}, 1.0, 2.0, true),
                    Contains("[clip_grad_norm_] the total norm of order 2 of the gradients is nan"));
  CHECK(std::isnan(optim::clip_grad_norm_({a}, 1.0).item<double>()));  // as PyTorch: scales by NaN
  CHECK(std::isnan(a.grad().data_ptr<double>()[1]));
  a.set_grad(tensor({INFINITY, 1.0, 1.0}, kFloat64));
  CHECK_THROWS_WITH(optim::clip_grad_norm_({a}, 1.0, INFINITY, true), Contains("of order inf") && Contains("is inf"));

  CHECK_THROWS_WITH(optim::clip_grad_norm_({a}, -1.0), Contains("max_norm must be >= 0, got -1"));
  CHECK_THROWS_WITH(optim::clip_grad_norm_({a}, 1.0, -2.0), Contains("norm_type must be >= 0 or infinity, got -2"));
  CHECK_THROWS_WITH(optim::clip_grad_value_({a}, -0.5),
                    Contains("[clip_grad_value_] clip_value must be >= 0, got -0.5"));
}

TEST_CASE("l1_regularization and l2_regularization: values and gradients", "[optim][regularization]") {
  manual_seed(11);
  const Tensor w = randn({3, 4}, kFloat64).requires_grad_(), v = randn({5}, kFloat64).requires_grad_();
  double l1 = 0, l2 = 0;
  for (const Tensor& t : {w, v}) {
    const Tensor c = t.detach().contiguous();
    for (std::int64_t i = 0; i < c.numel(); ++i) {
      const double x = c.data_ptr<double>()[i];
      l1 += std::abs(x);
      l2 += x * x;
    }
  }
  const Tensor r1 = optim::l1_regularization({w, v}, 0.3);
  const Tensor r2 = optim::l2_regularization({w, v}, 0.2);
  CHECK(r1.dim() == 0);
  CHECK(r1.item<double>() == Approx(0.3 * l1).epsilon(1e-14));
  CHECK(r2.item<double>() == Approx(0.2 * l2).epsilon(1e-14));
  CHECK(r1.requires_grad());

  (r1 + r2).backward();
  for (const Tensor& t : {w, v}) {
    const Tensor x = t.detach().contiguous(), g = t.grad().contiguous();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const double xi = x.data_ptr<double>()[i];
      CHECK(g.data_ptr<double>()[i] == Approx(0.3 * (xi > 0 ? 1 : -1) + 2 * 0.2 * xi).epsilon(1e-14));
    }
  }
  // float32 tensors give a float32 term; mixing promotes.
  CHECK(optim::l2_regularization({zeros({2}).requires_grad_()}, 1.0).dtype() == kFloat32);
  CHECK(optim::l1_regularization({zeros({2}), w}, 1.0).dtype() == kFloat64);

  CHECK_THROWS_WITH(optim::l1_regularization({}, 0.1), Contains("[l1_regularization] expected at least one tensor"));
  CHECK_THROWS_WITH(optim::l2_regularization({w}, -0.1), Contains("lambda must be >= 0, got -0.1"));
  CHECK_THROWS_AS(optim::l2_regularization({w, zeros({2}, kInt64)}, 0.1), DTypeError);
  CHECK_THROWS_WITH(optim::l2_regularization({w, zeros({2}, kInt64)}, 0.1), Contains("tensor 1 has dtype int64"));
}

TEST_CASE("l2_regularization(wd / 2) is weight_decay = wd, except for AdamW", "[optim][regularization]") {
  const double wd = 0.2;
  const auto run = [&](const Config& c, bool penalty) {
    TinyNet net;
    auto opt = make_optimizer(c, net->parameters());
    for (int i = 0; i < 10; ++i) {
      opt->zero_grad();
      Tensor loss = net->loss();
      if (penalty) loss = loss + optim::l2_regularization(net->parameters(), wd / 2);
      loss.backward();
      opt->step();
    }
    return flat_values(net->parameters());
  };
  const auto max_difference = [](const std::vector<double>& a, const std::vector<double>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
    return worst;
  };
  for (const std::string optimizer : {"SGD", "Adam", "RMSprop", "Adagrad"}) {
    INFO(optimizer);
    const Config decay{"", optimizer, {{"lr", 0.01}, {"weight_decay", wd}}, {}};
    const Config plain{"", optimizer, {{"lr", 0.01}}, {}};
    CHECK(max_difference(run(decay, false), run(plain, true)) < 1e-13);
    CHECK(max_difference(run(decay, false), run(plain, false)) > 1e-4);
  }
  const Config adamw{"", "AdamW", {{"lr", 0.01}, {"weight_decay", wd}}, {}};
  const Config adamw_plain{"", "AdamW", {{"lr", 0.01}, {"weight_decay", 0.0}}, {}};
  CHECK(max_difference(run(adamw, false), run(adamw_plain, true)) > 1e-4);
}
