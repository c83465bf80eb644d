#pragma once
// Device memory of the CUDA backend: every tensor's storage on a GPU comes from here.
#include <cstddef>

namespace tapeflow::cuda_backend {

// nbytes of memory on `device` (any alignment CUDA gives, >= 256 bytes); throws DeviceError.
void* allocate(std::size_t nbytes, int device);
// Returns memory from allocate(); it may be reused by later allocations on the same stream.
void deallocate(void* p, std::size_t nbytes, int device) noexcept;

}  // namespace tapeflow::cuda_backend
