// Pooling against naive float64 loops that follow PyTorch's definitions.
#include <limits>

#include "ops/nn_test_util.hpp"

using namespace tapeflow;
using namespace nn_test;

namespace {

struct PoolCase {
  std::vector<std::int64_t> x;
  std::int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  bool ceil;
};

std::int64_t out_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d, bool ceil) {
  const double span = static_cast<double>(in + 2 * p - d * (k - 1) - 1) / static_cast<double>(s);
  std::int64_t o = static_cast<std::int64_t>(ceil ? std::ceil(span) : std::floor(span)) + 1;
  if (ceil && (o - 1) * s >= in + p) --o;
  return o;
}

// Every (plane, oh, ow) of the pooled output: f(plane, oh, ow, out_index).
template <typename F>
std::vector<std::int64_t> for_outputs(const Tensor& x, std::int64_t Ho, std::int64_t Wo, F&& f) {
  std::vector<std::int64_t> shape = x.shape().vec();
  shape[shape.size() - 2] = Ho;
  shape.back() = Wo;
  const std::int64_t planes = x.numel() / (x.size(-1) * x.size(-2));
  for (std::int64_t p = 0; p < planes; ++p)
    for (std::int64_t i = 0; i < Ho; ++i)
      for (std::int64_t j = 0; j < Wo; ++j) f(p, i, j, (p * Ho + i) * Wo + j);
  return shape;
}

// Max over the in-bounds taps (NaN wins), and the flat index of the winner.
std::pair<std::vector<double>, std::vector<double>> ref_max(const Tensor& x, const PoolCase& k,
                                                            std::vector<std::int64_t>& shape) {
  const auto xv = values(x);
  const std::int64_t H = x.size(-2), W = x.size(-1);
  const std::int64_t Ho = out_size(H, k.kh, k.sh, k.ph, k.dh, k.ceil), Wo = out_size(W, k.kw, k.sw, k.pw, k.dw, k.ceil);
  const std::int64_t planes = x.numel() / (H * W);
  std::vector<double> out(static_cast<std::size_t>(planes * Ho * Wo)), idx(out.size());
  shape = for_outputs(x, Ho, Wo, [&](std::int64_t p, std::int64_t i, std::int64_t j, std::int64_t o) {
    double best = -std::numeric_limits<double>::infinity();
    std::int64_t best_i = -1;
    for (std::int64_t a = 0; a < k.kh; ++a)
      for (std::int64_t b = 0; b < k.kw; ++b) {
        const std::int64_t h = i * k.sh - k.ph + a * k.dh, w = j * k.sw - k.pw + b * k.dw;
        if (h < 0 || h >= H || w < 0 || w >= W) continue;
        const double v = xv[static_cast<std::size_t>((p * H + h) * W + w)];
        if (best_i < 0 || v > best || std::isnan(v)) {
          best = v;
          best_i = h * W + w;
        }
      }
    out[static_cast<std::size_t>(o)] = best;
    idx[static_cast<std::size_t>(o)] = static_cast<double>(best_i);
  });
  return {out, idx};
}

std::vector<double> ref_avg(const Tensor& x, const PoolCase& k, bool include_pad, std::vector<std::int64_t>& shape) {
  const auto xv = values(x);
  const std::int64_t H = x.size(-2), W = x.size(-1);
  const std::int64_t Ho = out_size(H, k.kh, k.sh, k.ph, 1, k.ceil), Wo = out_size(W, k.kw, k.sw, k.pw, 1, k.ceil);
  const std::int64_t planes = x.numel() / (H * W);
  std::vector<double> out(static_cast<std::size_t>(planes * Ho * Wo));
  shape = for_outputs(x, Ho, Wo, [&](std::int64_t p, std::int64_t i, std::int64_t j, std::int64_t o) {
    double sum = 0;
    std::int64_t inside = 0, padded = 0;
    for (std::int64_t a = 0; a < k.kh; ++a)
      for (std::int64_t b = 0; b < k.kw; ++b) {
        const std::int64_t h = i * k.sh - k.ph + a, w = j * k.sw - k.pw + b;
        // Taps in the padding count with count_include_pad; taps beyond it (ceil mode) never.
        if (h >= -k.ph && h < H + k.ph && w >= -k.pw && w < W + k.pw) ++padded;
        if (h < 0 || h >= H || w < 0 || w >= W) continue;
        sum += xv[static_cast<std::size_t>((p * H + h) * W + w)];
        ++inside;
      }
    out[static_cast<std::size_t>(o)] = sum / static_cast<double>(include_pad ? padded : inside);
  });
  return out;
}

