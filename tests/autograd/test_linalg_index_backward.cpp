// Focused autograd tests for the linear algebra and index ops: what never records, out= with
// autograd, exact gradients of a tiny MLP against hand-written float64 loops, duplicate-index
// accumulation, and in-place/version-counter errors.
#include <catch2/catch.hpp>

#include <vector>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace tapeflow::detail {
std::int64_t linalg_operand_copies();  // internal hook in lib/ops/linalg.cpp
}

namespace {

// Row-major float64 values of t (any layout, any dtype).
std::vector<double> values(const Tensor& t) {
  const Tensor c = t.detach().to(kFloat64).contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

Tensor seeded_randn(IntArrayRef shape, std::uint64_t seed) {
  Generator g(seed);
  return randn(shape, kFloat64, &g);
}

Tensor leaf64(IntArrayRef shape, std::uint64_t seed) {
  Tensor t = seeded_randn(shape, seed);
  t.requires_grad_(true);
  return t;
}

void require_close(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-12) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    REQUIRE(got[i] == Approx(want[i]).margin(tol));
  }
}

// Plain (n,k) @ (k,m) on row-major vectors; ta/tb read the operand transposed.
std::vector<double> ref_mm(const std::vector<double>& a, const std::vector<double>& b, int n, int k, int m,
                           bool ta = false, bool tb = false) {
  std::vector<double> out(static_cast<std::size_t>(n * m), 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) {
      double s = 0;
      for (int p = 0; p < k; ++p)
        s += (ta ? a[static_cast<std::size_t>(p * n + i)] : a[static_cast<std::size_t>(i * k + p)]) *
             (tb ? b[static_cast<std::size_t>(j * k + p)] : b[static_cast<std::size_t>(p * m + j)]);
      out[static_cast<std::size_t>(i * m + j)] = s;
    }
  return out;
}

}  // namespace

TEST_CASE("integer products and index ops never record") {
  const std::size_t before = autograd::tape_size();
  const Tensor a = arange(12).view({3, 4}), b = arange(8).view({4, 2});
  CHECK_FALSE(matmul(a, b).requires_grad());
  CHECK_FALSE(mm(a, b).requires_grad());
  CHECK_FALSE(bmm(a.unsqueeze(0), b.unsqueeze(0)).requires_grad());
  CHECK_FALSE(dot(arange(3), arange(3)).requires_grad());
  CHECK_FALSE(outer(arange(3), arange(2)).requires_grad());
  CHECK_FALSE(addmm(zeros({2}, kInt64), a, b).requires_grad());
  CHECK_FALSE(index_select(a, 0, arange(2)).requires_grad());
  CHECK_FALSE(one_hot(arange(3)).requires_grad());
  REQUIRE(autograd::tape_size() == before);
  // Integer values are still right (the recording path must not disturb the forward).
  REQUIRE(values(matmul(a, b)) == std::vector<double>{28, 34, 76, 98, 124, 162});
}

TEST_CASE("float products record only when an input is tracked and grad mode is on") {
  const std::size_t before = autograd::tape_size();
  const Tensor a = seeded_randn({3, 4}, 1), b = seeded_randn({4, 2}, 2);
  CHECK_FALSE(matmul(a, b).requires_grad());
  CHECK(autograd::tape_size() == before);
  Tensor w = leaf64({4, 2}, 3);
  {
    NoGradGuard no_grad;
    CHECK_FALSE(matmul(a, w).requires_grad());
    CHECK_FALSE(addmm(zeros({2}, kFloat64), a, w).requires_grad());
    CHECK_FALSE(index_select(w, 0, arange(2)).requires_grad());
    CHECK(autograd::tape_size() == before);
  }
  // nonzero / one_hot of a tracked tensor give integers and never record.
  CHECK_FALSE(nonzero(w).requires_grad());
  const Tensor y = matmul(a, w);
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  // One entry for the product itself: the 1-D promotions are not separate entries.
  const std::size_t at = autograd::tape_size();
  const Tensor v = matmul(seeded_randn({4}, 4), w);
  CHECK(autograd::tape_size() == at + 1);
  CHECK(v.requires_grad());
}

TEST_CASE("mm_out refuses to run with autograd") {
  Tensor a = leaf64({3, 4}, 5);
  const Tensor b = seeded_randn({4, 2}, 6);
  Tensor out = zeros({3, 2}, kFloat64);
  REQUIRE_THROWS_AS(mm_out(out, a, b), Error);
  REQUIRE_THROWS_WITH(mm_out(out, a, b), Catch::Contains("mm_out") && Catch::Contains("requires grad"));
  REQUIRE(values(out) == std::vector<double>(6, 0.0));  // untouched
  Tensor out_leaf = zeros({3, 2}, kFloat64);
  out_leaf.requires_grad_(true);
  const Tensor a0 = a.detach();
  REQUIRE_THROWS_AS(mm_out(out_leaf, a0, b), Error);
  {
    NoGradGuard no_grad;  // allowed without grad mode, and correct
    mm_out(out, a, b);
    require_close(values(out), ref_mm(values(a), values(b), 3, 4, 2));
  }
  mm_out(out, a0, b);  // nothing requires grad: fine
  CHECK_FALSE(out.requires_grad());
}

