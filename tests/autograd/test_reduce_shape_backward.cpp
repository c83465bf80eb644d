// Focused autograd tests for reductions and shape ops: gradients of views landing in the right
// places (shared views, rows, broadcast accumulation, strided slices, cat/stack splits), keepdim,
// ties and zeros, what never records (integer results, argmax, indices, detach, untracked views),
// grad_fn names, and second-order gradients through views.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

using Vec = std::vector<double>;

// Row-major float64 values of t (any layout, any dtype).
Vec values(const Tensor& t) {
  const Tensor c = t.detach().to(kFloat64).contiguous();
  const double* p = c.data_ptr<double>();
  return Vec(p, p + c.numel());
}

Tensor leaf(const Vec& v, IntArrayRef shape) { return tensor(v, shape, kFloat64).requires_grad_(true); }

void require_close(const Vec& got, const Vec& want, double tol = 1e-12) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    REQUIRE(got[i] == Approx(want[i]).margin(tol));
  }
}

Vec iota(std::size_t n, double start = 1.0) {
  Vec v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start + static_cast<double>(i);
  return v;
}

}  // namespace

TEST_CASE("a view used twice accumulates both gradients") {
  Tensor x = leaf(iota(6), {2, 3});
  const Vec av = iota(6, 10), bv = iota(6, -3);
  Tensor a = tensor(av, {3, 2}, kFloat64), b = tensor(bv, {3, 2}, kFloat64);
  ((x.t() * a).sum() + (x.t() * b).sum()).backward();
  REQUIRE(x.grad().shape() == Shape{2, 3});
  // grad[i][j] = a[j][i] + b[j][i]
  Vec want(6);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) want[static_cast<std::size_t>(i * 3 + j)] = av[static_cast<std::size_t>(j * 2 + i)] + bv[static_cast<std::size_t>(j * 2 + i)];
  require_close(values(x.grad()), want);
}

TEST_CASE("gradients of selected rows land in their rows") {
  Tensor x = leaf(iota(12), {3, 4});
  const Vec wv{1, -2, 3, -4};
  ((x[0] * 2.0).sum() + (x[2] * tensor(wv, kFloat64)).sum() + x[-1].sum()).backward();
  require_close(values(x.grad()), {2, 2, 2, 2, 0, 0, 0, 0, 2, -1, 4, -3});
  // A column through select(1, ...) and through index.
  Tensor y = leaf(iota(6), {2, 3});
  (y.select(1, 1).sum() * 3.0 + y.index({Ellipsis, 2}).sum()).backward();
  require_close(values(y.grad()), {0, 3, 1, 0, 3, 1});
}

TEST_CASE("expand accumulates over the broadcast dims") {
  Tensor x = leaf({1, 2, 3}, {3, 1});
  const Vec wv = iota(24);
  Tensor w = tensor(wv, {2, 3, 4}, kFloat64);
  (x.expand({2, 3, 4}) * w).sum().backward();
  REQUIRE(x.grad().shape() == Shape{3, 1});
  Vec want(3, 0.0);
  for (std::size_t a = 0; a < 2; ++a)
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t c = 0; c < 4; ++c) want[i] += wv[a * 12 + i * 4 + c];
  require_close(values(x.grad()), want);
  Tensor v = leaf({5}, {1});
  v.broadcast_to({4}).sum().backward();
  require_close(values(v.grad()), {4});
}

