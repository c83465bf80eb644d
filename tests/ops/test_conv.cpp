// conv2d against a direct 7-loop float64 convolution; im2col/col2im as an adjoint pair.
#include "cpu/conv.hpp"
#include "ops/nn_test_util.hpp"

using namespace tapeflow;
using namespace nn_test;

namespace {

struct ConvCase {
  std::vector<std::int64_t> x, w;
  std::int64_t sh, sw, ph, pw, dh, dw, groups;
  bool bias;
};

// out[n][o][i][j] = b[o] + sum_{c,ki,kj} x[n][g*Cg + c][i*sh - ph + ki*dh][j*sw - pw + kj*dw] * w[o][c][ki][kj]
std::vector<double> ref_conv(const Tensor& x, const Tensor& w, const Tensor& b, const ConvCase& k,
                             std::vector<std::int64_t>& out_shape) {
  const auto xv = values(x), wv = values(w);
  const std::vector<double> bv = b.defined() ? values(b) : std::vector<double>();
  const std::int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const std::int64_t O = w.size(0), Cg = w.size(1), KH = w.size(2), KW = w.size(3);
  const std::int64_t Ho = (H + 2 * k.ph - k.dh * (KH - 1) - 1) / k.sh + 1;
  const std::int64_t Wo = (W + 2 * k.pw - k.dw * (KW - 1) - 1) / k.sw + 1;
  const std::int64_t Og = O / k.groups;
  out_shape = {N, O, Ho, Wo};
  std::vector<double> out(static_cast<std::size_t>(N * O * Ho * Wo));
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t i = 0; i < Ho; ++i)
        for (std::int64_t j = 0; j < Wo; ++j) {
          double acc = bv.empty() ? 0.0 : bv[static_cast<std::size_t>(o)];
          const std::int64_t g = o / Og;
          for (std::int64_t c = 0; c < Cg; ++c)
            for (std::int64_t ki = 0; ki < KH; ++ki)
              for (std::int64_t kj = 0; kj < KW; ++kj) {
                const std::int64_t ih = i * k.sh - k.ph + ki * k.dh, iw = j * k.sw - k.pw + kj * k.dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += xv[static_cast<std::size_t>(((n * C + g * Cg + c) * H + ih) * W + iw)] *
                       wv[static_cast<std::size_t>(((o * Cg + c) * KH + ki) * KW + kj)];
              }
          out[static_cast<std::size_t>(((n * O + o) * Ho + i) * Wo + j)] = acc;
        }
  return out;
}

void check_case(const ConvCase& k, DType dt, std::uint64_t seed) {
  Tensor x = nn_test::data(k.x, dt, seed);
  Tensor w = nn_test::data(k.w, dt, seed + 1, -0.5, 0.5);
  Tensor b = k.bias ? nn_test::data({k.w[0]}, dt, seed + 2) : Tensor();
  std::vector<std::int64_t> shape;
  const auto want = ref_conv(x, w, b, k, shape);
  const double tol = dt == kFloat32 ? 1e-5 * static_cast<double>(k.w[1] * k.w[2] * k.w[3]) : 1e-12;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    INFO("threads " << threads << ", dtype " << dt);
    Tensor out = conv2d(x, w, b, {k.sh, k.sw}, {k.ph, k.pw}, {k.dh, k.dw}, k.groups);
    REQUIRE(out.shape() == Shape(shape));
    REQUIRE(out.dtype() == dt);
    require_close(out, want, tol);
    // Non-contiguous input and weight give the same result.
    Tensor out2 = conv2d(strided(x), transposed(w, 0, 1), b.defined() ? strided(b) : b, {k.sh, k.sw},
                         {k.ph, k.pw}, {k.dh, k.dw}, k.groups);
    require_close(out2, want, tol);
  }
  set_num_threads(2);
}

}  // namespace