TEST_CASE("a 2-layer linear MLP has the hand-computed float64 gradients") {
  // y = (x W1 + b1) W2 + b2 via matmul and addmm; L = sum(G * y) seeded through backward(G).
  constexpr int N = 4, D = 3, H = 5, O = 2;
  Tensor x = leaf64({N, D}, 10), w1 = leaf64({D, H}, 11), b1 = leaf64({H}, 12);
  Tensor w2 = leaf64({H, O}, 13), b2 = leaf64({O}, 14);
  const Tensor h = addmm(b1, x, w1);
  const Tensor y = addmm(b2, h, w2, 1.0, 1.0);
  const Tensor G = seeded_randn({N, O}, 15);
  y.backward(G);

  const auto X = values(x), W1 = values(w1), B1 = values(b1), W2 = values(w2), g = values(G);
  std::vector<double> Hv = ref_mm(X, W1, N, D, H);
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < H; ++j) Hv[static_cast<std::size_t>(i * H + j)] += B1[static_cast<std::size_t>(j)];
  const auto dW2 = ref_mm(Hv, g, H, N, O, /*ta=*/true);
  const auto dH = ref_mm(g, W2, N, O, H, false, /*tb=*/true);
  const auto dW1 = ref_mm(X, dH, D, N, H, /*ta=*/true);
  const auto dX = ref_mm(dH, W1, N, H, D, false, /*tb=*/true);
  std::vector<double> db1(H, 0.0), db2(O, 0.0);
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < H; ++j) db1[static_cast<std::size_t>(j)] += dH[static_cast<std::size_t>(i * H + j)];
    for (int j = 0; j < O; ++j) db2[static_cast<std::size_t>(j)] += g[static_cast<std::size_t>(i * O + j)];
  }
  require_close(values(w2.grad()), dW2);
  require_close(values(b2.grad()), db2);
  require_close(values(w1.grad()), dW1);
  require_close(values(b1.grad()), db1);
  require_close(values(x.grad()), dX);
  REQUIRE(w1.grad().shape() == Shape{D, H});
  REQUIRE(b1.grad().shape() == Shape{H});

  SECTION("the same network through matmul and a sum loss") {
    Tensor x2 = leaf64({N, D}, 10), v1 = leaf64({D, H}, 11), v2 = leaf64({H, O}, 13);
    matmul(matmul(x2, v1), v2).sum().backward();
    // dL/dy = 1: dW2 = (x W1)^T 1, dH = 1 W2^T, dW1 = x^T dH.
    const std::vector<double> ones_g(N * O, 1.0);
    const auto H0 = ref_mm(X, W1, N, D, H);
    const auto dH0 = ref_mm(ones_g, W2, N, O, H, false, true);
    require_close(values(v2.grad()), ref_mm(H0, ones_g, H, N, O, true));
    require_close(values(v1.grad()), ref_mm(X, dH0, D, N, H, true));
    require_close(values(x2.grad()), ref_mm(dH0, W1, N, H, D, false, true));
  }
}

TEST_CASE("matmul backward: 1-D and broadcast batch operands get gradients of their own shape") {
  SECTION("vector @ batched matrices") {
    Tensor v = leaf64({3}, 20), m = leaf64({2, 3, 4}, 21);
    const Tensor G = seeded_randn({2, 4}, 22);
    matmul(v, m).backward(G);
    REQUIRE(v.grad().shape() == Shape{3});
    // dv[k] = sum_b sum_j m[b,k,j] G[b,j]
    const auto M = values(m), g = values(G);
    std::vector<double> dv(3, 0.0);
    for (int bt = 0; bt < 2; ++bt)
      for (int k = 0; k < 3; ++k)
        for (int j = 0; j < 4; ++j)
          dv[static_cast<std::size_t>(k)] += M[static_cast<std::size_t>(bt * 12 + k * 4 + j)] * g[static_cast<std::size_t>(bt * 4 + j)];
    require_close(values(v.grad()), dv);
  }
  SECTION("batched @ shared matrix sums the shared gradient over the batch") {
    Tensor a = leaf64({2, 3, 4}, 23), w = leaf64({4, 2}, 24);
    const Tensor G = seeded_randn({2, 3, 2}, 25);
    matmul(a, w).backward(G);
    REQUIRE(w.grad().shape() == Shape{4, 2});
    const auto A = values(a), g = values(G);
    std::vector<double> dw(8, 0.0);
    for (int bt = 0; bt < 2; ++bt) {
      const std::vector<double> ab(A.begin() + bt * 12, A.begin() + bt * 12 + 12), gb(g.begin() + bt * 6, g.begin() + bt * 6 + 6);
      const auto part = ref_mm(ab, gb, 4, 3, 2, true);
      for (std::size_t i = 0; i < 8; ++i) dw[i] += part[i];
    }
    require_close(values(w.grad()), dw);
  }
}