std::vector<double> ref_adaptive(const Tensor& x, std::int64_t Ho, std::int64_t Wo, std::vector<std::int64_t>& shape) {
  const auto xv = values(x);
  const std::int64_t H = x.size(-2), W = x.size(-1);
  const std::int64_t planes = x.numel() / (H * W);
  std::vector<double> out(static_cast<std::size_t>(planes * Ho * Wo));
  shape = for_outputs(x, Ho, Wo, [&](std::int64_t p, std::int64_t i, std::int64_t j, std::int64_t o) {
    const auto h0 = static_cast<std::int64_t>(std::floor(static_cast<double>(i * H) / static_cast<double>(Ho)));
    const auto h1 = static_cast<std::int64_t>(std::ceil(static_cast<double>((i + 1) * H) / static_cast<double>(Ho)));
    const auto w0 = static_cast<std::int64_t>(std::floor(static_cast<double>(j * W) / static_cast<double>(Wo)));
    const auto w1 = static_cast<std::int64_t>(std::ceil(static_cast<double>((j + 1) * W) / static_cast<double>(Wo)));
    double sum = 0;
    for (std::int64_t h = h0; h < h1; ++h)
      for (std::int64_t w = w0; w < w1; ++w) sum += xv[static_cast<std::size_t>((p * H + h) * W + w)];
    out[static_cast<std::size_t>(o)] = sum / static_cast<double>((h1 - h0) * (w1 - w0));
  });
  return out;
}

const std::vector<PoolCase> kCases = {
    {{2, 3, 8, 8}, 2, 2, 2, 2, 0, 0, 1, 1, false},
    {{2, 3, 7, 9}, 3, 3, 2, 2, 1, 1, 1, 1, false},
    {{2, 3, 7, 9}, 3, 3, 2, 2, 1, 1, 1, 1, true},   // ceil mode adds a partial last window
    {{1, 2, 10, 11}, 3, 2, 3, 1, 1, 1, 2, 3, true},  // dilation, mixed options
    {{3, 6, 5}, 2, 3, 1, 2, 0, 1, 1, 1, false},      // unbatched
    {{1, 1, 6, 6}, 4, 4, 3, 3, 2, 2, 1, 1, true},
    {{1, 2, 5, 5}, 5, 5, 1, 1, 0, 0, 1, 1, false},   // window = whole plane
    {{4, 16, 40, 40}, 3, 3, 2, 2, 1, 1, 1, 1, false}, // large enough to run in parallel
};

}  // namespace

TEST_CASE("max_pool2d and max_pool2d_with_indices match a naive loop") {
  std::uint64_t seed = 100;
  for (const auto& k : kCases)
    for (DType dt : {kFloat32, kFloat64}) {
      INFO("x " << IntArrayRef(k.x) << " k " << k.kh << "x" << k.kw << " s " << k.sh << "," << k.sw << " p " << k.ph
                << "," << k.pw << " d " << k.dh << "," << k.dw << " ceil " << k.ceil << " " << dt);
      Tensor x = nn_test::data(k.x, dt, seed++);
      std::vector<std::int64_t> shape;
      const auto [want, want_idx] = ref_max(x, k, shape);
      for (const Tensor& in : {x, strided(x), transposed(x, -1, -2)}) {
        auto [out, idx] = max_pool2d_with_indices(in, {k.kh, k.kw}, {k.sh, k.sw}, {k.ph, k.pw}, {k.dh, k.dw}, k.ceil);
        REQUIRE(out.shape() == Shape(shape));
        REQUIRE(out.dtype() == dt);
        REQUIRE(idx.dtype() == kInt64);
        require_close(out, want, 0);
        require_close(idx, want_idx, 0);
        require_close(max_pool2d(in, {k.kh, k.kw}, {k.sh, k.sw}, {k.ph, k.pw}, {k.dh, k.dw}, k.ceil), want, 0);
      }
    }
}

