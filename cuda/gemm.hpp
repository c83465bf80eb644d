#pragma once
// Matmul on CUDA devices: C = alpha * A @ B + beta * C over a batch of strided matrices, the
// contract of kernels::Backend::gemm (lib/cpu/gemm.hpp describes it). float32/float64 run on
// cuBLAS (row-major through kernels/gemm_mapping.hpp, transposed views read in place, batches
// strided-batched); int32/int64 (and any k == 0) run on a tiled kernel with wrap-around
// arithmetic, as the CPU.
#include <cstdint>

#include "kernels/params.hpp"
#include "tapeflow/scalar.hpp"

namespace tapeflow::cuda_backend {

void gemm(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, Scalar alpha, const kernels::GemmOperand& a,
          const kernels::GemmOperand& b, Scalar beta, const kernels::GemmOperand& c, kernels::GemmBatch batch);

}  // namespace tapeflow::cuda_backend