TEST_CASE("conv2d matches a direct convolution over option combinations") {
  const std::vector<ConvCase> cases = {
      {{2, 3, 5, 6}, {4, 3, 3, 3}, 1, 1, 0, 0, 1, 1, 1, true},
      {{2, 3, 5, 6}, {4, 3, 3, 3}, 1, 1, 1, 1, 1, 1, 1, false},
      {{2, 4, 7, 6}, {6, 2, 3, 2}, 2, 1, 1, 0, 1, 2, 2, true},      // groups, asymmetric options
      {{1, 3, 9, 8}, {2, 3, 2, 3}, 3, 2, 1, 2, 2, 1, 1, true},      // stride > kernel, dilation
      {{3, 8, 5, 5}, {4, 8, 1, 1}, 1, 1, 0, 0, 1, 1, 1, true},      // pointwise fast path
      {{3, 8, 5, 5}, {4, 4, 1, 1}, 1, 1, 0, 0, 1, 1, 2, false},     // pointwise with groups
      {{2, 8, 5, 5}, {4, 8, 1, 1}, 2, 2, 0, 0, 1, 1, 1, true},      // 1x1 with stride: im2col
      {{2, 4, 5, 5}, {4, 4, 1, 1}, 1, 1, 1, 1, 1, 1, 1, true},      // 1x1 with padding
      {{2, 6, 9, 9}, {6, 1, 3, 3}, 1, 1, 1, 1, 1, 1, 6, true},      // depthwise
      {{1, 2, 4, 4}, {3, 2, 4, 4}, 1, 1, 0, 0, 1, 1, 1, true},      // kernel = input: 1x1 output
      {{1, 2, 3, 3}, {3, 2, 5, 5}, 1, 1, 1, 1, 1, 1, 1, false},     // kernel only fits with padding
      {{8, 16, 24, 24}, {16, 16, 3, 3}, 1, 1, 1, 1, 1, 1, 1, true}, // parallel over images
      {{1, 64, 40, 40}, {8, 64, 5, 5}, 1, 1, 0, 0, 1, 1, 1, true},  // several row blocks per image
      {{2, 32, 30, 17}, {8, 8, 5, 3}, 2, 1, 2, 1, 1, 2, 4, true},   // blocks + groups + options
      {{2, 4, 7, 7}, {5, 4, 3, 3}, 2, 2, 0, 1, 1, 1, 1, true},      // rows share padding; last row wraps
      {{2, 4, 5, 6}, {3, 4, 2, 3}, 1, 1, 1, 3, 1, 1, 1, false},     // padding wider than the window
  };
  std::uint64_t seed = 1;
  for (const auto& k : cases)
    for (DType dt : {kFloat32, kFloat64}) {
      INFO("case x " << IntArrayRef(k.x) << " w " << IntArrayRef(k.w) << " groups " << k.groups);
      check_case(k, dt, seed++);
    }
}

TEST_CASE("conv2d: unbatched input, one-value options, empty batch, no input channels") {
  Tensor x = nn_test::data({3, 6, 7}, kFloat64, 11);
  Tensor w = nn_test::data({5, 3, 3, 3}, kFloat64, 12);
  Tensor b = nn_test::data({5}, kFloat64, 13);
  Tensor out = conv2d(x, w, b, {2}, {1}, {1});
  REQUIRE(out.shape() == Shape{5, 3, 4});
  std::vector<std::int64_t> shape;
  require_close(out, ref_conv(x.unsqueeze(0), w, b, {{}, {}, 2, 2, 1, 1, 1, 1, 1, true}, shape), 1e-12);

  Tensor empty = conv2d(zeros({0, 3, 6, 7}), w.to(kFloat32));
  REQUIRE(empty.shape() == Shape{0, 5, 4, 5});

  Tensor no_channels = conv2d(zeros({2, 0, 4, 4}, kFloat64), zeros({3, 0, 2, 2}, kFloat64), tensor(std::vector<double>{1, 2, 3}));
  REQUIRE(no_channels.shape() == Shape{2, 3, 3, 3});
  std::vector<double> want;
  for (int n = 0; n < 2; ++n)
    for (double v : {1.0, 2.0, 3.0}) want.insert(want.end(), 9, v);
  require_close(no_channels, want, 0);
  require_close(conv2d(zeros({1, 0, 4, 4}), zeros({2, 0, 2, 2})), std::vector<double>(18, 0.0), 0);
}

