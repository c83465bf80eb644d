// Autograd behaviour of the elementwise ops beyond finite differences: in-place chains, in-place
// errors, version checks, what never records, PyTorch's conventions at 0 (pow) and at ties
// (maximum/minimum), dtypes of gradients, out= refusal, and the tape being empty afterwards.
#include <catch2/catch.hpp>
#include <cmath>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.detach().to(kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

Tensor leaf64(std::vector<double> v) { return tensor(v, kFloat64).requires_grad_(); }

void require_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  REQUIRE(t.defined());
  const auto v = values(t);
  REQUIRE(v.size() == expected.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    INFO("element " << i << ": " << v[i] << " vs " << expected[i]);
    REQUIRE(std::fabs(v[i] - expected[i]) <= tol * (1 + std::fabs(expected[i])));
  }
}

}  // namespace

TEST_CASE("in-place chains give the right gradients") {
  Tensor x = leaf64({1.0, -2.0, 0.5});
  Tensor w = leaf64({3.0, 4.0, -1.0});
  {
    Tensor y = x * 2;  // 2x
    y.add_(1);         // 2x + 1
    y.mul_(w);         // (2x + 1) w
    y.sub_(x, 0.5);    // (2x + 1) w - x / 2
    y.div_(2.0);       // ((2x + 1) w - x / 2) / 2
    y.sum().backward();
  }
  // d/dx = (2w - 0.5) / 2, d/dw = (2x + 1) / 2.
  require_values(x.grad(), {(6.0 - 0.5) / 2, (8.0 - 0.5) / 2, (-2.0 - 0.5) / 2});
  require_values(w.grad(), {1.5, -1.5, 1.0});
  REQUIRE(autograd::tape_size() == 0);
}

TEST_CASE("in-place ops on a tensor that did not require grad start tracking it") {
  Tensor x = leaf64({1.0, 2.0});
  Tensor y = zeros({2}, kFloat64);
  y.add_(x, 3);  // y = 3x
  REQUIRE(y.requires_grad());
  REQUIRE_FALSE(y.is_leaf());
  y.mul_(x);  // 3x^2: the old y (3x) is used for x's second gradient
  y.sum().backward();
  require_values(x.grad(), {6.0, 12.0});
  REQUIRE(autograd::tape_size() == 0);
}

TEST_CASE("operators and compound assignment record through the same ops") {
  Tensor a = leaf64({2.0, 3.0});
  Tensor b = leaf64({5.0, 7.0});
  Tensor y = -(a * b) + a / b - (1.0 - a);
  y += b;
  y *= 2.0;
  y.sum().backward();
  // y = 2(-ab + a/b - 1 + a + b): dy/da = 2(-b + 1/b + 1), dy/db = 2(-a - a/b^2 + 1).
  require_values(a.grad(), {2 * (-5.0 + 0.2 + 1), 2 * (-7.0 + 1.0 / 7 + 1)});
  require_values(b.grad(), {2 * (-2.0 - 2.0 / 25 + 1), 2 * (-3.0 - 3.0 / 49 + 1)});
}

TEST_CASE("in-place ops on a leaf that requires grad throw") {
  Tensor x = leaf64({1.0, 2.0});
  Tensor o = tensor({1.0, 1.0}, kFloat64);
  Tensor mask = tensor({true, false});
  REQUIRE_THROWS_AS(x.add_(o), Error);
  REQUIRE_THROWS_AS(x.add_(1.0), Error);
  REQUIRE_THROWS_AS(x.sub_(o), Error);
  REQUIRE_THROWS_AS(x.mul_(o), Error);
  REQUIRE_THROWS_AS(x.mul_(2.0), Error);
  REQUIRE_THROWS_AS(x.div_(o), Error);
  REQUIRE_THROWS_AS(x.clamp_(0.0, 1.0), Error);
  REQUIRE_THROWS_AS(x.relu_(), Error);
  REQUIRE_THROWS_AS(x.neg_(), Error);
  REQUIRE_THROWS_AS(x.exp_(), Error);
  REQUIRE_THROWS_AS(x.sqrt_(), Error);
  REQUIRE_THROWS_AS(x.masked_fill_(mask, 0.0), Error);
  REQUIRE_THROWS_AS(x.fill_(0.0), Error);
  REQUIRE_THROWS_AS(x.zero_(), Error);
  REQUIRE_THROWS_AS(x.copy_(o), Error);
  REQUIRE_THROWS_AS(x += o, Error);
  require_values(x, {1.0, 2.0});  // untouched
  // Allowed under NoGradGuard (optimizer updates), and not recorded.
  {
    NoGradGuard no_grad;
    x.add_(o);
    x.mul_(2.0);
  }
  require_values(x, {4.0, 6.0});
  REQUIRE(x.is_leaf());
}