TEST_CASE("outer of mixed dtypes gives each input a gradient of its own dtype") {
  Tensor a = seeded_randn({3}, 60).to(kFloat32);
  a.requires_grad_(true);
  Tensor b = leaf64({2}, 61);
  const Tensor y = outer(a, b);
  REQUIRE(y.dtype() == kFloat64);
  const Tensor G = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64);
  y.backward(G);
  REQUIRE(a.grad().dtype() == kFloat32);
  REQUIRE(b.grad().dtype() == kFloat64);
  const auto A = values(a), B = values(b);
  require_close(values(a.grad()), {B[0] + 2 * B[1], 3 * B[0] + 4 * B[1], 5 * B[0] + 6 * B[1]}, 1e-5);
  require_close(values(b.grad()), {A[0] + 3 * A[1] + 5 * A[2], 2 * A[0] + 4 * A[1] + 6 * A[2]});
}

TEST_CASE("index ops on 0-D inputs") {
  Tensor x = leaf64({}, 62);
  index_select(x, 0, tensor({0, 0, -1})).backward(ones({3}, kFloat64));
  REQUIRE(values(x.grad()) == std::vector<double>{3});
  Tensor z = leaf64({}, 63);
  gather(z, 0, scalar_tensor(0, kInt64)).backward(scalar_tensor(2.5, kFloat64));
  REQUIRE(values(z.grad()) == std::vector<double>{2.5});
}

TEST_CASE("matmul backward reads transposed operands without copying them") {
  Tensor a = leaf64({6, 5}, 30), b = leaf64({5, 7}, 31);
  Tensor c = leaf64({3, 6, 5}, 32), d = leaf64({3, 5, 7}, 33);
  Tensor e = leaf64({5, 7}, 34), f = leaf64({7, 5}, 35);
  const Tensor y1 = mm(a, b), y2 = matmul(c, d), y3 = bmm(c, d);
  const Tensor y4 = matmul(c, e), y5 = addmm(e.select(0, 0), a, e), y6 = matmul(c, f.t());
  const std::int64_t before = detail::linalg_operand_copies();
  for (const Tensor& y : {y1, y2, y3, y4, y5, y6}) y.backward(ones_like(y));
  REQUIRE(detail::linalg_operand_copies() == before);
  // The shared matrix of a batched product gets the sum over the batch (one flattened GEMM).
  const auto C = values(c);
  std::vector<double> de(35, 0.0);
  for (int bt = 0; bt < 3; ++bt) {
    const std::vector<double> cb(C.begin() + bt * 30, C.begin() + bt * 30 + 30);
    const auto part = ref_mm(cb, std::vector<double>(42, 1.0), 5, 6, 7, /*ta=*/true);
    for (std::size_t i = 0; i < 35; ++i) de[i] += part[i];
  }
  // e also got the addmm gradient a^T 1 and, through its row 0 as bias, 6 per column.
  const auto da = ref_mm(values(a), std::vector<double>(42, 1.0), 5, 6, 7, true);
  for (std::size_t i = 0; i < 35; ++i) de[i] += da[i] + (i < 7 ? 6.0 : 0.0);
  require_close(values(e.grad()), de, 1e-10);
  // a: from mm(a, b) and as addmm's first operand.
  auto dA = ref_mm(std::vector<double>(42, 1.0), values(b), 6, 7, 5, false, true);
  const auto dA5 = ref_mm(std::vector<double>(42, 1.0), values(e), 6, 7, 5, false, true);
  for (std::size_t i = 0; i < dA.size(); ++i) dA[i] += dA5[i];
  require_close(values(a.grad()), dA, 1e-10);
}

