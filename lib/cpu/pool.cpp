// Pooling kernels: one task per output row of a plane; each window's bounds are clipped once,
// so the inner loops carry no bounds checks.
#include "cpu/pool.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/parallel.hpp"
#include "cpu/reduce.hpp"
#include "kernels/branchless.hpp"
#include "kernels/pool_window.hpp"

namespace tapeflow::cpu {
namespace {

using kernels::adaptive_window;
using kernels::avg_window;
using kernels::AvgWindow;
using kernels::dilated_window;
using kernels::Window;

// Calls fn(plane, oh) for every output row, in parallel; work is the cost of one row.
template <typename F>
void for_each_output_row(std::int64_t planes, std::int64_t Ho, std::int64_t work, F&& fn) {
  const std::int64_t grain = std::max<std::int64_t>(1, detail::kElementwiseGrain / std::max<std::int64_t>(work, 1));
  detail::parallel_for(0, planes * Ho, grain, [&](std::int64_t b, std::int64_t e) {
    // Counters, not r / Ho and r % Ho per row: a 64-bit division costs more than a short row.
    for (std::int64_t r = b, p = b / Ho, oh = b % Ho; r < e; ++r) {
      fn(p, oh);
      if (++oh == Ho) {
        oh = 0;
        ++p;
      }
    }
  });
}

}  // namespace

using kernels::branchless_select;

// Takes tap i with value v when it beats the best so far; as PyTorch, a NaN wins (the last
// NaN's index).
template <typename T>
inline void take_max(T v, std::int64_t i, T& best, std::int64_t& best_i) {
  const bool take = kernels::max_pool_takes(v, best);
  best = branchless_select(take, v, best);
  best_i = branchless_select(take, i, best_i);
}

#if defined(__SSE2__)
// Windows [0, n) of a row (n a multiple of 4), four at a time, for window strides 1 and 2 (2 x 2
// pooling's): a stride-2 row of four windows is two loads and a shuffle. The running maximum and
// the winning tap's offset stay in registers through all the taps. Reads base[off + [0, sW * n))
// for each tap offset off (stride 2: one element past the last tap read). GCC leaves the plain
// loop below scalar with branches on these short rows: 3.7 ns a window for 2 x 2 pooling.
// The caller runs a row's last few windows as a group of four into scratch when the reads allow.
static void max_windows_sse2(const float* base, std::int64_t sW, const std::int64_t* tap_offsets, std::int64_t taps,
                             float* out, std::int32_t* won, std::int64_t n) {
  // Each tap's select waits on the previous one's: two groups at a time keep two chains going.
  const auto groups = [&]<int G>(std::int64_t j) {
    __m128 best[G];
    __m128i at[G];
    for (int k = 0; k < G; ++k) {
      best[k] = _mm_set1_ps(-std::numeric_limits<float>::infinity());
      at[k] = _mm_setzero_si128();  // nothing beats -infinity: tap 0 (offset 0) stays the argmax
    }
    for (std::int64_t t = 0; t < taps; ++t) {
      const __m128i offset = _mm_set1_epi32(static_cast<std::int32_t>(tap_offsets[t]));
      for (int k = 0; k < G; ++k) {
        const float* p = base + tap_offsets[t] + sW * (j + 4 * k);
        const __m128 v = sW == 1 ? _mm_loadu_ps(p) : _mm_shuffle_ps(_mm_loadu_ps(p), _mm_loadu_ps(p + 4), _MM_SHUFFLE(2, 0, 2, 0));
        const __m128 take = _mm_or_ps(_mm_cmpgt_ps(v, best[k]), _mm_cmpunord_ps(v, v));  // max_pool_takes
        best[k] = _mm_or_ps(_mm_and_ps(take, v), _mm_andnot_ps(take, best[k]));
        const __m128i mask = _mm_castps_si128(take);
        at[k] = _mm_or_si128(_mm_and_si128(mask, offset), _mm_andnot_si128(mask, at[k]));
      }
    }
    for (int k = 0; k < G; ++k) {
      _mm_storeu_ps(out + j + 4 * k, best[k]);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(won + j + 4 * k), at[k]);
    }
  };
  std::int64_t j = 0;
  for (; j + 8 <= n; j += 8) groups.template operator()<2>(j);
  if (j + 4 <= n) groups.template operator()<1>(j);
}
#endif

