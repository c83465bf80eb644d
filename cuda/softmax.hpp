#pragma once
// CUDA softmax / log_softmax along the middle dim of a contiguous (outer, n, inner) tensor: the
// semantics of lib/cpu/softmax.hpp (stable: max subtracted first; sums in the input dtype).
#include <cstdint>

#include "tapeflow/tensor.hpp"

namespace tapeflow::cuda_backend {

void softmax(const Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner, bool log);

}  // namespace tapeflow::cuda_backend
