#pragma once
// The window math of 2-D pooling, shared by the CPU kernels (lib/cpu/pool.cpp) and the CUDA
// ones (cuda/pool.cu), and tested on the CPU against brute-force loops: which input taps an
// output reads, its divisor, the max rule, and (for backward as a gather) which outputs read
// a given input.
#include <cstdint>

#include "kernels/host_device.hpp"
#include "kernels/params.hpp"

namespace tapeflow::kernels {

// A half-open range [begin, end) of positions along one axis.
struct Window {
  std::int64_t begin, end;
};

// First in-bounds tap and end of a dilated window starting at `start` over [0, n): taps are
// begin, begin + d, ... below end.
TAPEFLOW_HD inline Window dilated_window(std::int64_t start, std::int64_t k, std::int64_t d, std::int64_t n) {
  const std::int64_t last = start + (k - 1) * d + 1;
  const std::int64_t end = last < n ? last : n;
  if (start < 0) start += ((-start + d - 1) / d) * d;
  return {start, end};
}

// Max pooling's rule: tap value v replaces the best so far when larger, or when it is NaN (a
// NaN wins, and the last NaN's index is kept, as PyTorch).
template <class T>
TAPEFLOW_HD inline bool max_pool_takes(T v, T best) {
  return (v > best) | (v != v);
}

// The index a max window's search starts from: its first in-bounds tap, or -1 when the window
// lies wholly in the padding (possible with dilation > 1): its output is -inf, and backward skips
// it. PyTorch starts from the clipped window's corner there, which may lie outside the plane.
TAPEFLOW_HD inline std::int64_t max_pool_first_index(Window hw, Window ww, std::int64_t W) {
  return hw.begin < hw.end && ww.begin < ww.end ? hw.begin * W + ww.begin : -1;
}

// One average window: the input rows [hb, he) and columns [wb, we) it reads, and its divisor.
struct AvgWindow {
  std::int64_t hb, he, wb, we, count;
};

// avg_pool2d's window as PyTorch clips it: first to the padded input (the divisor with
// padding), then to the input itself.
TAPEFLOW_HD inline AvgWindow avg_window(const PoolGeom& g, std::int64_t oh, std::int64_t ow, bool count_include_pad) {
  const std::int64_t h0 = oh * g.sH - g.pH, w0 = ow * g.sW - g.pW;
  const std::int64_t h1 = h0 + g.kH < g.H + g.pH ? h0 + g.kH : g.H + g.pH;
  const std::int64_t w1 = w0 + g.kW < g.W + g.pW ? w0 + g.kW : g.W + g.pW;
  AvgWindow a{h0 > 0 ? h0 : 0, h1 < g.H ? h1 : g.H, w0 > 0 ? w0 : 0, w1 < g.W ? w1 : g.W, 0};
  a.count = count_include_pad ? (h1 - h0) * (w1 - w0) : (a.he - a.hb) * (a.we - a.wb);
  return a;
}

// adaptive_avg_pool2d's window: rows [floor(oh*H/Ho), ceil((oh+1)*H/Ho)), the same for columns.
TAPEFLOW_HD inline AvgWindow adaptive_window(std::int64_t H, std::int64_t W, std::int64_t Ho, std::int64_t Wo,
                                             std::int64_t oh, std::int64_t ow) {
  AvgWindow a{oh * H / Ho, ((oh + 1) * H + Ho - 1) / Ho, ow * W / Wo, ((ow + 1) * W + Wo - 1) / Wo, 0};
  a.count = (a.he - a.hb) * (a.we - a.wb);
  return a;
}

// The outputs [begin, end) along one axis of avg_pool2d whose window (k taps, stride s,
// padding p) contains input position i: o*s - p <= i < o*s - p + k.
TAPEFLOW_HD inline Window avg_outputs_covering(std::int64_t i, std::int64_t k, std::int64_t s, std::int64_t p,
                                               std::int64_t n_out) {
  const std::int64_t lo_num = i + p - k + 1;  // o >= ceil(lo_num / s)
  const std::int64_t lo = lo_num <= 0 ? 0 : (lo_num + s - 1) / s;
  const std::int64_t hi = (i + p) / s + 1;  // o <= floor((i + p) / s)
  return {lo, hi < n_out ? hi : n_out};
}

// The outputs [begin, end) along one axis of adaptive_avg_pool2d (n_in -> n_out) whose window
// contains input position i: from floor(i*n_out/n_in) to floor(((i+1)*n_out - 1)/n_in).
TAPEFLOW_HD inline Window adaptive_outputs_covering(std::int64_t i, std::int64_t n_in, std::int64_t n_out) {
  const std::int64_t hi = ((i + 1) * n_out - 1) / n_in + 1;
  return {i * n_out / n_in, hi < n_out ? hi : n_out};
}

}  // namespace tapeflow::kernels
