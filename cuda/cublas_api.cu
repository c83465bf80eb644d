// Loads cuBLAS on first use (see cublas_api.hpp).
#include "cublas_api.hpp"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <string>

#include "core/cuda_api.hpp"
#include "tapeflow/error.hpp"

// A function's exported name after cublas_v2.h's renaming: "cublasSgemm_v2" for cublasSgemm.
#define TAPEFLOW_SYMBOL_NAME(f) TAPEFLOW_SYMBOL_NAME_EXPANDED(f)
#define TAPEFLOW_SYMBOL_NAME_EXPANDED(f) #f

namespace tapeflow::cuda_backend {
namespace {

const std::string kLibrary = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);

// The folder of the CUDA runtime library this process loaded (where the toolkit keeps cuBLAS
// too), or "" when the loader cannot say.
std::string cudart_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&cudaGetDeviceCount), &info) == 0 || info.dli_fname == nullptr) return "";
  const std::string path = info.dli_fname;
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

void* open_library() {
  if (void* lib = dlopen(kLibrary.c_str(), RTLD_NOW | RTLD_LOCAL)) return lib;
  const std::string first_error = dlerror();
  const std::string beside_cudart = cudart_folder();
  if (!beside_cudart.empty())
    if (void* lib = dlopen((beside_cudart + kLibrary).c_str(), RTLD_NOW | RTLD_LOCAL)) return lib;
  fail<DeviceError>("cublas", "cannot load ", kLibrary, " (", first_error,
                    "): GPU matmul and conv2d need cuBLAS ", CUBLAS_VER_MAJOR,
                    "; add the CUDA toolkit's library folder to LD_LIBRARY_PATH");
}

template <class F>
void resolve(void* lib, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (fn == nullptr) fail<DeviceError>("cublas", kLibrary, " has no function ", name, " (", dlerror(), ")");
}

CublasApi load() {
  void* lib = open_library();
  CublasApi api{};
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasCreate), api.cublasCreate);
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasSetStream), api.cublasSetStream);
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasSetMathMode), api.cublasSetMathMode);
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasSetPointerMode), api.cublasSetPointerMode);
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasSgemm), api.cublasSgemm);
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasDgemm), api.cublasDgemm);
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasSgemmStridedBatched), api.cublasSgemmStridedBatched);
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasDgemmStridedBatched), api.cublasDgemmStridedBatched);
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasGetStatusName), api.cublasGetStatusName);
  resolve(lib, TAPEFLOW_SYMBOL_NAME(cublasGetStatusString), api.cublasGetStatusString);
  return api;
}

}  // namespace

const CublasApi& cublas() {
  static const CublasApi api = load();  // a throw leaves it unset: the next call tries again
  return api;
}

void load_cublas() { (void)cublas(); }

}  // namespace tapeflow::cuda_backend
