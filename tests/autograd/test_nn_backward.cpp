// Focused autograd tests for the nn ops: batch_norm's running statistics, dropout's mask and
// eval mode, embedding's accumulation, where pooling gradients land, float32 gradients against
// float64, the batched/parallel conv backward against per-image passes, and version errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

// Row-major float64 values of t (any layout, any dtype).
std::vector<double> values(const Tensor& t) {
  const Tensor c = t.detach().to(kFloat64).contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

Tensor seeded_randn(IntArrayRef shape, std::uint64_t seed, DType dtype = kFloat64) {
  Generator g(seed);
  return randn(shape, kFloat64, &g).to(dtype);
}

Tensor leaf(Tensor t) {
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

// Gradients of sum(f(inputs) * v) w.r.t. the inputs, for a fixed seeded v.
std::vector<Tensor> grads_of(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                             const std::vector<Tensor>& inputs) {
  Tensor y = f(inputs);
  const Tensor v = seeded_randn(y.shape(), 777, y.dtype());
  return grad({(y * v).sum()}, inputs);
}

}  // namespace

TEST_CASE("batch_norm running statistics never require grad and update only in training") {
  const Tensor x = leaf(seeded_randn({4, 3, 2, 2}, 1));
  const Tensor w = leaf(seeded_randn({3}, 2)), b = leaf(seeded_randn({3}, 3));
  Tensor rm = zeros({3}, kFloat64), rv = ones({3}, kFloat64);
  const double momentum = 0.25;

  // Batch moments with float64 loops (biased for normalising, unbiased for the running var).
  const std::vector<double> xv = values(x);
  std::vector<double> mean(3, 0.0), var(3, 0.0);
  for (int c = 0; c < 3; ++c) {
    for (int n = 0; n < 4; ++n)
      for (int s = 0; s < 4; ++s) mean[c] += xv[static_cast<std::size_t>((n * 3 + c) * 4 + s)] / 16.0;
    for (int n = 0; n < 4; ++n)
      for (int s = 0; s < 4; ++s) {
        const double d = xv[static_cast<std::size_t>((n * 3 + c) * 4 + s)] - mean[c];
        var[c] += d * d / 16.0;
      }
  }

  Tensor y = batch_norm(x, rm, rv, w, b, /*training=*/true, momentum);
  REQUIRE(y.requires_grad());
  REQUIRE_FALSE(rm.requires_grad());
  REQUIRE_FALSE(rv.requires_grad());
  std::vector<double> want_m(3), want_v(3);
  for (int c = 0; c < 3; ++c) {
    want_m[c] = momentum * mean[c];
    want_v[c] = (1 - momentum) * 1.0 + momentum * var[c] * 16.0 / 15.0;
  }
  require_close(values(rm), want_m);
  require_close(values(rv), want_v);

  y.sum().backward();
  REQUIRE_FALSE(rm.grad().defined());
  REQUIRE_FALSE(rv.grad().defined());
  REQUIRE(x.grad().defined());
  // d sum(y) / dx = 0 in training (the normalised values sum to zero per channel); db = N*S.
  for (double g : values(x.grad())) REQUIRE(g == Approx(0.0).margin(1e-12));
  require_close(values(b.grad()), {16.0, 16.0, 16.0});

  // Inference: running statistics are read, not updated; gradient to x is w * rstd.
  Tensor y2 = batch_norm(x, rm, rv, w, b, /*training=*/false, momentum);
  require_close(values(rm), want_m);
  require_close(values(rv), want_v);
  const std::vector<Tensor> g = grad({y2.sum()}, {x});
  const std::vector<double> gx = values(g[0]), wv = values(w);
  for (int n = 0; n < 4; ++n)
    for (int c = 0; c < 3; ++c)
      for (int s = 0; s < 4; ++s)
        REQUIRE(gx[static_cast<std::size_t>((n * 3 + c) * 4 + s)] ==
                Approx(wv[static_cast<std::size_t>(c)] / std::sqrt(want_v[static_cast<std::size_t>(c)] + 1e-5)));
  REQUIRE_FALSE(rm.requires_grad());

  // Running stats that require grad themselves (as a user might mark them) get no gradient, in
  // either mode: they are not inputs of the recorded op.
  Tensor rm2 = leaf(zeros({3}, kFloat64)), rv2 = leaf(ones({3}, kFloat64));
  for (bool training : {true, false}) {
    INFO("training " << training);
    Tensor y3 = batch_norm(x, rm2, rv2, w, b, training);
    const std::vector<Tensor> g3 = grad({y3.sum()}, {x, rm2, rv2}, {}, std::nullopt, false, /*allow_unused=*/true);
    REQUIRE(g3[0].defined());
    REQUIRE_FALSE(g3[1].defined());
    REQUIRE_FALSE(g3[2].defined());
  }
}

TEST_CASE("dropout in eval mode passes gradients unchanged") {
  const Tensor x = leaf(seeded_randn({3, 4}, 5));
  Tensor y = dropout(x, 0.7, /*training=*/false);
  const Tensor v = seeded_randn({3, 4}, 6);
  (y * v).sum().backward();
  require_close(values(x.grad()), values(v));
}

TEST_CASE("dropout's gradient is the kept mask times the scale") {
  const Tensor x = leaf(rand({50, 40}, TensorOptions(kFloat64)) + 1.0);  // never zero
  manual_seed(3);
  Tensor y = dropout(x, 0.25, true);
  y.sum().backward();
  const std::vector<double> yv = values(y), gv = values(x.grad());
  std::int64_t kept = 0;
  for (std::size_t i = 0; i < yv.size(); ++i) {
    const bool keep = yv[i] != 0.0;
    kept += keep;
    REQUIRE(gv[i] == Approx(keep ? 1.0 / 0.75 : 0.0));
  }
  REQUIRE(kept > 1300);  // about 1500 of 2000
  REQUIRE(kept < 1700);
  // float32 as well
  const Tensor x32 = leaf(rand({8, 8}, TensorOptions(kFloat32)) + 1.0);
  Tensor y32 = dropout(x32, 0.5, true);
  y32.sum().backward();
  REQUIRE(x32.grad().dtype() == kFloat32);
  const std::vector<double> y32v = values(y32), g32 = values(x32.grad());
  for (std::size_t i = 0; i < y32v.size(); ++i) REQUIRE(g32[i] == Approx(y32v[i] != 0.0 ? 2.0 : 0.0));
}

TEST_CASE("embedding gradient accumulates repeated indices") {
  const Tensor w = leaf(seeded_randn({5, 3}, 7));
  const Tensor idx = tensor(std::vector<std::int64_t>{1, 1, 4, 1, 0, 4}, Shape{2, 3});
  Tensor y = embedding(w, idx);
  const Tensor v = seeded_randn({2, 3, 3}, 8);
  (y * v).sum().backward();
  const std::vector<double> vv = values(v), iv = values(idx);
  std::vector<double> want(15, 0.0);
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t j = 0; j < 3; ++j) want[static_cast<std::size_t>(iv[i]) * 3 + j] += vv[i * 3 + j];
  require_close(values(w.grad()), want);
  // Rows never picked get exact zeros.
  for (std::size_t j = 0; j < 3; ++j) {
    REQUIRE(values(w.grad())[2 * 3 + j] == 0.0);
    REQUIRE(values(w.grad())[3 * 3 + j] == 0.0);
  }
  // Changing the indices in place before backward is caught.
  Tensor idx2 = tensor(std::vector<std::int64_t>{0, 2}, Shape{2});
  Tensor y2 = embedding(w, idx2);
  idx2.fill_(1);
  REQUIRE_THROWS_AS(y2.sum().backward(), Error);
}