// Outputs [ow0, ow0 + n) of output row oh when all their windows lie inside the plane, each
// window's winner kept as its tap's plane offset (in lanes as wide as T's for the vector path;
// the caller keeps planes under 2^31 elements). Scalar windows select without branches: which
// tap wins is random, and a branch mispredicts half the time.
constexpr std::int64_t kPoolChunk = 64;
template <typename T>
void max_interior(const T* plane, const PoolGeom& g, const std::int64_t* tap_offsets, std::int64_t oh,
                  std::int64_t ow0, std::int64_t n, T* out, std::int64_t* arg) {
  using Tap = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  const std::int64_t taps = g.kH * g.kW, sW = g.sW, corner = (oh * g.sH - g.pH) * g.W + ow0 * sW - g.pW;
  const T* base = plane + corner;
  Tap won[kPoolChunk];
  std::int64_t done = 0;
#if defined(__SSE2__)
  if constexpr (std::is_same_v<T, float>) {
    if (sW == 1 || sW == 2) {
      // Whole groups of four whose reads from the last (furthest) tap stay inside the plane.
      const std::int64_t readable = g.H * g.W - corner - tap_offsets[taps - 1];
      const std::int64_t fits = sW == 2 ? readable >> 1 : readable;  // windows whose reads stay inside
      done = std::min(n, fits) & ~std::int64_t(3);
      max_windows_sse2(base, sW, tap_offsets, taps, out, won, done);
      if (done < n && done + 4 <= fits) {  // the last 1-3 windows: four into scratch, keep those
        float last[4];
        std::int32_t last_won[4];
        max_windows_sse2(base + sW * done, sW, tap_offsets, taps, last, last_won, 4);
        std::copy(last, last + (n - done), out + done);
        std::copy(last_won, last_won + (n - done), won + done);
        done = n;
      }
    }
  }
#endif
  for (std::int64_t j = done; j < n; ++j) {
    T best = -std::numeric_limits<T>::infinity();
    Tap at = 0;
    for (std::int64_t t = 0; t < taps; ++t) {
      const T v = base[j * sW + tap_offsets[t]];
      const bool take = kernels::max_pool_takes(v, best);
      best = branchless_select(take, v, best);
      at = branchless_select(take, static_cast<Tap>(tap_offsets[t]), at);
    }
    out[j] = best;
    won[j] = at;
  }
  if (arg)
    for (std::int64_t j = 0; j < n; ++j) arg[j] = corner + j * sW + won[j];
}

void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, std::int64_t planes, const PoolGeom& g) {
  dispatch_floating(x.dtype(), "max_pool2d", [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* o = out.data_ptr<T>();
    std::int64_t* idx = indices.defined() ? indices.data_ptr<std::int64_t>() : nullptr;
    std::vector<std::int64_t> tap_offsets;  // plane offset of each tap from its window's corner
    for (std::int64_t kh = 0; kh < g.kH; ++kh)
      for (std::int64_t kw = 0; kw < g.kW; ++kw) tap_offsets.push_back(kh * g.dH * g.W + kw * g.dW);
    // The outputs whose windows lie wholly inside the input (all of them without padding or a
    // ceil-mode overhang): rows [r0, r1), columns [c0, c1). They need no clipping; the rest do.
    const auto inside = [](std::int64_t s, std::int64_t p, std::int64_t span, std::int64_t n, std::int64_t n_out) {
      const std::int64_t lo = (p + s - 1) / s, last = n - span + p;  // o * s - p >= 0, o * s - p + span <= n
      const std::int64_t hi = last < 0 ? 0 : std::min(n_out, last / s + 1);
      return std::pair<std::int64_t, std::int64_t>{std::min(lo, n_out), std::max(hi, std::min(lo, n_out))};
    };
    const bool small_plane = g.H * g.W <= std::numeric_limits<std::int32_t>::max();  // offsets in int32 lanes
    const auto [r0, r1] = inside(g.sH, g.pH, (g.kH - 1) * g.dH + 1, g.H, g.Ho);
    const auto [c0, c1] = small_plane ? inside(g.sW, g.pW, (g.kW - 1) * g.dW + 1, g.W, g.Wo) : std::pair<std::int64_t, std::int64_t>{0, 0};
    for_each_output_row(planes, g.Ho, g.Wo * g.kH * g.kW, [&](std::int64_t p, std::int64_t oh) {
      const T* plane = in + p * g.H * g.W;
      const std::int64_t row = (p * g.Ho + oh) * g.Wo;
      const bool row_inside = oh >= r0 && oh < r1 && c1 > c0;
      const std::int64_t lo = row_inside ? c0 : g.Wo, hi = row_inside ? c1 : g.Wo;
      for (std::int64_t ow = lo; ow < hi; ow += kPoolChunk)
        max_interior(plane, g, tap_offsets.data(), oh, ow, std::min(kPoolChunk, hi - ow), o + row + ow,
                     idx ? idx + row + ow : nullptr);
      if (lo == 0 && hi == g.Wo) return;
      const Window hw = dilated_window(oh * g.sH - g.pH, g.kH, g.dH, g.H);
      const auto clipped = [&](std::int64_t ow) {
        const Window ww = dilated_window(ow * g.sW - g.pW, g.kW, g.dW, g.W);
        T best = -std::numeric_limits<T>::infinity();
        std::int64_t best_i = kernels::max_pool_first_index(hw, ww, g.W);
        for (std::int64_t h = hw.begin; h < hw.end; h += g.dH)
          for (std::int64_t w = ww.begin; w < ww.end; w += g.dW) take_max(plane[h * g.W + w], h * g.W + w, best, best_i);
        o[row + ow] = best;
        if (idx) idx[row + ow] = best_i;
      };
      for (std::int64_t ow = 0; ow < lo; ++ow) clipped(ow);
      for (std::int64_t ow = hi; ow < g.Wo; ++ow) clipped(ow);
    });
  });
}

