#pragma once
// Per-thread free lists for small blocks (tensor impls, storages, tiny buffers). The per-op
// cost on tiny tensors is a product feature, and glibc's aligned allocation is slow (it also
// triggers heap consolidation); a freed block is simply kept for the next op on that thread.
#include <cstddef>
#include <memory>

namespace tapeflow::detail {

inline constexpr std::size_t kSmallBlockMax = 1024;  // larger requests go to the system

void* small_alloc(std::size_t bytes);             // 64-byte aligned
void small_free(void* p, std::size_t bytes) noexcept;

// A std allocator over small_alloc, for allocate_shared of impls and storages.
template <typename T>
struct SmallAllocator {
  using value_type = T;
  SmallAllocator() = default;
  template <typename U>
  SmallAllocator(const SmallAllocator<U>&) noexcept {}  // NOLINT: rebinding
  T* allocate(std::size_t n) { return static_cast<T*>(small_alloc(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { small_free(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const SmallAllocator<U>&) const noexcept { return true; }
};

template <typename T, typename... Args>
std::shared_ptr<T> make_small_shared(Args&&... args) {
  return std::allocate_shared<T>(SmallAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace tapeflow::detail
