#pragma once
// The CPU allocator behind Storage: 64-byte aligned blocks, small ones (<= 1 KiB) from per-thread
// free lists (small_alloc.hpp), larger ones cached by size when freed and handed out again;
// blocks of 2 MiB and more are 2 MiB aligned and marked for transparent huge pages.
// The public face (cached_bytes, empty_cache) is in tapeflow/storage.hpp.
#include <cstddef>

namespace tapeflow::cpu_allocator {
void* allocate(std::size_t nbytes);
void deallocate(void* p, std::size_t nbytes) noexcept;
}  // namespace tapeflow::cpu_allocator
