// layer_norm and batch_norm against two-pass float64 mean/variance references.
#include "ops/nn_test_util.hpp"

using namespace tapeflow;
using namespace nn_test;

namespace {

// Normalises x (M groups of N values; element (g, i) at index(g, i)) with biased variance.
template <typename Index>
void normalise(const std::vector<double>& x, std::vector<double>& out, std::int64_t M, std::int64_t N, double eps,
               Index&& index, std::vector<double>* means = nullptr, std::vector<double>* vars = nullptr) {
  for (std::int64_t g = 0; g < M; ++g) {
    double mean = 0, var = 0;
    for (std::int64_t i = 0; i < N; ++i) mean += x[index(g, i)];
    mean /= static_cast<double>(N);
    for (std::int64_t i = 0; i < N; ++i) var += (x[index(g, i)] - mean) * (x[index(g, i)] - mean);
    var /= static_cast<double>(N);
    for (std::int64_t i = 0; i < N; ++i) out[index(g, i)] = (x[index(g, i)] - mean) / std::sqrt(var + eps);
    if (means) means->push_back(mean);
    if (vars) vars->push_back(var);
  }
}

std::vector<double> ref_layer_norm(const Tensor& x, std::int64_t N, const Tensor& w, const Tensor& b, double eps) {
  const auto xv = values(x);
  std::vector<double> out(xv.size());
  const std::int64_t M = x.numel() / N;
  normalise(xv, out, M, N, eps, [N](std::int64_t g, std::int64_t i) { return static_cast<std::size_t>(g * N + i); });
  const std::vector<double> wv = w.defined() ? values(w) : std::vector<double>(), bv = b.defined() ? values(b) : wv;
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (w.defined()) out[k] *= wv[k % static_cast<std::size_t>(N)];
    if (b.defined()) out[k] += bv[k % static_cast<std::size_t>(N)];
  }
  return out;
}

}  // namespace

TEST_CASE("layer_norm matches a two-pass reference") {
  struct Case {
    std::vector<std::int64_t> x, norm;
    bool weight, bias;
  };
  const std::vector<Case> cases = {
      {{4, 10}, {10}, true, true},      {{3, 5, 6}, {5, 6}, true, false}, {{2, 3, 7}, {7}, false, true},
      {{6}, {6}, false, false},         {{2, 2, 3, 4}, {2, 3, 4}, true, true},
      {{300, 129}, {129}, true, true},  // many rows: parallel
  };
  std::uint64_t seed = 500;
  for (const auto& c : cases)
    for (DType dt : {kFloat32, kFloat64})
      for (double eps : {1e-5, 0.5}) {
        INFO("x " << IntArrayRef(c.x) << " normalized " << IntArrayRef(c.norm) << " " << dt << " eps " << eps);
        Tensor x = nn_test::data(c.x, dt, seed++, -3, 5);
        Tensor w = c.weight ? nn_test::data(c.norm, dt, seed++) : Tensor();
        Tensor b = c.bias ? nn_test::data(c.norm, dt, seed++) : Tensor();
        const std::int64_t N = shape_numel(c.norm);
        const auto want = ref_layer_norm(x, N, w, b, eps);
        for (const Tensor& in : {x, strided(x)}) {
          Tensor out = layer_norm(in, c.norm, w.defined() ? strided(w) : w, b, eps);
          REQUIRE(out.shape() == x.shape());
          REQUIRE(out.dtype() == dt);
          require_close(out, want, dt == kFloat32 ? 1e-5 : 1e-12);
        }
      }
  // A constant row normalises to 0 (variance 0, eps keeps it finite); a large offset does not
  // lose precision.
  Tensor flat = full({2, 8}, 3.0, kFloat32);
  require_close(layer_norm(flat, {8}), std::vector<double>(16, 0.0), 0);
  Tensor shifted = tensor(std::vector<double>{1e4 + 1, 1e4 + 2, 1e4 + 3}).to(kFloat32);
  require_close(layer_norm(shifted, {3}, {}, {}, 0), {-std::sqrt(1.5), 0, std::sqrt(1.5)}, 1e-3);
  REQUIRE(layer_norm(zeros({0, 4}), {4}).shape() == Shape{0, 4});
}