TEST_CASE("max_pool2d: default stride, single values, NaN and -inf") {
  Tensor x = nn_test::data({2, 2, 6, 6}, kFloat64, 7);
  std::vector<std::int64_t> shape;
  const PoolCase k{{}, 3, 3, 3, 3, 0, 0, 1, 1, false};
  REQUIRE(max_pool2d(x, {3}).shape() == Shape{2, 2, 2, 2});
  require_close(max_pool2d(x, {3}), ref_max(x, k, shape).first, 0);
  require_close(max_pool2d(x, 3), ref_max(x, k, shape).first, 0);

  std::vector<double> v = {1, NAN, 3, -std::numeric_limits<double>::infinity()};
  auto [out, idx] = max_pool2d_with_indices(tensor(v, {1, 1, 2, 2}), {2});
  REQUIRE(std::isnan(out.item<double>()));
  REQUIRE(idx.item<std::int64_t>() == 1);
  std::vector<double> ninf(4, -std::numeric_limits<double>::infinity());
  auto [o2, i2] = max_pool2d_with_indices(tensor(ninf, {1, 1, 2, 2}), {2});
  REQUIRE(o2.item<double>() == -std::numeric_limits<double>::infinity());
  REQUIRE(i2.item<std::int64_t>() == 0);
}

TEST_CASE("max_pool2d: a window wholly in the padding gives -inf, index -1 and no gradient") {
  // Kernel 2, dilation 3, padding 1 on a 2 x 2 plane: the one window's taps sit at -1 and 2 along
  // both axes, all in the padding. Then the same along columns only (kernel (1, 2) on 3 x 2), where
  // the clipped window's corner, h * W + W, would be a real element of the next row.
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::vector<std::int64_t> x, kernel, padding, dilation;
  };
  for (const Case& c : {Case{{2, 3, 2, 2}, {2}, {1}, {3}}, Case{{1, 2, 3, 2}, {1, 2}, {0, 1}, {1, 3}}})
    for (DType dt : {kFloat32, kFloat64}) {
      INFO("x " << IntArrayRef(c.x) << " kernel " << IntArrayRef(c.kernel) << " " << dt);
      Tensor x = nn_test::data(c.x, dt, 21);
      x.requires_grad_();
      auto [out, idx] = max_pool2d_with_indices(x, c.kernel, {1}, c.padding, c.dilation);
      Shape want_shape = x.shape();
      want_shape[3] = 1;
      if (c.kernel.size() == 1) want_shape[2] = 1;
      REQUIRE(out.shape() == want_shape);
      REQUIRE(values(out) == std::vector<double>(static_cast<std::size_t>(out.numel()), -inf));
      require_close(idx, std::vector<double>(static_cast<std::size_t>(out.numel()), -1.0), 0);
      // Backward skips the -1 indices (no write outside the plane: the suite also runs under ASan).
      out.backward(ones_like(out));
      require_close(x.grad(), std::vector<double>(static_cast<std::size_t>(x.numel()), 0.0), 0);
    }
}

TEST_CASE("max_pool2d's vector path: ties, NaN and -inf along long rows") {
  // Windows inside the plane, rows of many windows, strides 1 and 2 (float32 runs four windows at
  // a time there); values from {0, 1, 2} make ties common, with NaN and -inf sprinkled in.
  const std::vector<PoolCase> cases = {
      {{2, 3, 9, 34}, 2, 2, 2, 2, 0, 0, 1, 1, false},
      {{1, 2, 7, 21}, 3, 3, 1, 1, 0, 0, 1, 1, false},
      {{1, 2, 6, 19}, 2, 3, 1, 2, 0, 0, 1, 1, false},
      {{1, 1, 4, 9}, 2, 2, 2, 2, 0, 0, 1, 1, false},  // the last window ends the plane
  };
  for (const auto& k : cases)
    for (DType dt : {kFloat32, kFloat64}) {
      INFO("x " << IntArrayRef(k.x) << " k " << k.kh << "x" << k.kw << " s " << k.sh << "," << k.sw << " " << dt);
      std::vector<double> v(static_cast<std::size_t>(shape_numel(k.x)));
      for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = i % 7 == 3 ? NAN : i % 11 == 5 ? -std::numeric_limits<double>::infinity() : static_cast<double>((i * 2654435761u) % 3);
      const Tensor x = tensor(v, k.x).to(dt);
      std::vector<std::int64_t> shape;
      const auto [want, want_idx] = ref_max(x, k, shape);
      auto [out, idx] = max_pool2d_with_indices(x, {k.kh, k.kw}, {k.sh, k.sw}, {k.ph, k.pw}, {k.dh, k.dw}, k.ceil);
      require_close(out, want, 0);
      require_close(idx, want_idx, 0);
    }
}

