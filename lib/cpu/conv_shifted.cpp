// Convolution over shifted planes (see conv_shifted.hpp). Measured on the 2-vCPU AVX-512 box at
// 1 thread, conv2d (32, 16, 28, 28) * (32, 16, 3, 3) pad 1, forward + backward: 4.3 ms with one
// OpenBLAS GEMM per tap, 3.55 ms with the kernels (forward 1.25 -> 1.1 ms); stride 2 (phase
// planes) 1.31 -> 1.19 ms, where im2col took 1.94 ms (half of it im2col and col2im of 14-pixel
// rows). (16, 64, 28, 28) * (64, 64, 3, 3): 14.7 -> 13.3 ms.
#include "cpu/conv_shifted.hpp"

#include <algorithm>
#include <vector>

#include "cpu/conv_gemm.hpp"
#include "cpu/elementwise.hpp"

namespace tapeflow::cpu {
namespace {

using conv_detail::copy_run;
using conv_detail::gemm;

// Below this many input channels per group im2col's single GEMM over K = C*kH*kW is faster.
// Measured (3x3, 1 thread, conv fwd+bwd) with per-tap GEMMs: C = 1 on 28x28 0.37 ms im2col vs 0.52
// shifted; C = 4: 1.28 vs 0.80; C = 8 on 13x13: 0.84 vs 0.51. With the kernels, 1 -> 32 on 28x28
// (no input gradient) 316 us im2col vs 635 us; 3 -> 16 on 32x32 664 vs 752 us.
constexpr std::int64_t kMinChannels = 4;
// The weight gradient's outer products keep a (channels x taps x output channels) accumulator;
// past this size OpenBLAS's GEMMs are faster (conv2d_backward_weight_shifted).
constexpr std::int64_t kOuterMaxAccumulatorBytes = std::int64_t(1) << 20;
// A block of output rows keeps the kernel's or GEMM's output (and the planes the taps share) near L2-sized.
constexpr std::int64_t kGridBlockBytes = std::int64_t(256) << 10;

// The padded planes of an image, split by stride phase, and the output grid laid over them.
// Padded pixel (y, x) lies in phase (y % sH, x % sW) at (y / sH, x / sW) of that phase's
// Hq x Wq plane; tap (ki, kj) of output (oh, ow) reads padded pixel (oh * sH + ki * dH,
// ow * sW + kj * dW): phase ((ki * dH) % sH, (kj * dW) % sW), plane position (oh + ki * dH / sH,
// ow + kj * dW / sW). So each tap is one fixed shift into one phase's planes, at any stride.
// Layout: [phase][channel][Hq][Wq]; the grid has Ho rows of Wq columns.
struct Plane {
  std::int64_t sH, sW, Hq, Wq, size, phase_size, slack, grid;
  explicit Plane(const ConvGeom& g)
      : sH(g.sH),
        sW(g.sW),
        Hq((g.H + 2 * g.pH + g.sH - 1) / g.sH + 1),  // + a zero row: the last row's right padding wraps into it
        Wq(row_period(g) / g.sW),
        size(Hq * Wq),
        phase_size(g.C * size),
        // Thrown-away columns of the last grid row read up to (kW-1)*dW/sW past the last plane.
        slack((g.kW - 1) * g.dW / g.sW),
        grid(g.Ho * Wq) {}
  // Padded rows share their padding columns: row y starts row_period columns after row y - 1,
  // where row_period is the least (a multiple of the stride) that keeps every read of a left or
  // right padding column off the pixels of the rows above and below, and leaves a grid row room
  // for the Wo outputs. 3x3 pad 1 on 28 columns: 29 instead of 30, so 1 thrown-away grid column
  // in 29 instead of 2 in 30.
  static std::int64_t row_period(const ConvGeom& g) {
    const std::int64_t last_read = (g.Wo - 1) * g.sW + (g.kW - 1) * g.dW;  // padded column
    const std::int64_t period = std::max({g.W + g.pW, last_read + 1 - g.pW, g.Wo * g.sW});
    return (period + g.sW - 1) / g.sW * g.sW;
  }
  // Where channel 0's padded pixel (y, x) lies.
  std::int64_t offset(std::int64_t y, std::int64_t x) const {
    return ((y % sH) * sW + x % sW) * phase_size + (y / sH) * Wq + x / sW;
  }
  std::int64_t shift(const ConvGeom& g, std::int64_t tap) const {
    return offset((tap / g.kW) * g.dH, (tap % g.kW) * g.dW);
  }
  // shift = phase(tap) * phase_size + the shift inside that phase's planes.
  std::int64_t phase(const ConvGeom& g, std::int64_t tap) const { return shift(g, tap) / phase_size; }
  std::int64_t shift_in_phase(const ConvGeom& g, std::int64_t tap) const { return shift(g, tap) % phase_size; }
  std::int64_t padded_image() const { return sH * sW * phase_size + slack; }
  // Where the padded planes keep input pixel (c, ih, iw).
  std::int64_t at(const ConvGeom& g, std::int64_t c, std::int64_t ih, std::int64_t iw) const {
    return offset(ih + g.pH, iw + g.pW) + c * size;
  }
};

template <typename T>
std::int64_t block_rows(std::int64_t channels, const Plane& p, const ConvGeom& g) {
  const std::int64_t row_bytes = channels * p.Wq * static_cast<std::int64_t>(sizeof(T));
  return std::clamp<std::int64_t>(kGridBlockBytes / std::max<std::int64_t>(row_bytes, 1), 1, g.Ho);
}

// Stride 2's two phase rows of an image row of n pixels: pixels 0, 2, 4, ... and 1, 3, 5, ...
// One loop over both halves, so the compiler vectorises it (two loads and shuffles); a loop per
// phase with a run-time stride stayed scalar and cost as much as the GEMMs (16 channels, 28x28).
template <typename T>
void split_row(const T* __restrict row, T* __restrict even, T* __restrict odd, std::int64_t n) {
  for (std::int64_t k = 0; k < n / 2; ++k) {
    even[k] = row[2 * k];
    odd[k] = row[2 * k + 1];
  }
  if (n % 2) even[n / 2] = row[n - 1];
}
template <typename T>
void merge_row(const T* __restrict even, const T* __restrict odd, T* __restrict row, std::int64_t n) {
  for (std::int64_t k = 0; k < n / 2; ++k) {
    row[2 * k] = even[k];
    row[2 * k + 1] = odd[k];
  }
  if (n % 2) row[n - 1] = even[n / 2];
}

// Between an image (C x H x W) and the interior of its padded phase planes: from the image into
// the planes (to_planes; the borders and the slack are never written, so they stay the zeros the
// scratch buffer started with) or back. Each image row meets sW phase rows: the columns
// iw0, iw0 + sW, ... land at consecutive positions of the one that holds iw0.
template <typename T>
void copy_image_planes(const T* from, T* to, const ConvGeom& g, const Plane& p, bool to_planes) {
  const std::int64_t sW = p.sW, W = g.W;
  const std::int64_t odd = W >= 2 ? p.at(g, 0, 0, 1) - p.at(g, 0, 0, 0) : 0;  // from column 0's phase row to column 1's
  for (std::int64_t ih = 0; ih < g.H; ++ih) {
    const std::int64_t row0 = p.at(g, 0, ih, 0);  // where column 0 of row ih of channel 0 lands
    for (std::int64_t c = 0; c < g.C; ++c) {
      const std::int64_t image_row = (c * g.H + ih) * W, planes_row = row0 + c * p.size;
      if (sW == 1) {
        copy_run(to + (to_planes ? planes_row : image_row), from + (to_planes ? image_row : planes_row), W);
      } else if (sW == 2 && W >= 2) {
        if (to_planes) split_row(from + image_row, to + planes_row, to + planes_row + odd, W);
        else merge_row(from + planes_row, from + planes_row + odd, to + image_row, W);
      } else {
        for (std::int64_t iw0 = 0; iw0 < std::min(sW, W); ++iw0) {
          const std::int64_t phase_row = p.at(g, c, ih, iw0), n = (W - iw0 + sW - 1) / sW;
          const T* src = from + (to_planes ? image_row + iw0 : phase_row);
          T* dst = to + (to_planes ? phase_row : image_row + iw0);
          for (std::int64_t k = 0; k < n; ++k) dst[to_planes ? k : k * sW] = src[to_planes ? k * sW : k];
        }
      }
    }
  }
}

// Output-gradient rows (Mg x Ho x Wo) onto the grid (Mg x Ho x Wq). The thrown-away columns are
// never written, so they stay zero and add nothing in the backward GEMMs.
template <typename T>
void grad_to_grid(const T* grad, std::int64_t Mg, const ConvGeom& g, const Plane& p, T* grid, std::int64_t stride) {
  for (std::int64_t m = 0; m < Mg; ++m)
    for (std::int64_t oh = 0; oh < g.Ho; ++oh)
      copy_run(grid + m * stride + oh * p.Wq, grad + (m * g.Ho + oh) * g.Wo, g.Wo);
}

// The same, transposed: gT[(oh * Wq + ow) * cols + m] (pixel-major rows for shifted_outer).
template <typename T>
void grad_to_grid_transposed(const T* grad, std::int64_t Mg, const ConvGeom& g, const Plane& p, T* gT,
                             std::int64_t cols) {
  // Row by row of pixels: the writes run along a row of gT, the reads down the Mg gradient rows
  // (a few cache lines each, reused for the next pixels).
  const std::int64_t plane = g.Ho * g.Wo;
  for (std::int64_t oh = 0; oh < g.Ho; ++oh)
    for (std::int64_t ow = 0; ow < g.Wo; ++ow) {
      const T* src = grad + oh * g.Wo + ow;
      T* dst = gT + (oh * p.Wq + ow) * cols;
      for (std::int64_t m = 0; m < Mg; ++m) dst[m] = src[m * plane];
    }
}

// The vectorised conv kernels of this CPU's instruction set (conv_uses_shifted_planes checked
// there is one).
template <typename T>
const ConvKernels<T>& conv_kernels() {
  return g_vec_table->template get<T>().conv;
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

bool conv_uses_shifted_planes(const ConvGeom& g) {
  if (g_vec_table == nullptr) return false;  // no vectorised kernels (scalar builds): im2col
  if (g.is_pointwise() || g.C < kMinChannels || g.Ho <= 0 || g.Wo <= 0) return false;
  // A window narrower than the stride skips input pixels that the phase planes would copy anyway.
  if ((g.kH - 1) * g.dH + 1 < g.sH || (g.kW - 1) * g.dW + 1 < g.sW) return false;
  const std::int64_t thrown_away = Plane(g).Wq - g.Wo;
  return thrown_away * 4 <= g.Wo;
}

template <typename T>
void conv2d_forward_shifted(T* out, const T* in, const T* w, const T* bias, std::int64_t N, std::int64_t Cout,
                            const ConvGeom& g, std::int64_t groups) {
  const Plane p(g);
  const std::int64_t Mg = Cout / groups, C = g.C, taps = g.kH * g.kW, rows = block_rows<T>(Mg, p, g);
  const ConvKernels<T>& kernels = conv_kernels<T>();
  std::vector<std::int64_t> shifts(static_cast<std::size_t>(taps)), tap_index(static_cast<std::size_t>(taps));
  for (std::int64_t t = 0; t < taps; ++t) shifts[t] = p.shift(g, t), tap_index[t] = t;
  const std::int64_t pad_size = p.padded_image() + kConvLanes<T>;  // + what shifted_sum reads past the last plane
  conv_detail::run_tasks<T>(N * groups, conv_flops(N, Cout, g, p), pad_size + Mg * rows * p.Wq, [&](std::int64_t t, T* buf) {
    const std::int64_t gi = t % groups, n = t / groups;
    T *pad = buf, *acc = buf + pad_size;
    copy_image_planes(in + (n * groups + gi) * C * g.H * g.W, pad, g, p, true);
    T* dst = out + (n * Cout + gi * Mg) * g.Ho * g.Wo;
    for (std::int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
      const std::int64_t oh1 = std::min(g.Ho, oh0 + rows), width = (oh1 - oh0) * p.Wq;
      const ShiftedPlanes<T> x{pad + oh0 * p.Wq, p.size, C, shifts.data(), taps};
      kernels.shifted_sum(x, w + gi * Mg * C * taps, C * taps, taps, tap_index.data(), acc, width, Mg, width);
      for (std::int64_t m = 0; m < Mg; ++m) {  // keep each grid row's first Wo columns, plus the bias
        const T b = bias ? bias[gi * Mg + m] : T(0);
        for (std::int64_t oh = oh0; oh < oh1; ++oh) {
          const T* a = acc + m * width + (oh - oh0) * p.Wq;
          T* o = dst + (m * g.Ho + oh) * g.Wo;
          for (std::int64_t ow = 0; ow < g.Wo; ++ow) o[ow] = a[ow] + b;
        }
      }
    }
  });
}

// The adjoint of the forward: position q of phase plane (ph, c) gets, from
// each tap t of that phase, sum_o w[o][c][t] * grid[o][q - shift_in_phase(t)], a shifted sum over
// the gradient grid at negative shifts. Each grid row has zeros in front (the largest shift) and
// past its end (to the plane's size), so every read lands inside and off the grid reads zero. Only
// the phase rows that hold image rows are computed; phases no tap reads stay zero.
template <typename T>
void conv2d_backward_input_shifted(T* grad_in, const T* grad_out, const T* w, std::int64_t N, std::int64_t Cout,
                                   const ConvGeom& g, std::int64_t groups) {
  const ConvKernels<T>& k = conv_kernels<T>();
  const Plane p(g);
  const std::int64_t Mg = Cout / groups, C = g.C, taps = g.kH * g.kW, phases = p.sH * p.sW;
  // Per phase (the same for every image): its taps, their shifts into the grid, and the plane
  // positions [q0, q0 + n) of its rows that hold image rows.
  struct PhasePlan {
    std::vector<std::int64_t> taps, shifts;
    std::int64_t q0 = 0, n = 0;
  };
  std::vector<PhasePlan> plan(static_cast<std::size_t>(phases));
  std::int64_t margin = 0;
  for (std::int64_t t = 0; t < taps; ++t) {
    plan[static_cast<std::size_t>(p.phase(g, t))].taps.push_back(t);
    margin = std::max(margin, p.shift_in_phase(g, t));
  }
  for (std::int64_t ph = 0; ph < phases; ++ph) {
    PhasePlan& pp = plan[static_cast<std::size_t>(ph)];
    const std::int64_t py = ph / p.sW;  // padded rows py, py + sH, ... ; image rows are [pH, pH + H)
    const std::int64_t yq0 = std::max<std::int64_t>(0, (g.pH - py + p.sH - 1) / p.sH);
    const std::int64_t yq1 = (g.pH + g.H - 1 - py) / p.sH + 1;
    if (pp.taps.empty() || g.pH + g.H - 1 < py || yq1 <= yq0) continue;  // n stays 0: nothing to compute
    pp.q0 = yq0 * p.Wq;
    pp.n = (yq1 - yq0) * p.Wq;
    for (std::int64_t tap : pp.taps) pp.shifts.push_back(pp.q0 - p.shift_in_phase(g, tap));
  }
  const std::int64_t stride = margin + p.size + kConvLanes<T>, pad_size = p.padded_image();
  conv_detail::run_tasks<T>(N * groups, conv_flops(N, Cout, g, p), pad_size + Mg * stride, [&](std::int64_t t, T* buf) {
    const std::int64_t gi = t % groups, n = t / groups;
    T *gpad = buf, *grid = buf + pad_size + margin;
    grad_to_grid(grad_out + (n * Cout + gi * Mg) * g.Ho * g.Wo, Mg, g, p, grid, stride);
    for (std::int64_t ph = 0; ph < phases; ++ph) {
      const PhasePlan& pp = plan[static_cast<std::size_t>(ph)];
      if (pp.n == 0) continue;
      const ShiftedPlanes<T> x{grid, stride, Mg, pp.shifts.data(), static_cast<std::int64_t>(pp.taps.size())};
      k.shifted_sum(x, w + gi * Mg * C * taps, taps, C * taps, pp.taps.data(), gpad + ph * p.phase_size + pp.q0, p.size,
                    C, pp.n);
    }
    copy_image_planes(gpad, grad_in + (n * groups + gi) * C * g.H * g.W, g, p, false);
  });
}

namespace {

// shifted_outer's columns for Mg output channels: whole vectors of the widest instruction set.
template <typename T>
std::int64_t outer_columns(std::int64_t Mg) {
  return (Mg + kConvLanes<T> - 1) / kConvLanes<T> * kConvLanes<T>;
}

// grad_w[o][c][t] = sum over images and grid pixels q of grid[o][q] * planes[c][q + shift(t)],
// as outer products of a pixel's planes values (one per (c, t) pair) and its gradient row over o
// (the grid transposed, its rows padded to whole vectors with zeros). Images go to the kernel a
// few at a time when the accumulator outgrows their planes (128 channels on 14x14: 590 KiB against
// 240 KiB an image), so each accumulator block is read and written once for them.
template <typename T>
void backward_weight_kernels(const ConvKernels<T>& k, T* grad_w, const T* grad_out, const T* in, std::int64_t N,
                             std::int64_t Cout, const ConvGeom& g, std::int64_t groups) {
  const Plane p(g);
  const std::int64_t Mg = Cout / groups, C = g.C, taps = g.kH * g.kW;
  const std::int64_t cols = outer_columns<T>(Mg), per_group = C * taps * cols;
  std::vector<std::int64_t> shifts(static_cast<std::size_t>(taps));
  for (std::int64_t t = 0; t < taps; ++t) shifts[t] = p.shift(g, t);
  const std::int64_t pad_size = p.padded_image(), per_image = pad_size + p.grid * cols;
  const std::int64_t chunk = std::clamp<std::int64_t>(per_group / per_image, 1, 8);
  const auto images = [&](std::int64_t n0, std::int64_t n1, T* acc, T* buf) {
    for (std::int64_t n = n0; n < n1; n += chunk) {
      const std::int64_t count = std::min(chunk, n1 - n);
      for (std::int64_t gi = 0; gi < groups; ++gi) {
        for (std::int64_t i = 0; i < count; ++i) {
          T *pad = buf + i * per_image, *gT = pad + pad_size;
          copy_image_planes(in + ((n + i) * groups + gi) * C * g.H * g.W, pad, g, p, true);
          grad_to_grid_transposed(grad_out + ((n + i) * Cout + gi * Mg) * g.Ho * g.Wo, Mg, g, p, gT, cols);
        }
        const ShiftedPlanes<T> x{buf, p.size, C, shifts.data(), taps};
        k.shifted_outer(x, buf + pad_size, cols, cols, acc + gi * per_group, cols, p.grid, count, per_image, per_image);
      }
    }
  };
  std::vector<T> acc(static_cast<std::size_t>(groups * per_group));
  conv_detail::sum_over_images<T>(N, conv_flops(N, Cout, g, p), chunk * per_image, groups * per_group, acc.data(),
                                  images);
  for (std::int64_t gi = 0; gi < groups; ++gi)
    for (std::int64_t o = 0; o < Mg; ++o)
      for (std::int64_t i = 0; i < C * taps; ++i)
        grad_w[((gi * Mg + o) * C) * taps + i] = acc[static_cast<std::size_t>(gi * per_group + i * cols + o)];
}

}  // namespace

// grad_W_tap += grad_grid * shifted_planes^T per image, summed over images; the thrown-away grid
// columns of the gradient are zero and add nothing.
template <typename T>
void conv2d_backward_weight_shifted(T* grad_w, const T* grad_out, const T* in, std::int64_t N, std::int64_t Cout,
                                    const ConvGeom& g, std::int64_t groups) {
  // The outer products run on whole vectors of output channels (not for fewer than half a vector)
  // and keep their accumulator cached; OpenBLAS's GEMMs win past that (512 -> 512 channels on 7x7,
  // 9 MiB of accumulator: 17.7 ms with GEMMs against 22 ms; 256 -> 256 even; 64 -> 64 on 28x28
  // 14.7 ms with GEMMs, 13.6 ms here).
  const std::int64_t Mg = Cout / groups, C = g.C, taps = g.kH * g.kW, total = taps * Cout * C;
  const std::int64_t cols = outer_columns<T>(Mg);
  const bool fits = C * taps * cols * static_cast<std::int64_t>(sizeof(T)) <= kOuterMaxAccumulatorBytes;
  if (2 * Mg > cols && fits) return backward_weight_kernels(conv_kernels<T>(), grad_w, grad_out, in, N, Cout, g, groups);
  const Plane p(g);
  const std::int64_t rows = block_rows<T>(std::max(Mg, C), p, g);
  const std::int64_t pad_size = p.padded_image();
  const auto images = [&](std::int64_t n0, std::int64_t n1, T* acc, T* buf) {
    T *pad = buf, *grid = buf + pad_size;
    for (std::int64_t n = n0; n < n1; ++n)
      for (std::int64_t gi = 0; gi < groups; ++gi) {
        copy_image_planes(in + (n * groups + gi) * C * g.H * g.W, pad, g, p, true);
        grad_to_grid(grad_out + (n * Cout + gi * Mg) * g.Ho * g.Wo, Mg, g, p, grid, p.grid);
        for (std::int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
          const std::int64_t width = (std::min(g.Ho, oh0 + rows) - oh0) * p.Wq;
          for (std::int64_t tap = 0; tap < taps; ++tap)
            gemm<T>(false, true, Mg, C, width, grid + oh0 * p.Wq, p.grid, pad + p.shift(g, tap) + oh0 * p.Wq, p.size,
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
