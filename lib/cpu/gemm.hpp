#pragma once
// The CPU GEMM layer: C = alpha * A @ B + beta * C over a batch of strided matrices.
// float32/float64 go to OpenBLAS (transposes taken from strides, no copies); int32/int64 use a
// blocked kernel with wrap-around arithmetic (like PyTorch's integer matmul).
#include <array>
#include <cstdint>

#include "tapeflow/scalar.hpp"
#include "tapeflow/shape.hpp"
#include "kernels/params.hpp"

namespace tapeflow::cpu {

using kernels::GemmOperand;
using kernels::GemmBatch;

using kernels::BlasLayout;
using kernels::blas_layout;

// C (m x n) = alpha * A (m x k) @ B (k x n) + beta * C for each matrix of the batch.
// dtype: float32, float64, int32 or int64 (the op layer checks). For floating dtypes, A and B
// must satisfy blas_layout(...).ok, and C must do so without transposing or with it.
// beta == 0 ignores C's previous contents (NaN included), as BLAS does.
void gemm(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, const Scalar& alpha, const GemmOperand& a,
          const GemmOperand& b, const Scalar& beta, const GemmOperand& c, const GemmBatch& batch);

// Sets OpenBLAS's thread count when it differs (one thread whenever our pool is in charge).
void set_blas_threads(int n);

}  // namespace tapeflow::cpu
