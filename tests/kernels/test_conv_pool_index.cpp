// The index math of the CUDA conv and pooling kernels (kernels/conv_index.hpp,
// kernels/pool_window.hpp), run on the CPU against brute-force loops written from the
// definitions, and against the CPU backend's own im2col/col2im.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "cpu/conv.hpp"
#include "kernels/conv_index.hpp"
#include "kernels/pool_window.hpp"

using namespace tapeflow;
using kernels::ConvGeom;
using kernels::PoolGeom;

namespace {

ConvGeom conv_geom(std::int64_t C, std::int64_t H, std::int64_t W, std::int64_t kH, std::int64_t kW, std::int64_t s,
                   std::int64_t p, std::int64_t d) {
  ConvGeom g{C, H, W, kH, kW, s, s == 3 ? 2 : s, p, p > 0 ? p - 1 : 0, d, 1, 0, 0};
  g.Ho = (H + 2 * g.pH - (g.dH * (kH - 1) + 1)) / g.sH + 1;
  g.Wo = (W + 2 * g.pW - (g.dW * (kW - 1) + 1)) / g.sW + 1;
  return g;
}

std::vector<ConvGeom> conv_cases() {
  std::vector<ConvGeom> cases;
  for (std::int64_t s : {1, 2, 3})
    for (std::int64_t p : {0, 1, 2})
      for (std::int64_t d : {1, 2})
        for (std::int64_t k : {1, 3}) {
          const ConvGeom g = conv_geom(2, 7, 6, k, k == 1 ? 2 : 3, s, p, d);
          if (g.Ho > 0 && g.Wo > 0) cases.push_back(g);
        }
  return cases;
}

// The column matrix from the definition: entry ((c, ki, kj), (oh, ow)) reads input
// (c, oh*sH - pH + ki*dH, ow*sW - pW + kj*dW), zero outside.
std::vector<double> brute_im2col(const std::vector<double>& im, const ConvGeom& g) {
  std::vector<double> col(static_cast<std::size_t>(g.col_rows() * g.col_cols()));
  for (std::int64_t c = 0; c < g.C; ++c)
    for (std::int64_t ki = 0; ki < g.kH; ++ki)
      for (std::int64_t kj = 0; kj < g.kW; ++kj)
        for (std::int64_t oh = 0; oh < g.Ho; ++oh)
          for (std::int64_t ow = 0; ow < g.Wo; ++ow) {
            const std::int64_t h = oh * g.sH - g.pH + ki * g.dH, w = ow * g.sW - g.pW + kj * g.dW;
            const std::int64_t row = (c * g.kH + ki) * g.kW + kj, colx = oh * g.Wo + ow;
            const bool in = h >= 0 && h < g.H && w >= 0 && w < g.W;
            col[static_cast<std::size_t>(row * g.col_cols() + colx)] =
                in ? im[static_cast<std::size_t>((c * g.H + h) * g.W + w)] : 0.0;
          }
  return col;
}

std::vector<double> random_values(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}

}  // namespace

TEST_CASE("conv index: im2col_source reads what im2col's definition reads") {
  std::mt19937 rng(1);
  for (const ConvGeom& g : conv_cases()) {
    INFO("stride " << g.sH << "," << g.sW << " pad " << g.pH << "," << g.pW << " dil " << g.dH << " k " << g.kH);
    const auto im = random_values(static_cast<std::size_t>(g.C * g.H * g.W), rng);
    const auto expected = brute_im2col(im, g);
    std::vector<double> cpu(expected.size());
    cpu::im2col(im.data(), g, cpu.data());
    for (std::int64_t r = 0; r < g.col_rows(); ++r)
      for (std::int64_t c = 0; c < g.col_cols(); ++c) {
        const std::size_t e = static_cast<std::size_t>(r * g.col_cols() + c);
        const std::int64_t src = kernels::im2col_source(g, r, c);
        const double v = src < 0 ? 0.0 : im[static_cast<std::size_t>(src)];
        REQUIRE(v == expected[e]);
        REQUIRE(cpu[e] == expected[e]);
      }
  }
}

