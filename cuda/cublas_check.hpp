#pragma once
// Every cuBLAS call goes through TAPEFLOW_CUBLAS_CHECK: a failure becomes a tapeflow::DeviceError
// that names the call and cuBLAS's status name and text (as cuda_check.hpp for the runtime).
#include "cublas_api.hpp"

#include "tapeflow/error.hpp"

namespace tapeflow::cuda_backend {

inline void check(cublasStatus_t status, const char* call) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  const CublasApi& api = cublas();  // loaded: the failed call came from it
  fail<DeviceError>("cublas", call, " failed: ", api.cublasGetStatusName(status), " (", api.cublasGetStatusString(status),
                    ")");
}

}  // namespace tapeflow::cuda_backend

#define TAPEFLOW_CUBLAS_CHECK(call) ::tapeflow::cuda_backend::check((call), #call)
