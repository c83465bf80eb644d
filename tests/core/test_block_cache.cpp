// The caching allocator's policy (lib/core/block_cache), driven by a fake device that counts
// its raw allocations and can be made to run out of memory.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "core/block_cache.hpp"
#include "tapeflow/error.hpp"

using namespace tapeflow;
using detail::BlockCache;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

// A device with `capacity` bytes: raw_alloc returns nullptr past it, as cudaMalloc reports OOM.
struct FakeDevice {
  std::size_t capacity = std::size_t{1} << 40;
  std::size_t used = 0;
  int raw_allocs = 0, raw_frees = 0, failed_allocs = 0;
  std::map<void*, std::size_t> live;

  void* alloc(std::size_t n) {
    if (used + n > capacity) {
      ++failed_allocs;
      return nullptr;
    }
    void* p = std::malloc(n);  // never touched: the cache must not write through its pointers
    REQUIRE(p != nullptr);
    live[p] = n;
    used += n;
    ++raw_allocs;
    return p;
  }
  void release(void* p) {
    auto it = live.find(p);
    REQUIRE(it != live.end());
    used -= it->second;
    live.erase(it);
    std::free(p);
    ++raw_frees;
  }
  BlockCache::RawAlloc alloc_fn() {
    return [this](std::size_t n) { return alloc(n); };
  }
  BlockCache::RawFree free_fn() {
    return [this](void* p) { release(p); };
  }
  ~FakeDevice() {
    for (auto& [p, n] : live) std::free(p);
  }
};

