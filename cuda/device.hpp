#pragma once
// Devices and streams of the CUDA backend (host code; included by .cu and .cpp files of cuda/).
#include <cuda_runtime.h>

#include "tapeflow/device.hpp"

namespace tapeflow::cuda_backend {

// Number of visible CUDA devices (0 when there is no driver or no GPU).
int device_count() noexcept;
// Throws DeviceError naming op unless `device` is a CUDA device this machine has.
void check_device(const char* op, Device device);

// Makes `index` the current device for a scope, restoring the previous one after.
class DeviceGuard {
 public:
  explicit DeviceGuard(int index);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// The stream work for `device` is queued on: the legacy default stream unless set otherwise
// (as PyTorch's default stream), so work is ordered with plain cudaMemcpy and other libraries.
cudaStream_t current_stream(int device);
void set_current_stream(int device, cudaStream_t stream);

// Launch shape for a grid-stride kernel over n items: enough blocks to fill the GPU, no more.
struct LaunchShape {
  unsigned blocks, threads;
};
LaunchShape launch_shape(long long n, unsigned threads = 256);

}  // namespace tapeflow::cuda_backend
