// Shifted-GEMM convolution (see conv_shifted.hpp). Measured on the 2-vCPU AVX-512 box, conv2d
// (32, 64, 28, 28) * (64, 64, 3, 3) pad 1 at 1 thread: 12.4 ms with im2col, 10.4 ms shifted
// (forward); forward + backward 40.7 -> 35.2 ms.
#include "cpu/conv_shifted.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/conv_gemm.hpp"

namespace tapeflow::cpu {
namespace {

using conv_detail::gemm;

// Below this many input channels per group each tap's GEMM is too thin (K = C); im2col's single
// GEMM over K = C*kH*kW is faster there. Measured (3x3, 1 thread, conv fwd+bwd): C = 1 on 28x28
// 0.37 ms im2col vs 0.52 shifted; C = 4: 1.28 vs 0.80; C = 8 on 13x13: 0.84 vs 0.51.
constexpr std::int64_t kMinChannels = 4;
// A block of output rows keeps the GEMM output (and the B panel the taps share) near L2-sized.
constexpr std::int64_t kGridBlockBytes = std::int64_t(256) << 10;

// The padded plane of one input channel and the output grid laid over it.
struct Plane {
  std::int64_t Wp, size, slack, grid;
  explicit Plane(const ConvGeom& g)
      : Wp(g.W + 2 * g.pW),
        size((g.H + 2 * g.pH) * Wp),
        // Thrown-away columns of the last grid row read up to (kW-1)*dW past the last plane.
        slack((g.kW - 1) * g.dW),
        grid(g.Ho * Wp) {}
  std::int64_t shift(const ConvGeom& g, std::int64_t tap) const {
    return (tap / g.kW) * g.dH * Wp + (tap % g.kW) * g.dW;
  }
  std::int64_t padded_image(const ConvGeom& g) const { return g.C * size + slack; }
};

template <typename T>
std::int64_t block_rows(std::int64_t channels, const Plane& p, const ConvGeom& g) {
  const std::int64_t row_bytes = channels * p.Wp * static_cast<std::int64_t>(sizeof(T));
  return std::clamp<std::int64_t>(kGridBlockBytes / std::max<std::int64_t>(row_bytes, 1), 1, g.Ho);
}

// Copies an image (C x H x W) into the interior of its padded planes; the borders and the slack
// are never written, so they stay the zeros the scratch buffer started with.
template <typename T>
void pad_image(const T* im, const ConvGeom& g, const Plane& p, T* pad) {
  for (std::int64_t c = 0; c < g.C; ++c)
    for (std::int64_t ih = 0; ih < g.H; ++ih)
      std::memcpy(pad + c * p.size + (ih + g.pH) * p.Wp + g.pW, im + (c * g.H + ih) * g.W,
                  sizeof(T) * static_cast<std::size_t>(g.W));
}

// Output-gradient rows (Mg x Ho x Wo) onto the grid (Mg x Ho x Wp). The thrown-away columns are
// never written, so they stay zero and add nothing in the backward GEMMs.
template <typename T>
void grad_to_grid(const T* grad, std::int64_t Mg, const ConvGeom& g, const Plane& p, T* grid) {
  for (std::int64_t m = 0; m < Mg; ++m)
    for (std::int64_t oh = 0; oh < g.Ho; ++oh)
      std::memcpy(grid + m * p.grid + oh * p.Wp, grad + (m * g.Ho + oh) * g.Wo, sizeof(T) * static_cast<std::size_t>(g.Wo));
}

// by_tap[tap][o][c] = w[o][c][tap] (to_tap) or back (!to_tap): each tap's weights as one Cout x C matrix.
template <typename T>
void regroup_taps(const T* from, T* to, std::int64_t Cout, const ConvGeom& g, bool to_tap) {
  const std::int64_t taps = g.kH * g.kW;
  for (std::int64_t o = 0; o < Cout; ++o)
    for (std::int64_t c = 0; c < g.C; ++c)
      for (std::int64_t tap = 0; tap < taps; ++tap) {
        const std::int64_t natural = (o * g.C + c) * taps + tap, by_tap = (tap * Cout + o) * g.C + c;
        if (to_tap) to[by_tap] = from[natural];
        else to[natural] = from[by_tap];
      }
}

double conv_flops(std::int64_t N, std::int64_t Cout, const ConvGeom& g, const Plane& p) {
  return 2.0 * static_cast<double>(N * Cout) * static_cast<double>(p.grid) * static_cast<double>(g.col_rows());
}

}  // namespace

bool conv_uses_shifted_gemm(const ConvGeom& g) {
  if (g.sH != 1 || g.sW != 1 || g.is_pointwise() || g.C < kMinChannels || g.Ho <= 0 || g.Wo <= 0) return false;
  const std::int64_t thrown_away = g.W + 2 * g.pW - g.Wo;
  return thrown_away * 4 <= g.Wo;
}

template <typename T>
void conv2d_forward_shifted(T* out, const T* in, const T* w, const T* bias, std::int64_t N, std::int64_t Cout,
                            const ConvGeom& g, std::int64_t groups) {
  const Plane p(g);
  const std::int64_t Mg = Cout / groups, C = g.C, taps = g.kH * g.kW, rows = block_rows<T>(Mg, p, g);
  std::vector<T> wt(static_cast<std::size_t>(taps * Cout * C));
  regroup_taps(w, wt.data(), Cout, g, true);
  const std::int64_t pad_size = p.padded_image(g);
  conv_detail::run_tasks<T>(N * groups, conv_flops(N, Cout, g, p), pad_size + Mg * rows * p.Wp, [&](std::int64_t t, T* buf) {
    const std::int64_t gi = t % groups, n = t / groups;
    T *pad = buf, *acc = buf + pad_size;
    pad_image(in + (n * groups + gi) * C * g.H * g.W, g, p, pad);
    T* dst = out + (n * Cout + gi * Mg) * g.Ho * g.Wo;
    for (std::int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
      const std::int64_t oh1 = std::min(g.Ho, oh0 + rows), width = (oh1 - oh0) * p.Wp;
      for (std::int64_t tap = 0; tap < taps; ++tap)
        gemm<T>(false, false, Mg, width, C, wt.data() + (tap * Cout + gi * Mg) * C, C, pad + p.shift(g, tap) + oh0 * p.Wp,
                p.size, tap == 0 ? T(0) : T(1), acc, width);
      for (std::int64_t m = 0; m < Mg; ++m) {  // keep each grid row's first Wo columns, plus the bias
        const T b = bias ? bias[gi * Mg + m] : T(0);
        for (std::int64_t oh = oh0; oh < oh1; ++oh) {
          const T* a = acc + m * width + (oh - oh0) * p.Wp;
          T* o = dst + (m * g.Ho + oh) * g.Wo;
          for (std::int64_t ow = 0; ow < g.Wo; ++ow) o[ow] = a[ow] + b;
        }
      }
    }
  });
}

// The adjoint of the forward: each tap adds W_tap^T * grad_grid into the padded planes at its
// shift (the taps' windows overlap, so they run one after another), and the interior is the
// input gradient.
template <typename T>
void conv2d_backward_input_shifted(T* grad_in, const T* grad_out, const T* w, std::int64_t N, std::int64_t Cout,
                                   const ConvGeom& g, std::int64_t groups) {
  const Plane p(g);
  const std::int64_t Mg = Cout / groups, C = g.C, taps = g.kH * g.kW;
  const std::int64_t rows = block_rows<T>(std::max(Mg, C), p, g);
  std::vector<T> wt(static_cast<std::size_t>(taps * Cout * C));
  regroup_taps(w, wt.data(), Cout, g, true);
  const std::int64_t pad_size = p.padded_image(g);
  conv_detail::run_tasks<T>(N * groups, conv_flops(N, Cout, g, p), pad_size + Mg * p.grid, [&](std::int64_t t, T* buf) {
    const std::int64_t gi = t % groups, n = t / groups;
    T *gpad = buf, *grid = buf + pad_size;
    std::fill(gpad, gpad + pad_size, T(0));
    grad_to_grid(grad_out + (n * Cout + gi * Mg) * g.Ho * g.Wo, Mg, g, p, grid);
    for (std::int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
      const std::int64_t width = (std::min(g.Ho, oh0 + rows) - oh0) * p.Wp;
      for (std::int64_t tap = 0; tap < taps; ++tap)
        gemm<T>(true, false, C, width, Mg, wt.data() + (tap * Cout + gi * Mg) * C, C, grid + oh0 * p.Wp, p.grid, T(1),
                gpad + p.shift(g, tap) + oh0 * p.Wp, p.size);
    }
    T* dst = grad_in + (n * groups + gi) * C * g.H * g.W;
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t ih = 0; ih < g.H; ++ih)
        std::memcpy(dst + (c * g.H + ih) * g.W, gpad + c * p.size + (ih + g.pH) * p.Wp + g.pW,
                    sizeof(T) * static_cast<std::size_t>(g.W));
  });
}