std::uintptr_t addr(void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace

TEST_CASE("block sizes round to 512 bytes and segments follow PyTorch's sizes") {
  REQUIRE(BlockCache::round_size(0) == 512);
  REQUIRE(BlockCache::round_size(1) == 512);
  REQUIRE(BlockCache::round_size(512) == 512);
  REQUIRE(BlockCache::round_size(513) == 1024);
  REQUIRE(BlockCache::round_size(kMiB + 1) == kMiB + 512);
  REQUIRE(BlockCache::segment_size(512) == 2 * kMiB);
  REQUIRE(BlockCache::segment_size(kMiB) == 2 * kMiB);
  REQUIRE(BlockCache::segment_size(kMiB + 512) == 20 * kMiB);
  REQUIRE(BlockCache::segment_size(10 * kMiB - 512) == 20 * kMiB);
  REQUIRE(BlockCache::segment_size(10 * kMiB) == 10 * kMiB);
  REQUIRE(BlockCache::segment_size(10 * kMiB + 1) == 12 * kMiB);
  REQUIRE(BlockCache::segment_size(33 * kMiB) == 34 * kMiB);
}

TEST_CASE("small requests share one 2 MiB segment, split at 512-byte offsets") {
  FakeDevice dev;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  void* a = cache.allocate(100);
  void* b = cache.allocate(1000);
  void* c = cache.allocate(512);
  REQUIRE(dev.raw_allocs == 1);
  REQUIRE(addr(b) == addr(a) + 512);
  REQUIRE(addr(c) == addr(b) + 1024);
  const auto s = cache.stats();
  REQUIRE(s.allocated == 512 + 1024 + 512);
  REQUIRE(s.reserved == 2 * kMiB);
  REQUIRE(s.alloc_count == 3);
  REQUIRE(s.raw_alloc_count == 1);
  cache.free(a);
  cache.free(b);
  cache.free(c);
  REQUIRE(cache.stats().allocated == 0);
  REQUIRE(cache.stats().free_count == 3);
  REQUIRE(cache.stats().reserved == 2 * kMiB);  // kept for reuse
  REQUIRE(dev.raw_frees == 0);
}

TEST_CASE("a freed block is reused for a request that fits, best fit first") {
  FakeDevice dev;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  void* big = cache.allocate(4096);
  void* keep1 = cache.allocate(512);
  void* small = cache.allocate(1024);
  void* keep2 = cache.allocate(512);
  cache.free(big);    // free holes of 4096 and 1024 bytes, separated by live blocks
  cache.free(small);
  REQUIRE(cache.allocate(1000) == small);  // the 1024 hole fits best
  REQUIRE(cache.allocate(3000) == big);    // 3072 of the 4096 hole; 1024 stays free behind it
  REQUIRE(cache.allocate(1024) == static_cast<char*>(big) + 3072);
  REQUIRE(dev.raw_allocs == 1);
  (void)keep1;
  (void)keep2;
}

TEST_CASE("freed neighbours merge back into one block spanning the segment") {
  FakeDevice dev;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  void* a = cache.allocate(512);
  void* b = cache.allocate(512);
  void* c = cache.allocate(512);
  cache.free(a);
  cache.free(c);  // c merges with the free tail of the segment
  cache.free(b);  // b merges with a before it and the tail after it
  // One free block spans the segment again, so a 1 MiB request starts at its beginning.
  REQUIRE(cache.allocate(kMiB) == a);
  cache.free(a);
  cache.empty_cache();  // only possible when every split was merged back
  REQUIRE(dev.raw_frees == 1);
  REQUIRE(cache.stats().reserved == 0);
}

TEST_CASE("large requests use 20 MiB segments below 10 MiB and their own rounded segment above") {
  FakeDevice dev;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  // Own segment of 12 MiB (rounded to 2 MiB); the remainder of under 1 MiB is not split off.
  void* c = cache.allocate(11 * kMiB + 7);
  REQUIRE(dev.raw_allocs == 1);
  REQUIRE(cache.stats().reserved == 12 * kMiB);
  REQUIRE(cache.stats().allocated == 12 * kMiB);
  void* a = cache.allocate(3 * kMiB);
  void* b = cache.allocate(5 * kMiB);  // same 20 MiB segment
  REQUIRE(dev.raw_allocs == 2);
  REQUIRE(addr(b) == addr(a) + 3 * kMiB);
  REQUIRE(cache.stats().reserved == 12 * kMiB + 20 * kMiB);
  // The 12 MiB left in that segment fit this one whole, again without a split.
  void* d = cache.allocate(11 * kMiB + 512);
  REQUIRE(dev.raw_allocs == 2);
  REQUIRE(addr(d) == addr(b) + 5 * kMiB);
  REQUIRE(cache.stats().allocated == 12 * kMiB + 3 * kMiB + 5 * kMiB + 12 * kMiB);
  // Small and large pools never mix: a small request gets a 2 MiB segment of its own.
  cache.free(a);
  void* e = cache.allocate(100);
  REQUIRE(dev.raw_allocs == 3);
  REQUIRE(cache.stats().reserved == 20 * kMiB + 12 * kMiB + 2 * kMiB);
  for (void* p : {b, c, d, e}) cache.free(p);
  REQUIRE(cache.stats().allocated == 0);
}

TEST_CASE("steady state: a training-step pattern makes no raw calls after the first step") {
  FakeDevice dev;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  const std::vector<std::size_t> sizes = {4 * 256 * 4, 256 * 10 * 4, 64 * kMiB, 3 * kMiB, 100, 5 * kMiB + 3, 8};
  auto step = [&] {
    std::vector<void*> live;
    for (std::size_t n : sizes) live.push_back(cache.allocate(n));
    for (std::size_t i = 0; i < live.size(); i += 2) cache.free(live[i]);  // out of order frees
    for (std::size_t i = 1; i < live.size(); i += 2) cache.free(live[i]);
  };
  step();
  const int allocs_after_first = dev.raw_allocs;
  const auto reserved = cache.stats().reserved;
  for (int i = 0; i < 50; ++i) step();
  REQUIRE(dev.raw_allocs == allocs_after_first);
  REQUIRE(dev.raw_frees == 0);
  REQUIRE(cache.stats().reserved == reserved);
  REQUIRE(cache.stats().alloc_count == 51 * sizes.size());
  REQUIRE(cache.stats().free_count == 51 * sizes.size());
}

TEST_CASE("blocks belong to their stream: other streams never reuse them") {
  FakeDevice dev;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  void* a = cache.allocate(4096, /*stream=*/1);
  cache.free(a);
  void* b = cache.allocate(4096, /*stream=*/2);
  REQUIRE(b != a);
  REQUIRE(dev.raw_allocs == 2);  // stream 2 got its own segment
  REQUIRE(cache.allocate(4096, 1) == a);
  cache.free(b);
  REQUIRE(cache.allocate(4096, 2) == b);
  REQUIRE(dev.raw_allocs == 2);
}

TEST_CASE("peak statistics follow the high-water mark until reset") {
  FakeDevice dev;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  void* a = cache.allocate(3 * kMiB);
  void* b = cache.allocate(2 * kMiB);
  cache.free(b);
  auto s = cache.stats();
  REQUIRE(s.allocated == 3 * kMiB);
  REQUIRE(s.max_allocated == 5 * kMiB);
  REQUIRE(s.max_reserved == 20 * kMiB);
  cache.reset_peak();
  REQUIRE(cache.stats().max_allocated == 3 * kMiB);
  void* c = cache.allocate(512);
  REQUIRE(cache.stats().max_allocated == 3 * kMiB + 512);
  cache.free(a);
  cache.free(c);
  REQUIRE(cache.stats().max_allocated == 3 * kMiB + 512);
}

TEST_CASE("empty_cache releases only segments with nothing handed out") {
  FakeDevice dev;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  void* small_live = cache.allocate(512);
  void* small_freed = cache.allocate(kMiB);  // the same 2 MiB segment
  void* large = cache.allocate(30 * kMiB);
  void* large2 = cache.allocate(12 * kMiB);
  cache.free(small_freed);
  cache.free(large);
  REQUIRE(cache.stats().reserved == 2 * kMiB + 30 * kMiB + 12 * kMiB);
  cache.empty_cache();
  REQUIRE(dev.raw_frees == 1);  // the 30 MiB segment; the small one still holds small_live
  REQUIRE(cache.stats().reserved == 2 * kMiB + 12 * kMiB);
  REQUIRE(dev.used == 2 * kMiB + 12 * kMiB);
  cache.free(small_live);
  cache.free(large2);
  cache.empty_cache();
  REQUIRE(cache.stats().reserved == 0);
  REQUIRE(dev.live.empty());
  REQUIRE(cache.stats().raw_free_count == 3);
}

TEST_CASE("out of memory: the cache is emptied and the request retried once") {
  FakeDevice dev;
  dev.capacity = 40 * kMiB;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  void* a = cache.allocate(30 * kMiB);
  cache.free(a);  // 30 MiB cached, 10 MiB left on the device
  void* b = cache.allocate(20 * kMiB);  // fits in the cached 30 MiB block
  REQUIRE(b == a);
  cache.free(b);
  void* c = cache.allocate(36 * kMiB);  // needs the cached segment back
  REQUIRE(dev.failed_allocs == 1);
  REQUIRE(dev.raw_frees == 1);
  REQUIRE(cache.stats().reserved == 36 * kMiB);
  REQUIRE(cache.stats().allocated == 36 * kMiB);
  cache.free(c);
}

TEST_CASE("out of memory after the retry throws OutOfMemoryError with the sizes, and the cache stays usable") {
  FakeDevice dev;
  dev.capacity = 64 * kMiB;
  BlockCache cache(Device::cuda(1), dev.alloc_fn(), dev.free_fn());
  void* live = cache.allocate(24 * kMiB);
  void* cached = cache.allocate(5 * kMiB);  // a 20 MiB segment, freed below but kept
  cache.free(cached);
  std::string message;
  try {
    cache.allocate(std::size_t{3} << 30);
    FAIL("no exception");
  } catch (const OutOfMemoryError& e) {
    message = e.what();
  }
  INFO(message);
  REQUIRE(message.find("[allocate]") == 0);
  REQUIRE(message.find("cuda:1") != std::string::npos);
  REQUIRE(message.find("3.00 GiB (3221225472 bytes)") != std::string::npos);
  REQUIRE(message.find("24.00 MiB (25165824 bytes) allocated") != std::string::npos);
  REQUIRE(message.find("24.00 MiB (25165824 bytes) reserved") != std::string::npos);  // the cached 20 MiB went back
  REQUIRE(dev.failed_allocs == 2);  // the first try and the retry
  REQUIRE(cache.stats().oom_count == 1);
  // Still usable: small requests work, and the live block can be freed and reused.
  void* s = cache.allocate(1000);
  cache.free(s);
  cache.free(live);
  REQUIRE(cache.allocate(24 * kMiB) == live);
  // OutOfMemoryError is a DeviceError, so existing handlers catch it.
  REQUIRE_THROWS_AS(cache.allocate(std::size_t{1} << 36), DeviceError);
}

TEST_CASE("freeing a pointer the cache did not hand out is an error, not corruption") {
  FakeDevice dev;
  BlockCache cache(Device::cuda(0), dev.alloc_fn(), dev.free_fn());
  void* a = cache.allocate(512);
  int local = 0;
  REQUIRE_THROWS_AS(cache.free(&local), ValueError);
  cache.free(a);
  REQUIRE_THROWS_WITH(cache.free(a), Catch::Contains("freed twice"));
}

TEST_CASE("the cache is thread safe: concurrent allocate/free keep the books balanced") {
  FakeDevice dev;
  std::mutex dev_mutex;  // the fake device itself is not thread safe; calls come under the cache's lock anyway
  BlockCache cache(
      Device::cuda(0),
      [&](std::size_t n) {
        std::lock_guard<std::mutex> l(dev_mutex);
        return dev.alloc(n);
      },
      [&](void* p) {
        std::lock_guard<std::mutex> l(dev_mutex);
        dev.release(p);
      });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      std::vector<void*> live;
      for (int i = 0; i < 2000; ++i) {
        live.push_back(cache.allocate(static_cast<std::size_t>((i * 7919 + t * 31) % 300000 + 1), t % 2));
        if (live.size() > 8) {
          cache.free(live.front());
          live.erase(live.begin());
        }
      }
      for (void* p : live) cache.free(p);
    });
  }
  for (auto& th : threads) th.join();
  const auto s = cache.stats();
  REQUIRE(s.allocated == 0);
  REQUIRE(s.alloc_count == 8000);
  REQUIRE(s.free_count == 8000);
  // Every handed-out range was distinct while live: after merging, every segment is one free block.
  cache.empty_cache();
  REQUIRE(cache.stats().reserved == 0);
  REQUIRE(dev.live.empty());
}

TEST_CASE("format_bytes picks a readable unit and keeps the exact count") {
  REQUIRE(detail::format_bytes(100) == "100 bytes");
  REQUIRE(detail::format_bytes(1536) == "1.50 KiB (1536 bytes)");
  REQUIRE(detail::format_bytes(std::size_t{5} << 30) == "5.00 GiB (5368709120 bytes)");
}
