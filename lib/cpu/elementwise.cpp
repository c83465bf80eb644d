// Chooses, once at start-up, the instruction set whose vectorised kernels run (elementwise ops,
// softmax/loss/layer_norm rows, optimizer loops: isa_kernels.cpp). xsimd's `best` is used rather
// than its per-feature bits (its `avx` bit reads 0 on some CPUs). TAPEFLOW_CPU_ISA=
// scalar|sse2|avx2|avx512 (or its older name TAPEFLOW_ELEMENTWISE_ISA) lowers the choice, never
// above what the CPU has, so that a whole program can run on another instruction set's kernels.
#include "cpu/elementwise.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <xsimd/config/xsimd_arch.hpp>
#endif

namespace tapeflow::cpu {
namespace {

const char* isa_override() {
  for (const char* name : {"TAPEFLOW_CPU_ISA", "TAPEFLOW_ELEMENTWISE_ISA"}) {
    const char* env = std::getenv(name);
    if (env != nullptr && *env != '\0') return env;
  }
  return nullptr;
}

const VecTable* choose_best() {
  for (const char* isa : {"avx512", "avx2", "sse2"})
    if (const VecTable* t = vec_table_named(isa)) return t;
  return nullptr;
}

const VecTable* choose_table() {
  const char* env = isa_override();
  if (env != nullptr && std::strcmp(env, "scalar") == 0) return nullptr;
  // The requested set when the CPU has it, else the best one below it.
  for (const char* isa : {"avx512", "avx2", "sse2"}) {
    if (env != nullptr && std::strcmp(env, isa) != 0) continue;
    if (const VecTable* t = vec_table_named(isa)) return t;
    env = nullptr;  // not available: take the best of the rest
  }
  if (env != nullptr) return choose_best();  // an unknown name
  return nullptr;
}

}  // namespace

const VecTable* vec_table_named(const char* isa) {
#if defined(__x86_64__)
  const unsigned best = xsimd::available_architectures().best;
  if (std::strcmp(isa, "avx512") == 0) return best >= xsimd::avx512bw::version() ? &vec_table_avx512() : nullptr;
  if (std::strcmp(isa, "avx2") == 0) return best >= xsimd::fma3<xsimd::avx2>::version() ? &vec_table_avx2() : nullptr;
  if (std::strcmp(isa, "sse2") == 0) return &vec_table_sse2();
#else
  (void)isa;
#endif
  return nullptr;
}

const VecTable* g_vec_table = choose_table();

const char* simd_arch_name() { return g_vec_table ? g_vec_table->name : "scalar"; }

}  // namespace tapeflow::cpu
