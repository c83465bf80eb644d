#pragma once
// The policy of a caching device allocator (PyTorch's CUDA caching allocator), written without
// any device API so the CPU tests drive it with fake callbacks. Memory comes from the device in
// segments (raw_alloc); a segment is carved into blocks handed to tensors; a freed block goes
// back to a free pool (merged with free neighbours of its segment) and is reused by later
// requests of its stream, so a training loop in steady state never calls raw_alloc/raw_free.
//
// Sizes: requests round up to 512 bytes. Requests up to 1 MiB come from the small pool, whose
// segments are 2 MiB; larger ones from the large pool, whose segments are 20 MiB for requests
// under 10 MiB and the request rounded up to 2 MiB otherwise. A free block is split when the
// remainder is worth keeping (>= 512 bytes in the small pool, > 1 MiB in the large pool).
//
// Streams: each block belongs to the stream it was allocated on (an opaque key). A freed block
// is reused at once by allocations on the same stream, which the stream orders after the work
// that used it; other streams never see it.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "tapeflow/device.hpp"

namespace tapeflow::detail {

struct BlockCacheStats {
  std::size_t allocated = 0;      // bytes in blocks handed out (rounded sizes)
  std::size_t reserved = 0;       // bytes in segments obtained from raw_alloc
  std::size_t max_allocated = 0;  // peak of allocated since construction or reset_peak()
  std::size_t max_reserved = 0;   // peak of reserved since construction or reset_peak()
  std::uint64_t alloc_count = 0;      // allocate() calls that returned a block
  std::uint64_t free_count = 0;       // free() calls
  std::uint64_t raw_alloc_count = 0;  // successful raw_alloc calls (segments obtained)
  std::uint64_t raw_free_count = 0;   // raw_free calls (segments released)
  std::uint64_t oom_count = 0;        // requests that failed even after emptying the cache
};

class BlockCache {
 public:
  using StreamKey = std::uintptr_t;
  // Returns nbytes of device memory, or nullptr when the device is out of memory (other
  // failures throw). raw_free returns memory obtained from raw_alloc.
  using RawAlloc = std::function<void*(std::size_t nbytes)>;
  using RawFree = std::function<void(void* p)>;

  static constexpr std::size_t kMinBlockSize = 512;
  static constexpr std::size_t kSmallSize = std::size_t{1} << 20;        // largest small-pool request
  static constexpr std::size_t kSmallBuffer = std::size_t{2} << 20;      // small-pool segment
  static constexpr std::size_t kLargeBuffer = std::size_t{20} << 20;     // segment for mid-size requests
  static constexpr std::size_t kMinLargeAlloc = std::size_t{10} << 20;   // from here segments fit the request
  static constexpr std::size_t kRoundLarge = std::size_t{2} << 20;       // ... rounded up to 2 MiB

  // device: named in out-of-memory messages.
  BlockCache(Device device, RawAlloc raw_alloc, RawFree raw_free);
  // Releases every segment; blocks still in use are leaked to their owners' raw memory.
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A block of at least nbytes (0 gives the minimum block) for use on stream. When raw_alloc
  // fails, releases every unused cached segment and retries once; then throws
  // OutOfMemoryError giving the request, the device, and the allocated and reserved bytes.
  void* allocate(std::size_t nbytes, StreamKey stream = 0);
  // Returns a block from allocate(); throws ValueError for a pointer it did not hand out.
  void free(void* p);
  // Releases every segment none of whose memory is handed out.
  void empty_cache();

  BlockCacheStats stats() const;
  void reset_peak();  // max_allocated/max_reserved start again from the current values
  Device device() const { return device_; }

  static std::size_t round_size(std::size_t nbytes);      // what a request of nbytes occupies
  static std::size_t segment_size(std::size_t rounded);   // the segment a new request reserves

 private:
  struct Block;
  struct Pools;

  Block* find_free_block(std::size_t size, StreamKey stream, bool small);
  Block* new_segment(std::size_t size, StreamKey stream, bool small, std::size_t requested);
  Block* split(Block* block, std::size_t size);
  void release_unused_segments();
  [[noreturn]] void throw_out_of_memory(std::size_t requested, std::size_t segment);

  const Device device_;
  const RawAlloc raw_alloc_;
  const RawFree raw_free_;
  mutable std::mutex mutex_;
  std::unique_ptr<Pools> pools_;
  BlockCacheStats stats_;
};

// "1.50 MiB (1572864 bytes)": sizes in out-of-memory messages.
std::string format_bytes(std::size_t nbytes);

}  // namespace tapeflow::detail
