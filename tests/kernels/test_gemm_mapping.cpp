// The row-major -> column-major BLAS mapping of the CUDA gemm (kernels/gemm_mapping.hpp), run on
// the CPU: the mapping is fed to a reference column-major gemm written here (with cuBLAS's
// argument rules checked), and must give the row-major float64 product computed element by
// element from the operands' strides, for every storage order of A, B and C, batches with
// broadcast (stride 0) operands, several batch dims, k == 0 and vectors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/gemm_mapping.hpp"

using namespace tapeflow;
using kernels::ColumnMajorGemm;
using kernels::GemmBatch;
using kernels::GemmOperand;

namespace {

// C = alpha op(A) op(B) + beta C, column-major, as BLAS defines it (beta == 0 ignores C).
void reference_column_major_gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
                                 const double* A, std::int64_t lda, const double* B, std::int64_t ldb, double beta,
                                 double* C, std::int64_t ldc) {
  // cuBLAS rejects leading dimensions below the stored rows.
  REQUIRE(lda >= std::max<std::int64_t>(1, ta ? k : m));
  REQUIRE(ldb >= std::max<std::int64_t>(1, tb ? n : k));
  REQUIRE(ldc >= std::max<std::int64_t>(1, m));
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t i = 0; i < m; ++i) {
      double acc = 0;
      for (std::int64_t p = 0; p < k; ++p) {
        const double a = ta ? A[p + i * lda] : A[i + p * lda];
        const double b = tb ? B[j + p * ldb] : B[p + j * ldb];
        acc += a * b;
      }
      double& c = C[i + j * ldc];
      c = alpha * acc + (beta == 0 ? 0.0 : beta * c);
    }
}

// Runs the mapped calls over the whole batch.
void run_mapped(const ColumnMajorGemm& g, double alpha, double* a, double* b, double beta, double* c) {
  REQUIRE(g.ok);
  double* first = g.swapped ? b : a;
  double* second = g.swapped ? a : b;
  for (std::int64_t o = 0; o < g.outer_count(); ++o) {
    const auto off = g.outer_offsets(o);
    for (std::int64_t i = 0; i < g.count; ++i)
      reference_column_major_gemm(g.trans_first, g.trans_second, g.m, g.n, g.k, alpha,
                                  first + off[0] + i * g.stride_first, g.ld_first,
                                  second + off[1] + i * g.stride_second, g.ld_second, beta,
                                  c + off[2] + i * g.stride_c, g.ldc);
  }
}

// A strided matrix operand of a batch: rows x cols, row-major or column-major with padding.
struct Layout {
  bool column_major;
  std::int64_t pad;
};
GemmOperand strides_of(std::int64_t rows, std::int64_t cols, Layout l) {
  if (l.column_major) return {nullptr, 1, rows + l.pad};
  return {nullptr, cols + l.pad, 1};
}
std::int64_t matrix_extent(std::int64_t rows, std::int64_t cols, const GemmOperand& s) {
  if (rows == 0 || cols == 0) return 0;
  return (rows - 1) * s.rs + (cols - 1) * s.cs + 1;
}

struct Case {
  std::int64_t m, n, k;
  Layout la, lb, lc;
  Shape batch;             // batch sizes
  std::array<bool, 2> broadcast;  // A, B broadcast (stride 0) along every batch dim
  bool coalesce;
};