TEST_CASE("avg_pool2d matches a naive loop, with and without count_include_pad") {
  const std::vector<PoolCase> cases = {
      {{2, 3, 8, 8}, 2, 2, 2, 2, 0, 0, 1, 1, false},
      {{2, 3, 7, 9}, 3, 3, 2, 2, 1, 1, 1, 1, false},
      {{2, 3, 7, 9}, 3, 3, 2, 2, 1, 1, 1, 1, true},
      {{1, 2, 10, 11}, 3, 2, 3, 1, 1, 1, 1, 1, true},
      {{3, 6, 5}, 2, 3, 1, 2, 0, 1, 1, 1, false},
      {{1, 1, 6, 6}, 4, 4, 3, 3, 2, 2, 1, 1, true},
      {{1, 1, 5, 5}, 2, 2, 2, 2, 1, 1, 1, 1, true},
      {{4, 16, 40, 40}, 3, 3, 2, 2, 1, 1, 1, 1, true},
      {{1, 2, 15, 40}, 7, 36, 4, 2, 3, 1, 1, 1, false},  // long windows (the vectorised sums)
  };
  std::uint64_t seed = 200;
  for (const auto& k : cases)
    for (DType dt : {kFloat32, kFloat64})
      for (bool include_pad : {true, false}) {
        INFO("x " << IntArrayRef(k.x) << " k " << k.kh << "x" << k.kw << " ceil " << k.ceil << " pad " << include_pad);
        Tensor x = nn_test::data(k.x, dt, seed++);
        std::vector<std::int64_t> shape;
        const auto want = ref_avg(x, k, include_pad, shape);
        for (const Tensor& in : {x, strided(x)}) {
          Tensor out = avg_pool2d(in, {k.kh, k.kw}, {k.sh, k.sw}, {k.ph, k.pw}, k.ceil, include_pad);
          REQUIRE(out.shape() == Shape(shape));
          require_close(out, want, tol_for(dt));
        }
      }
  // Default stride = kernel.
  Tensor x = nn_test::data({1, 2, 6, 4}, kFloat64, 9);
  std::vector<std::int64_t> shape;
  require_close(avg_pool2d(x, {2}), ref_avg(x, {{}, 2, 2, 2, 2, 0, 0, 1, 1, false}, true, shape), 1e-12);
}

TEST_CASE("adaptive_avg_pool2d uses PyTorch's overlapping windows") {
  struct Case {
    std::vector<std::int64_t> x;
    std::int64_t ho, wo;
  };
  const std::vector<Case> cases = {
      {{2, 3, 8, 8}, 4, 4}, {{2, 3, 7, 9}, 3, 4}, {{1, 2, 5, 5}, 1, 1},   {{3, 5, 7}, 5, 7},
      {{1, 1, 3, 4}, 5, 6}, {{2, 2, 10, 3}, 4, 2}, {{4, 16, 30, 30}, 7, 7},
      {{2, 3, 28, 28}, 1, 1}, {{2, 3, 5, 70}, 2, 2},  // long windows: global pooling, wide rows
  };
  std::uint64_t seed = 300;
  for (const auto& c : cases)
    for (DType dt : {kFloat32, kFloat64}) {
      INFO("x " << IntArrayRef(c.x) << " -> " << c.ho << "x" << c.wo);
      Tensor x = nn_test::data(c.x, dt, seed++);
      std::vector<std::int64_t> shape;
      const auto want = ref_adaptive(x, c.ho, c.wo, shape);
      for (const Tensor& in : {x, transposed(x, -1, -2)}) {
        Tensor out = adaptive_avg_pool2d(in, {c.ho, c.wo});
        REQUIRE(out.shape() == Shape(shape));
        require_close(out, want, tol_for(dt));
      }
    }
  Tensor x = nn_test::data({1, 2, 6, 6}, kFloat64, 1);
  std::vector<std::int64_t> shape;
  require_close(adaptive_avg_pool2d(x, {3}), ref_adaptive(x, 3, 3, shape), 1e-12);
  REQUIRE(adaptive_avg_pool2d(x, {0, 3}).shape() == Shape{1, 2, 0, 3});
}