TEST_CASE("a saved tensor modified in place makes backward throw") {
  Tensor x = leaf64({0.5, 1.0});
  SECTION("exp saves its output") {
    Tensor y = x.exp();
    y.add_(1);
    REQUIRE_THROWS_AS(y.sum().backward(), Error);
  }
  SECTION("mul saves its operands") {
    Tensor a = x * 1.0;
    Tensor y = a * x;
    a.mul_(3.0);
    REQUIRE_THROWS_AS(y.sum().backward(), Error);
  }
  SECTION("sqrt_ saves its result") {
    Tensor y = x * 1.0;
    y.sqrt_();
    Tensor z = y * 2.0;  // mul by a scalar saves nothing
    y.neg_();
    REQUIRE_THROWS_AS(z.sum().backward(), Error);
  }
  SECTION("an op that saves nothing is not affected") {
    Tensor y = x + 1.0;
    Tensor z = y * 2.0;
    y.zero_();  // y's new value is not read by any backward
    z.sum().backward();
    require_values(x.grad(), {2.0, 2.0});
  }
}

TEST_CASE("copy_ fill_ and zero_ record") {
  Tensor x = leaf64({1.0, 2.0, 3.0});
  Tensor src = tensor({10.0f}, kFloat32).requires_grad_();
  Tensor y = x * 2.0;
  y.copy_(src);  // broadcast from (1) and cast from float32
  REQUIRE(y.requires_grad());
  (y * x).sum().backward();
  // y = src broadcast: d/dsrc = sum(x), d/dx = y (the overwritten 2x gets zeros).
  REQUIRE(src.grad().dtype() == kFloat32);
  require_values(src.grad(), {6.0});
  require_values(x.grad(), {10.0, 10.0, 10.0});

  Tensor a = leaf64({1.0, 2.0});
  Tensor z = a * 3.0;
  z.zero_();
  z.sum().backward();
  require_values(a.grad(), {0.0, 0.0});

  // copy_ into an integer tensor is not differentiable and does not make it require grad.
  Tensor ints = zeros({3}, kInt64);
  ints.copy_(x);
  REQUIRE_FALSE(ints.requires_grad());
  REQUIRE(autograd::tape_size() == 0);
}

TEST_CASE("pow follows PyTorch's conventions at 0") {
  SECTION("tensor ^ tensor") {
    Tensor a = leaf64({0.0, 0.0, 2.0, 0.0});
    Tensor b = leaf64({0.0, 2.0, 3.0, -1.0});
    pow(a, b).sum().backward();
    // d/da = b a^(b-1), 0 where b == 0; d/db = a^b log(a), 0 where a == 0 and b >= 0.
    require_values(a.grad(), {0.0, 0.0, 12.0, -INFINITY});
    const auto gb = values(b.grad());
    REQUIRE(gb[0] == 0.0);
    REQUIRE(gb[1] == 0.0);
    REQUIRE(std::fabs(gb[2] - 8.0 * std::log(2.0)) < 1e-12);
    REQUIRE(std::isnan(gb[3]));  // inf * -inf: as in PyTorch
  }
  SECTION("tensor ^ 0 has a zero gradient") {
    Tensor a = leaf64({0.0, 3.0});
    pow(a, 0).sum().backward();
    require_values(a.grad(), {0.0, 0.0});
  }
  SECTION("0 ^ tensor") {
    Tensor e = leaf64({0.0, 2.0, -1.0});
    pow(0.0, e).sum().backward();
    const auto g = values(e.grad());
    REQUIRE(g[0] == 0.0);
    REQUIRE(g[1] == 0.0);
    REQUIRE(std::isnan(g[2]));  // inf * log(0)
  }
  SECTION("2 ^ tensor") {
    Tensor e = leaf64({1.0, 3.0});
    pow(2.0, e).sum().backward();
    require_values(e.grad(), {2.0 * std::log(2.0), 8.0 * std::log(2.0)});
  }
}

