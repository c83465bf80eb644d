#pragma once
// CPU reduction kernels. `reduced[d]` says whether input dim d is reduced; `out` is a fresh
// contiguous tensor holding the kept dims in order (with or without keepdim's size-1 dims).
// The op layer has already validated dtypes, dims and emptiness.
#include <cstdint>
#include <vector>

#include "tapeflow/tensor.hpp"
#include "kernels/params.hpp"

namespace tapeflow::cpu {

using kernels::ReduceMask;

// out: same dtype for float input, int64 for bool/int32/int64.
void sum(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void prod(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
// Floating input only; out has x's dtype.
void mean(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void var(const Tensor& out, const Tensor& x, const ReduceMask& reduced, std::int64_t correction, bool take_sqrt);
void logsumexp(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
// p: 0 (count of nonzeros), any positive value, or +infinity.
void norm(const Tensor& out, const Tensor& x, const ReduceMask& reduced, double p);
// out has x's dtype; NaN propagates.
void amax(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void amin(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
// Extremum and its first position (row-major over the reduced dims); values may be undefined.
void max_with_index(const Tensor& values, const Tensor& indices, const Tensor& x, const ReduceMask& reduced);
void min_with_index(const Tensor& values, const Tensor& indices, const Tensor& x, const ReduceMask& reduced);
// out: bool.
void all(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
void any(const Tensor& out, const Tensor& x, const ReduceMask& reduced);
// The sum of a contiguous float run, vectorised (double lanes), for other kernels' long runs.
double contiguous_sum(const float* p, std::int64_t n);

// Inclusive scan along dim; out is contiguous with x's shape, float dtype same, else int64.
void cumsum(const Tensor& out, const Tensor& x, std::int64_t dim);

}  // namespace tapeflow::cpu
