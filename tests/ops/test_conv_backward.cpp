// conv2d forward and backward (input and weight gradients) against direct float64 loops, on
// geometries that take the shifted-planes path (lib/cpu/conv_shifted.cpp: vectorised kernels, and
// OpenBLAS GEMMs for the weight gradient of few output channels) and, for contrast, the im2col
// path; the test checks which path each case takes so that neither goes untested.
#include "cpu/conv_shifted.hpp"
#include "cpu/elementwise.hpp"
#include "ops/nn_test_util.hpp"

using namespace tapeflow;
using namespace nn_test;

namespace {

struct Geometry {
  std::vector<std::int64_t> x, w;
  std::int64_t sh, sw, ph, pw, dh, dw, groups;
  bool bias, shifted;  // shifted: the path this geometry is expected to take
};

struct Reference {
  std::vector<std::int64_t> out_shape;
  std::vector<double> out, grad_x, grad_w, grad_b;
};

// For L = sum(out * r): out = conv(x, w) + b; dL/dx, dL/dw and dL/db, all by direct loops.
Reference reference(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& r, const Geometry& k) {
  const auto xv = values(x), wv = values(w), rv = values(r);
  const std::vector<double> bv = b.defined() ? values(b) : std::vector<double>();
  const std::int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const std::int64_t O = w.size(0), Cg = w.size(1), KH = w.size(2), KW = w.size(3), Og = O / k.groups;
  const std::int64_t Ho = r.size(2), Wo = r.size(3);
  Reference ref;
  ref.out_shape = {N, O, Ho, Wo};
  ref.out.assign(static_cast<std::size_t>(N * O * Ho * Wo), 0.0);
  ref.grad_x.assign(xv.size(), 0.0);
  ref.grad_w.assign(wv.size(), 0.0);
  ref.grad_b.assign(static_cast<std::size_t>(O), 0.0);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t o = 0; o < O; ++o)
      for (std::int64_t i = 0; i < Ho; ++i)
        for (std::int64_t j = 0; j < Wo; ++j) {
          const auto oi = static_cast<std::size_t>(((n * O + o) * Ho + i) * Wo + j);
          double acc = bv.empty() ? 0.0 : bv[static_cast<std::size_t>(o)];
          const double g = rv[oi];
          ref.grad_b[static_cast<std::size_t>(o)] += g;
          for (std::int64_t c = 0; c < Cg; ++c)
            for (std::int64_t ki = 0; ki < KH; ++ki)
              for (std::int64_t kj = 0; kj < KW; ++kj) {
                const std::int64_t ih = i * k.sh - k.ph + ki * k.dh, iw = j * k.sw - k.pw + kj * k.dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const auto xi = static_cast<std::size_t>(((n * C + (o / Og) * Cg + c) * H + ih) * W + iw);
                const auto wi = static_cast<std::size_t>(((o * Cg + c) * KH + ki) * KW + kj);
                acc += xv[xi] * wv[wi];
                ref.grad_x[xi] += g * wv[wi];
                ref.grad_w[wi] += g * xv[xi];
              }
          ref.out[oi] = acc;
        }
  return ref;
}

kernels::ConvGeom geometry_of(const Geometry& k, std::int64_t Ho, std::int64_t Wo) {
  return {k.w[1], k.x[2], k.x[3], k.w[2], k.w[3], k.sh, k.sw, k.ph, k.pw, k.dh, k.dw, Ho, Wo};
}

