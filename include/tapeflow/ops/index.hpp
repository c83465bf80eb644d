#pragma once
// Index-based selection and scatter.
#include "tapeflow/tensor.hpp"

namespace tapeflow {

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
// A copy of x with src added at the positions index names along dim (duplicates accumulate).
Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_add_(Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);
// int64 class indices -> int64 one-hot along a new last dim (num_classes = -1: max + 1).
Tensor one_hot(const Tensor& indices, std::int64_t num_classes = -1);
// The elements where mask (broadcast to x) is true, as a 1-D tensor.
Tensor masked_select(const Tensor& x, const Tensor& mask);
// Indices of non-zero elements, shape (count, dim).
Tensor nonzero(const Tensor& x);

}  // namespace tapeflow
