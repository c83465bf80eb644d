// Device memory through one caching allocator (core/block_cache.hpp) per GPU: segments come
// from cudaMalloc and go back through cudaFree only when the cache is emptied (by the user, or
// to retry an allocation the device could not satisfy), so ops in steady state never call
// either. Blocks are keyed by the device's current stream; a freed block is reused at once by
// later work on that stream, which runs after the work that used it (as PyTorch).
#include "allocator.hpp"

#include <array>
#include <atomic>
#include <mutex>

#include "core/cuda_api.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "host_allocator.hpp"

namespace tapeflow::cuda_backend {
namespace {

constexpr int kMaxDevices = 64;

void* raw_allocate(int device, std::size_t nbytes) {
  DeviceGuard guard(device);
  void* p = nullptr;
  const cudaError_t status = cudaMalloc(&p, nbytes);
  if (status == cudaErrorMemoryAllocation) {  // the cache's out-of-memory path: empty it and retry
    cudaGetLastError();
    return nullptr;
  }
  TAPEFLOW_CUDA_CHECK(status);
  return p;
}

void raw_free(int device, void* p) {
  DeviceGuard guard(device);
  TAPEFLOW_CUDA_CHECK(cudaFree(p));
}

// The cache of each device, made on first use and never destroyed: storages may be freed by
// other statics' destructors after this unit's, and the driver reclaims memory at exit anyway.
std::array<std::atomic<detail::BlockCache*>, kMaxDevices> caches{};
std::mutex caches_mutex;

detail::BlockCache& cache_of(int device) {
  auto& slot = caches[static_cast<std::size_t>(device)];
  if (detail::BlockCache* c = slot.load(std::memory_order_acquire)) return *c;
  std::lock_guard<std::mutex> lock(caches_mutex);
  if (slot.load() == nullptr)
    slot.store(new detail::BlockCache(
                   Device::cuda(device), [device](std::size_t n) { return raw_allocate(device, n); },
                   [device](void* p) { raw_free(device, p); }),
               std::memory_order_release);
  return *slot.load();
}

detail::BlockCache::StreamKey stream_key(int device) {
  return reinterpret_cast<detail::BlockCache::StreamKey>(current_stream(device));
}

}  // namespace

void* allocate(std::size_t nbytes, int device) { return cache_of(device).allocate(nbytes, stream_key(device)); }

void deallocate(void* p, std::size_t, int device) noexcept {
  try {
    cache_of(device).free(p);
  } catch (...) {  // a pointer the cache did not hand out: a bug elsewhere, but never abort on free
  }
}

detail::BlockCacheStats memory_stats(int device) { return cache_of(device).stats(); }

void reset_peak_memory_stats(int device) { cache_of(device).reset_peak(); }

void empty_cache() {
  for (int d = 0; d < kMaxDevices; ++d)
    if (detail::BlockCache* c = caches[static_cast<std::size_t>(d)].load(std::memory_order_acquire)) {
      synchronize(d);  // blocks freed on the host may still be read by queued kernels
      c->empty_cache();
    }
  host_empty_cache();
}

}  // namespace tapeflow::cuda_backend
