// Elementwise kernels for AVX-512 (F/CD/DQ/BW/VL with FMA); used when the CPU has avx512bw.
#define TAPEFLOW_EW_ISA avx512
#include "cpu/elementwise_simd.hpp"

#if !XSIMD_WITH_AVX512BW
#error "elementwise_avx512.cpp must be compiled with -mavx512f -mavx512cd -mavx512dq -mavx512bw"
#endif

namespace tapeflow::cpu {
const VecTable& vec_table_avx512() { return simd_table<xsimd::avx512bw>("avx512bw"); }
}  // namespace tapeflow::cpu
