// The CPU allocator (lib/core/cpu_allocator.cpp): freed blocks above 1 KiB come back for the same
// size, first from the freeing thread's own stack, then from the shared cache; cached_bytes and
// empty_cache account for both; a thread's blocks move to the shared cache when it exits.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/cpu_allocator.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {
constexpr std::size_t kKiB = 1024;
bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }
}  // namespace

TEST_CASE("a freed mid-size block is handed out again for the same size, and only for it") {
  cpu_allocator::empty_cache();
  REQUIRE(cpu_allocator::cached_bytes() == 0);
  void* a = cpu_allocator::allocate(16 * kKiB);
  REQUIRE(aligned64(a));
  std::memset(a, 0x5a, 16 * kKiB);  // the whole block is usable
  cpu_allocator::deallocate(a, 16 * kKiB);
  CHECK(cpu_allocator::cached_bytes() == 16 * kKiB);
  // Another size does not take it.
  void* b = cpu_allocator::allocate(20 * kKiB);
  CHECK(b != a);
  CHECK(cpu_allocator::cached_bytes() == 16 * kKiB);
  // Sizes round to 64 bytes: 16 KiB - 10 bytes is the same block size.
  void* c = cpu_allocator::allocate(16 * kKiB - 10);
  CHECK(c == a);
  CHECK(cpu_allocator::cached_bytes() == 0);
  cpu_allocator::deallocate(b, 20 * kKiB);
  cpu_allocator::deallocate(c, 16 * kKiB - 10);
  CHECK(cpu_allocator::cached_bytes() == 36 * kKiB);
  cpu_allocator::empty_cache();
  CHECK(cpu_allocator::cached_bytes() == 0);
}

TEST_CASE("more freed blocks than a thread keeps spill into the shared cache, none lost") {
  cpu_allocator::empty_cache();
  // 20 distinct sizes, more than the thread's stack holds; then big blocks that skip it.
  std::vector<std::pair<void*, std::size_t>> blocks;
  std::size_t total = 0;
  for (std::size_t i = 0; i < 20; ++i) blocks.emplace_back(cpu_allocator::allocate((2 + i) * kKiB), (2 + i) * kKiB);
  for (std::size_t i = 0; i < 3; ++i) blocks.emplace_back(cpu_allocator::allocate((512 + i) * kKiB), (512 + i) * kKiB);
  std::set<void*> distinct;
  for (auto& [p, n] : blocks) {
    REQUIRE(aligned64(p));
    distinct.insert(p);
    total += n;
  }
  REQUIRE(distinct.size() == blocks.size());
  for (auto& [p, n] : blocks) cpu_allocator::deallocate(p, n);
  CHECK(cpu_allocator::cached_bytes() == total);
  // Every block comes back for its own size, whichever level held it.
  for (auto& [p, n] : blocks) {
    void* again = cpu_allocator::allocate(n);
    CHECK(again == p);
  }
  CHECK(cpu_allocator::cached_bytes() == 0);
  for (auto& [p, n] : blocks) cpu_allocator::deallocate(p, n);
  cpu_allocator::empty_cache();
  CHECK(cpu_allocator::cached_bytes() == 0);
}

TEST_CASE("blocks a thread freed reach the shared cache when it exits") {
  cpu_allocator::empty_cache();
  void* freed = nullptr;
  std::thread worker([&] {
    freed = cpu_allocator::allocate(24 * kKiB);
    cpu_allocator::deallocate(freed, 24 * kKiB);  // kept on the worker's own stack
  });
  worker.join();
  CHECK(cpu_allocator::cached_bytes() == 24 * kKiB);
  void* mine = cpu_allocator::allocate(24 * kKiB);
  CHECK(mine == freed);
  cpu_allocator::deallocate(mine, 24 * kKiB);
  cpu_allocator::empty_cache();
}

TEST_CASE("tensors over reused blocks hold their own values") {
  cpu_allocator::empty_cache();
  Tensor keep;
  for (int i = 0; i < 50; ++i) {
    // 64 x 64 float32: 16 KiB outputs freed and reused every iteration.
    const Tensor a = full({64, 64}, static_cast<float>(i)), b = ones({64, 64});
    const Tensor c = mm(a, b);
    CHECK(c.index({0, 0}).item<float>() == Approx(64.0 * i));
    CHECK(c.index({63, 63}).item<float>() == Approx(64.0 * i));
    if (i == 10) keep = c;
  }
  CHECK(keep.sum().item<float>() == Approx(64.0 * 10 * 64 * 64));
}

namespace {
// The VmFlags line of the mapping in /proc/self/smaps that holds address p ("" when not found).
std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto where = reinterpret_cast<std::uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> begin >> dash >> end && dash == '-' && line.find(':') > line.find(' ')) {
      inside = begin <= where && where < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}
}  // namespace

TEST_CASE("blocks of 2 MiB and more are 2 MiB aligned and asked for transparent huge pages") {
  cpu_allocator::empty_cache();
  constexpr std::size_t kMiB = 1024 * kKiB;
  void* big = cpu_allocator::allocate(6 * kMiB + 100);
  void* under = cpu_allocator::allocate(2 * kMiB - 4096);
  CHECK(reinterpret_cast<std::uintptr_t>(big) % (2 * kMiB) == 0);
  CHECK(aligned64(under));
  std::memset(big, 1, 6 * kMiB + 100);  // all of it is usable
  const std::string flags = vm_flags_of(big);
  const bool kernel_has_thp = std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good();
  if (flags.empty() || !kernel_has_thp) {
    WARN("no /proc/self/smaps or no transparent huge pages in this kernel: the huge page hint is not checked");
  } else {
    INFO(flags);
    CHECK(flags.find(" hg") != std::string::npos);  // MADV_HUGEPAGE on the block's mapping
  }
  // A block below 2 MiB is not marked (its neighbours in the heap are not ours to advise).
  const std::string under_flags = vm_flags_of(under);
  if (!under_flags.empty()) CHECK(under_flags.find(" hg") == std::string::npos);
  cpu_allocator::deallocate(big, 6 * kMiB + 100);
  cpu_allocator::deallocate(under, 2 * kMiB - 4096);
  cpu_allocator::empty_cache();
}
