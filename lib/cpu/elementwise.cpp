// Chooses, once at start-up, the instruction set whose vectorised elementwise kernels run.
// xsimd's `best` is used rather than its per-feature bits (its `avx` bit reads 0 on some CPUs).
// TAPEFLOW_ELEMENTWISE_ISA=scalar|sse2|avx2|avx512 lowers the choice (never above what the CPU
// has), so that the tests can exercise every instruction set's kernels on one machine.
#include "cpu/elementwise.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <xsimd/config/xsimd_arch.hpp>
#endif

namespace tapeflow::cpu {
namespace {

const VecTable* choose_table() {
  const char* env = std::getenv("TAPEFLOW_ELEMENTWISE_ISA");
  if (env != nullptr && *env == '\0') env = nullptr;
  const auto allowed = [env](const char* isa) { return env == nullptr || std::strcmp(env, isa) == 0; };
  if (env != nullptr && std::strcmp(env, "scalar") == 0) return nullptr;
#if defined(__x86_64__)
  const unsigned best = xsimd::available_architectures().best;
  if (best >= xsimd::avx512bw::version() && allowed("avx512")) return &vec_table_avx512();
  if (best >= xsimd::fma3<xsimd::avx2>::version() && (allowed("avx2") || allowed("avx512"))) return &vec_table_avx2();
  return &vec_table_sse2();
#else
  (void)allowed;
  return nullptr;
#endif
}

}  // namespace

const VecTable* g_vec_table = choose_table();

const char* simd_arch_name() { return g_vec_table ? g_vec_table->name : "scalar"; }

}  // namespace tapeflow::cpu