void max_pool2d_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& indices, std::int64_t planes) {
  dispatch_floating(grad.dtype(), "max_pool2d_backward", [&]<typename T>() {
    const std::int64_t in_plane = grad_input.size(-2) * grad_input.size(-1), out_plane = grad.size(-2) * grad.size(-1);
    const T* go = grad.data_ptr<T>();
    const std::int64_t* idx = indices.data_ptr<std::int64_t>();
    T* gi = grad_input.data_ptr<T>();
    // Windows may overlap, so a task owns whole planes.
    const std::int64_t grain = std::max<std::int64_t>(1, detail::kElementwiseGrain / std::max<std::int64_t>(1, in_plane + out_plane));
    detail::parallel_for(0, planes, grain, [&](std::int64_t b, std::int64_t e) {
      std::fill(gi + b * in_plane, gi + e * in_plane, T(0));
      for (std::int64_t p = b; p < e; ++p) {
        T* plane = gi + p * in_plane;
        for (std::int64_t j = p * out_plane, end = j + out_plane; j < end; ++j)
          if (idx[j] >= 0 && idx[j] < in_plane) plane[idx[j]] += go[j];  // -1: a window wholly in the padding
      }
    });
  });
}

namespace {

// The sum of a contiguous run. Long float runs take the vectorised sum (double lanes); a plain
// loop is one chain of dependent adds, which ran global average pooling (a 28 x 28 window) at a
// tenth of LibTorch's speed. Long double runs use four independent chains.
constexpr std::int64_t kLongRun = 32;
template <typename T>
T run_sum(const T* p, std::int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    if (n >= kLongRun) return static_cast<float>(contiguous_sum(p, n));
  }
  if (n < kLongRun) {
    T sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += p[i];
    return sum;
  }
  T s[4] = {0, 0, 0, 0};
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) s[k] += p[i + k];
  for (; i < n; ++i) s[0] += p[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// The sum over a window of kLongRun elements or more: whole rows (global pooling) as one run.
template <typename T>
T wide_window_sum(const T* plane, std::int64_t W, const AvgWindow& a) {
  if (a.wb == 0 && a.we == W) return run_sum(plane + a.hb * W, (a.he - a.hb) * W);
  T sum = 0;
  for (std::int64_t h = a.hb; h < a.he; ++h) sum += run_sum(plane + h * W + a.wb, a.we - a.wb);
  return sum;
}

// out[plane, oh, ow] = mean of x over window(oh, ow), one task per output row.
template <typename Win>
void average_pool(const char* op, const Tensor& out, const Tensor& x, std::int64_t planes, std::int64_t H,
                  std::int64_t W, std::int64_t Ho, std::int64_t Wo, std::int64_t window_bound, Win&& window) {
  dispatch_floating(x.dtype(), op, [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* o = out.data_ptr<T>();
    // Two copies of the row loop: a call in the loop (even one never taken) slowed 2 x 2
    // pooling's short windows from 3.7 to 6.4 ns an output.
    const auto rows = [&]<bool kWide>() {
      for_each_output_row(planes, Ho, Wo * window_bound, [&](std::int64_t p, std::int64_t oh) {
        const T* plane = in + p * H * W;
        T* orow = o + (p * Ho + oh) * Wo;
        for (std::int64_t ow = 0; ow < Wo; ++ow) {
          const AvgWindow a = window(oh, ow);
          if (a.hb >= a.he || a.wb >= a.we) {
            orow[ow] = T(0);
            continue;
          }
          T sum = 0;
          if constexpr (kWide) {
            sum = wide_window_sum(plane, W, a);
          } else {
            for (std::int64_t h = a.hb; h < a.he; ++h)
              for (std::int64_t w = a.wb; w < a.we; ++w) sum += plane[h * W + w];
          }
          orow[ow] = sum / static_cast<T>(a.count);
        }
      });
    };
    if (window_bound >= kLongRun) rows.template operator()<true>();
    else rows.template operator()<false>();
  });
}

// The adjoint: gx[plane] = sum over outputs of grad / count spread over the window. Windows of
// one plane overlap, so a task owns whole planes.
template <typename Win>
void average_pool_backward(const char* op, const Tensor& gx, const Tensor& grad, std::int64_t planes, std::int64_t H,
                           std::int64_t W, std::int64_t Ho, std::int64_t Wo, std::int64_t window_bound, Win&& window) {
  dispatch_floating(grad.dtype(), op, [&]<typename T>() {
    const T* go = grad.data_ptr<T>();
    T* gi = gx.data_ptr<T>();
    const std::int64_t work = std::max<std::int64_t>(1, Ho * Wo * window_bound + H * W);
    const std::int64_t grain = std::max<std::int64_t>(1, detail::kElementwiseGrain / work);
    detail::parallel_for(0, planes, grain, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t p = b; p < e; ++p) {
        T* plane = gi + p * H * W;
        std::fill(plane, plane + H * W, T(0));
        const T* grow = go + p * Ho * Wo;
        for (std::int64_t oh = 0; oh < Ho; ++oh)
          for (std::int64_t ow = 0; ow < Wo; ++ow) {
            const AvgWindow a = window(oh, ow);
            if (a.hb >= a.he || a.wb >= a.we) continue;
            const T v = grow[oh * Wo + ow] / static_cast<T>(a.count);
            for (std::int64_t h = a.hb; h < a.he; ++h)
              for (std::int64_t w = a.wb; w < a.we; ++w) plane[h * W + w] += v;
          }
      }
    });
  });
}

