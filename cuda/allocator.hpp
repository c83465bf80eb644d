#pragma once
// Device memory of the CUDA backend: every tensor's storage on a GPU comes from the caching
// allocator of its device (cuda/allocator.cu); statistics and empty_cache are declared with the
// rest of the device API in core/cuda_api.hpp.
#include <cstddef>

namespace tapeflow::cuda_backend {

// nbytes of memory on `device` for use on its current stream (512-byte aligned blocks);
// throws OutOfMemoryError when the device is full even after the cache was emptied.
void* allocate(std::size_t nbytes, int device);
// Returns memory from allocate(); it may be reused at once by later work on the same stream.
void deallocate(void* p, std::size_t nbytes, int device) noexcept;

}  // namespace tapeflow::cuda_backend