TEST_CASE("pooling: empty batches and errors") {
  REQUIRE(max_pool2d(zeros({0, 3, 4, 4}), {2}).shape() == Shape{0, 3, 2, 2});
  REQUIRE(avg_pool2d(zeros({2, 0, 4, 4}), {2}).shape() == Shape{2, 0, 2, 2});
  REQUIRE(adaptive_avg_pool2d(zeros({0, 3, 4, 4}), {2}).shape() == Shape{0, 3, 2, 2});

  Tensor x = zeros({1, 2, 6, 6});
  for (auto pool : {+[](const Tensor& t, IntArrayRef k, IntArrayRef s, IntArrayRef p) { return max_pool2d(t, k, s, p); },
                    +[](const Tensor& t, IntArrayRef k, IntArrayRef s, IntArrayRef p) { return avg_pool2d(t, k, s, p); }}) {
    REQUIRE_THROWS_AS(pool(zeros({6, 6}), {2}, {}, {0}), ShapeError);
    REQUIRE_THROWS_AS(pool(zeros({1, 1, 2, 6, 6}), {2}, {}, {0}), ShapeError);
    REQUIRE_THROWS_AS(pool(zeros({1, 2, 0, 6}), {2}, {}, {0}), ShapeError);
    REQUIRE_THROWS_AS(pool(x, {7}, {}, {0}), ShapeError);            // kernel > input
    REQUIRE_THROWS_AS(pool(x, {0}, {}, {0}), ValueError);
    REQUIRE_THROWS_AS(pool(x, {2, 2, 2}, {}, {0}), ValueError);
    REQUIRE_THROWS_AS(pool(x, {}, {}, {0}), ValueError);
    REQUIRE_THROWS_AS(pool(x, {2}, {0}, {0}), ValueError);
    REQUIRE_THROWS_AS(pool(x, {2}, {1}, {-1}), ValueError);
    REQUIRE_THROWS_AS(pool(x, {2}, {1}, {2}), ValueError);           // padding > kernel / 2
    REQUIRE_THROWS_AS(pool(x.to(kInt64), {2}, {}, {0}), DTypeError);
    REQUIRE_THROWS_AS(pool(x.to(kBool), {2}, {}, {0}), DTypeError);
    REQUIRE_THROWS_AS(pool(Tensor(), {2}, {}, {0}), ValueError);
  }
  REQUIRE_THROWS_AS(max_pool2d(x, {2}, {}, {0}, {0}), ValueError);
  REQUIRE_THROWS_AS(max_pool2d(x, {3}, {1}, {0}, {3}), ShapeError);    // dilated kernel > input
  REQUIRE_THROWS_AS(max_pool2d_with_indices(x, {2}, {}, {0}, {-1}), ValueError);
  REQUIRE_THROWS_AS(adaptive_avg_pool2d(x, {-1}), ValueError);
  REQUIRE_THROWS_AS(adaptive_avg_pool2d(x, {1, 2, 3}), ValueError);
  REQUIRE_THROWS_AS(adaptive_avg_pool2d(zeros({6, 6}), {2}), ShapeError);
  REQUIRE_THROWS_AS(adaptive_avg_pool2d(zeros({1, 2, 6, 0}), {2}), ShapeError);
  REQUIRE_THROWS_AS(adaptive_avg_pool2d(x.to(kInt32), {2}), DTypeError);
}
