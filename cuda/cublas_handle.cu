// Per-thread, per-device cuBLAS handles. They are never destroyed: a handle lives as long as its
// thread (usually the process), and destroying handles from thread-exit or static destructors
// can run after the CUDA driver has shut down (PyTorch leaks its pool at exit for that reason).
#include "cublas_handle.hpp"

#include <array>

#include "cublas_api.hpp"
#include "cublas_check.hpp"
#include "device.hpp"

namespace tapeflow::cuda_backend {
namespace {

constexpr int kMaxDevices = 64;

}  // namespace

cublasHandle_t cublas_handle(int device) {
  thread_local std::array<cublasHandle_t, kMaxDevices> handles{};
  if (device < 0 || device >= kMaxDevices) fail<DeviceError>("cublas", "device index ", device, " out of range");
  cublasHandle_t& h = handles[static_cast<std::size_t>(device)];
  const CublasApi& api = cublas();
  if (h == nullptr) {
    TAPEFLOW_CUBLAS_CHECK(api.cublasCreate(&h));
    // Exact float32, as the CPU backend: no TF32 tensor-core math, which would round float32
    // inputs to 10-bit mantissas (CUBLAS_DEFAULT_MATH is cuBLAS's default; set it explicitly).
    TAPEFLOW_CUBLAS_CHECK(api.cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    TAPEFLOW_CUBLAS_CHECK(api.cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
  }
  TAPEFLOW_CUBLAS_CHECK(api.cublasSetStream(h, current_stream(device)));
  return h;
}

}  // namespace tapeflow::cuda_backend
