#include "cpu/gemm.hpp"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/parallel.hpp"
#include "tapeflow/dtype.hpp"

namespace tapeflow::cpu {
namespace {

// Below this many multiply-adds per matrix, one thread per matrix beats splitting one matrix.
constexpr double kSmallGemm = 1 << 21;
// Rough number of multiply-adds worth one parallel task.
constexpr std::int64_t kTaskWork = 1 << 16;

// Element offsets of matrix i of the batch in a, b and c.
std::array<std::int64_t, 3> batch_offsets(const GemmBatch& batch, std::int64_t i) {
  std::array<std::int64_t, 3> off{0, 0, 0};
  for (std::size_t d = batch.sizes.size(); d-- > 0;) {
    const std::int64_t idx = i % batch.sizes[d];
    i /= batch.sizes[d];
    for (std::size_t k = 0; k < 3; ++k) off[k] += idx * batch.strides[k][d];
  }
  return off;
}

template <typename T>
T* at(const GemmOperand& op, std::int64_t offset) {
  return static_cast<T*>(op.data) + offset;
}

int to_blas_int(std::int64_t v) {
  if (v > INT_MAX) fail<ValueError>("matmul", "dimension ", v, " exceeds what BLAS can index (", INT_MAX, ")");
  return static_cast<int>(v);
}

// ---- floating point: OpenBLAS ----

// The arguments of one cblas call, read from the operands' layouts (the same for every matrix
// of a batch). C must be row-major: gemm_batch turns a column-major C around first.
struct BlasArgs {
  CBLAS_TRANSPOSE ta, tb;
  int m, n, k, lda, ldb, ldc;
};

inline BlasArgs blas_args(std::int64_t m, std::int64_t n, std::int64_t k, const GemmOperand& a,
                          const GemmOperand& b, const GemmOperand& c) {
  const BlasLayout la = blas_layout(m, k, a.rs, a.cs), lb = blas_layout(k, n, b.rs, b.cs);
  const BlasLayout lc = blas_layout(m, n, c.rs, c.cs);
  if (!la.ok || !lb.ok || !lc.ok || lc.trans)
    fail<ValueError>("gemm", "internal error: operand layout not usable by BLAS");
  // One range check for all six (each its own check, with its message, only when one fails).
  if (std::max({m, n, k, la.ld, lb.ld, lc.ld}) > INT_MAX)
    for (std::int64_t v : {m, n, k, la.ld, lb.ld, lc.ld}) to_blas_int(v);
  return {la.trans ? CblasTrans : CblasNoTrans, lb.trans ? CblasTrans : CblasNoTrans, static_cast<int>(m),
          static_cast<int>(n), static_cast<int>(k), static_cast<int>(la.ld), static_cast<int>(lb.ld),
          static_cast<int>(lc.ld)};
}

// OpenBLAS's threads for products the calling thread runs itself: every core, or one inside a
// task of our pool (which already owns the cores).
void set_blas_threads_for_caller() { set_blas_threads(detail::in_parallel_region() ? 1 : get_num_threads()); }

template <typename T>
void blas_gemm(const BlasArgs& p, T alpha, const T* a, const T* b, T beta, T* c) {
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, p.ta, p.tb, p.m, p.n, p.k, alpha, a, p.lda, b, p.ldb, beta, c, p.ldc);
  else
    cblas_dgemm(CblasRowMajor, p.ta, p.tb, p.m, p.n, p.k, alpha, a, p.lda, b, p.ldb, beta, c, p.ldc);
}

template <typename T>
void float_gemm(std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const GemmOperand& a, const GemmOperand& b,
                T beta, const GemmOperand& c, const GemmBatch& batch, bool across_batch) {
  const BlasArgs args = blas_args(m, n, k, a, b, c);
  auto one = [&](std::int64_t i) {
    const auto off = batch_offsets(batch, i);
    blas_gemm<T>(args, alpha, at<T>(a, off[0]), at<T>(b, off[1]), beta, at<T>(c, off[2]));
  };
  const std::int64_t count = batch.count();
  if (across_batch) {
    set_blas_threads(1);
    const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    const auto grain = static_cast<std::int64_t>(std::max(1.0, static_cast<double>(kTaskWork) / std::max(work, 1.0)));
    detail::parallel_for(0, count, grain, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t i = lo; i < hi; ++i) one(i);
    });
  } else {
    set_blas_threads_for_caller();
    for (std::int64_t i = 0; i < count; ++i) one(i);
  }
}

// ---- integers: packed, blocked i-p-j kernel in unsigned (wrap-around) arithmetic ----

constexpr std::int64_t kBlockK = 128, kBlockN = 256;

