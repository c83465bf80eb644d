#pragma once
// The per-instruction-set kernel tables this CPU can run (sse2, avx2, avx512), by name: the kernel
// tests check each one, not only the one chosen at start-up.
#include <string>
#include <utility>
#include <vector>

#include "cpu/elementwise.hpp"

namespace isa_test {

inline std::vector<std::pair<std::string, const tapeflow::cpu::VecTable*>> tables() {
  std::vector<std::pair<std::string, const tapeflow::cpu::VecTable*>> out;
  for (const char* isa : {"sse2", "avx2", "avx512"})
    if (const tapeflow::cpu::VecTable* t = tapeflow::cpu::vec_table_named(isa)) out.emplace_back(isa, t);
  return out;
}

}  // namespace isa_test
