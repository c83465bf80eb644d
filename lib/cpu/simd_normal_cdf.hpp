#pragma once
// Phi(x), the standard normal CDF, on AVX-512 float batches for gelu and its derivative: xsimd's erf
// (a rational approximation per range, with selects) left gelu at 0.75x LibTorch's speed. Here
// Phi(x) = erfc(-x / sqrt 2) / 2 with erfc(a) = t (a1 + t (a2 + ... + t a5)) exp(-a^2), t = 1 / (1 + p a),
// a >= 0 (Abramowitz & Stegun 7.1.26, absolute error <= 1.5e-7, the form PyTorch's vectorised erf
// uses), and Phi(x) = 1 - erfc(|x| / sqrt 2) / 2 for x >= 0. Taking the small side directly keeps
// Phi's left tail accurate where 1 + erf(x) cancels. Checked against float64 by
// tests/cpu/test_isa_kernels.cpp. Included by the per-instruction-set units after simd_exp.hpp.
#include <xsimd/xsimd.hpp>

#include "cpu/functors.hpp"
#include "cpu/simd_exp.hpp"

namespace tapeflow::cpu {
#if XSIMD_WITH_AVX512BW

template <>
struct normal_cdf_impl<xsimd::batch<float, xsimd::avx512bw>> {
  using B = xsimd::batch<float, xsimd::avx512bw>;
  __attribute__((always_inline)) static B apply(const B& x) {
    const B a = xsimd::abs(x) * B(0.70710678118654752440f);
    const B t = B(1.0f) / xsimd::fma(B(0.3275911f), a, B(1.0f));
    B poly(1.061405429f);
    poly = xsimd::fma(poly, t, B(-1.453152027f));
    poly = xsimd::fma(poly, t, B(1.421413741f));
    poly = xsimd::fma(poly, t, B(-0.284496736f));
    poly = xsimd::fma(poly, t, B(0.254829592f));
    const B half_tail = B(0.5f) * t * poly * simd_exp(-(a * a));  // erfc(a) / 2 = Phi(-|x|)
    // NaN: the compare is false, so 1 - NaN = NaN comes out.
    return xsimd::select(x < B(0.0f), half_tail, B(1.0f) - half_tail);
  }
};
#endif

}  // namespace tapeflow::cpu
