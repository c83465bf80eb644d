// Elementwise kernels for SSE2, the x86-64 baseline every CPU has.
#define TAPEFLOW_EW_ISA sse2
#include "cpu/elementwise_simd.hpp"

namespace tapeflow::cpu {
const VecTable& vec_table_sse2() { return simd_table<xsimd::sse2>("sse2"); }
}  // namespace tapeflow::cpu
