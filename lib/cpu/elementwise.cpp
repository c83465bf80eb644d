// Chooses, once at start-up, the instruction set whose vectorised kernels run (elementwise ops,
// softmax/loss/layer_norm rows, optimizer loops: isa_kernels.cpp). xsimd's `best` is used rather
// than its per-feature bits (its `avx` bit reads 0 on some CPUs). TAPEFLOW_CPU_ISA=
// scalar|sse2|avx2|avx512 (or its older name TAPEFLOW_ELEMENTWISE_ISA) lowers the choice, never
// above what the CPU has, so that a whole program can run on another instruction set's kernels.
// Also chosen here, from the CPU's vendor: how far ahead maps over memory prefetch their inputs
// (g_map_prefetch_bytes, with the measurements behind it).
#include "cpu/elementwise.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>

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

namespace {

bool cpu_is_intel() {
#if defined(__x86_64__)
  unsigned max_leaf = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &max_leaf, &ebx, &ecx, &edx) == 0) return false;
  char vendor[13] = {};
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  return std::strcmp(vendor, "GenuineIntel") == 0;
#else
  return false;
#endif
}

}  // namespace

// Measured on 16M floats, 1 thread, medians of interleaved runs. AMD Zen 4/5: 8 KiB ahead is best
// (sum ~40 -> 48-50 GB/s, exp 52 -> 56-60, relu_ 63-67 -> 82-90; 4 and 16 KiB were slower). An
// Intel Xeon (2 vCPUs, 480 MiB L3): at 8 KiB the two-input maps stall, c = a + b 86-91% of the
// copy bandwidth and a += b 113-117%; at 2 KiB 97-105% and 130-135%, exp and relu unchanged within
// noise (at 1 KiB exp fell to 91-95%); 2 threads the same either way. Intel's fresh outputs stream
// through the same fill buffers the prefetches wait for, so far-ahead prefetches of two inputs
// crowd them. The sum, one input and no stores, stays best at 8 KiB there too (112-117% against
// 96-107% at 2 KiB).
const std::int64_t g_map_prefetch_bytes = cpu_is_intel() ? 2048 : 8192;

}  // namespace tapeflow::cpu
