#pragma once
// The elementwise cases bench_elementwise (CPU) and bench_cuda (GPU) share, with the bytes each
// call moves for n float32 elements: binary ops 3 x, unary 2 x, sum 1 x (as STREAM counts).
#include <cstdint>
#include <vector>

#include "common/suite.hpp"

namespace benchmarks {

inline std::vector<Case> elementwise_cases(std::int64_t n) {
  const double bytes = static_cast<double>(n) * sizeof(float);
  return {
      {"add", "add, c = a + b", 3 * bytes},
      {"add_inplace", "add in place, a += b", 3 * bytes},
      {"mul", "mul, c = a * b", 3 * bytes},
      {"mul_inplace", "mul in place, a *= b", 3 * bytes},
      {"relu", "relu, c = relu(a)", 2 * bytes},
      {"relu_inplace", "relu in place", 2 * bytes},
      {"exp", "exp, c = exp(a)", 2 * bytes},
      {"exp_out", "exp into an existing tensor", 2 * bytes},
      {"sum", "sum to a scalar", bytes},
  };
}

}  // namespace benchmarks
