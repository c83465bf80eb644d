#pragma once
// softmax / log_softmax along one dim of a contiguous tensor viewed as (outer, n, inner).
#include <cstdint>

#include "tapeflow/tensor.hpp"

namespace tapeflow::cpu {

// out = softmax(x) (or log_softmax when log) over the middle dim; both contiguous, same dtype.
void softmax(const Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner, bool log);

}  // namespace tapeflow::cpu