TEST_CASE("strided slices, narrow, split and chunk put gradients in place") {
  Tensor x = leaf(iota(7), {7});
  (x.slice(0, 1, std::nullopt, 2) * tensor(Vec{10, 20, 30}, kFloat64)).sum().backward();
  require_close(values(x.grad()), {0, 10, 0, 20, 0, 30, 0});
  Tensor y = leaf(iota(10), {5, 2});
  auto parts = y.split(2);
  REQUIRE(parts.size() == 3);
  (parts[1].sum() * 3.0 + parts[2].sum()).backward();
  require_close(values(y.grad()), {0, 0, 0, 0, 3, 3, 3, 3, 1, 1});
  Tensor z = leaf(iota(6), {1, 6});
  auto chunks = z.chunk(3, 1);
  (chunks[0].sum() - chunks[2].sum() * 2.0 + z.narrow(1, 1, 2).sum()).backward();
  require_close(values(z.grad()), {1, 2, 1, 0, -2, -2});
  Tensor u = leaf(iota(6), {3, 2});
  auto rows = u.unbind();
  (rows[2] * rows[0]).sum().backward();
  require_close(values(u.grad()), {5, 6, 0, 0, 1, 2});
}

TEST_CASE("cat and stack split the gradient among their inputs") {
  Tensor a = leaf({1, 2}, {2}), b = leaf({3, 4, 5}, {3});
  (cat({a, b}) * tensor(Vec{1, 2, 3, 4, 5}, kFloat64)).sum().backward();
  require_close(values(a.grad()), {1, 2});
  require_close(values(b.grad()), {3, 4, 5});
  Tensor c = leaf({1, 2}, {2}), d = leaf({3, 4}, {2});
  Tensor s = stack({c, d}, 1);  // [[1, 3], [2, 4]]
  REQUIRE(s.shape() == Shape{2, 2});
  (s * tensor(Vec{1, 2, 3, 4}, {2, 2}, kFloat64)).sum().backward();
  require_close(values(c.grad()), {1, 3});
  require_close(values(d.grad()), {2, 4});
  // A float32 input in a float64 cat gets a float32 gradient.
  Tensor e = ones({2}, kFloat32).requires_grad_(true);
  cat({e, zeros({1}, kFloat64)}).sum().backward();
  REQUIRE(e.grad().dtype() == kFloat32);
  require_close(values(e.grad()), {1, 1});
}

TEST_CASE("reshape, view, flatten, permute, squeeze and unsqueeze map gradients back") {
  Tensor x = leaf(iota(6), {2, 3});
  Tensor w = tensor(iota(6, 1), {3, 2}, kFloat64);
  (x.t().reshape({3, 2}) * w).sum().backward();  // a copy: x.t() is not contiguous
  // x.t().reshape({3,2}) is x.t() itself; grad = w.t()
  require_close(values(x.grad()), {1, 3, 5, 2, 4, 6});
  Tensor y = leaf(iota(24), {2, 3, 4});
  Tensor p = y.permute({2, 0, 1});
  REQUIRE(p.grad_fn_name() == "permute");
  (p.select(0, 3) * 2.0).sum().backward();  // y[..., 3]
  Vec want(24, 0.0);
  for (std::size_t i = 3; i < 24; i += 4) want[i] = 2;
  require_close(values(y.grad()), want);
  Tensor z = leaf(iota(3), {3, 1});
  (z.squeeze().unsqueeze(0).view({3}).flatten() * tensor(Vec{1, 2, 3}, kFloat64)).sum().backward();
  REQUIRE(z.grad().shape() == Shape{3, 1});
  require_close(values(z.grad()), {1, 2, 3});
}

TEST_CASE("keepdim false and true give the same gradients") {
  for (bool keepdim : {false, true}) {
    INFO("keepdim " << keepdim);
    Tensor x = leaf({1, 5, 2, 4, 3, 6}, {2, 3});
    Tensor s = x.sum({1}, keepdim);
    REQUIRE(s.shape() == (keepdim ? Shape{2, 1} : Shape{2}));
    Tensor m = x.max(1, keepdim).first;
    Tensor mean_ = x.mean({0}, keepdim);
    Tensor w = keepdim ? tensor(Vec{1, 2}, {2, 1}, kFloat64) : tensor(Vec{1, 2}, kFloat64);
    ((s * w).sum() + (m * w).sum() + mean_.sum()).backward();
    // sum: row weights; max: 5 at (0,1) and 6 at (1,2); mean over 2 rows: 0.5 each.
    require_close(values(x.grad()), {1.5, 2.5, 1.5, 2.5, 2.5, 4.5});
  }
}

