#pragma once
// What the core library asks of the CUDA backend (defined in cuda/*.cu when TAPEFLOW_WITH_CUDA
// is set). No CUDA types here: lib/core/cuda_api.cpp, which builds with or without CUDA, calls
// these only in CUDA builds. Device indices are valid (checked by the caller).
#include <cstddef>
#include <cstdint>

#include "core/block_cache.hpp"

namespace tapeflow::cuda_backend {

int device_count() noexcept;
int current_device();
void set_device(int device);
void synchronize(int device);

// The caching allocator of each device (cuda/allocator.cu).
detail::BlockCacheStats memory_stats(int device);
void reset_peak_memory_stats(int device);
void empty_cache();  // every device whose cache exists, and idle pinned host blocks

// Events (cuda/event_timer.cu): a handle owns a cudaEvent_t and the device it was made on.
void* event_create_recorded();  // a new event recorded on the current device's current stream
void event_record(void* event);  // again, on the current device's current stream
void event_synchronize(void* event);
bool event_query(void* event);
double event_elapsed_ms(void* start, void* end);
void event_destroy(void* event) noexcept;

// Page-locked host memory (cuda/host_allocator.cu).
void* host_allocate(std::size_t nbytes);
void host_deallocate(void* p) noexcept;
bool is_pinned(const void* p) noexcept;

// Opens cuBLAS now (cuda/cublas_api.cu; GEMMs open it on first use) and resolves every function
// the backend calls; DeviceError when it cannot. Needs no GPU.
void load_cublas();

}  // namespace tapeflow::cuda_backend

namespace tapeflow::detail {

// For Tensor::pin_memory/is_pinned, in builds with or without CUDA (lib/core/cuda_api.cpp):
// nbytes of page-locked host memory, freed by pinned_host_free; DeviceError naming op when the
// build has no CUDA or the machine no GPU (as PyTorch). is_pinned_host is false without CUDA.
void* pinned_host_allocate(const char* op, std::size_t nbytes);
void pinned_host_free(void* p) noexcept;
bool is_pinned_host(const void* p) noexcept;

// cuda_backend::load_cublas in CUDA builds; DeviceError without CUDA (for the test that cuBLAS
// loads on demand and not at start-up).
void load_cublas();

}  // namespace tapeflow::detail
