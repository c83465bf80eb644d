#pragma once
// Page-locked ("pinned") host memory for Tensor::pin_memory, cached for reuse like device
// memory. A host-to-device copy from a pinned block is read by the GPU on the stream, so the copy
// records an event on the block (copy() also waits for it today: it has no non_blocking option);
// a freed block is handed out again only once every copy that read it has finished (PyTorch's
// CachingHostAllocator). host_allocate/host_deallocate/is_pinned are declared in core/cuda_api.hpp.
#include <cuda_runtime.h>

namespace tapeflow::cuda_backend {

// Notes that queued work on `stream` of `device` reads host memory at p; nothing when p is not
// in a pinned block of this allocator.
void record_host_use(const void* p, cudaStream_t stream, int device);
// Returns cached pinned blocks no copy still reads to the driver.
void host_empty_cache();

}  // namespace tapeflow::cuda_backend