TEST_CASE("ties split the gradient evenly for amax/max(), the selected index gets it for max(dim)") {
  Tensor x = leaf({1, 3, 3, 2}, {4});
  amax(x).backward();
  require_close(values(x.grad()), {0, 0.5, 0.5, 0});
  Tensor y = leaf({1, 3, 3, 2}, {4});
  y.max().backward();
  require_close(values(y.grad()), {0, 0.5, 0.5, 0});
  Tensor z = leaf({-1, -1, 0, -1}, {2, 2});
  amin(z, {1}).sum().backward();
  require_close(values(z.grad()), {0.5, 0.5, 0, 1});
  Tensor u = leaf({1, 3, 3, 2}, {4});
  auto [value, index] = u.max(0);
  REQUIRE(index.item<std::int64_t>() == 1);
  value.backward();
  require_close(values(u.grad()), {0, 1, 0, 0});
  Tensor v = leaf({4, 1, 1, 2}, {2, 2});
  v.min(1).first.sum().backward();
  require_close(values(v.grad()), {0, 1, 1, 0});
}

TEST_CASE("prod handles zeros") {
  Tensor x = leaf({2, 0, 3}, {3});
  x.prod().backward();
  require_close(values(x.grad()), {0, 6, 0});
  Tensor y = leaf({2, 0, 0, 3}, {4});
  y.prod().backward();
  require_close(values(y.grad()), {0, 0, 0, 0});
  Tensor z = leaf({2, 4, 0, 5, 1, 3}, {2, 3});  // rows: one zero; no zero
  z.prod(1).sum().backward();
  require_close(values(z.grad()), {0, 0, 8, 3, 15, 5});
  // Second order with a single zero: d/dx_j of d(prod)/dx_i = product of the others.
  Tensor a = leaf({2, 0, 3}, {3});
  Tensor g = grad({a.prod()}, {a}, {}, std::nullopt, /*create_graph=*/true)[0];  // [0, 6, 0]
  Tensor h = grad({g.select(0, 0)}, {a})[0];  // d/da of a1 * a2 = [0, 3, 0]
  require_close(values(h), {0, 3, 0});
}

TEST_CASE("var, std, logsumexp, norm and cumsum give exact gradients") {
  Tensor x = leaf({1, 2, 3, 4}, {4});
  x.var().backward();
  require_close(values(x.grad()), {-1.0, -1.0 / 3, 1.0 / 3, 1.0});
  Tensor y = leaf({1, 2, 3, 4}, {4});
  y.std({0}, 0).backward();  // (x - mean) / (N * std)
  const double sd = std::sqrt(1.25);
  require_close(values(y.grad()), {-1.5 / (4 * sd), -0.5 / (4 * sd), 0.5 / (4 * sd), 1.5 / (4 * sd)});
  Tensor z = leaf({0, std::log(3.0)}, {2});
  z.logsumexp({0}).backward();
  require_close(values(z.grad()), {0.25, 0.75});
  Tensor n = leaf({3, -4}, {2});
  n.norm().backward();
  require_close(values(n.grad()), {0.6, -0.8});
  Tensor zero = leaf({0, 0}, {2});
  zero.norm().backward();  // not NaN: zero, like PyTorch
  require_close(values(zero.grad()), {0, 0});
  Tensor c = leaf(iota(4), {4});
  c.cumsum(0).sum().backward();
  require_close(values(c.grad()), {4, 3, 2, 1});
}

