#pragma once
// Every CUDA runtime call goes through TAPEFLOW_CUDA_CHECK: a failure becomes a
// tapeflow::DeviceError that names the call and CUDA's own error name and text.
#include <cuda_runtime.h>

#include "tapeflow/error.hpp"

namespace tapeflow::cuda_backend {

inline void check(cudaError_t status, const char* call) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  fail<DeviceError>("cuda", call, " failed: ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ")");
}

}  // namespace tapeflow::cuda_backend

#define TAPEFLOW_CUDA_CHECK(call) ::tapeflow::cuda_backend::check((call), #call)
