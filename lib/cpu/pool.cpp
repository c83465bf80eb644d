// Pooling kernels: one task per output row of a plane; each window's bounds are clipped once,
// so the inner loops carry no bounds checks.
#include "cpu/pool.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/parallel.hpp"

namespace tapeflow::cpu {
namespace {

// Calls fn(plane, oh) for every output row, in parallel; work is the cost of one row.
template <typename F>
void for_each_output_row(std::int64_t planes, std::int64_t Ho, std::int64_t work, F&& fn) {
  const std::int64_t grain = std::max<std::int64_t>(1, detail::kElementwiseGrain / std::max<std::int64_t>(work, 1));
  detail::parallel_for(0, planes * Ho, grain, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t r = b; r < e; ++r) fn(r / Ho, r % Ho);
  });
}

// First in-bounds tap and end of a dilated window starting at `start` over [0, n).
struct Window {
  std::int64_t begin, end;
};
Window dilated_window(std::int64_t start, std::int64_t k, std::int64_t d, std::int64_t n) {
  const std::int64_t end = std::min(start + (k - 1) * d + 1, n);
  if (start < 0) start += ((-start + d - 1) / d) * d;
  return {start, end};
}

}  // namespace

void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, std::int64_t planes, const PoolGeom& g) {
  dispatch_floating(x.dtype(), "max_pool2d", [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* o = out.data_ptr<T>();
    std::int64_t* idx = indices.defined() ? indices.data_ptr<std::int64_t>() : nullptr;
    for_each_output_row(planes, g.Ho, g.Wo * g.kH * g.kW, [&](std::int64_t p, std::int64_t oh) {
      const T* plane = in + p * g.H * g.W;
      const std::int64_t row = (p * g.Ho + oh) * g.Wo;
      const Window hw = dilated_window(oh * g.sH - g.pH, g.kH, g.dH, g.H);
      for (std::int64_t ow = 0; ow < g.Wo; ++ow) {
        const Window ww = dilated_window(ow * g.sW - g.pW, g.kW, g.dW, g.W);
        T best = -std::numeric_limits<T>::infinity();
        std::int64_t best_i = hw.begin * g.W + ww.begin;
        for (std::int64_t h = hw.begin; h < hw.end; h += g.dH)
          for (std::int64_t w = ww.begin; w < ww.end; w += g.dW) {
            const T v = plane[h * g.W + w];
            if (v > best || std::isnan(v)) {  // as PyTorch: a NaN wins (the last NaN's index)
              best = v;
              best_i = h * g.W + w;
            }
          }
        o[row + ow] = best;
        if (idx) idx[row + ow] = best_i;
      }
    });
  });
}

void avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, const PoolGeom& g, bool count_include_pad) {
  dispatch_floating(x.dtype(), "avg_pool2d", [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* o = out.data_ptr<T>();
    for_each_output_row(planes, g.Ho, g.Wo * g.kH * g.kW, [&](std::int64_t p, std::int64_t oh) {
      const T* plane = in + p * g.H * g.W;
      T* orow = o + (p * g.Ho + oh) * g.Wo;
      // The window as PyTorch clips it: first to the padded input (the divisor with padding),
      // then to the input itself.
      const std::int64_t h0 = oh * g.sH - g.pH, h1 = std::min(h0 + g.kH, g.H + g.pH);
      const std::int64_t hb = std::max<std::int64_t>(h0, 0), he = std::min(h1, g.H);
      for (std::int64_t ow = 0; ow < g.Wo; ++ow) {
        const std::int64_t w0 = ow * g.sW - g.pW, w1 = std::min(w0 + g.kW, g.W + g.pW);
        const std::int64_t wb = std::max<std::int64_t>(w0, 0), we = std::min(w1, g.W);
        if (hb >= he || wb >= we) {
          orow[ow] = T(0);
          continue;
        }
        T sum = 0;
        for (std::int64_t h = hb; h < he; ++h)
          for (std::int64_t w = wb; w < we; ++w) sum += plane[h * g.W + w];
        const std::int64_t count = count_include_pad ? (h1 - h0) * (w1 - w0) : (he - hb) * (we - wb);
        orow[ow] = sum / static_cast<T>(count);
      }
    });
  });
}

void adaptive_avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, std::int64_t H, std::int64_t W,
                         std::int64_t Ho, std::int64_t Wo) {
  dispatch_floating(x.dtype(), "adaptive_avg_pool2d", [&]<typename T>() {
    const T* in = x.data_ptr<T>();
    T* o = out.data_ptr<T>();
    const std::int64_t kh = (H + Ho - 1) / Ho + 1, kw = (W + Wo - 1) / Wo + 1;  // window bound
    for_each_output_row(planes, Ho, Wo * kh * kw, [&](std::int64_t p, std::int64_t oh) {
      const T* plane = in + p * H * W;
      T* orow = o + (p * Ho + oh) * Wo;
      const std::int64_t hb = oh * H / Ho, he = ((oh + 1) * H + Ho - 1) / Ho;
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const std::int64_t wb = ow * W / Wo, we = ((ow + 1) * W + Wo - 1) / Wo;
        T sum = 0;
        for (std::int64_t h = hb; h < he; ++h)
          for (std::int64_t w = wb; w < we; ++w) sum += plane[h * W + w];
        orow[ow] = sum / static_cast<T>((he - hb) * (we - wb));
      }
    });
  });
}

}  // namespace tapeflow::cpu