TEST_CASE("maximum and minimum split ties half/half") {
  Tensor a = leaf64({1.0, 5.0, 2.0});
  Tensor b = leaf64({1.0, 3.0, 4.0});
  maximum(a, b).sum().backward();
  require_values(a.grad(), {0.5, 1.0, 0.0});
  require_values(b.grad(), {0.5, 0.0, 1.0});
  a.set_grad(Tensor());
  b.set_grad(Tensor());
  minimum(a, b).sum().backward();
  require_values(a.grad(), {0.5, 0.0, 1.0});
  require_values(b.grad(), {0.5, 1.0, 0.0});
}

TEST_CASE("clamp passes the gradient where not clamped, bounds included") {
  Tensor x = leaf64({-2.0, -1.0, 0.0, 1.0, 2.0});
  clamp(x, -1.0, 1.0).sum().backward();
  require_values(x.grad(), {0.0, 1.0, 1.0, 1.0, 0.0});
  Tensor y = x * 1.0;
  y.clamp_(-1.0, 1.0);
  (y * 2.0).sum().backward();
  require_values(x.grad(), {0.0, 3.0, 3.0, 3.0, 0.0});
}

TEST_CASE("where and masked_fill give no gradient to the condition and route it") {
  Tensor c = tensor({true, false, true});
  Tensor a = leaf64({1.0, 2.0, 3.0});
  Tensor b = leaf64({4.0, 5.0, 6.0});
  where(c, a, b).sum().backward();
  require_values(a.grad(), {1.0, 0.0, 1.0});
  require_values(b.grad(), {0.0, 1.0, 0.0});
  a.set_grad(Tensor());
  (masked_fill(a, c, 9.0) * 2.0).sum().backward();
  require_values(a.grad(), {0.0, 2.0, 0.0});
}

TEST_CASE("gradients come back in each input's dtype") {
  Tensor a = randn({2, 3}).requires_grad_();           // float32
  Tensor b = randn({1, 3}, kFloat64).requires_grad_();  // float64, broadcast
  Tensor y = a * b;
  REQUIRE(y.dtype() == kFloat64);
  y.sum().backward();
  REQUIRE(a.grad().dtype() == kFloat32);
  REQUIRE(b.grad().dtype() == kFloat64);
  REQUIRE(b.grad().shape() == Shape{1, 3});
  const auto av = values(a), bv = values(b), ga = values(a.grad()), gb = values(b.grad());
  for (int j = 0; j < 3; ++j) {
    REQUIRE(std::fabs(gb[j] - (av[j] + av[3 + j])) < 1e-6);
    for (int i = 0; i < 2; ++i) REQUIRE(std::fabs(ga[i * 3 + j] - bv[j]) < 1e-6);
  }
  REQUIRE(autograd::tape_size() == 0);
}

