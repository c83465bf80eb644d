// Elementwise kernels for AVX2 with FMA; used when the CPU has both but no AVX-512.
#define TAPEFLOW_EW_ISA avx2
#include "cpu/elementwise_simd.hpp"

#if !XSIMD_WITH_FMA3_AVX2
#error "elementwise_avx2.cpp must be compiled with -mavx2 -mfma"
#endif

namespace tapeflow::cpu {
const VecTable& vec_table_avx2() { return simd_table<xsimd::fma3<xsimd::avx2>>("fma3<avx2>"); }
}  // namespace tapeflow::cpu
