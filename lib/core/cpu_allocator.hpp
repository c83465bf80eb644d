#pragma once
// The CPU allocator behind Storage (see storage.cpp): 64-byte aligned blocks, small ones from
// per-thread free lists, larger ones cached by size.
#include <cstddef>

namespace tapeflow::cpu_allocator {
void* allocate(std::size_t nbytes);
void deallocate(void* p, std::size_t nbytes);
}  // namespace tapeflow::cpu_allocator
