#pragma once
// CPU random kernels. Each writes a contiguous output whose element i depends only on the
// generator's seed, the counters this call reserves, and i (see core/philox.hpp for the layout,
// kernels/random_draws.hpp for the draws, shared with the CUDA backend), so any thread count
// gives the same bits.
#include "tapeflow/random.hpp"

namespace tapeflow::cpu {

// out: contiguous float32/float64. U[from, to) and N(mean, std).
void uniform(const Tensor& out, double from, double to, Generator& gen);
void normal(const Tensor& out, double mean, double std, Generator& gen);
// out: contiguous numeric; low + an integer uniform in [0, range), range >= 1.
void randint(const Tensor& out, std::int64_t low, std::uint64_t range, Generator& gen);
// out: contiguous, any dtype; 1 with probability p (scalar) or p[i] (contiguous, same numel).
void bernoulli(const Tensor& out, double p, Generator& gen);
void bernoulli(const Tensor& out, const Tensor& p, Generator& gen);
// out: contiguous int64 of n elements; a uniformly random permutation of 0..n-1.
void randperm(const Tensor& out, Generator& gen);
// out and x: contiguous, same floating dtype; mask (bool, contiguous) is written when defined.
// Each element is kept with probability 1 - p (p < 1) and scaled by 1 / (1 - p).
void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, Generator& gen);

}  // namespace tapeflow::cpu
