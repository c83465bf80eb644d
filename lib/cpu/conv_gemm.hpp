#pragma once
// What the two CPU convolution schemes (im2col in conv.cpp, shifted planes in conv_shifted.cpp)
// share: the BLAS call, the rule for who owns the cores, and the parallel sum of per-image
// weight gradients.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <vector>

#include "core/parallel.hpp"

namespace tapeflow::cpu::conv_detail {

// C = op(A) * op(B) + beta * C, row-major; op transposes when the flag is set.
template <typename T>
void gemm(bool ta, bool tb, std::int64_t M, std::int64_t N, std::int64_t K, const T* A, std::int64_t lda,
          const T* B, std::int64_t ldb, T beta, T* C, std::int64_t ldc) {
  const auto i = [](std::int64_t v) { return static_cast<blasint>(v); };
  const CBLAS_TRANSPOSE a = ta ? CblasTrans : CblasNoTrans, b = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, a, b, i(M), i(N), i(K), 1.0f, A, i(lda), B, i(ldb), beta, C, i(ldc));
  else
    cblas_dgemm(CblasRowMajor, a, b, i(M), i(N), i(K), 1.0, A, i(lda), B, i(ldb), beta, C, i(ldc));
}

// d[0, n) = s[0, n) for the short runs of im2col and of the padded planes (one image or output
// row, often under 32 elements), where a memcpy call per run costs more than the copy: fixed-size chunks (inlined moves), the
// last one overlapping the previous when n is not a multiple of the chunk.
template <typename T>
inline void copy_run(T* d, const T* s, std::int64_t n) {
  constexpr std::int64_t kChunk = 32 / sizeof(T);
  if (n < kChunk) {
    for (std::int64_t i = 0; i < n; ++i) d[i] = s[i];
    return;
  }
  for (std::int64_t i = 0; i + kChunk < n; i += kChunk) std::memcpy(d + i, s + i, sizeof(T) * kChunk);
  std::memcpy(d + n - kChunk, s + n - kChunk, sizeof(T) * kChunk);
}

// Same rule as linalg's set_blas_threads (lib/cpu/gemm.cpp): only touch OpenBLAS when needed.
inline void blas_threads(int n) {
  if (openblas_get_num_threads() != n) openblas_set_num_threads(n);
}

// Below this many flops the pool costs more than it saves.
inline constexpr double kParallelFlops = 4e6;

inline int usable_threads() { return detail::in_parallel_region() ? 1 : get_num_threads(); }

// Runs task(t, scratch) for t in [0, tasks): on the pool with one OpenBLAS thread each when there
// is enough work, else serially with OpenBLAS owning the cores. scratch is a per-thread buffer of
// scratch_size zeroed elements.
template <typename T, typename F>
void run_tasks(std::int64_t tasks, double flops, std::int64_t scratch_size, F&& task) {
  const int threads = usable_threads();
  if (threads > 1 && tasks >= threads && flops >= kParallelFlops) {
    blas_threads(1);  // our pool owns the cores
    detail::parallel_for(0, tasks, 1, [&](std::int64_t tb, std::int64_t te) {
      std::vector<T> scratch(static_cast<std::size_t>(scratch_size));
      for (std::int64_t t = tb; t < te; ++t) task(t, scratch.data());
    });
  } else {
    blas_threads(threads);  // GEMMs run alone: let OpenBLAS use the cores
    std::vector<T> scratch(static_cast<std::size_t>(scratch_size));
    for (std::int64_t t = 0; t < tasks; ++t) task(t, scratch.data());
  }
}

// out[0, total) = the sum over images [0, N) that images(n0, n1, acc, scratch) adds into acc
// (which starts at zero). In parallel, each thread takes a range of images into a private
// accumulator and the accumulators are added up at the end.
template <typename T, typename F>
void sum_over_images(std::int64_t N, double flops, std::int64_t scratch_size, std::int64_t total, T* out,
                     F&& images) {
  std::fill(out, out + total, T(0));
  const int threads = usable_threads();
  if (threads > 1 && N >= threads && flops >= kParallelFlops) {
    blas_threads(1);
    std::mutex m;
    detail::parallel_for(0, N, 1, [&](std::int64_t b, std::int64_t e) {
      std::vector<T> scratch(static_cast<std::size_t>(scratch_size)), acc(static_cast<std::size_t>(total), T(0));
      images(b, e, acc.data(), scratch.data());
      std::lock_guard<std::mutex> lock(m);
      for (std::int64_t i = 0; i < total; ++i) out[i] += acc[static_cast<std::size_t>(i)];
    });
  } else {
    blas_threads(threads);
    std::vector<T> scratch(static_cast<std::size_t>(scratch_size));
    images(0, N, out, scratch.data());
  }
}

}  // namespace tapeflow::cpu::conv_detail