template <typename T>
struct IntWorkspace {
  using U = std::make_unsigned_t<T>;
  std::vector<U> a, b, acc;
};

template <typename T>
void int_gemm_one(std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a, const GemmOperand& ga,
                  const T* b, const GemmOperand& gb, T beta, T* c, const GemmOperand& gc, IntWorkspace<T>& ws,
                  bool parallel_rows) {
  using U = std::make_unsigned_t<T>;
  const auto mk = static_cast<std::size_t>(m * k), kn = static_cast<std::size_t>(k * n);
  ws.a.resize(mk);
  ws.b.resize(kn);
  ws.acc.assign(static_cast<std::size_t>(m * n), U(0));
  // Packing makes every layout contiguous, so the inner loop runs over unit strides.
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t p = 0; p < k; ++p) ws.a[static_cast<std::size_t>(i * k + p)] = static_cast<U>(a[i * ga.rs + p * ga.cs]);
  for (std::int64_t p = 0; p < k; ++p)
    for (std::int64_t j = 0; j < n; ++j) ws.b[static_cast<std::size_t>(p * n + j)] = static_cast<U>(b[p * gb.rs + j * gb.cs]);
  const U ua = static_cast<U>(alpha), ub = static_cast<U>(beta);
  const U* ap = ws.a.data();
  const U* bp = ws.b.data();
  U* accp = ws.acc.data();
  auto rows = [&](std::int64_t i0, std::int64_t i1) {
    for (std::int64_t jb = 0; jb < n; jb += kBlockN) {
      const std::int64_t nb = std::min(kBlockN, n - jb);
      for (std::int64_t pb = 0; pb < k; pb += kBlockK) {
        const std::int64_t pe = std::min(k, pb + kBlockK);
        for (std::int64_t i = i0; i < i1; ++i) {
          U* crow = accp + i * n + jb;
          const U* arow = ap + i * k;
          for (std::int64_t p = pb; p < pe; ++p) {
            const U av = arow[p];
            const U* brow = bp + p * n + jb;
            for (std::int64_t j = 0; j < nb; ++j) crow[j] += av * brow[j];
          }
        }
      }
    }
    for (std::int64_t i = i0; i < i1; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        T& out = c[i * gc.rs + j * gc.cs];
        const U prev = ub == 0 ? U(0) : ub * static_cast<U>(out);
        out = static_cast<T>(ua * accp[i * n + j] + prev);
      }
  };
  if (parallel_rows) {
    const std::int64_t grain = std::max<std::int64_t>(1, kTaskWork / std::max<std::int64_t>(1, n * k));
    detail::parallel_for(0, m, grain, rows);
  } else {
    rows(0, m);
  }
}

template <typename T>
void int_gemm(std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const GemmOperand& a, const GemmOperand& b,
              T beta, const GemmOperand& c, const GemmBatch& batch, bool across_batch) {
  auto run = [&](std::int64_t lo, std::int64_t hi, bool parallel_rows) {
    IntWorkspace<T> ws;
    for (std::int64_t i = lo; i < hi; ++i) {
      const auto off = batch_offsets(batch, i);
      int_gemm_one<T>(m, n, k, alpha, at<T>(a, off[0]), a, at<T>(b, off[1]), b, beta, at<T>(c, off[2]), c, ws,
                      parallel_rows);
    }
  };
  const std::int64_t count = batch.count();
  if (across_batch) {
    const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    const auto grain = static_cast<std::int64_t>(std::max(1.0, static_cast<double>(kTaskWork) / std::max(work, 1.0)));
    detail::parallel_for(0, count, grain, [&](std::int64_t lo, std::int64_t hi) { run(lo, hi, false); });
  } else {
    run(0, count, true);
  }
}

// C = beta * C for every matrix (the k == 0 case: the product is all zeros).
template <typename T>
void scale_c(std::int64_t m, std::int64_t n, T beta, const GemmOperand& c, const GemmBatch& batch) {
  for (std::int64_t b = 0, count = batch.count(); b < count; ++b) {
    T* base = at<T>(c, batch_offsets(batch, b)[2]);
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        T& v = base[i * c.rs + j * c.cs];
        if constexpr (std::is_integral_v<T>) {
          using U = std::make_unsigned_t<T>;
          v = beta == T(0) ? T(0) : static_cast<T>(static_cast<U>(beta) * static_cast<U>(v));
        } else {
          v = beta == T(0) ? T(0) : beta * v;
        }
      }
  }
}

}  // namespace


void set_blas_threads(int n) {
  if (openblas_get_num_threads() != n) openblas_set_num_threads(n);
}

