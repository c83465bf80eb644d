#pragma once
// Grid-stride loops over n items for the kernels of the matmul/conv/pool/index families: a
// kernel walks `for (long long i = first_item(); i < n; i += item_step())`, and launch_items
// sizes the grid with launch_shape (no launch for n == 0) and checks the launch.
#include "cuda_check.hpp"
#include "device.hpp"

namespace tapeflow::cuda_backend {

__device__ inline long long first_item() { return blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; }
__device__ inline long long item_step() { return static_cast<long long>(blockDim.x) * gridDim.x; }

// kernel<<<grid for n items, 256 threads, 0, stream>>>(args...); the caller holds a DeviceGuard.
template <class Kernel, class... Args>
void launch_items(long long n, cudaStream_t stream, Kernel kernel, Args... args) {
  if (n == 0) return;
  const LaunchShape ls = launch_shape(n);
  kernel<<<ls.blocks, ls.threads, 0, stream>>>(args...);
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
}

}  // namespace tapeflow::cuda_backend
