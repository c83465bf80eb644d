#pragma once
// Philox4x32-10 (core/philox.hpp) on a vector of counters at once, for one instruction set.
// Included only by the per-ISA unit (isa_kernels.cpp), after elementwise_simd.hpp (xsimd). Lane i
// of four vectors holds counter i's four words; each round's two 32 x 32 -> 64-bit products come
// from the even-lane multiply every x86 vector set has (pmuludq), so the words are bit-identical
// to the scalar function (tests/cpu/test_isa_kernels.cpp compares them). The scalar loop spent
// ~2 ns per float of rand() in its ten rounds of 64-bit multiplies.
#include <cstdint>
#include <type_traits>

#include "core/philox.hpp"
#include "cpu/elementwise_ops.hpp"

namespace tapeflow::cpu {
namespace {

template <class Arch>
using PhiloxWords = xsimd::batch<std::uint32_t, Arch>;  // lane i: one word of counter i
template <class Arch>
using PhiloxProducts = xsimd::batch<std::uint64_t, Arch>;

// The 64-bit products of the even 32-bit lanes of a and b (pmuludq; xsimd has no such op).
template <class Arch>
PhiloxProducts<Arch> mul_even_lanes(const PhiloxWords<Arch>& a, const PhiloxWords<Arch>& b) {
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) return _mm512_mul_epu32(a, b);
  else if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) return _mm256_mul_epu32(a, b);
  else return _mm_mul_epu32(a, b);
}

// The low and high 32 bits of each lane's product a * m.
template <class Arch>
void mul_wide(const PhiloxWords<Arch>& a, const PhiloxWords<Arch>& m, const xsimd::batch_bool<std::uint32_t, Arch>& odd,
              PhiloxWords<Arch>& lo, PhiloxWords<Arch>& hi) {
  using W = PhiloxWords<Arch>;
  using P = PhiloxProducts<Arch>;
  const P even_products = mul_even_lanes<Arch>(a, m);
  const P odd_products = mul_even_lanes<Arch>(xsimd::bitwise_cast<W>(xsimd::bitwise_cast<P>(a) >> 32), m);
  lo = xsimd::select(odd, xsimd::bitwise_cast<W>(odd_products << 32), xsimd::bitwise_cast<W>(even_products));
  hi = xsimd::select(odd, xsimd::bitwise_cast<W>(odd_products), xsimd::bitwise_cast<W>(even_products >> 32));
}

// words[j * kPhiloxBatch + i] = word j of Philox block (seed, counter + i), i < count <= kPhiloxBatch.
template <class Arch>
void philox_blocks(std::uint64_t seed, std::uint64_t counter, std::int64_t count, std::uint32_t* words) {
  namespace px = detail::philox;
  using W = PhiloxWords<Arch>;
  constexpr std::int64_t L = W::size;
  static_assert(kPhiloxBatch % L == 0);
  alignas(64) std::uint32_t lane_parity[L], lo[L], hi[L];
  for (std::int64_t i = 0; i < L; ++i) lane_parity[i] = static_cast<std::uint32_t>(i & 1);
  const auto odd = W::load_aligned(lane_parity) != W(0u);
  const px::Key key = px::key_from_seed(seed);
  const W m0(px::kMul0), m1(px::kMul1);
  for (std::int64_t i0 = 0; i0 < count; i0 += L) {
    for (std::int64_t i = 0; i < L; ++i) {
      const std::uint64_t c = counter + static_cast<std::uint64_t>(i0 + i);
      lo[i] = static_cast<std::uint32_t>(c);
      hi[i] = static_cast<std::uint32_t>(c >> 32);
    }
    W c0 = W::load_aligned(lo), c1 = W::load_aligned(hi), c2(0u), c3(0u);
    std::uint32_t k0 = key.k[0], k1 = key.k[1];
    for (int r = 0; r < 10; ++r) {
      if (r > 0) k0 += px::kWeyl0, k1 += px::kWeyl1;
      W lo0, hi0, lo1, hi1;
      mul_wide<Arch>(c0, m0, odd, lo0, hi0);
      mul_wide<Arch>(c2, m1, odd, lo1, hi1);
      c0 = hi1 ^ c1 ^ W(k0);
      c2 = hi0 ^ c3 ^ W(k1);
      c1 = lo1;
      c3 = lo0;
    }
    c0.store_unaligned(words + i0);
    c1.store_unaligned(words + kPhiloxBatch + i0);
    c2.store_unaligned(words + 2 * kPhiloxBatch + i0);
    c3.store_unaligned(words + 3 * kPhiloxBatch + i0);
  }
}

}  // namespace
}  // namespace tapeflow::cpu
