// Pinned host memory: blocks from cudaHostAlloc, sizes rounded up to powers of two so freed
// blocks fit later requests of similar size (DataLoader batches), kept by size when freed.
// Portable: pinned for every device, whichever thread (DataLoader worker) allocated it.
#include "host_allocator.hpp"

#include <bit>
#include <map>
#include <mutex>
#include <vector>

#include "core/cuda_api.hpp"
#include "cuda_check.hpp"
#include "device.hpp"

namespace tapeflow::cuda_backend {
namespace {

struct PendingUse {
  int device;
  cudaEvent_t event;
};

struct HostBlock {
  std::size_t size = 0;
  bool in_use = false;
  std::vector<PendingUse> uses;  // copies queued from this block, not yet known to be finished
};

class HostAllocator {
 public:
  static HostAllocator& instance() {
    static auto* a = new HostAllocator();  // never destroyed: pinned tensors may outlive statics
    return *a;
  }

  void* allocate(std::size_t nbytes) {
    const std::size_t size = std::bit_ceil(std::max<std::size_t>(nbytes, 512));
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto [it, end] = free_.equal_range(size); it != end; ++it) {
      char* p = it->second;
      if (!uses_finished(blocks_[p])) continue;
      free_.erase(it);
      blocks_[p].in_use = true;
      return p;
    }
    void* p = nullptr;
    cudaError_t status = cudaHostAlloc(&p, size, cudaHostAllocPortable);
    if (status == cudaErrorMemoryAllocation) {  // give back idle cached blocks, then try once more
      cudaGetLastError();
      release_idle();
      status = cudaHostAlloc(&p, size, cudaHostAllocPortable);
    }
    TAPEFLOW_CUDA_CHECK(status);
    blocks_[static_cast<char*>(p)] = HostBlock{size, true, {}};
    return p;
  }

  void deallocate(void* p) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = blocks_.find(static_cast<char*>(p));
    if (it == blocks_.end() || !it->second.in_use) return;
    it->second.in_use = false;
    free_.emplace(it->second.size, it->first);
  }

  void record_use(const void* p, cudaStream_t stream, int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = blocks_.upper_bound(static_cast<char*>(const_cast<void*>(p)));
    if (it == blocks_.begin()) return;
    --it;
    if (static_cast<const char*>(p) >= it->first + it->second.size) return;  // not inside this block
    uses_finished(it->second);  // a long-lived pinned tensor copied every step keeps only pending events
    DeviceGuard guard(device);
    cudaEvent_t event = nullptr;
    TAPEFLOW_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    const cudaError_t status = cudaEventRecord(event, stream);
    if (status != cudaSuccess) cudaEventDestroy(event);
    TAPEFLOW_CUDA_CHECK(status);
    it->second.uses.push_back({device, event});
  }

  void release_idle_locked() {
    std::lock_guard<std::mutex> lock(mutex_);
    release_idle();
  }

 private:
  // Drops the events of finished copies; true when none is left.
  static bool uses_finished(HostBlock& block) {
    std::erase_if(block.uses, [](const PendingUse& u) {
      const cudaError_t status = cudaEventQuery(u.event);
      if (status == cudaErrorNotReady) {
        cudaGetLastError();
        return false;
      }
      cudaEventDestroy(u.event);  // done (or failed: the failure surfaces at the next checked call)
      return true;
    });
    return block.uses.empty();
  }

  void release_idle() {
    for (auto it = free_.begin(); it != free_.end();) {
      auto block = blocks_.find(it->second);
      if (!uses_finished(block->second)) {
        ++it;
        continue;
      }
      TAPEFLOW_CUDA_CHECK(cudaFreeHost(block->first));
      blocks_.erase(block);
      it = free_.erase(it);
    }
  }

  std::mutex mutex_;
  std::map<char*, HostBlock> blocks_;          // every block, by address (finds the block of a pointer)
  std::multimap<std::size_t, char*> free_;     // freed blocks by size
};

}  // namespace

void* host_allocate(std::size_t nbytes) { return HostAllocator::instance().allocate(nbytes); }

void host_deallocate(void* p) noexcept { HostAllocator::instance().deallocate(p); }

bool is_pinned(const void* p) noexcept {
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, p) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return attributes.type == cudaMemoryTypeHost;
}

void record_host_use(const void* p, cudaStream_t stream, int device) {
  HostAllocator::instance().record_use(p, stream, device);
}

void host_empty_cache() { HostAllocator::instance().release_idle_locked(); }

}  // namespace tapeflow::cuda_backend