void check(const Geometry& k, DType dt, std::uint64_t seed) {
  Tensor x = nn_test::data(k.x, dt, seed).requires_grad_();
  Tensor w = nn_test::data(k.w, dt, seed + 1, -0.5, 0.5).requires_grad_();
  Tensor b = k.bias ? nn_test::data({k.w[0]}, dt, seed + 2).requires_grad_() : Tensor();
  const std::int64_t Ho = (k.x[2] + 2 * k.ph - k.dh * (k.w[2] - 1) - 1) / k.sh + 1;
  const std::int64_t Wo = (k.x[3] + 2 * k.pw - k.dw * (k.w[3] - 1) - 1) / k.sw + 1;
  // Without vectorised kernels (TAPEFLOW_CPU_ISA=scalar) every geometry takes im2col.
  REQUIRE(cpu::conv_uses_shifted_planes(geometry_of(k, Ho, Wo)) == (k.shifted && cpu::g_vec_table != nullptr));
  Tensor r = nn_test::data({k.x[0], k.w[0], Ho, Wo}, dt, seed + 3);
  const Reference want = reference(x, w, b, r, k);
  // Sums of C*kH*kW (forward, weight) or Cout*kH*kW (input) terms of size ~1.
  const double terms = static_cast<double>(std::max(k.w[1], k.w[0]) * k.w[2] * k.w[3]);
  const double tol = dt == kFloat32 ? 2e-6 * terms : 1e-12 * terms;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    INFO("threads " << threads << ", dtype " << dt);
    x.set_grad(Tensor());
    w.set_grad(Tensor());
    if (b.defined()) b.set_grad(Tensor());
    Tensor out = conv2d(x, w, b, {k.sh, k.sw}, {k.ph, k.pw}, {k.dh, k.dw}, k.groups);
    REQUIRE(out.shape() == Shape(want.out_shape));
    require_close(out, want.out, tol);
    (out * r).sum().backward();
    require_close(x.grad(), want.grad_x, tol);
    // The weight gradient sums over images and pixels too.
    require_close(w.grad(), want.grad_w, tol * static_cast<double>(k.x[0] * Ho * Wo) / 8);
    if (b.defined()) require_close(b.grad(), want.grad_b, tol * static_cast<double>(k.x[0] * Ho * Wo));
  }
  set_num_threads(2);
}

}  // namespace

TEST_CASE("conv2d forward and backward match direct loops on both CPU schemes") {
  const std::vector<Geometry> cases = {
      {{2, 16, 7, 9}, {4, 16, 3, 3}, 1, 1, 1, 1, 1, 1, 1, true, true},     // 3x3 pad 1
      {{3, 16, 8, 10}, {5, 16, 3, 3}, 1, 1, 0, 0, 1, 1, 1, false, true},   // no padding
      {{2, 20, 9, 11}, {6, 20, 2, 3}, 1, 1, 1, 0, 1, 1, 1, true, true},    // uneven kernel and padding
      {{2, 16, 11, 20}, {4, 16, 3, 3}, 1, 1, 2, 2, 2, 2, 1, true, true},   // dilation
      {{2, 32, 6, 8}, {6, 16, 3, 3}, 1, 1, 1, 1, 1, 1, 2, true, true},     // groups
      {{1, 24, 5, 5}, {3, 24, 5, 5}, 1, 1, 2, 2, 1, 1, 1, true, false},    // 5x5 on 5x5: grid mostly padding
      {{1, 64, 12, 100}, {64, 64, 3, 3}, 1, 1, 1, 1, 1, 1, 1, false, true}, // several row blocks per image
      {{2, 16, 9, 9}, {4, 16, 3, 3}, 2, 2, 1, 1, 1, 1, 1, true, true},     // stride 2: phase planes
      {{2, 16, 10, 12}, {4, 16, 3, 3}, 2, 2, 1, 1, 1, 1, 1, false, true},  // even sizes: odd phases shorter
      {{2, 8, 11, 13}, {6, 8, 3, 4}, 2, 3, 0, 1, 1, 1, 1, true, true},     // a stride per axis
      {{2, 8, 13, 14}, {4, 8, 3, 3}, 3, 3, 1, 1, 1, 1, 1, true, true},     // stride 3
      {{2, 8, 12, 30}, {4, 8, 3, 3}, 2, 2, 2, 2, 2, 2, 1, true, true},     // stride 2, dilation 2: one phase
      {{2, 16, 9, 9}, {6, 8, 3, 3}, 2, 2, 1, 1, 1, 1, 2, true, true},      // stride 2, groups
      {{2, 16, 9, 9}, {4, 16, 1, 1}, 2, 2, 0, 0, 1, 1, 1, true, false},    // window under the stride: im2col
      {{2, 3, 7, 9}, {4, 3, 3, 3}, 1, 1, 1, 1, 1, 1, 1, true, false},      // few channels: im2col
      {{2, 4, 9, 10}, {8, 4, 3, 3}, 1, 1, 0, 0, 1, 1, 1, true, true},       // the fewest channels shifted
      {{8, 16, 12, 12}, {16, 16, 3, 3}, 1, 1, 1, 1, 1, 1, 1, true, true},  // parallel over images
  };
  std::uint64_t seed = 100;
  for (const auto& k : cases)
    for (DType dt : {kFloat32, kFloat64}) {
      INFO("case x " << IntArrayRef(k.x) << " w " << IntArrayRef(k.w) << " groups " << k.groups);
      check(k, dt, seed += 4);
    }
}
