#pragma once
// A block of device memory shared by a tensor and all its views, with the version counter
// that in-place ops bump (autograd uses it to detect saved tensors modified after saving).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "tapeflow/device.hpp"

namespace tapeflow {

class Storage {
 public:
  using Deleter = std::function<void(void*)>;

  // Allocates nbytes on device through the device's allocator (CPU memory is 64-byte aligned).
  static std::shared_ptr<Storage> allocate(std::size_t nbytes, Device device);
  // Wraps memory the caller owns; deleter (may be empty) runs when the last view is gone.
  static std::shared_ptr<Storage> wrap(void* data, std::size_t nbytes, Device device, Deleter deleter);

  Storage(void* data, std::size_t nbytes, Device device, Deleter deleter, bool from_allocator);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  std::uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_;
  std::size_t nbytes_;
  Device device_;
  Deleter deleter_;
  bool from_allocator_;
  std::atomic<std::uint64_t> version_{0};
};

namespace cpu_allocator {
// Freed CPU blocks above 1 KiB are cached (up to 2 GiB idle) and reused for the same size, so
// fresh outputs pay neither mmap + page faults nor malloc's bookkeeping on every op; each thread
// also keeps its last few freed blocks up to 256 KiB for itself. cached_bytes() reports the
// shared cache plus the calling thread's blocks; empty_cache() releases both (another thread's
// few recent blocks stay with it until it reuses them or exits). Blocks of 2 MiB and more start
// on a 2 MiB boundary and are advised for transparent huge pages (madvise), which keeps large
// elementwise ops from stalling on TLB misses.
std::size_t cached_bytes();
void empty_cache();
}  // namespace cpu_allocator

}  // namespace tapeflow
