#pragma once
// Row-major GEMM (kernels::Backend::gemm: C = alpha A @ B + beta C over strided operands and a
// strided batch) as a call of a column-major BLAS such as cuBLAS, without copying anything:
//   - a row-major C (unit column stride) is a column-major C^T, and C^T = B^T A^T: the BLAS
//     call computes it with the operands swapped (first = B, second = A) and m, n swapped;
//   - a column-major C (unit row stride, e.g. a transposed output view) is passed as it is;
//   - each operand is read as stored (row- or column-major, from blas_layout) and marked
//     transposed where its storage order differs from what the BLAS argument needs.
// The batch is split into its innermost dim (one strided-batched call, strides may be 0 for a
// broadcast operand) and outer dims (a host loop over calls), with first/second strides
// following the swap. Backend-neutral; tested on the CPU against a reference column-major gemm.
#include <array>
#include <cstdint>

#include "kernels/params.hpp"

namespace tapeflow::kernels {

// One column-major BLAS call: C (m x n, ldc) = alpha op(first) (m x k) @ op(second) (k x n)
// + beta C, repeated `count` times with the given element strides between matrices.
struct ColumnMajorGemm {
  bool ok = false;             // false: some operand has no BLAS layout (copy it first)
  bool swapped = false;        // first = B and second = A (a row-major C)
  bool trans_first = false, trans_second = false;
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t ld_first = 1, ld_second = 1, ldc = 1;
  // Innermost batch dim: count and element strides of first, second, c.
  std::int64_t count = 1;
  std::int64_t stride_first = 0, stride_second = 0, stride_c = 0;
  // Outer batch dims (row-major, outermost first): sizes and strides of first, second, c.
  Shape outer_sizes;
  std::array<Shape, 3> outer_strides;

  std::int64_t outer_count() const {
    std::int64_t c = 1;
    for (std::int64_t s : outer_sizes) c *= s;
    return c;
  }
  // Element offsets of outer batch position i in first, second and c.
  std::array<std::int64_t, 3> outer_offsets(std::int64_t i) const {
    std::array<std::int64_t, 3> off{0, 0, 0};
    for (std::size_t d = outer_sizes.size(); d-- > 0;) {
      const std::int64_t idx = i % outer_sizes[d];
      i /= outer_sizes[d];
      for (std::size_t o = 0; o < 3; ++o) off[o] += idx * outer_strides[o][d];
    }
    return off;
  }
};

// A leading dimension BLAS accepts for a matrix of `rows` stored rows it never reads (k == 0).
inline std::int64_t unread_ld(std::int64_t rows) { return rows > 1 ? rows : 1; }

// The column-major call for C (m x n) = A (m x k) @ B (k x n) with the operands' strides and a
// (coalesced or not) batch. Empty problems (m, n or count 0) are the caller's to skip.
inline ColumnMajorGemm column_major_gemm(std::int64_t m, std::int64_t n, std::int64_t k, const GemmOperand& a,
                                         const GemmOperand& b, const GemmOperand& c, const GemmBatch& batch) {
  ColumnMajorGemm g;
  const BlasLayout lc = blas_layout(m, n, c.rs, c.cs);
  BlasLayout la = blas_layout(m, k, a.rs, a.cs), lb = blas_layout(k, n, b.rs, b.cs);
  if (k == 0) la = lb = {true, false, 1};  // BLAS reads neither; lds are set below
  if (!lc.ok || !la.ok || !lb.ok) return g;
  g.ok = true;
  g.swapped = !lc.trans;
  g.ldc = lc.ld;
  if (g.swapped) {
    // Column-major C^T (n x m) = B^T (n x k) @ A^T (k x m). A row-major matrix is its
    // transpose in column-major order, so B^T needs no transpose when B is row-major.
    g.m = n;
    g.n = m;
    g.trans_first = lb.trans;
    g.trans_second = la.trans;
    g.ld_first = lb.ld;
    g.ld_second = la.ld;
  } else {
    // Column-major C = A @ B: a row-major operand is the transpose of what BLAS reads.
    g.m = m;
    g.n = n;
    g.trans_first = !la.trans;
    g.trans_second = !lb.trans;
    g.ld_first = la.ld;
    g.ld_second = lb.ld;
  }
  g.k = k;
  if (k == 0) {  // the stored rows of op(first) (m x k) and op(second) (k x n)
    g.ld_first = unread_ld(g.trans_first ? k : g.m);
    g.ld_second = unread_ld(g.trans_second ? g.n : k);
  }
  // first/second follow the swap; the innermost batch dim becomes the strided-batched one.
  const std::size_t fa = g.swapped ? 1 : 0, sa = g.swapped ? 0 : 1;
  const std::size_t nd = batch.sizes.size();
  if (nd > 0) {
    g.count = batch.sizes[nd - 1];
    g.stride_first = batch.strides[fa][nd - 1];
    g.stride_second = batch.strides[sa][nd - 1];
    g.stride_c = batch.strides[2][nd - 1];
    for (std::size_t d = 0; d + 1 < nd; ++d) {
      g.outer_sizes.push_back(batch.sizes[d]);
      g.outer_strides[0].push_back(batch.strides[fa][d]);
      g.outer_strides[1].push_back(batch.strides[sa][d]);
      g.outer_strides[2].push_back(batch.strides[2][d]);
    }
  }
  return g;
}

}  // namespace tapeflow::kernels