// grad_W_tap += grad_grid * shifted_planes^T per image, summed over images; the thrown-away grid
// columns of the gradient are zero and add nothing.
template <typename T>
void conv2d_backward_weight_shifted(T* grad_w, const T* grad_out, const T* in, std::int64_t N, std::int64_t Cout,
                                    const ConvGeom& g, std::int64_t groups) {
  const Plane p(g);
  const std::int64_t Mg = Cout / groups, C = g.C, taps = g.kH * g.kW, total = taps * Cout * C;
  const std::int64_t rows = block_rows<T>(std::max(Mg, C), p, g);
  const std::int64_t pad_size = p.padded_image(g);
  const auto images = [&](std::int64_t n0, std::int64_t n1, T* acc, T* buf) {
    T *pad = buf, *grid = buf + pad_size;
    for (std::int64_t n = n0; n < n1; ++n)
      for (std::int64_t gi = 0; gi < groups; ++gi) {
        pad_image(in + (n * groups + gi) * C * g.H * g.W, g, p, pad);
        grad_to_grid(grad_out + (n * Cout + gi * Mg) * g.Ho * g.Wo, Mg, g, p, grid);
        for (std::int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
          const std::int64_t width = (std::min(g.Ho, oh0 + rows) - oh0) * p.Wp;
          for (std::int64_t tap = 0; tap < taps; ++tap)
            gemm<T>(false, true, Mg, C, width, grid + oh0 * p.Wp, p.grid, pad + p.shift(g, tap) + oh0 * p.Wp, p.size,
                    T(1), acc + (tap * Cout + gi * Mg) * C, C);
        }
      }
  };
  std::vector<T> by_tap(static_cast<std::size_t>(total));
  conv_detail::sum_over_images<T>(N, conv_flops(N, Cout, g, p), pad_size + Mg * p.grid, total, by_tap.data(), images);
  regroup_taps(by_tap.data(), grad_w, Cout, g, false);
}

#define TAPEFLOW_CONV_SHIFTED(T)                                                                                   \
  template void conv2d_forward_shifted<T>(T*, const T*, const T*, const T*, std::int64_t, std::int64_t,             \
                                          const ConvGeom&, std::int64_t);                                          \
  template void conv2d_backward_input_shifted<T>(T*, const T*, const T*, std::int64_t, std::int64_t, const ConvGeom&, \
                                                 std::int64_t);                                                    \
  template void conv2d_backward_weight_shifted<T>(T*, const T*, const T*, std::int64_t, std::int64_t, const ConvGeom&, \
                                                  std::int64_t);
TAPEFLOW_CONV_SHIFTED(float)
TAPEFLOW_CONV_SHIFTED(double)
#undef TAPEFLOW_CONV_SHIFTED

}  // namespace tapeflow::cpu
