// The CPU allocator. Blocks above the small-block size are cached when freed and handed out
// again for the same size, so a loop producing fresh outputs of the same sizes (a training step)
// pays neither mmap + page faults for big blocks (measured: 3x slower add on 16M floats) nor
// glibc's memalign/free with consolidation for mid-size ones (~600 instructions a call, 0.3 us
// on a 64 x 64 matmul).
//
// Two levels, both free of allocation in steady state:
//  - each thread keeps its last few freed blocks up to kThreadBlockMax in a small stack it
//    searches without a lock (an op loop on one thread takes back what it just returned);
//  - behind it, a shared cache under a mutex: one list per size, linked through the free
//    blocks' own first bytes.
// The thread stacks shaved ~0.1 us (a lock pair and a hash lookup on each side) off every op
// with a mid-size output; a 64 x 64 matmul is 2.1 us.
#include "core/cpu_allocator.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "core/fast_tls.hpp"
#include "core/small_alloc.hpp"
#include "tapeflow/error.hpp"
#include "tapeflow/storage.hpp"

namespace tapeflow::cpu_allocator {
namespace {

constexpr std::size_t kAlignment = 64;
constexpr std::size_t kPageGranuleMin = std::size_t{1} << 20;  // from here sizes round to pages
constexpr std::size_t kHugePage = std::size_t{2} << 20;        // x86-64's transparent huge page
constexpr std::size_t kCacheLimit = std::size_t{2} << 30;      // keep at most 2 GiB idle (shared)
constexpr std::size_t kThreadSlots = 8;
constexpr std::size_t kThreadBlockMax = std::size_t{256} << 10;  // bigger blocks skip the thread stacks

std::size_t round_up(std::size_t n) {
  if (n == 0) n = 1;
  const std::size_t granule = n >= kPageGranuleMin ? 4096 : kAlignment;
  return (n + granule - 1) / granule * granule;
}

// A free block's first bytes hold the next free block of its size.
void*& next_of(void* block) { return *static_cast<void**>(block); }

class SharedCache {
 public:
  static SharedCache& instance() {
    static SharedCache* c = new SharedCache();  // never destroyed: storages may outlive statics
    return *c;
  }
  void* take(std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it == free_.end() || !it->second) return nullptr;
    void* p = it->second;
    it->second = next_of(p);
    cached_ -= size;
    return p;
  }
  // False when the cache is full (the caller frees the block).
  bool give(void* p, std::size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ + size > kCacheLimit) return false;
    void*& head = free_[size];
    next_of(p) = head;
    head = p;
    cached_ += size;
    return true;
  }
  std::size_t cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }
  void empty() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, head] : free_)
      for (void* p = head; p;) {
        void* next = next_of(p);
        std::free(p);
        p = next;
      }
    free_.clear();
    cached_ = 0;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::size_t, void*> free_;  // size -> first free block (null: none now)
  std::size_t cached_ = 0;
};

// Frees run in destructors: a failure to cache (the map out of memory) frees the block instead.
void give_or_free(void* p, std::size_t size) noexcept {
  bool cached = false;
  try {
    cached = SharedCache::instance().give(p, size);
  } catch (...) {
  }
  if (!cached) std::free(p);
}

// The calling thread's recently freed blocks, newest last. Plain data for the fast TLS model;
// a separate object hands the blocks to the shared cache when the thread exits.
struct ThreadBlocks {
  std::size_t sizes[kThreadSlots];
  void* blocks[kThreadSlots];
  std::size_t count;
};
TAPEFLOW_FAST_TLS thread_local ThreadBlocks t_blocks;
// 0: not in use yet, 1: in use, 2: thread exiting (everything goes to the shared cache).
TAPEFLOW_FAST_TLS thread_local unsigned char t_blocks_state = 0;

void flush_thread_blocks() {
  for (std::size_t i = 0; i < t_blocks.count; ++i) give_or_free(t_blocks.blocks[i], t_blocks.sizes[i]);
  t_blocks.count = 0;
}

struct ThreadExitFlush {
  ~ThreadExitFlush() {
    t_blocks_state = 2;
    flush_thread_blocks();
  }
};

// The thread's stack, or null once the thread is exiting.
ThreadBlocks* thread_blocks() {
  if (t_blocks_state == 0) {
    thread_local ThreadExitFlush flush;  // constructed once per thread
    (void)flush;
    t_blocks_state = 1;
  }
  return t_blocks_state == 1 ? &t_blocks : nullptr;
}

std::size_t thread_cached() {
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < t_blocks.count; ++i) bytes += t_blocks.sizes[i];
  return bytes;
}

// Blocks of 2 MiB and more start on a 2 MiB boundary and ask for transparent huge pages (a
// hint: it fails harmlessly where the kernel has none; Debian's default, THP "madvise", honours
// it). With 4 KiB pages a stream over 64 MiB misses the TLB every 4 KiB and page walks hold it
// back: exp on 16M floats, one core, 46 -> 58 GB/s, and the same for every large elementwise op.
// The alignment costs up to 2 MiB of address space per block, not memory (never touched).
// posix_memalign, unlike aligned_alloc, takes a size that is not a multiple of the alignment.
void* huge_page_block(std::size_t size) {
  void* p = nullptr;
  if (posix_memalign(&p, kHugePage, size) != 0) return nullptr;
  madvise(p, size, MADV_HUGEPAGE);
  return p;
}

}  // namespace

void* allocate(std::size_t nbytes) {
  if (nbytes <= detail::kSmallBlockMax) return detail::small_alloc(nbytes);
  const std::size_t size = round_up(nbytes);
  if (ThreadBlocks* t = size <= kThreadBlockMax ? thread_blocks() : nullptr) {
    for (std::size_t i = t->count; i-- > 0;) {
      if (t->sizes[i] != size) continue;
      void* p = t->blocks[i];
      --t->count;  // the last entry fills the hole (order within the stack hardly matters)
      t->sizes[i] = t->sizes[t->count];
      t->blocks[i] = t->blocks[t->count];
      return p;
    }
  }
  if (void* p = SharedCache::instance().take(size)) return p;
  void* p = size >= kHugePage ? huge_page_block(size) : std::aligned_alloc(kAlignment, size);
  if (!p) fail<Error>("alloc", "out of memory allocating ", nbytes, " bytes");
  return p;
}

void deallocate(void* p, std::size_t nbytes) noexcept {
  if (nbytes <= detail::kSmallBlockMax) return detail::small_free(p, nbytes);
  const std::size_t size = round_up(nbytes);
  if (ThreadBlocks* t = size <= kThreadBlockMax ? thread_blocks() : nullptr) {
    if (t->count == kThreadSlots) {  // full: the oldest block moves to the shared cache
      give_or_free(t->blocks[0], t->sizes[0]);
      for (std::size_t i = 1; i < kThreadSlots; ++i) {
        t->sizes[i - 1] = t->sizes[i];
        t->blocks[i - 1] = t->blocks[i];
      }
      --t->count;
    }
    t->sizes[t->count] = size;
    t->blocks[t->count] = p;
    ++t->count;
    return;
  }
  give_or_free(p, size);
}

std::size_t cached_bytes() { return SharedCache::instance().cached() + (t_blocks_state == 1 ? thread_cached() : 0); }

void empty_cache() {
  if (t_blocks_state == 1) flush_thread_blocks();
  SharedCache::instance().empty();
}

}  // namespace tapeflow::cpu_allocator
