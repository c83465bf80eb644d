// Stable softmax: subtract the max, exponentiate, normalise. Rows of the last dim are the hot,
// contiguous case; other dims walk blocks of the inner dim so every access stays contiguous.
#include "cpu/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/parallel.hpp"

namespace tapeflow::cpu {
namespace {

// One contiguous row of n elements.
template <typename T, bool Log>
void softmax_row(const T* x, T* y, std::int64_t n) {
  T mx = -std::numeric_limits<T>::infinity();
  for (std::int64_t i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;  // a NaN propagates below
  T sum = 0;
  if constexpr (Log) {
    for (std::int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
    // (x - max) - log(sum), not x - (max + log(sum)): the latter rounds at the scale of max.
    const T lse = std::log(sum);
    for (std::int64_t i = 0; i < n; ++i) y[i] = (x[i] - mx) - lse;
  } else {
    for (std::int64_t i = 0; i < n; ++i) sum += (y[i] = std::exp(x[i] - mx));
    const T scale = T(1) / sum;
    for (std::int64_t i = 0; i < n; ++i) y[i] *= scale;
  }
}

constexpr std::int64_t kBlock = 64;  // inner columns handled together

// Columns [j0, j1) (at most kBlock) of one (n, inner) slab; element (k, j) at k * inner + j.
template <typename T, bool Log>
void softmax_columns(const T* x, T* y, std::int64_t n, std::int64_t inner, std::int64_t j0, std::int64_t j1) {
  const std::int64_t w = j1 - j0;
  T mx[kBlock], sum[kBlock];
  std::fill(mx, mx + w, -std::numeric_limits<T>::infinity());
  std::fill(sum, sum + w, T(0));
  for (std::int64_t k = 0; k < n; ++k) {
    const T* r = x + k * inner + j0;
    for (std::int64_t j = 0; j < w; ++j) mx[j] = r[j] > mx[j] ? r[j] : mx[j];
  }
  for (std::int64_t k = 0; k < n; ++k) {
    const T* r = x + k * inner + j0;
    T* o = y + k * inner + j0;
    for (std::int64_t j = 0; j < w; ++j) {
      const T e = std::exp(r[j] - mx[j]);
      sum[j] += e;
      if constexpr (!Log) o[j] = e;
    }
  }
  for (std::int64_t j = 0; j < w; ++j) sum[j] = Log ? std::log(sum[j]) : T(1) / sum[j];
  for (std::int64_t k = 0; k < n; ++k) {
    const T* r = x + k * inner + j0;
    T* o = y + k * inner + j0;
    if constexpr (Log)
      for (std::int64_t j = 0; j < w; ++j) o[j] = (r[j] - mx[j]) - sum[j];
    else
      for (std::int64_t j = 0; j < w; ++j) o[j] *= sum[j];
  }
}

template <typename T, bool Log>
void run(const T* x, T* y, std::int64_t outer, std::int64_t n, std::int64_t inner) {
  if (inner == 1) {
    const std::int64_t grain = std::max<std::int64_t>(1, detail::kElementwiseGrain / std::max<std::int64_t>(n, 1));
    detail::parallel_for(0, outer, grain, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t r = b; r < e; ++r) softmax_row<T, Log>(x + r * n, y + r * n, n);
    });
    return;
  }
  const std::int64_t blocks = (inner + kBlock - 1) / kBlock;
  const std::int64_t grain = std::max<std::int64_t>(1, detail::kElementwiseGrain / std::max<std::int64_t>(n * kBlock, 1));
  detail::parallel_for(0, outer * blocks, grain, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t t = b; t < e; ++t) {
      const std::int64_t o = t / blocks, j0 = (t % blocks) * kBlock;
      softmax_columns<T, Log>(x + o * n * inner, y + o * n * inner, n, inner, j0, std::min(inner, j0 + kBlock));
    }
  });
}

}  // namespace

void softmax(const Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner, bool log) {
  dispatch_floating(x.dtype(), log ? "log_softmax" : "softmax", [&]<typename T>() {
    if (log) run<T, true>(x.data_ptr<T>(), out.data_ptr<T>(), outer, n, inner);
    else run<T, false>(x.data_ptr<T>(), out.data_ptr<T>(), outer, n, inner);
  });
}

}  // namespace tapeflow::cpu