TEST_CASE("max_pool2d gradient lands on each window's maximum, overlaps accumulating") {
  // 1x1x3x3 input whose maximum (8) is in the centre: every 2x2 window (stride 1) picks it.
  const Tensor x = leaf(tensor(std::vector<double>{1, 2, 3, 4, 8, 5, 0, 6, 7}, Shape{1, 1, 3, 3}));
  max_pool2d(x, {2}, {1}).sum().backward();
  require_close(values(x.grad()), {0, 0, 0, 0, 4, 0, 0, 0, 0});
  // with_indices: the indices are not differentiable, the values are.
  const Tensor x2 = leaf(seeded_randn({2, 2, 4, 4}, 9));
  auto [out, ind] = max_pool2d_with_indices(x2, {2});
  REQUIRE(out.requires_grad());
  REQUIRE_FALSE(ind.requires_grad());
  out.sum().backward();
  const std::vector<double> g = values(x2.grad()), iv = values(ind);
  std::vector<double> want(64, 0.0);
  for (std::size_t p = 0; p < 4; ++p)
    for (std::size_t k = 0; k < 4; ++k) want[p * 16 + static_cast<std::size_t>(iv[p * 4 + k])] += 1.0;
  require_close(g, want);
}

TEST_CASE("avg_pool2d gradient spreads each output over its window") {
  const Tensor x = leaf(ones({1, 1, 3, 3}, kFloat64));
  // 2x2 windows, stride 1: each element's gradient is (number of windows covering it) / 4.
  avg_pool2d(x, {2}, {1}).sum().backward();
  require_close(values(x.grad()), {0.25, 0.5, 0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 0.25});
  // padding 1 and count_include_pad false: corner windows average fewer elements.
  const Tensor x2 = leaf(ones({1, 1, 2, 2}, kFloat64));
  avg_pool2d(x2, {2}, {2}, {1}, false, false).sum().backward();  // four 1-element windows
  require_close(values(x2.grad()), {1, 1, 1, 1});
  const Tensor x3 = leaf(ones({1, 1, 2, 2}, kFloat64));
  avg_pool2d(x3, {2}, {2}, {1}, false, true).sum().backward();  // divisor 4 for each
  require_close(values(x3.grad()), {0.25, 0.25, 0.25, 0.25});
  // adaptive to (1, 1) is a mean: 1 / (H * W) everywhere.
  const Tensor x4 = leaf(ones({2, 3, 5}, kFloat64));
  adaptive_avg_pool2d(x4, {1}).sum().backward();
  for (double v : values(x4.grad())) REQUIRE(v == Approx(1.0 / 15.0));
}