// A bound on the adaptive window's size (for work estimates); an empty output has none.
std::int64_t adaptive_bound(std::int64_t H, std::int64_t W, std::int64_t Ho, std::int64_t Wo) {
  if (Ho == 0 || Wo == 0) return 1;
  return ((H + Ho - 1) / Ho + 1) * ((W + Wo - 1) / Wo + 1);
}

}  // namespace

void avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, const PoolGeom& g, bool count_include_pad) {
  average_pool("avg_pool2d", out, x, planes, g.H, g.W, g.Ho, g.Wo, g.kH * g.kW,
               [&](std::int64_t oh, std::int64_t ow) { return avg_window(g, oh, ow, count_include_pad); });
}

void avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, const PoolGeom& g,
                         bool count_include_pad) {
  average_pool_backward("avg_pool2d_backward", grad_input, grad, planes, g.H, g.W, g.Ho, g.Wo, g.kH * g.kW,
                        [&](std::int64_t oh, std::int64_t ow) { return avg_window(g, oh, ow, count_include_pad); });
}

void adaptive_avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, std::int64_t H, std::int64_t W,
                         std::int64_t Ho, std::int64_t Wo) {
  average_pool("adaptive_avg_pool2d", out, x, planes, H, W, Ho, Wo, adaptive_bound(H, W, Ho, Wo),
               [&](std::int64_t oh, std::int64_t ow) { return adaptive_window(H, W, Ho, Wo, oh, ow); });
}

void adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, std::int64_t H,
                                  std::int64_t W, std::int64_t Ho, std::int64_t Wo) {
  average_pool_backward("adaptive_avg_pool2d_backward", grad_input, grad, planes, H, W, Ho, Wo,
                        adaptive_bound(H, W, Ho, Wo),
                        [&](std::int64_t oh, std::int64_t ow) { return adaptive_window(H, W, Ho, Wo, oh, ow); });
}

}  // namespace tapeflow::cpu
