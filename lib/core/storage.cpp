// Storage and the CPU allocator. Blocks above the small-block size are kept in a size-keyed
// cache when freed and handed out again, so a loop producing fresh outputs of the same sizes
// (a training step) pays neither mmap + page faults for big blocks (measured: 3x slower add on
// 16M floats) nor glibc's memalign/free with consolidation for mid-size ones (~600
// instructions a call, 0.3 us on a 64 x 64 matmul).
#include "tapeflow/storage.hpp"

#include <cstdlib>
#include <map>
#include <mutex>

#include "core/cpu_allocator.hpp"
#include "core/small_alloc.hpp"
#include "kernels/backend.hpp"
#include "tapeflow/error.hpp"

namespace tapeflow {
namespace {

constexpr std::size_t kAlignment = 64;
constexpr std::size_t kCacheMin = detail::kSmallBlockMax + 1;  // smaller ones: per-thread free lists
constexpr std::size_t kPageGranuleMin = std::size_t{1} << 20;  // from here sizes round to pages
constexpr std::size_t kCacheLimit = std::size_t{2} << 30;   // keep at most 2 GiB idle

class CpuAllocator {
 public:
  static CpuAllocator& instance() {
    static CpuAllocator* a = new CpuAllocator();  // never destroyed: storages may outlive statics
    return *a;
  }
  void* allocate(std::size_t nbytes) {
    if (nbytes <= detail::kSmallBlockMax) return detail::small_alloc(nbytes);
    const std::size_t size = round_up(nbytes);
    if (size >= kCacheMin) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        cached_ -= size;
        return p;
      }
    }
    void* p = std::aligned_alloc(kAlignment, size);
    if (!p) fail<Error>("alloc", "out of memory allocating ", nbytes, " bytes");
    return p;
  }
  void deallocate(void* p, std::size_t nbytes) {
    if (nbytes <= detail::kSmallBlockMax) return detail::small_free(p, nbytes);
    const std::size_t size = round_up(nbytes);
    if (size >= kCacheMin) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + size <= kCacheLimit) {
        free_.emplace(size, p);
        cached_ += size;
        return;
      }
    }
    std::free(p);
  }
  std::size_t cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }
  void empty() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, p] : free_) std::free(p);
    free_.clear();
    cached_ = 0;
  }

 private:
  static std::size_t round_up(std::size_t n) {
    if (n == 0) n = 1;
    const std::size_t granule = n >= kPageGranuleMin ? 4096 : kAlignment;
    return (n + granule - 1) / granule * granule;
  }
  std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;
  std::size_t cached_ = 0;
};

}  // namespace

std::shared_ptr<Storage> Storage::allocate(std::size_t nbytes, Device device) {
  // CPU memory skips the backend lookup: tiny ops allocate on every call.
  void* p = device.is_cpu() ? CpuAllocator::instance().allocate(nbytes) : kernels::on(device).allocate(nbytes, device);
  return detail::make_small_shared<Storage>(p, nbytes, device, Deleter{}, true);
}

std::shared_ptr<Storage> Storage::wrap(void* data, std::size_t nbytes, Device device, Deleter deleter) {
  return detail::make_small_shared<Storage>(data, nbytes, device, std::move(deleter), false);
}

Storage::Storage(void* data, std::size_t nbytes, Device device, Deleter deleter, bool from_allocator)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)), from_allocator_(from_allocator) {}

Storage::~Storage() {
  if (from_allocator_) {
    if (device_.is_cpu()) CpuAllocator::instance().deallocate(data_, nbytes_);
    else kernels::on(device_).deallocate(data_, nbytes_, device_);
  } else if (deleter_) deleter_(data_);
}

namespace cpu_allocator {
void* allocate(std::size_t nbytes) { return CpuAllocator::instance().allocate(nbytes); }
void deallocate(void* p, std::size_t nbytes) { CpuAllocator::instance().deallocate(p, nbytes); }
std::size_t cached_bytes() { return CpuAllocator::instance().cached(); }
void empty_cache() { CpuAllocator::instance().empty(); }
}  // namespace cpu_allocator

}  // namespace tapeflow