TEST_CASE("conv2d errors") {
  Tensor x = zeros({2, 4, 6, 6});
  Tensor w = zeros({6, 4, 3, 3});
  REQUIRE_THROWS_AS(conv2d(zeros({4, 6, 6, 1, 1}), w), ShapeError);
  REQUIRE_THROWS_AS(conv2d(zeros({6, 6}), w), ShapeError);
  REQUIRE_THROWS_AS(conv2d(x, zeros({6, 4, 3})), ShapeError);
  REQUIRE_THROWS_AS(conv2d(x, zeros({6, 3, 3, 3})), ShapeError);               // channel mismatch
  REQUIRE_THROWS_AS(conv2d(x, zeros({6, 2, 3, 3}), {}, {1}, {0}, {1}, 3), ShapeError);  // 4 % 3
  REQUIRE_THROWS_AS(conv2d(x, zeros({5, 2, 3, 3}), {}, {1}, {0}, {1}, 2), ShapeError);  // C_out % groups
  REQUIRE_THROWS_AS(conv2d(x, zeros({6, 4, 3, 3}), {}, {1}, {0}, {1}, 2), ShapeError);  // weight C != C_in/groups
  REQUIRE_THROWS_AS(conv2d(x, zeros({6, 4, 7, 3})), ShapeError);               // kernel > input
  REQUIRE_THROWS_AS(conv2d(x, w, {}, {1}, {0}, {3}), ShapeError);              // dilated kernel > input
  REQUIRE_NOTHROW(conv2d(x, zeros({6, 4, 7, 3}), {}, {1}, {1}));              // fits with padding
  REQUIRE_THROWS_AS(conv2d(x, zeros({6, 4, 0, 3})), ShapeError);
  REQUIRE_THROWS_AS(conv2d(x, w, {}, {0}), ValueError);
  REQUIRE_THROWS_AS(conv2d(x, w, {}, {1, 0}), ValueError);
  REQUIRE_THROWS_AS(conv2d(x, w, {}, {1, 1, 1}), ValueError);
  REQUIRE_THROWS_AS(conv2d(x, w, {}, {1}, {-1}), ValueError);
  REQUIRE_THROWS_AS(conv2d(x, w, {}, {1}, {0}, {0}), ValueError);
  REQUIRE_THROWS_AS(conv2d(x, w, {}, {1}, {0}, {1}, 0), ValueError);
  REQUIRE_THROWS_AS(conv2d(x, w, zeros({5})), ShapeError);
  REQUIRE_THROWS_AS(conv2d(x, w, zeros({6, 1})), ShapeError);
  REQUIRE_THROWS_AS(conv2d(x, w, zeros({6}, kFloat64)), DTypeError);
  REQUIRE_THROWS_AS(conv2d(x.to(kInt64), w.to(kInt64)), DTypeError);
  REQUIRE_THROWS_AS(conv2d(x, w.to(kFloat64)), DTypeError);
  REQUIRE_THROWS_AS(conv2d(Tensor(), w), ValueError);
  REQUIRE_THROWS_AS(conv2d(x, Tensor()), ValueError);
}

TEST_CASE("im2col and col2im are adjoint, and im2col matches the definition") {
  // <im2col(x), y> == <x, col2im(y)> for any x, y.
  const cpu::ConvGeom geoms[] = {
      {3, 7, 6, 3, 2, 2, 1, 1, 0, 1, 2, 0, 0},
      {2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0},
      {1, 9, 8, 2, 3, 3, 2, 1, 1, 2, 1, 0, 0},
  };
  std::uint64_t seed = 40;
  for (cpu::ConvGeom g : geoms) {
    g.Ho = (g.H + 2 * g.pH - g.dH * (g.kH - 1) - 1) / g.sH + 1;
    g.Wo = (g.W + 2 * g.pW - g.dW * (g.kW - 1) - 1) / g.sW + 1;
    const auto x = values(nn_test::data({g.C * g.H * g.W}, kFloat64, seed++));
    const auto y = values(nn_test::data({g.col_rows() * g.col_cols()}, kFloat64, seed++));
    std::vector<double> col(y.size()), back(x.size(), 0.0);
    cpu::im2col(x.data(), g, col.data());
    cpu::col2im(y.data(), g, back.data());
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < y.size(); ++i) lhs += col[i] * y[i];
    for (std::size_t i = 0; i < x.size(); ++i) rhs += x[i] * back[i];
    REQUIRE(lhs == Approx(rhs).epsilon(1e-12));
    // Each column entry is the input it reads, or zero in the padding.
    for (std::int64_t c = 0; c < g.C; ++c)
      for (std::int64_t ki = 0; ki < g.kH; ++ki)
        for (std::int64_t kj = 0; kj < g.kW; ++kj)
          for (std::int64_t i = 0; i < g.Ho; ++i)
            for (std::int64_t j = 0; j < g.Wo; ++j) {
              const std::int64_t ih = i * g.sH - g.pH + ki * g.dH, iw = j * g.sW - g.pW + kj * g.dW;
              const double want = ih < 0 || ih >= g.H || iw < 0 || iw >= g.W
                                      ? 0.0
                                      : x[static_cast<std::size_t>((c * g.H + ih) * g.W + iw)];
              REQUIRE(col[static_cast<std::size_t>((((c * g.kH + ki) * g.kW + kj) * g.Ho + i) * g.Wo + j)] == want);
            }
  }
}