TEST_CASE("float32 nn gradients agree with float64") {
  using Fn = std::function<Tensor(const std::vector<Tensor>&)>;
  const std::vector<std::pair<const char*, Fn>> cases = {
      {"conv2d", [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], {2, 1}, {1, 1}, {1, 2}, 2); }},
      {"softmax", [](const std::vector<Tensor>& in) { return softmax(in[0], 1) * in[1].sum() + in[2].sum(); }},
      {"log_softmax", [](const std::vector<Tensor>& in) { return log_softmax(in[0], 2) * in[1].sum() + in[2].sum(); }},
      {"layer_norm", [](const std::vector<Tensor>& in) {
         return layer_norm(in[0], {in[0].size(3)}) * in[1].sum() + in[2].sum();
       }},
      {"batch_norm", [](const std::vector<Tensor>& in) {
         return batch_norm(in[0], Tensor(), Tensor(), in[2].narrow(0, 0, 4), in[2].narrow(0, 0, 4), true) *
                in[1].sum();
       }},
      {"pools", [](const std::vector<Tensor>& in) {
         return max_pool2d(in[0], {2}, {1}) * avg_pool2d(in[0], {2}, {1}, {1}, true, false).narrow(2, 0, 5).narrow(3, 0, 6) *
                in[1].sum() + adaptive_avg_pool2d(in[0], {2, 3}).sum() * in[2].sum();
       }},
  };
  for (const auto& [name, f] : cases) {
    INFO(name);
    std::vector<Tensor> in64{leaf(seeded_randn({2, 4, 6, 7}, 11)), leaf(seeded_randn({6, 2, 3, 2}, 12)),
                             leaf(seeded_randn({6}, 13))};
    std::vector<Tensor> in32;
    for (const Tensor& t : in64) in32.push_back(leaf(t.detach().to(kFloat32)));
    const std::vector<Tensor> g64 = grads_of(f, in64), g32 = grads_of(f, in32);
    for (std::size_t i = 0; i < 3; ++i) {
      REQUIRE(g32[i].dtype() == kFloat32);
      const std::vector<double> a = values(g32[i]), b = values(g64[i]);
      REQUIRE(a.size() == b.size());
      for (std::size_t j = 0; j < a.size(); ++j) REQUIRE(a[j] == Approx(b[j]).margin(1e-3).epsilon(1e-3));
    }
  }
}