void check_case(const Case& cs, std::mt19937& rng) {
  INFO("m " << cs.m << " n " << cs.n << " k " << cs.k << " A cm " << cs.la.column_major << " B cm "
            << cs.lb.column_major << " C cm " << cs.lc.column_major << " batch " << cs.batch.size()
            << " bcast " << cs.broadcast[0] << cs.broadcast[1] << " coalesce " << cs.coalesce);
  GemmOperand a = strides_of(cs.m, cs.k, cs.la), b = strides_of(cs.k, cs.n, cs.lb), c = strides_of(cs.m, cs.n, cs.lc);
  const std::int64_t ext[3] = {matrix_extent(cs.m, cs.k, a), matrix_extent(cs.k, cs.n, b),
                               matrix_extent(cs.m, cs.n, c)};
  // Batch strides: row-major over the batch dims, matrices packed one after another (+1 gap).
  GemmBatch batch;
  batch.sizes = cs.batch;
  std::int64_t total[3];
  for (std::size_t o = 0; o < 3; ++o) {
    Shape st(cs.batch.size(), 0);
    std::int64_t step = ext[o] + 1;
    for (std::size_t d = cs.batch.size(); d-- > 0;) {
      st[d] = (o < 2 && cs.broadcast[o]) ? 0 : step;
      if (!(o < 2 && cs.broadcast[o])) step *= cs.batch[d];
    }
    batch.strides[o] = st;
    total[o] = step + 1;
  }
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> A(static_cast<std::size_t>(total[0])), B(static_cast<std::size_t>(total[1])),
      C(static_cast<std::size_t>(total[2]));
  for (auto* v : {&A, &B, &C})
    for (double& x : *v) x = u(rng);
  std::vector<double> expected = C;
  const double alpha = 0.75, beta = -0.5;
  // The row-major reference, straight from the strides.
  std::int64_t count = 1;
  for (std::int64_t s : cs.batch) count *= s;
  for (std::int64_t bi = 0; bi < count; ++bi) {
    std::int64_t off[3] = {0, 0, 0}, rest = bi;
    for (std::size_t d = cs.batch.size(); d-- > 0;) {
      const std::int64_t idx = rest % cs.batch[d];
      rest /= cs.batch[d];
      for (std::size_t o = 0; o < 3; ++o) off[o] += idx * batch.strides[o][d];
    }
    for (std::int64_t i = 0; i < cs.m; ++i)
      for (std::int64_t j = 0; j < cs.n; ++j) {
        double acc = 0;
        for (std::int64_t p = 0; p < cs.k; ++p)
          acc += A[static_cast<std::size_t>(off[0] + i * a.rs + p * a.cs)] *
                 B[static_cast<std::size_t>(off[1] + p * b.rs + j * b.cs)];
        double& e = expected[static_cast<std::size_t>(off[2] + i * c.rs + j * c.cs)];
        e = alpha * acc + (beta == 0 ? 0.0 : beta * e);
      }
  }
  if (cs.coalesce) batch.coalesce();
  const ColumnMajorGemm g = kernels::column_major_gemm(cs.m, cs.n, cs.k, a, b, c, batch);
  REQUIRE(g.outer_count() * g.count == count);
  run_mapped(g, alpha, A.data(), B.data(), beta, C.data());
  for (std::size_t i = 0; i < C.size(); ++i) REQUIRE(C[i] == Approx(expected[i]).margin(1e-12));
}

}  // namespace

TEST_CASE("gemm mapping: every storage order of A, B and C gives the row-major product") {
  std::mt19937 rng(7);
  const std::int64_t dims[] = {1, 2, 5, 7};
  for (std::int64_t m : dims)
    for (std::int64_t n : dims)
      for (std::int64_t k : dims)
        for (int mask = 0; mask < 8; ++mask) {
          const Layout la{(mask & 1) != 0, (m + k) % 2}, lb{(mask & 2) != 0, 1}, lc{(mask & 4) != 0, n % 3};
          check_case({m, n, k, la, lb, lc, {}, {false, false}, false}, rng);
        }
}

TEST_CASE("gemm mapping: batches, broadcast operands (stride 0) and several batch dims") {
  std::mt19937 rng(11);
  const Shape batches[] = {{3}, {2, 3}, {2, 1, 2}};
  for (const Shape& bs : batches)
    for (int mask = 0; mask < 8; ++mask)
      for (int bc = 0; bc < 3; ++bc)
        for (bool coalesce : {false, true}) {
          const Layout la{(mask & 1) != 0, 0}, lb{(mask & 2) != 0, 2}, lc{(mask & 4) != 0, 0};
          check_case({3, 4, 5, la, lb, lc, bs, {bc == 1, bc == 2}, coalesce}, rng);
          check_case({1, 6, 2, la, lb, lc, bs, {bc == 1, bc == 2}, coalesce}, rng);
        }
}

TEST_CASE("gemm mapping: the mapped call swaps operands for a row-major C only") {
  GemmBatch none;
  const GemmOperand a{nullptr, 5, 1}, b{nullptr, 4, 1};
  const ColumnMajorGemm row = kernels::column_major_gemm(3, 4, 5, a, b, GemmOperand{nullptr, 4, 1}, none);
  REQUIRE(row.swapped);
  REQUIRE((row.m == 4 && row.n == 3 && !row.trans_first && !row.trans_second && row.ldc == 4));
  const ColumnMajorGemm col = kernels::column_major_gemm(3, 4, 5, a, b, GemmOperand{nullptr, 1, 3}, none);
  REQUIRE(!col.swapped);
  REQUIRE((col.m == 3 && col.n == 4 && col.trans_first && col.trans_second && col.ldc == 3));
  // An operand with no BLAS layout (both strides non-unit) is reported, not guessed.
  REQUIRE(!kernels::column_major_gemm(3, 4, 5, GemmOperand{nullptr, 10, 2}, b, GemmOperand{nullptr, 4, 1}, none).ok);
}

TEST_CASE("gemm mapping: k == 0 gives alpha * 0 + beta * C with valid leading dimensions") {
  std::mt19937 rng(3);
  for (int mask = 0; mask < 8; ++mask) {
    const Layout la{(mask & 1) != 0, 0}, lb{(mask & 2) != 0, 0}, lc{(mask & 4) != 0, 1};
    check_case({4, 3, 0, la, lb, lc, {}, {false, false}, false}, rng);
    check_case({4, 3, 0, la, lb, lc, {2}, {true, false}, false}, rng);
  }
}