namespace {

// A column-major C is computed as C^T = B^T @ A^T, which BLAS then sees row-major: swaps the
// operands and transposes every layout, returning true when it did.
inline bool make_c_row_major(std::int64_t& m, std::int64_t& n, GemmOperand& a, GemmOperand& b, GemmOperand& c) {
  const BlasLayout lc = blas_layout(m, n, c.rs, c.cs);
  if (!lc.ok || !lc.trans) return false;
  std::swap(a, b);
  std::swap(a.rs, a.cs);
  std::swap(b.rs, b.cs);
  std::swap(c.rs, c.cs);
  std::swap(m, n);
  return true;
}

// One floating-point matrix (most calls, and every tiny one): straight to BLAS, without
// gemm_batch's coalescing, batch walk and type dispatch. Out of line, so gemm() itself stays a
// few instructions.
template <typename T>
[[gnu::noinline]] void float_gemm_single(std::int64_t m, std::int64_t n, std::int64_t k, const Scalar& alpha,
                                         const GemmOperand& a_in, const GemmOperand& b_in, const Scalar& beta,
                                         const GemmOperand& c_in) {
  GemmOperand a = a_in, b = b_in, c = c_in;
  BlasArgs args;
  if (a.cs == 1 && b.cs == 1 && c.cs == 1 && a.rs >= k && b.rs >= n && c.rs >= n &&
      std::max({m, a.rs, b.rs, c.rs}) <= INT_MAX) {
    // Three row-major matrices (the common case; n <= c.rs and k <= a.rs bound n and k).
    args = {CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
            static_cast<int>(a.rs), static_cast<int>(b.rs), static_cast<int>(c.rs)};
  } else {
    make_c_row_major(m, n, a, b, c);
    args = blas_args(m, n, k, a, b, c);
  }
  set_blas_threads_for_caller();
  blas_gemm<T>(args, alpha.to<T>(), static_cast<const T*>(a.data), static_cast<const T*>(b.data), beta.to<T>(),
               static_cast<T*>(c.data));
}

// Every other product: a batch (coalesced first, on gemm_batch's own copy), integers, empty ones.
[[gnu::noinline]] void gemm_batch(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, const Scalar& alpha,
                                  const GemmOperand& a_in, const GemmOperand& b_in, const Scalar& beta,
                                  const GemmOperand& c_in, const GemmBatch& batch_in) {
  GemmBatch batch = batch_in;
  if (!batch.sizes.empty()) batch.coalesce();
  if (m == 0 || n == 0 || batch.count() == 0) return;
  GemmOperand a = a_in, b = b_in, c = c_in;
  if (make_c_row_major(m, n, a, b, c) && !batch.sizes.empty()) std::swap(batch.strides[0], batch.strides[1]);
  // A batch that walks A's and C's rows with B fixed (e.g. (B, m, k) @ (k, n)) is one tall GEMM.
  if (batch.sizes.size() == 1 && batch.strides[1][0] == 0 && batch.strides[0][0] == m * a.rs &&
      batch.strides[2][0] == m * c.rs) {
    const std::int64_t rows = m * batch.sizes[0];
    const BlasLayout fa = blas_layout(rows, k, a.rs, a.cs), fc = blas_layout(rows, n, c.rs, c.cs);
    if (!is_floating_point(dtype) || (fa.ok && fc.ok && !fc.trans)) {
      m = rows;
      batch = GemmBatch{};
    }
  }
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const std::int64_t count = batch.count();
  const bool across_batch =
      count > 1 && !detail::in_parallel_region() && (count >= get_num_threads() || work < kSmallGemm);
  dispatch_numeric(dtype, "matmul", [&]<typename T>() {
    const T al = alpha.to<T>(), be = beta.to<T>();
    if (k == 0) scale_c<T>(m, n, be, c, batch);
    else if constexpr (std::is_floating_point_v<T>) float_gemm<T>(m, n, k, al, a, b, be, c, batch, across_batch);
    else int_gemm<T>(m, n, k, al, a, b, be, c, batch, across_batch);
  });
}

}  // namespace

void gemm(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, const Scalar& alpha, const GemmOperand& a,
          const GemmOperand& b, const Scalar& beta, const GemmOperand& c, const GemmBatch& batch) {
  // A single matrix (most calls) skips the batch: copying its four shapes and walking them cost
  // ~10% of a 64 x 64 product's time. Empty products and integers take the general path.
  if (batch.sizes.empty() && m > 0 && n > 0 && k > 0) {
    if (dtype == kFloat32) return float_gemm_single<float>(m, n, k, alpha, a, b, beta, c);
    if (dtype == kFloat64) return float_gemm_single<double>(m, n, k, alpha, a, b, beta, c);
  }
  gemm_batch(dtype, m, n, k, alpha, a, b, beta, c, batch);
}

}  // namespace tapeflow::cpu
