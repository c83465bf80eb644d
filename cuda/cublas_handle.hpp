#pragma once
// cuBLAS handles: one per host thread and device (a handle must not be used by two threads at
// once), created on first use and bound to the device's current stream on every request, so
// GEMMs are ordered with the other kernels of that stream.
#include <cublas_v2.h>

namespace tapeflow::cuda_backend {

// The calling thread's handle for `device` (which must be the current device), set to
// current_stream(device). Math mode: CUBLAS_DEFAULT_MATH, so float32 GEMMs stay exact float32
// (no TF32 tensor-core rounding), the same numbers as the CPU backend's sgemm up to summation
// order. Throws DeviceError naming the failing cuBLAS call.
cublasHandle_t cublas_handle(int device);

}  // namespace tapeflow::cuda_backend
