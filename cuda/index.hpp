#pragma once
// Index kernels on CUDA devices, the contract of kernels::Backend's index family (see
// lib/cpu/index.hpp): strided views of any layout (OffsetCalc, 32-bit index math when the
// offsets fit), int32/int64 indices. Host synchronisation only where the host needs a value:
// the range check (one flag read back, to throw IndexError naming the first bad value seen) and
// count_nonzero (one count read back).
#include <cstdint>

#include "tapeflow/tensor.hpp"

namespace tapeflow::cuda_backend {

void check_index_range(const char* op, const Tensor& index, std::int64_t dim, std::int64_t size);
void gather(const Tensor& out, const Tensor& x_view, const Tensor& index, std::int64_t dim_stride);
// Duplicate indices accumulate through atomicAdd (float sums in an unspecified order).
void scatter_add(const Tensor& x_view, const Tensor& index, const Tensor& src, std::int64_t dim,
                 std::int64_t dim_stride);
void one_hot(const Tensor& out, const Tensor& indices);
std::int64_t count_nonzero(const Tensor& x);
// x contiguous; out (count, x.dim()) int64, count = count_nonzero(x), row-major order.
void nonzero_indices(const Tensor& out, const Tensor& x);

}  // namespace tapeflow::cuda_backend
