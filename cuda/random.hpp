#pragma once
// CUDA random kernels: the same draws as lib/cpu/random.hpp (same contracts, same values for the
// same seed and generator offset: the emitters of kernels/random_draws.hpp), queued on the
// current stream of the output's device. The generator's offset advances on the host, so no
// draw waits for the GPU.
#include "tapeflow/random.hpp"

namespace tapeflow::cuda_backend {

void uniform(const Tensor& out, double from, double to, Generator& gen);
void normal(const Tensor& out, double mean, double std, Generator& gen);
void randint(const Tensor& out, std::int64_t low, std::uint64_t range, Generator& gen);
void bernoulli(const Tensor& out, double p, Generator& gen);
void bernoulli(const Tensor& out, const Tensor& p, Generator& gen);
// Fisher-Yates is sequential: the permutation is made on the host exactly as the CPU backend
// makes it (the same permutation for the same seed), then copied to the device.
void randperm(const Tensor& out, Generator& gen);
void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, Generator& gen);

}  // namespace tapeflow::cuda_backend
