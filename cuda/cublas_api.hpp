#pragma once
// cuBLAS, opened on first use instead of linked. Linking libcublas costs every process that
// loads tapeflow ~60 ms and ~220 MB of resident memory at start-up (cuBLAS's and cuBLASLt's
// static initialisers), with or without a GPU, matmul or not: an empty program linked to it took
// 0.06 s and 219 MB, against 0.00 s and 1 MB (2-vCPU Xeon, CUDA 13.0). Only a GPU matmul (or
// conv2d, which runs GEMMs) pays for it now, once.
#include <cublas_v2.h>

namespace tapeflow::cuda_backend {

// The cuBLAS functions the backend calls. The members carry the functions' own names, which
// cublas_v2.h's macros map as they map the functions (cublasSgemm -> cublasSgemm_v2), so a call
// reads `api.cublasSgemm(...)` and a failed call's message names the cuBLAS function.
struct CublasApi {
  decltype(&::cublasCreate) cublasCreate;
  decltype(&::cublasSetStream) cublasSetStream;
  decltype(&::cublasSetMathMode) cublasSetMathMode;
  decltype(&::cublasSetPointerMode) cublasSetPointerMode;
  decltype(&::cublasSgemm) cublasSgemm;
  decltype(&::cublasDgemm) cublasDgemm;
  decltype(&::cublasSgemmStridedBatched) cublasSgemmStridedBatched;
  decltype(&::cublasDgemmStridedBatched) cublasDgemmStridedBatched;
  decltype(&::cublasGetStatusName) cublasGetStatusName;
  decltype(&::cublasGetStatusString) cublasGetStatusString;
};

// cuBLAS of the major version the backend was compiled against (libcublas.so.<major>), looked up
// as the dynamic loader looks up libraries (LD_LIBRARY_PATH, tapeflow's run path, the loader's
// cache), then beside the CUDA runtime tapeflow loaded. Loaded once per process and never
// unloaded. Throws DeviceError naming the library and the loader's reason when it cannot be
// loaded or lacks a function (a later call tries again).
const CublasApi& cublas();

}  // namespace tapeflow::cuda_backend