TEST_CASE("integer results, argmax, indices and detach never record") {
  Tensor x = leaf({1, -2, 3, 0.5}, {2, 2});
  const std::size_t before = autograd::tape_size();
  REQUIRE_FALSE(x.argmax().requires_grad());
  REQUIRE_FALSE(x.argmin(1).requires_grad());
  REQUIRE_FALSE(x.to(kInt64).requires_grad());
  REQUIRE_FALSE(x.to(kInt64).sum().requires_grad());
  REQUIRE_FALSE(x.to(kBool).all().requires_grad());
  REQUIRE_FALSE(x.to(kBool).any().requires_grad());
  REQUIRE_FALSE(x.detach().requires_grad());
  REQUIRE_FALSE(x.detach().t()[0].requires_grad());
  REQUIRE(autograd::tape_size() == before);
  // max/min with dim record their values only.
  REQUIRE(x.max(1).first.requires_grad());
  REQUIRE_FALSE(x.max(1).second.requires_grad());
  REQUIRE_FALSE(x.min(0, true).second.requires_grad());
}

TEST_CASE("views of untracked tensors, or under NoGradGuard, add nothing to the tape") {
  const std::size_t before = autograd::tape_size();
  Tensor a = randn({4, 6}, kFloat64);
  Tensor v = a.t().reshape({24}).view({2, 12}).narrow(1, 0, 4)[1].unsqueeze(0).expand({3, 4});
  REQUIRE_FALSE(v.requires_grad());
  Tensor x = randn({4, 6}, kFloat64).requires_grad_(true);
  {
    NoGradGuard no_grad;
    Tensor w = x.t().select(0, 1).contiguous().sum();
    REQUIRE_FALSE(w.requires_grad());
  }
  REQUIRE(autograd::tape_size() == before);
  REQUIRE(x.contiguous().is_same(x));  // already contiguous: no copy, no entry
  REQUIRE(autograd::tape_size() == before);
}

TEST_CASE("grad_fn names of recorded shape ops and reductions") {
  Tensor x = randn({2, 3}, kFloat64).requires_grad_(true);
  CHECK(x.t().grad_fn_name() == "transpose");
  CHECK(x.view({3, 2}).grad_fn_name() == "view");
  CHECK(x.reshape({6}).grad_fn_name() == "reshape");
  CHECK(x.flatten().grad_fn_name() == "reshape");
  CHECK(x[0].grad_fn_name() == "select");
  CHECK(x.narrow(1, 0, 2).grad_fn_name() == "slice");
  CHECK(x.unsqueeze(0).grad_fn_name() == "unsqueeze");
  CHECK(x.unsqueeze(0).squeeze(0).grad_fn_name() == "squeeze");
  CHECK(x.expand({4, 2, 3}).grad_fn_name() == "expand");
  CHECK(x.t().contiguous().grad_fn_name() == "clone");
  CHECK(x.to(kFloat32).grad_fn_name() == "to");
  CHECK(cat({x, x}).grad_fn_name() == "cat");
  CHECK(x.split(1)[1].grad_fn_name() == "split");
  CHECK(x.chunk(2, 1)[0].grad_fn_name() == "split");
  CHECK(x.unbind(1)[2].grad_fn_name() == "unbind");
  CHECK(x.sum().grad_fn_name() == "sum");
  CHECK(x.max(1).first.grad_fn_name() == "max");
  CHECK(x.norm(1).grad_fn_name() == "norm");
  CHECK(x.cumsum(1).grad_fn_name() == "cumsum");
}

TEST_CASE("to(dtype) casts the gradient back to the input dtype") {
  Tensor x = tensor(Vec{1.5, -2}, kFloat32).requires_grad_(true);
  (x.to(kFloat64) * tensor(Vec{3, 4}, kFloat64)).sum().backward();
  REQUIRE(x.grad().dtype() == kFloat32);
  require_close(values(x.grad()), {3, 4});
  Tensor y = tensor(Vec{1, 2}, kFloat32).requires_grad_(true);
  y.sum(kFloat64).backward();  // sum with a dtype: a recorded cast, then the sum
  REQUIRE(y.grad().dtype() == kFloat32);
  require_close(values(y.grad()), {1, 1});
}

