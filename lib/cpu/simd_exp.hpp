#pragma once
// exp of float batches, cheaper than xsimd::exp: on one core exp was compute-bound at 3.7 G values/s
// (78% of copy bandwidth on 16M floats). Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, a
// degree-6 polynomial for exp(r) (xsimd's coefficients, FMA), then 2^n applied by AVX-512's scalef:
// one instruction, with IEEE overflow and subnormal rounding (xsimd::exp flushes results below
// 2^-126 to 0 and spends compares and blends on its range checks). NaN stays NaN, exp(+inf) = inf,
// exp(-inf) = 0. Max error 1.78 ulp in a sweep of every float; tests/cpu/test_isa_kernels.cpp
// checks a 1-in-4099 sample against 2 ulp.
// AVX-512 only: without scalef, the two-step 2^n that subnormals need made it slower than
// xsimd::exp on AVX2 and SSE2, which keep xsimd's. Included only by the per-instruction-set units
// (host code), before any functor runs on batches: it specialises exp_impl (functors.hpp), so Exp,
// Sigmoid, Silu and Softplus batches pick it up.
#include <cstdint>

#include <xsimd/xsimd.hpp>

#include "cpu/functors.hpp"

namespace tapeflow::cpu {
#if XSIMD_WITH_AVX512BW

__attribute__((always_inline)) inline xsimd::batch<float, xsimd::avx512bw> simd_exp(
    const xsimd::batch<float, xsimd::avx512bw>& x) {
  using B = xsimd::batch<float, xsimd::avx512bw>;
  // Outside [-110, 89] exp is 0 or inf in float; clamping keeps n small. x86 min/max return their
  // second operand when either is NaN, so NaN passes through.
  const B xc = xsimd::min(B(89.0f), xsimd::max(B(-110.0f), x));
  const B n = xsimd::nearbyint(xc * B(1.44269504088896341f));
  // ln2 split in two: n * 0.693359375 is exact, so r keeps all its bits.
  B r = xsimd::fnma(n, B(0.693359375f), xc);
  r = xsimd::fnma(n, B(-2.12194440e-4f), r);
  B p(1.3997796e-3f);
  p = xsimd::fma(p, r, B(8.3955629e-3f));
  p = xsimd::fma(p, r, B(4.1665401e-2f));
  p = xsimd::fma(p, r, B(1.6666277e-1f));
  p = xsimd::fma(p, r, B(5.0e-1f));
  p = xsimd::fma(p, r * r, r + B(1.0f));  // exp(r) in [0.7, 1.42]
  return B(_mm512_scalef_ps(p, n));  // p * 2^n, rounded once (subnormals too), inf above the range
}

template <>
struct exp_impl<xsimd::batch<float, xsimd::avx512bw>> {
  __attribute__((always_inline)) static xsimd::batch<float, xsimd::avx512bw> apply(
      const xsimd::batch<float, xsimd::avx512bw>& x) {
    return simd_exp(x);
  }
};
#endif

}  // namespace tapeflow::cpu
