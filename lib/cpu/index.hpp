#pragma once
// Index kernels: gather / scatter-add along one dim, range checks, one_hot and nonzero.
// Views passed here already have the iteration shape; indices are int32 or int64.
#include "tapeflow/tensor.hpp"

namespace tapeflow::cpu {

// Throws IndexError naming op unless every value of index lies in [0, size).
void check_index_range(const char* op, const Tensor& index, std::int64_t dim, std::int64_t size);

// out[p] = x_view[p] shifted by index[p] * dim_stride elements, for every position p of out's
// shape. x_view has out's shape and stride 0 along the gathered dim; index may broadcast
// (stride 0), which turns rows sharing one index into plain strided copies.
void gather(const Tensor& out, const Tensor& x_view, const Tensor& index, std::int64_t dim_stride);

// x_view[p + index[p] * dim_stride] += src[p] over index's shape (x_view, src: views of that
// shape, x_view with stride 0 along dim). Duplicate indices accumulate; the work is split only
// across dims other than dim, so no two threads touch the same element.
void scatter_add(const Tensor& x_view, const Tensor& index, const Tensor& src, std::int64_t dim,
                 std::int64_t dim_stride);

// out (contiguous int64, shape indices.shape + (classes)) = one-hot rows of indices
// (contiguous int32/int64, values already checked to lie in [0, classes)).
void one_hot(const Tensor& out, const Tensor& indices);

// Number of non-zero elements of x, and their multi-indices as rows of out (count, x.dim()).
std::int64_t count_nonzero(const Tensor& x);
void nonzero_indices(const Tensor& out, const Tensor& x);

}  // namespace tapeflow::cpu