TEST_CASE("conv index: col2im as a gather equals the scattering adjoint of im2col") {
  std::mt19937 rng(2);
  for (const ConvGeom& g : conv_cases()) {
    INFO("stride " << g.sH << "," << g.sW << " pad " << g.pH << "," << g.pW << " dil " << g.dH << " k " << g.kH);
    const auto col = random_values(static_cast<std::size_t>(g.col_rows() * g.col_cols()), rng);
    // The adjoint by definition: every column entry added to the input element it reads.
    std::vector<double> scattered(static_cast<std::size_t>(g.C * g.H * g.W), 0.0), cpu = scattered;
    for (std::int64_t r = 0; r < g.col_rows(); ++r)
      for (std::int64_t c = 0; c < g.col_cols(); ++c) {
        const std::int64_t src = kernels::im2col_source(g, r, c);
        if (src >= 0) scattered[static_cast<std::size_t>(src)] += col[static_cast<std::size_t>(r * g.col_cols() + c)];
      }
    cpu::col2im(col.data(), g, cpu.data());
    for (std::int64_t c = 0; c < g.C; ++c)
      for (std::int64_t h = 0; h < g.H; ++h)
        for (std::int64_t w = 0; w < g.W; ++w) {
          const std::int64_t at = (c * g.H + h) * g.W + w;
          double sum = 0;
          int visits = 0;
          kernels::for_each_column_entry_of(g, c, h, w, [&](std::int64_t r, std::int64_t cx) {
            REQUIRE(kernels::im2col_source(g, r, cx) == at);  // only entries that read (c, h, w)
            sum += col[static_cast<std::size_t>(r * g.col_cols() + cx)];
            ++visits;
          });
          // ...and all of them: the count of entries reading (c, h, w) by brute force.
          int expected_visits = 0;
          for (std::int64_t r = 0; r < g.col_rows(); ++r)
            for (std::int64_t cx = 0; cx < g.col_cols(); ++cx) expected_visits += kernels::im2col_source(g, r, cx) == at;
          REQUIRE(visits == expected_visits);
          REQUIRE(sum == Approx(scattered[static_cast<std::size_t>(at)]).margin(1e-12));
          REQUIRE(cpu[static_cast<std::size_t>(at)] == Approx(scattered[static_cast<std::size_t>(at)]).margin(1e-12));
        }
  }
}

TEST_CASE("pool window: dilated windows hold exactly the in-bounds taps") {
  for (std::int64_t n : {1, 4, 7})
    for (std::int64_t k : {1, 2, 3})
      for (std::int64_t d : {1, 2, 3})
        for (std::int64_t start = -3; start <= n; ++start) {
          const kernels::Window w = kernels::dilated_window(start, k, d, n);
          std::vector<std::int64_t> got, want;
          for (std::int64_t i = w.begin; i < w.end; i += d) got.push_back(i);
          for (std::int64_t t = 0; t < k; ++t)
            if (start + t * d >= 0 && start + t * d < n) want.push_back(start + t * d);
          REQUIRE(got == want);
        }
}

TEST_CASE("pool window: the max rule keeps the first maximum and lets the last NaN win") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> taps = {1.0, 3.0, 3.0, nan, 2.0, nan, 5.0};
  double best = -std::numeric_limits<double>::infinity();
  std::size_t best_i = 0;
  for (std::size_t i = 0; i < taps.size(); ++i)
    if (kernels::max_pool_takes(taps[i], best)) best = taps[i], best_i = i;
  REQUIRE(std::isnan(best));
  REQUIRE(best_i == 5);
  best = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < 3; ++i)
    if (kernels::max_pool_takes(taps[i], best)) best = taps[i], best_i = i;
  REQUIRE((best == 3.0 && best_i == 1));
  REQUIRE(!kernels::max_pool_takes(-std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()));
}