TEST_CASE("non-differentiable elementwise ops never record") {
  Tensor x = randn({3}, kFloat64).requires_grad_();
  Tensor y = randn({3}, kFloat64).requires_grad_();
  const std::size_t before = autograd::tape_size();
  for (const Tensor& r : {x == y, x != y, x < y, x <= y, x > y, x >= y, x == 0.5, x < 1, logical_and(x, y),
                          logical_or(x, y), logical_not(x), isnan(x), isinf(x), isfinite(x), !x, x && y, x || y})
    REQUIRE_FALSE(r.requires_grad());
  REQUIRE(autograd::tape_size() == before);
  // Integer tensors cannot require grad; their results do not either.
  Tensor i = arange(4);
  REQUIRE_FALSE((i + 1).requires_grad());
  REQUIRE_FALSE(floor(i).requires_grad());
  REQUIRE_FALSE(sign(i).requires_grad());
}

TEST_CASE("sign floor ceil and round record a zero gradient") {
  Tensor x = leaf64({-1.5, 0.2, 2.7});
  (sign(x) + floor(x) + ceil(x) + round(x) + x).sum().backward();
  require_values(x.grad(), {1.0, 1.0, 1.0});
}

TEST_CASE("nothing records under NoGradGuard") {
  Tensor x = leaf64({1.0, 2.0});
  Tensor m = tensor({true, false});
  NoGradGuard no_grad;
  for (const Tensor& y : {x + x, x - 1.0, 2.0 - x, x * x, x / 2.0, 1.0 / x, pow(x, x), pow(x, 2), pow(2, x),
                          maximum(x, x), minimum(x, x), -x, abs(x), exp(x), log(x), sqrt(x), tanh(x), sigmoid(x),
                          relu(x), gelu(x), gelu(x, true), silu(x), softplus(x), elu(x), leaky_relu(x), clamp(x, 0, 1),
                          floor(x), sign(x), where(m, x, x), masked_fill(x, m, 0)})
    REQUIRE_FALSE(y.requires_grad());
  REQUIRE(autograd::tape_size() == 0);
}

TEST_CASE("out= variants refuse inputs that require grad") {
  Tensor a = leaf64({1.0, 2.0});
  Tensor b = tensor({3.0, 4.0}, kFloat64);
  Tensor out = empty({2}, kFloat64);
  REQUIRE_THROWS_AS(add_out(out, a, b), Error);
  REQUIRE_THROWS_AS(sub_out(out, b, a), Error);
  REQUIRE_THROWS_AS(mul_out(out, a, b), Error);
  REQUIRE_THROWS_AS(div_out(out, b, a), Error);
  try {
    add_out(out, a, b);
  } catch (const Error& e) {
    REQUIRE(std::string(e.what()).find("automatic differentiation") != std::string::npos);
  }
  {
    NoGradGuard no_grad;
    add_out(out, a, b);
  }
  require_values(out, {4.0, 6.0});
  REQUIRE_FALSE(out.requires_grad());
  mul_out(out, b, b);  // nothing requires grad
  require_values(out, {9.0, 16.0});
}

TEST_CASE("second derivatives through the elementwise backwards") {
  Tensor x = leaf64({0.3, -0.7, 1.2});
  Tensor y = (tanh(x) * x).sum();
  Tensor g = grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  Tensor h = grad({g.sum()}, {x})[0];
  // d2/dx2 [x tanh x] = 2 sech^2 x - 2 x tanh x sech^2 x.
  std::vector<double> expected;
  for (double v : {0.3, -0.7, 1.2}) {
    const double t = std::tanh(v), s2 = 1 - t * t;
    expected.push_back(2 * s2 - 2 * v * t * s2);
  }
  require_values(h, expected, 1e-10);
}

TEST_CASE("the tape is empty after backward and after dropped results") {
  Tensor x = leaf64({0.5, 1.5});
  {
    Tensor y = exp(x) * sin(x) + sqrt(x) / x - relu(x) * 2.0;
    y.add_(1.0);
    y.sum().backward();
  }
  REQUIRE(autograd::tape_size() == 0);
  {
    Tensor dropped = exp(x) * x;  // never backpropagated
  }
  REQUIRE(x.grad().defined());
  (x * 1.0).sum().backward();  // compaction after a walk frees the unreachable entries
  REQUIRE(autograd::tape_size() == 0);
}
