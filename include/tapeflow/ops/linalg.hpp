#pragma once
// Linear algebra through BLAS. Transposed views are passed to GEMM as transposes, not copied.
#include "tapeflow/tensor.hpp"

namespace tapeflow {

// PyTorch's matmul rules: 1-D·1-D dot, 2-D mm, 1-D operands promoted and squeezed, and N-D
// batched with broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);    // (n,k) @ (k,m)
Tensor bmm(const Tensor& a, const Tensor& b);   // (B,n,k) @ (B,k,m)
Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, Scalar beta = 1, Scalar alpha = 1);
Tensor dot(const Tensor& a, const Tensor& b);   // 1-D · 1-D
Tensor outer(const Tensor& a, const Tensor& b); // 1-D ⊗ 1-D
Tensor& mm_out(Tensor& out, const Tensor& a, const Tensor& b);

}  // namespace tapeflow
