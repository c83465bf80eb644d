// Device memory straight from cudaMalloc/cudaFree (the caching allocator replaces this).
#include "allocator.hpp"

#include "cuda_check.hpp"
#include "device.hpp"

namespace tapeflow::cuda_backend {

void* allocate(std::size_t nbytes, int device) {
  DeviceGuard guard(device);
  void* p = nullptr;
  TAPEFLOW_CUDA_CHECK(cudaMalloc(&p, nbytes == 0 ? 1 : nbytes));
  return p;
}

void deallocate(void* p, std::size_t, int device) noexcept {
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess) return;  // runtime already unloaded at exit
  cudaSetDevice(device);
  cudaFree(p);
  cudaSetDevice(previous);
}

}  // namespace tapeflow::cuda_backend
