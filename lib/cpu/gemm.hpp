#pragma once
// The CPU GEMM layer: C = alpha * A @ B + beta * C over a batch of strided matrices.
// float32/float64 go to OpenBLAS (transposes taken from strides, no copies); int32/int64 use a
// blocked kernel with wrap-around arithmetic (like PyTorch's integer matmul).
#include <array>
#include <cstdint>

#include "tapeflow/scalar.hpp"
#include "tapeflow/shape.hpp"

namespace tapeflow::cpu {

// One operand: the first matrix of the batch, rows and columns strides in elements.
struct GemmOperand {
  void* data = nullptr;
  std::int64_t rs = 0, cs = 0;
};

// Batch dims shared by the three operands (a, b, c): sizes and element strides (0 = broadcast).
// An empty `sizes` means a single GEMM.
struct GemmBatch {
  Shape sizes;
  std::array<Shape, 3> strides;
  std::int64_t count() const;
  // Drops size-1 dims and merges dims that are one constant stride for all three operands.
  void coalesce();
};

// How BLAS can read a rows x cols matrix with strides (rs, cs) without a copy.
struct BlasLayout {
  bool ok = false;
  bool trans = false;     // true: the matrix is stored column-major (pass CblasTrans)
  std::int64_t ld = 1;    // the leading dimension BLAS needs
};
BlasLayout blas_layout(std::int64_t rows, std::int64_t cols, std::int64_t rs, std::int64_t cs);

// C (m x n) = alpha * A (m x k) @ B (k x n) + beta * C for each matrix of the batch.
// dtype: float32, float64, int32 or int64 (the op layer checks). For floating dtypes, A and B
// must satisfy blas_layout(...).ok, and C must do so without transposing or with it.
// beta == 0 ignores C's previous contents (NaN included), as BLAS does.
void gemm(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, Scalar alpha, const GemmOperand& a,
          const GemmOperand& b, Scalar beta, const GemmOperand& c, GemmBatch batch);

// Sets OpenBLAS's thread count when it differs (one thread whenever our pool is in charge).
void set_blas_threads(int n);

}  // namespace tapeflow::cpu
