// The device half of tapeflow::cuda (core/cuda_api.hpp): the current device and synchronisation.
// Indices arrive checked by lib/core/cuda_api.cpp.
#include "core/cuda_api.hpp"
#include "cuda_check.hpp"
#include "device.hpp"

namespace tapeflow::cuda_backend {

int current_device() {
  int device = 0;
  TAPEFLOW_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

void set_device(int device) { TAPEFLOW_CUDA_CHECK(cudaSetDevice(device)); }

void synchronize(int device) {
  DeviceGuard guard(device);
  TAPEFLOW_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace tapeflow::cuda_backend