TEST_CASE("a transposed operand's gradient comes back in its layout: Linear's weight gets a contiguous .grad()") {
  // y = x W^T + b (nn::Linear's addmm), L = sum(G * y): dW = G^T x (out x in), dx = G W.
  constexpr int N = 4, I = 3, O = 5;
  Tensor x = leaf64({N, I}, 40), w = leaf64({O, I}, 41), b = leaf64({O}, 42), v = leaf64({O, I}, 43);
  const Tensor G = seeded_randn({N, O}, 44);
  // What reaches the leaves is already contiguous (else accumulating it would cost a copy).
  bool all_contiguous = true;
  for (const Tensor& p : {w, v}) p.register_hook([&](const Tensor& g) { all_contiguous = all_contiguous && g.is_contiguous(); });
  addmm(b, x, w.t()).backward(G);
  mm(x, v.t()).backward(G);
  matmul(x.t().t(), v.t()).backward(G);  // matmul of 2-D operands too (v accumulates twice)
  const auto dW = ref_mm(values(G), values(x), O, N, I, /*ta=*/true);
  const auto dX = ref_mm(values(G), values(w), N, O, I);
  REQUIRE(all_contiguous);
  for (const Tensor& p : {w, v}) {
    REQUIRE(p.grad().is_contiguous());
    REQUIRE(p.grad().shape() == Shape{O, I});
  }
  require_close(values(w.grad()), dW);
  std::vector<double> dV = dW;
  for (double& e : dV) e *= 2;
  require_close(values(v.grad()), dV);
  std::vector<double> dx = dX;
  const auto dXv = ref_mm(values(G), values(v), N, O, I);
  for (std::size_t i = 0; i < dx.size(); ++i) dx[i] += 2 * dXv[i];
  require_close(values(x.grad()), dx);
}

TEST_CASE("index ops accumulate gradients at duplicate indices") {
  SECTION("index_select") {
    Tensor x = leaf64({4, 2}, 40);
    index_select(x, 0, tensor({1, -3, 3, 1})).backward(ones({4, 2}, kFloat64));
    REQUIRE(values(x.grad()) == std::vector<double>{0, 0, 3, 3, 0, 0, 1, 1});
  }
  SECTION("gather") {
    Tensor x = leaf64({2, 3}, 41);
    const Tensor G = tensor({{1.0, 2.0, 4.0, 8.0}, {16.0, 32.0, 64.0, 128.0}}, kFloat64);
    gather(x, 1, tensor({{2, 2, 0, 2}, {1, 0, 1, 1}})).backward(G);
    REQUIRE(values(x.grad()) == std::vector<double>{4, 0, 11, 32, 208, 0});
  }
  SECTION("scatter_add: x gets the gradient, src a gather of it") {
    Tensor x = leaf64({3, 2}, 42), src = leaf64({2, 2}, 43);
    const Tensor G = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64);
    scatter_add(x, 0, tensor({{2, 0}, {2, 2}}), src).backward(G);
    REQUIRE(values(x.grad()) == values(G));
    REQUIRE(values(src.grad()) == std::vector<double>{5, 2, 5, 6});
  }
  SECTION("masked_select with a broadcast input sums over the broadcast dim") {
    Tensor x = leaf64({3}, 44);
    const Tensor mask = tensor({{true, false, true}, {true, true, false}});
    const Tensor y = masked_select(x, mask);
    REQUIRE(y.shape() == Shape{4});
    y.backward(tensor({1.0, 10.0, 100.0, 1000.0}, kFloat64));
    REQUIRE(values(x.grad()) == std::vector<double>{101, 1000, 10});
  }
}

TEST_CASE("in-place scatter_add_ and saved tensors modified in place") {
  SECTION("scatter_add_ on a leaf that requires grad throws") {
    Tensor x = leaf64({3, 2}, 50);
    REQUIRE_THROWS_AS(scatter_add_(x, 0, tensor({{0, 1}}), seeded_randn({1, 2}, 51)), Error);
  }
  SECTION("scatter_add_ on a non-leaf passes the gradient through") {
    Tensor x = leaf64({3, 2}, 52), src = leaf64({1, 2}, 53);
    Tensor y = index_select(x, 0, tensor({2, 1, 0}));
    scatter_add_(y, 0, tensor({{1, 1}}), src);
    const Tensor G = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64);
    y.backward(G);
    REQUIRE(values(x.grad()) == std::vector<double>{5, 6, 3, 4, 1, 2});
    REQUIRE(values(src.grad()) == std::vector<double>{3, 4});
  }
  SECTION("an operand modified after mm saved it") {
    Tensor a = leaf64({2, 3}, 54);
    Tensor b = seeded_randn({3, 2}, 55);
    const Tensor y = mm(a, b);
    b.fill_(1.0);
    REQUIRE_THROWS_AS(y.backward(ones_like(y)), Error);
  }
  SECTION("an index modified after gather saved it") {
    Tensor x = leaf64({2, 3}, 56);
    Tensor index = tensor({{0, 1}, {2, 2}});
    const Tensor y = gather(x, 1, index);
    index.zero_();
    REQUIRE_THROWS_AS(y.backward(ones_like(y)), Error);
  }
}
