#include "core/small_alloc.hpp"

#include "core/fast_tls.hpp"

#include <cstdlib>
#include <new>

namespace tapeflow::detail {
namespace {

constexpr std::size_t kGranule = 64;
constexpr std::size_t kClasses = kSmallBlockMax / kGranule;
constexpr std::size_t kKeepBytes = std::size_t{16} << 20;  // bound what one thread may hold on to

// Plain data so that it can use the fast TLS model; a separate object frees the blocks at
// thread exit.
struct FreeLists {
  void* heads[kClasses];
  std::size_t kept_bytes;
};
TAPEFLOW_FAST_TLS thread_local FreeLists t_lists;
// 0: not in use yet, 1: in use, 2: thread exiting (blocks returned to the system).
TAPEFLOW_FAST_TLS thread_local unsigned char t_lists_state = 0;

struct ThreadExitCleanup {
  ~ThreadExitCleanup() {
    t_lists_state = 2;
    for (std::size_t c = 0; c < kClasses; ++c)
      for (void* p = t_lists.heads[c]; p;) {
        void* next = *static_cast<void**>(p);
        std::free(p);
        p = next;
      }
  }
};

FreeLists& lists() {
  if (t_lists_state == 0) {
    thread_local ThreadExitCleanup cleanup;  // constructed once per thread
    (void)cleanup;
    t_lists_state = 1;
  }
  return t_lists;
}

std::size_t class_of(std::size_t bytes) { return bytes == 0 ? 0 : (bytes - 1) / kGranule; }

}  // namespace

void* small_alloc(std::size_t bytes) {
  if (bytes <= kSmallBlockMax && t_lists_state != 2) {
    FreeLists& l = lists();
    const std::size_t c = class_of(bytes);
    if (void* p = l.heads[c]) {
      l.heads[c] = *static_cast<void**>(p);
      l.kept_bytes -= (c + 1) * kGranule;
      return p;
    }
    bytes = (c + 1) * kGranule;
  } else if (bytes <= kSmallBlockMax) {
    bytes = (class_of(bytes) + 1) * kGranule;
  } else {
    bytes = (bytes + kGranule - 1) / kGranule * kGranule;
  }
  void* p = std::aligned_alloc(kGranule, bytes);
  if (!p) throw std::bad_alloc();
  return p;
}

void small_free(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  if (bytes <= kSmallBlockMax && t_lists_state == 1) {
    FreeLists& l = lists();
    const std::size_t c = class_of(bytes);
    if (l.kept_bytes + (c + 1) * kGranule <= kKeepBytes) {
      *static_cast<void**>(p) = l.heads[c];
      l.heads[c] = p;
      l.kept_bytes += (c + 1) * kGranule;
      return;
    }
  }
  std::free(p);
}

}  // namespace tapeflow::detail
