#pragma once
// Reductions over all dims or a list of dims (negative dims count from the end).
// sum of integer/bool tensors gives int64 (as in PyTorch); mean/var/std need floating input.
#include <optional>
#include <utility>

#include "tapeflow/tensor.hpp"

namespace tapeflow {

Tensor sum(const Tensor& x, std::optional<DType> dtype = std::nullopt);
Tensor sum(const Tensor& x, IntArrayRef dims, bool keepdim = false, std::optional<DType> dtype = std::nullopt);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, IntArrayRef dims, bool keepdim = false);
Tensor prod(const Tensor& x);
Tensor prod(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor amax(const Tensor& x, IntArrayRef dims = {}, bool keepdim = false);  // all dims if empty
Tensor amin(const Tensor& x, IntArrayRef dims = {}, bool keepdim = false);
Tensor max(const Tensor& x);  // over everything
Tensor min(const Tensor& x);
std::pair<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim = false);  // values, indices
std::pair<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false);
// correction = 1 is the unbiased (Bessel) estimate, 0 the population one.
Tensor var(const Tensor& x, IntArrayRef dims = {}, std::int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, IntArrayRef dims = {}, std::int64_t correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& x, IntArrayRef dims, bool keepdim = false);
// Vector p-norm over dims (all if empty); p may be 1, 2, any positive value, or infinity.
Tensor norm(const Tensor& x, Scalar p = 2, IntArrayRef dims = {}, bool keepdim = false);
Tensor cumsum(const Tensor& x, std::int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor all(const Tensor& x);
Tensor any(const Tensor& x);

}  // namespace tapeflow