TEST_CASE("layer_norm errors") {
  Tensor x = zeros({2, 3, 4});
  REQUIRE_THROWS_AS(layer_norm(x, {3}), ShapeError);
  REQUIRE_THROWS_AS(layer_norm(x, {2, 3, 4, 1}), ShapeError);
  REQUIRE_THROWS_AS(layer_norm(x, {}), ValueError);
  REQUIRE_THROWS_AS(layer_norm(x, {4}, zeros({3})), ShapeError);
  REQUIRE_THROWS_AS(layer_norm(x, {3, 4}, zeros({12})), ShapeError);
  REQUIRE_THROWS_AS(layer_norm(x, {4}, {}, zeros({4, 1})), ShapeError);
  REQUIRE_THROWS_AS(layer_norm(x, {4}, zeros({4}, kFloat64)), DTypeError);
  REQUIRE_THROWS_AS(layer_norm(x.to(kInt64), {4}), DTypeError);
  REQUIRE_THROWS_AS(layer_norm(x, {4}, {}, {}, -1.0), ValueError);
  REQUIRE_THROWS_AS(layer_norm(Tensor(), {4}), ValueError);
}

TEST_CASE("batch_norm in training: batch statistics and running-stat updates") {
  struct Case {
    std::vector<std::int64_t> x;
    bool affine;
  };
  const std::vector<Case> cases = {
      {{4, 3}, true}, {{2, 3, 5}, false}, {{3, 4, 5, 6}, true}, {{16, 8, 12, 12}, true}, {{2, 2, 1, 1, 3}, true}};
  std::uint64_t seed = 700;
  for (const auto& c : cases)
    for (DType dt : {kFloat32, kFloat64}) {
      INFO("x " << IntArrayRef(c.x) << " " << dt);
      const std::int64_t N = c.x[0], C = c.x[1], S = shape_numel(c.x) / (N * C), count = N * S;
      Tensor x = nn_test::data(c.x, dt, seed++, -1, 3);
      Tensor w = c.affine ? nn_test::data({C}, dt, seed++) : Tensor();
      Tensor b = c.affine ? nn_test::data({C}, dt, seed++) : Tensor();
      const auto xv = values(x);
      std::vector<double> want(xv.size()), means, vars;
      normalise(xv, want, C, count, 1e-5,
                [&](std::int64_t ch, std::int64_t i) { return static_cast<std::size_t>(((i / S) * C + ch) * S + i % S); },
                &means, &vars);
      if (c.affine) {
        const auto wv = values(w), bv = values(b);
        for (std::size_t k = 0; k < want.size(); ++k) {
          const std::size_t ch = (k / static_cast<std::size_t>(S)) % static_cast<std::size_t>(C);
          want[k] = want[k] * wv[ch] + bv[ch];
        }
      }
      const auto rm0 = values(nn_test::data({C}, kFloat64, seed)), rv0 = values(nn_test::data({C}, kFloat64, seed + 1, 0.5, 2));
      seed += 2;
      for (bool contiguous_stats : {true, false}) {
        Tensor rm = tensor(rm0).to(dt), rv = tensor(rv0).to(dt);
        if (!contiguous_stats) {
          rm = strided(rm);
          rv = strided(rv);
        }
        const auto v_mean = rm.impl()->storage->version(), v_var = rv.impl()->storage->version();
        Tensor out = batch_norm(contiguous_stats ? x : strided(x), rm, rv, w, b, true, 0.25, 1e-5);
        REQUIRE(out.shape() == x.shape());
        require_close(out, want, dt == kFloat32 ? 2e-5 : 1e-11);
        std::vector<double> want_rm(static_cast<std::size_t>(C)), want_rv(want_rm.size());
        for (std::size_t ch = 0; ch < want_rm.size(); ++ch) {
          want_rm[ch] = 0.75 * rm0[ch] + 0.25 * means[ch];
          want_rv[ch] = 0.75 * rv0[ch] + 0.25 * vars[ch] * static_cast<double>(count) / static_cast<double>(count - 1);
        }
        require_close(rm, want_rm, dt == kFloat32 ? 1e-6 : 1e-12);
        require_close(rv, want_rv, dt == kFloat32 ? 1e-6 : 1e-12);
        REQUIRE(rm.impl()->storage->version() > v_mean);
        REQUIRE(rv.impl()->storage->version() > v_var);
      }
      // Without running statistics: same output, nothing to update.
      require_close(batch_norm(x, {}, {}, w, b, true), want, dt == kFloat32 ? 2e-5 : 1e-11);
    }
}

