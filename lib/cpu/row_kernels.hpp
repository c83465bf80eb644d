#pragma once
// Contiguous-row kernels of softmax, the class losses and layer_norm, vectorised per instruction
// set alongside the elementwise kernels (row_kernels_simd.hpp, one copy per ISA unit): exp and
// the row reductions are what those ops spend their time on.
#include <cstdint>

namespace tapeflow::cpu {

template <class T>
struct RowKernels {
  // The largest of x[0, n) (n >= 1); NaN is never the max (it poisons the exp sum instead).
  T (*max)(const T* x, std::int64_t n);
  // y[i] = exp((x[i] - a) - b) over n elements (y may be x); returns the sum of y.
  T (*exp_sum)(const T* x, T a, T b, T* y, std::int64_t n);
  // y[i] = (x[i] - a) - b (log_softmax: the rounding of log_softmax's own formula).
  void (*sub2)(const T* x, T a, T b, T* y, std::int64_t n);
  // y[i] *= s.
  void (*scale)(T* y, T s, std::int64_t n);
  // Mean and (biased) variance of x[0, n), two passes accumulated in double lanes.
  void (*moments)(const T* x, std::int64_t n, double* mean, double* var);
  // y[i] = (x[i] - mean) * rstd * w[i] + b[i]; w and b may be null (1 and 0).
  void (*affine)(const T* x, T mean, T rstd, const T* w, const T* b, T* y, std::int64_t n);
  // layer_norm's input gradient for one row: with gy = g * w (w may be null: 1) and
  // xhat = (x - mean) * rstd, out[i] = rstd * (gy[i] - mean(gy) - xhat[i] * mean(gy * xhat)),
  // the two means accumulated in double lanes.
  void (*norm_grad)(const T* g, const T* x, const T* w, double mean, double rstd, T* out, std::int64_t n);
};

}  // namespace tapeflow::cpu