TEST_CASE("pool window: avg windows and divisors match the definition, and the covering outputs invert them") {
  for (std::int64_t k : {1, 2, 3, 4})
    for (std::int64_t s : {1, 2, 3})
      for (std::int64_t p = 0; p <= k / 2; ++p)
        for (bool cip : {false, true})
          for (bool ceil_mode : {false, true}) {
            const std::int64_t H = 7, W = 5;
            auto out_size = [&](std::int64_t n) {
              const std::int64_t span = n + 2 * p - k;
              std::int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
              if (ceil_mode && (o - 1) * s >= n + p) --o;  // the last window must start inside
              return o;
            };
            const PoolGeom g{H, W, k, k, s, s, p, p, 1, 1, out_size(H), out_size(W)};
            INFO("k " << k << " s " << s << " p " << p << " cip " << cip << " ceil " << ceil_mode);
            std::vector<std::vector<int>> covered(static_cast<std::size_t>(H * W));
            for (std::int64_t oh = 0; oh < g.Ho; ++oh)
              for (std::int64_t ow = 0; ow < g.Wo; ++ow) {
                const kernels::AvgWindow a = kernels::avg_window(g, oh, ow, cip);
                std::int64_t in = 0, padded = 0;
                for (std::int64_t h = oh * s - p; h < oh * s - p + k; ++h)
                  for (std::int64_t w = ow * s - p; w < ow * s - p + k; ++w) {
                    const bool inside = h >= 0 && h < H && w >= 0 && w < W;
                    padded += h < H + p && w < W + p;  // PyTorch's divisor: clipped to the padded input
                    in += inside;
                    REQUIRE((h >= a.hb && h < a.he && w >= a.wb && w < a.we) == inside);
                    if (inside) covered[static_cast<std::size_t>(h * W + w)].push_back(static_cast<int>(oh * g.Wo + ow));
                  }
                REQUIRE(a.count == (cip ? padded : in));
              }
            for (std::int64_t h = 0; h < H; ++h)
              for (std::int64_t w = 0; w < W; ++w) {
                const kernels::Window rh = kernels::avg_outputs_covering(h, k, s, p, g.Ho);
                const kernels::Window rw = kernels::avg_outputs_covering(w, k, s, p, g.Wo);
                std::vector<int> got;
                for (std::int64_t oh = rh.begin; oh < rh.end; ++oh)
                  for (std::int64_t ow = rw.begin; ow < rw.end; ++ow) got.push_back(static_cast<int>(oh * g.Wo + ow));
                REQUIRE(got == covered[static_cast<std::size_t>(h * W + w)]);
              }
          }
}

TEST_CASE("pool window: adaptive windows and the outputs covering each input") {
  for (std::int64_t n_in : {1, 3, 5, 7, 10})
    for (std::int64_t n_out : {1, 2, 3, 4, 7, 12}) {
      INFO("in " << n_in << " out " << n_out);
      std::vector<std::vector<std::int64_t>> covered(static_cast<std::size_t>(n_in));
      for (std::int64_t o = 0; o < n_out; ++o) {
        const kernels::AvgWindow a = kernels::adaptive_window(n_in, 1, n_out, 1, o, 0);
        const auto lo = static_cast<std::int64_t>(std::floor(static_cast<double>(o * n_in) / static_cast<double>(n_out)));
        const auto hi =
            static_cast<std::int64_t>(std::ceil(static_cast<double>((o + 1) * n_in) / static_cast<double>(n_out)));
        REQUIRE((a.hb == lo && a.he == hi && a.wb == 0 && a.we == 1 && a.count == hi - lo));
        for (std::int64_t i = lo; i < hi; ++i) covered[static_cast<std::size_t>(i)].push_back(o);
      }
      for (std::int64_t i = 0; i < n_in; ++i) {
        const kernels::Window r = kernels::adaptive_outputs_covering(i, n_in, n_out);
        std::vector<std::int64_t> got;
        for (std::int64_t o = r.begin; o < r.end; ++o) got.push_back(o);
        REQUIRE(got == covered[static_cast<std::size_t>(i)]);
      }
    }
}
