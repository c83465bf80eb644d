// Stable softmax: subtract the max, exponentiate, normalise. Rows of the last dim are the hot,
// contiguous case; other dims walk blocks of the inner dim so every access stays contiguous.
#include "cpu/softmax.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <xsimd/xsimd.hpp>

#include "core/parallel.hpp"
#include "cpu/elementwise.hpp"

namespace tapeflow::cpu {
namespace {

// exp is the cost. Rows of the last dim run on the row kernels of the chosen instruction set
// (row_kernels.hpp); the fallback below, and column blocks, use batches of the baseline set.
template <typename T>
using Batch = xsimd::batch<T>;

template <typename T>
T row_max(const T* x, std::int64_t n) {
  constexpr std::int64_t L = Batch<T>::size;
  T mx = -std::numeric_limits<T>::infinity();
  std::int64_t i = 0;
  if (n >= L) {
    Batch<T> m = Batch<T>::load_unaligned(x);
    for (i = L; i + L <= n; i += L) m = xsimd::max(m, Batch<T>::load_unaligned(x + i));
    alignas(64) T lanes[L];
    m.store_aligned(lanes);
    for (T v : lanes) mx = v > mx ? v : mx;
  }
  for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;  // a NaN is not the max, but poisons the sum
  return mx;
}

// y[i] = exp(x[i] - m[i]) (m[i] = m[0] for all i when Broadcast); returns the sum of y.
template <typename T, bool Broadcast>
T exp_shifted(const T* x, const T* m, T* y, std::int64_t n) {
  constexpr std::int64_t L = Batch<T>::size;
  Batch<T> acc(T(0));
  std::int64_t i = 0;
  for (; i + L <= n; i += L) {
    const Batch<T> mi = Broadcast ? Batch<T>(m[0]) : Batch<T>::load_unaligned(m + i);
    const Batch<T> e = xsimd::exp(Batch<T>::load_unaligned(x + i) - mi);
    e.store_unaligned(y + i);
    acc += e;
  }
  T sum = xsimd::hadd(acc);
  for (; i < n; ++i) sum += (y[i] = std::exp(x[i] - m[Broadcast ? 0 : i]));
  return sum;
}

// One contiguous row of n elements. log_softmax stores exp in y as scratch before overwriting.
template <typename T, bool Log>
void softmax_row(const T* x, T* y, std::int64_t n) {
  if (const VecTable* t = g_vec_table) {
    const RowKernels<T>& k = t->template get<T>().rows;
    const T mx = k.max(x, n);
    const T sum = k.exp_sum(x, mx, T(0), y, n);
    if constexpr (Log) k.sub2(x, mx, std::log(sum), y, n);
    else k.scale(y, T(1) / sum, n);
    return;
  }
  const T mx = row_max(x, n);
  const T sum = exp_shifted<T, true>(x, &mx, y, n);
  if constexpr (Log) {
    // (x - max) - log(sum), not x - (max + log(sum)): the latter rounds at the scale of max.
    const T lse = std::log(sum);
    for (std::int64_t i = 0; i < n; ++i) y[i] = (x[i] - mx) - lse;
  } else {
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
  T e[kBlock];
  for (std::int64_t k = 0; k < n; ++k) {
    T* o = y + k * inner + j0;
    exp_shifted<T, false>(x + k * inner + j0, mx, Log ? e : o, w);
    for (std::int64_t j = 0; j < w; ++j) sum[j] += Log ? e[j] : o[j];
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