TEST_CASE("batched conv2d backward equals the sum of per-image backward passes") {
  // Large enough for the parallel paths (several images, > 4 MFLOP), with groups and stride.
  const Tensor x = leaf(seeded_randn({6, 8, 20, 18}, 21));
  const Tensor w = leaf(seeded_randn({12, 4, 3, 3}, 22));
  const Tensor b = leaf(seeded_randn({12}, 23));
  const auto f = [](const Tensor& xi, const Tensor& wi, const Tensor& bi) {
    return conv2d(xi, wi, bi, {2, 1}, {1, 1}, {1, 1}, 2);
  };
  Tensor y = f(x, w, b);
  const Tensor v = seeded_randn(y.shape(), 24);
  (y * v).sum().backward();
  std::vector<double> gw(static_cast<std::size_t>(w.numel()), 0.0), gb(12, 0.0);
  for (std::int64_t n = 0; n < 6; ++n) {
    const Tensor xn = leaf(x.detach().narrow(0, n, 1).contiguous());
    const Tensor wn = leaf(w.detach().clone()), bn = leaf(b.detach().clone());
    (f(xn, wn, bn) * v.narrow(0, n, 1)).sum().backward();
    require_close(values(xn.grad()), values(x.grad().narrow(0, n, 1)), 1e-9);
    const std::vector<double> a = values(wn.grad()), c = values(bn.grad());
    for (std::size_t i = 0; i < a.size(); ++i) gw[i] += a[i];
    for (std::size_t i = 0; i < c.size(); ++i) gb[i] += c[i];
  }
  require_close(values(w.grad()), gw, 1e-9);
  require_close(values(b.grad()), gb, 1e-9);
}

TEST_CASE("nn ops record nothing when no input requires grad") {
  const std::size_t before = autograd::tape_size();
  const Tensor x = seeded_randn({2, 4, 5, 5}, 31), w = seeded_randn({4, 4, 3, 3}, 32);
  Tensor y = conv2d(x, w);
  y = max_pool2d(y, {2}) + avg_pool2d(y, {2});
  y = layer_norm(adaptive_avg_pool2d(y, {2}), {2, 2});
  y = softmax(dropout(y, 0.5), 1) + log_softmax(y, 0) + batch_norm(y, Tensor(), Tensor(), Tensor(), Tensor(), true);
  y = y + embedding(seeded_randn({4, 2}, 33), tensor(std::vector<std::int64_t>{0}, Shape{1}));
  REQUIRE_FALSE(y.requires_grad());
  REQUIRE(autograd::tape_size() == before);
  // The same under NoGradGuard with inputs that require grad.
  const Tensor xg = leaf(x.clone());
  NoGradGuard off;
  REQUIRE_FALSE(conv2d(xg, w).requires_grad());
  REQUIRE_FALSE(max_pool2d(xg, {2}).requires_grad());
  REQUIRE(autograd::tape_size() == before);
}

TEST_CASE("modifying a tensor saved by an nn op before backward throws") {
  const Tensor w = leaf(seeded_randn({2, 3, 2, 2}, 41));
  Tensor x = seeded_randn({1, 3, 4, 4}, 42);  // saved by conv2d for the weight's gradient
  Tensor y = conv2d(x, w);
  x.fill_(1.0);
  REQUIRE_THROWS_AS(y.sum().backward(), Error);

  const Tensor z = leaf(seeded_randn({3, 4}, 43));
  Tensor s = softmax(z, 1);  // saves its output
  Tensor s2 = s * 1.0;
  s.mul_(2.0);
  REQUIRE_THROWS_AS(s2.sum().backward(), Error);
}