TEST_CASE("batch_norm in inference uses the running statistics") {
  for (DType dt : {kFloat32, kFloat64}) {
    const std::vector<std::int64_t> shape = {3, 4, 5, 2};
    Tensor x = nn_test::data(shape, dt, 900);
    Tensor rm = nn_test::data({4}, dt, 901), rv = nn_test::data({4}, dt, 902, 0.5, 2), w = nn_test::data({4}, dt, 903), b = nn_test::data({4}, dt, 904);
    const auto xv = values(x), m = values(rm), v = values(rv), wv = values(w), bv = values(b);
    std::vector<double> want(xv.size()), want_plain(xv.size());
    for (std::size_t k = 0; k < xv.size(); ++k) {
      const std::size_t ch = (k / 10) % 4;
      want_plain[k] = (xv[k] - m[ch]) / std::sqrt(v[ch] + 1e-3);
      want[k] = want_plain[k] * wv[ch] + bv[ch];
    }
    const auto v0 = rm.impl()->storage->version();
    require_close(batch_norm(x, rm, rv, w, b, false, 0.1, 1e-3), want, tol_for(dt) * 10);
    require_close(batch_norm(transposed(x, 0, 3), strided(rm), rv, {}, {}, false, 0.1, 1e-3), want_plain,
                  tol_for(dt) * 10);
    require_close(rm, m, 0);  // untouched
    REQUIRE(rm.impl()->storage->version() == v0);
  }
  REQUIRE(batch_norm(zeros({0, 3}), zeros({3}), ones({3}), {}, {}, false).shape() == Shape{0, 3});
}

TEST_CASE("batch_norm errors") {
  Tensor x = zeros({4, 3, 2});
  Tensor s = zeros({3});
  REQUIRE_THROWS_AS(batch_norm(zeros({4}), {}, {}, {}, {}, true), ShapeError);
  REQUIRE_THROWS_AS(batch_norm(x, zeros({4}), s, {}, {}, true), ShapeError);
  REQUIRE_THROWS_AS(batch_norm(x, s, zeros({3, 1}), {}, {}, true), ShapeError);
  REQUIRE_THROWS_AS(batch_norm(x, s, s, zeros({2}), {}, true), ShapeError);
  REQUIRE_THROWS_AS(batch_norm(x, s, s, {}, zeros({4}), true), ShapeError);
  REQUIRE_THROWS_AS(batch_norm(x, zeros({3}, kFloat64), s, {}, {}, true), DTypeError);
  REQUIRE_THROWS_AS(batch_norm(x.to(kInt32), {}, {}, {}, {}, true), DTypeError);
  REQUIRE_THROWS_AS(batch_norm(x, {}, {}, {}, {}, false), ValueError);  // inference needs running stats
  REQUIRE_THROWS_AS(batch_norm(x, s, {}, {}, {}, false), ValueError);
  REQUIRE_THROWS_AS(batch_norm(zeros({1, 3}), {}, {}, {}, {}, true), ValueError);  // one value per channel
  REQUIRE_THROWS_AS(batch_norm(x, s, s, {}, {}, true, 0.1, -1.0), ValueError);
  REQUIRE_THROWS_AS(batch_norm(Tensor(), s, s, {}, {}, true), ValueError);
  REQUIRE_NOTHROW(batch_norm(zeros({1, 3, 2}), {}, {}, {}, {}, true));  // 2 values per channel
}
