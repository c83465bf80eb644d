#pragma once
// CUDA reduction kernels: the semantics, dtypes and output layout of lib/cpu/reduce.hpp (out is a
// fresh contiguous tensor of the kept dims; x any strides), on x's device and current stream.
#include <cstdint>

#include "kernels/params.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::cuda_backend {

using kernels::ReduceMask;

void sum(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void prod(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void mean(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void var(const Tensor& out, const Tensor& x, const ReduceMask& reduced, std::int64_t correction, bool take_sqrt);
void logsumexp(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void norm(const Tensor& out, const Tensor& x, const ReduceMask& reduced, double p);
void amax(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void amin(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void max_with_index(const Tensor& values, const Tensor& indices, const Tensor& x, const ReduceMask& reduced);
void min_with_index(const Tensor& values, const Tensor& indices, const Tensor& x, const ReduceMask& reduced);
void all(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void any(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void cumsum(const Tensor& out, const Tensor& x, std::int64_t dim);

}  // namespace tapeflow::cuda_backend
