#pragma once
// The index math of im2col / col2im (conv2d as GEMM), shared by the CUDA kernels (one thread
// per column-matrix entry, or per input element) and tested on the CPU against loops and the
// CPU backend's im2col/col2im. Column matrix: (C*kH*kW) x (Ho*Wo), row = (c*kH + ki)*kW + kj,
// column = oh*Wo + ow; input slice C x H x W, row-major.
#include <cstdint>

#include "kernels/host_device.hpp"
#include "kernels/params.hpp"

namespace tapeflow::kernels {

// The input offset (within the C x H x W slice) that column entry (row, col) reads, or -1 where
// it reads padding (zero).
TAPEFLOW_HD inline std::int64_t im2col_source(const ConvGeom& g, std::int64_t row, std::int64_t col) {
  const std::int64_t kj = row % g.kW, ki = (row / g.kW) % g.kH, c = row / (g.kW * g.kH);
  const std::int64_t oh = col / g.Wo, ow = col % g.Wo;
  const std::int64_t h = oh * g.sH - g.pH + ki * g.dH, w = ow * g.sW - g.pW + kj * g.dW;
  if (h < 0 || h >= g.H || w < 0 || w >= g.W) return -1;
  return (c * g.H + h) * g.W + w;
}

// The output position o along one axis whose tap t reads input i (i = o*s - p + t*d), or -1.
TAPEFLOW_HD inline std::int64_t conv_output_of_tap(std::int64_t i, std::int64_t t, std::int64_t s, std::int64_t p,
                                                   std::int64_t d, std::int64_t n_out) {
  const std::int64_t num = i + p - t * d;
  if (num < 0 || num % s != 0) return -1;
  const std::int64_t o = num / s;
  return o < n_out ? o : -1;
}

// Calls f(row, col) for every column entry that reads input element (c, h, w): col2im as a
// gather (each input element sums its own entries; no atomics, a fixed order).
template <class F>
TAPEFLOW_HD inline void for_each_column_entry_of(const ConvGeom& g, std::int64_t c, std::int64_t h, std::int64_t w,
                                                 F&& f) {
  for (std::int64_t ki = 0; ki < g.kH; ++ki) {
    const std::int64_t oh = conv_output_of_tap(h, ki, g.sH, g.pH, g.dH, g.Ho);
    if (oh < 0) continue;
    for (std::int64_t kj = 0; kj < g.kW; ++kj) {
      const std::int64_t ow = conv_output_of_tap(w, kj, g.sW, g.pW, g.dW, g.Wo);
      if (ow >= 0) f((c * g.kH + ki) * g.kW + kj, oh * g.Wo + ow);
    }
  }
}

}  // namespace tapeflow::kernels