TEST_CASE("second-order gradients pass through select, slice and transpose") {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = x[1] * x[1] * x[1];  // dy/dx = [0, 3 x1^2, 0]
  Tensor g = grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  require_close(values(g), {0, 12, 0});
  Tensor h = grad({g.sum()}, {x})[0];  // [0, 6 x1, 0]
  require_close(values(h), {0, 12, 0});
  Tensor m = leaf(iota(6), {2, 3});
  Tensor s = m.t().slice(0, 0, std::nullopt, 2);  // columns 0 and 2 of m, transposed
  Tensor gm = grad({(s * s).sum()}, {m}, {}, std::nullopt, true)[0];
  require_close(values(gm), {2, 0, 6, 8, 0, 12});
  Tensor hm = grad({gm.sum()}, {m})[0];
  require_close(values(hm), {2, 0, 2, 2, 0, 2});
}

TEST_CASE("a saved tensor modified in place makes backward throw") {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = x.clone();
  Tensor p = y.prod();  // saves y
  {
    NoGradGuard no_grad;
    y.add_(1.0);
  }
  REQUIRE_THROWS_AS(p.backward(), Error);
}

TEST_CASE("zero-size inputs get zero-size gradients") {
  Tensor x = zeros({0, 3}, kFloat64).requires_grad_(true);
  (x.sum() + x.sum({0}).sum() + x.cumsum(1).sum() + x.t().reshape({3, 0}).sum()).backward();
  REQUIRE(x.grad().shape() == Shape{0, 3});
  Tensor y = zeros({2, 3}, kFloat64).requires_grad_(true);
  Tensor e = zeros({0}, kFloat64).requires_grad_(true);
  (y.slice(1, 3, std::nullopt).sum() + cat({e, y.flatten()}).sum() + amax(y.narrow(0, 0, 0), {1}).sum()).backward();
  require_close(values(y.grad()), {1, 1, 1, 1, 1, 1});
}

TEST_CASE("a GradientTape records views and reductions of watched tensors") {
  Tensor x = tensor(Vec{1, 2, 3, 4}, {2, 2}, kFloat64);  // does not require grad
  GradientTape tape;
  tape.watch(x);
  Tensor loss = (x.t()[0] * x.select(1, 1)).sum() + x.norm();  // x00*x01 + x10*x11 + |x|
  auto g = tape.gradient(loss, {x});
  const double n = std::sqrt(30.0);
  require_close(values(g[0]), {2 + 1 / n, 1 + 2 / n, 4 + 3 / n, 3 + 4 / n});
  REQUIRE_FALSE(x.grad().defined());
}

TEST_CASE("split and unbind record one entry for all pieces; unused or dropped pieces get zeros") {
  Tensor x = leaf(iota(12), {6, 2});
  const std::size_t before = autograd::tape_size();
  auto parts = x.split(IntArrayRef{1, 2, 3});
  REQUIRE(autograd::tape_size() == before + 1);
  Tensor loss = parts[1].sum() * 2.0;
  parts.clear();  // the pieces themselves are gone; loss still reaches x
  loss.backward();
  require_close(values(x.grad()), {0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0});
  Tensor y = leaf(iota(6), {2, 3});
  auto cols = y.unbind(1);
  REQUIRE(cols.size() == 3);
  (cols[2] * cols[0]).sum().backward();
  require_close(values(y.grad()), {3, 0, 1, 6, 0, 4});
  const Tensor scalar = tensor(Vec{1}, Shape{}, kFloat64);
  REQUIRE_THROWS_AS(scalar.unbind(), IndexError);
  REQUIRE_THROWS_AS(scalar.split(1), IndexError);
  REQUIRE_THROWS_AS(scalar.split(IntArrayRef{1}), IndexError);
  REQUIRE_THROWS_AS(scalar.chunk(2), IndexError);
}
