// BlockCache: segments from raw_alloc, carved into blocks; free blocks kept in pools ordered by
// (stream, size, address) so best fit is one lower_bound; a segment's blocks form a doubly
// linked list in address order, so a freed block merges with free neighbours in O(1).
#include "core/block_cache.hpp"

#include <cstdio>
#include <set>
#include <unordered_map>
#include <vector>

#include "tapeflow/error.hpp"

namespace tapeflow::detail {

struct BlockCache::Block {
  char* ptr;
  std::size_t size;
  StreamKey stream;
  bool small;              // which pool it belongs to
  bool allocated = false;  // handed out (not in a pool)
  Block* prev = nullptr;   // neighbours in the same segment, in address order
  Block* next = nullptr;
};

namespace {
struct BlockOrder {
  template <typename B>
  bool operator()(const B* a, const B* b) const {
    if (a->stream != b->stream) return a->stream < b->stream;
    if (a->size != b->size) return a->size < b->size;
    return reinterpret_cast<std::uintptr_t>(a->ptr) < reinterpret_cast<std::uintptr_t>(b->ptr);
  }
};
}  // namespace

struct BlockCache::Pools {
  std::set<Block*, BlockOrder> small, large;
  std::unordered_map<void*, Block*> active;
  std::set<Block*, BlockOrder>& of(bool is_small) { return is_small ? small : large; }
  std::set<Block*, BlockOrder>& of(const Block* b) { return of(b->small); }
};

std::string format_bytes(std::size_t nbytes) {
  static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(nbytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char buf[64];
  if (unit == 0) std::snprintf(buf, sizeof buf, "%zu bytes", nbytes);
  else std::snprintf(buf, sizeof buf, "%.2f %s (%zu bytes)", value, kUnits[unit], nbytes);
  return buf;
}

BlockCache::BlockCache(Device device, RawAlloc raw_alloc, RawFree raw_free)
    : device_(device), raw_alloc_(std::move(raw_alloc)), raw_free_(std::move(raw_free)), pools_(new Pools) {}

BlockCache::~BlockCache() {
  try {
    release_unused_segments();
  } catch (...) {  // the device may be gone at exit; nothing better to do than forget the memory
  }
  std::vector<Block*> rest(pools_->small.begin(), pools_->small.end());
  rest.insert(rest.end(), pools_->large.begin(), pools_->large.end());
  for (auto& [p, block] : pools_->active) rest.push_back(block);
  for (Block* b : rest) delete b;
}

std::size_t BlockCache::round_size(std::size_t nbytes) {
  if (nbytes < kMinBlockSize) return kMinBlockSize;
  return (nbytes + kMinBlockSize - 1) / kMinBlockSize * kMinBlockSize;
}

std::size_t BlockCache::segment_size(std::size_t rounded) {
  if (rounded <= kSmallSize) return kSmallBuffer;
  if (rounded < kMinLargeAlloc) return kLargeBuffer;
  return (rounded + kRoundLarge - 1) / kRoundLarge * kRoundLarge;
}

void* BlockCache::allocate(std::size_t nbytes, StreamKey stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t size = round_size(nbytes);
  const bool small = size <= kSmallSize;
  Block* block = find_free_block(size, stream, small);
  if (block == nullptr) block = new_segment(size, stream, small, nbytes);
  block = split(block, size);
  block->allocated = true;
  pools_->active.emplace(block->ptr, block);
  stats_.allocated += block->size;
  stats_.max_allocated = std::max(stats_.max_allocated, stats_.allocated);
  ++stats_.alloc_count;
  return block->ptr;
}

BlockCache::Block* BlockCache::find_free_block(std::size_t size, StreamKey stream, bool small) {
  auto& pool = pools_->of(small);
  Block key{nullptr, size, stream, small};
  auto it = pool.lower_bound(&key);
  if (it == pool.end() || (*it)->stream != stream) return nullptr;
  Block* block = *it;
  pool.erase(it);
  return block;
}

BlockCache::Block* BlockCache::new_segment(std::size_t size, StreamKey stream, bool small, std::size_t requested) {
  const std::size_t bytes = small ? kSmallBuffer : segment_size(size);
  void* p = raw_alloc_(bytes);
  if (p == nullptr) {  // the device is full: give back what the cache holds and try once more
    release_unused_segments();
    p = raw_alloc_(bytes);
    if (p == nullptr) {
      ++stats_.oom_count;
      throw_out_of_memory(requested, bytes);
    }
  }
  stats_.reserved += bytes;
  stats_.max_reserved = std::max(stats_.max_reserved, stats_.reserved);
  ++stats_.raw_alloc_count;
  return new Block{static_cast<char*>(p), bytes, stream, small};
}

// Keeps the first `size` bytes of a free block; a remainder worth keeping becomes a free block.
BlockCache::Block* BlockCache::split(Block* block, std::size_t size) {
  const std::size_t remaining = block->size - size;
  const bool worth_it = block->small ? remaining >= kMinBlockSize : remaining > kSmallSize;
  if (!worth_it) return block;
  auto* rest = new Block{block->ptr + size, remaining, block->stream, block->small};
  rest->prev = block;
  rest->next = block->next;
  if (block->next != nullptr) block->next->prev = rest;
  block->next = rest;
  block->size = size;
  pools_->of(rest).insert(rest);
  return block;
}

void BlockCache::free(void* p) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = pools_->active.find(p);
  if (it == pools_->active.end())
    fail<ValueError>("free", "pointer ", p, " on ", device_, " was not handed out by this allocator (or freed twice)");
  Block* block = it->second;
  pools_->active.erase(it);
  stats_.allocated -= block->size;
  ++stats_.free_count;
  block->allocated = false;
  auto& pool = pools_->of(block);
  if (Block* prev = block->prev; prev != nullptr && !prev->allocated) {  // absorb into the free block before
    pool.erase(prev);
    prev->size += block->size;
    prev->next = block->next;
    if (block->next != nullptr) block->next->prev = prev;
    delete block;
    block = prev;
  }
  if (Block* next = block->next; next != nullptr && !next->allocated) {  // absorb the free block after
    pool.erase(next);
    block->size += next->size;
    block->next = next->next;
    if (next->next != nullptr) next->next->prev = block;
    delete next;
  }
  pool.insert(block);
}

void BlockCache::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_unused_segments();
}

// A free block with no neighbours spans its whole segment: nothing in it is handed out.
void BlockCache::release_unused_segments() {
  for (auto* pool : {&pools_->small, &pools_->large}) {
    for (auto it = pool->begin(); it != pool->end();) {
      Block* b = *it;
      if (b->prev != nullptr || b->next != nullptr) {
        ++it;
        continue;
      }
      raw_free_(b->ptr);
      stats_.reserved -= b->size;
      ++stats_.raw_free_count;
      it = pool->erase(it);
      delete b;
    }
  }
}

void BlockCache::throw_out_of_memory(std::size_t requested, std::size_t segment) {
  fail<OutOfMemoryError>("allocate", "out of memory on ", device_, ": tried to allocate ", format_bytes(requested),
                         " (a new segment of ", format_bytes(segment), "); ", format_bytes(stats_.allocated),
                         " allocated by tapeflow, ", format_bytes(stats_.reserved),
                         " reserved in its cache (after releasing the unused cache and retrying once)");
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void BlockCache::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.max_allocated = stats_.allocated;
  stats_.max_reserved = stats_.reserved;
}

}  // namespace tapeflow::detail
