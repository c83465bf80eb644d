#pragma once
// The body of the vectorised contiguous kernels. Included ONLY by the per-instruction-set unit
// (isa_kernels.cpp, compiled once per instruction set with its own -m flags). Everything here is in an anonymous namespace or templated on the xsimd arch, so
// no code compiled for one instruction set can stand in for another's at link time; the tails
// go through padded batches for the same reason (no scalar instantiation of a functor here).
#include <cstdint>
#include <utility>

// xsimd's trigonometric range reduction has two plain (non-template) inline functions; give them
// a name per instruction set so the linker cannot merge, say, the AVX-512 copy into the SSE2 path.
#ifndef TAPEFLOW_EW_ISA
#error "define TAPEFLOW_EW_ISA (the instruction set's name) before including elementwise_simd.hpp"
#endif
#define TAPEFLOW_EW_CAT2(a, b) a##b
#define TAPEFLOW_EW_CAT(a, b) TAPEFLOW_EW_CAT2(a, b)
#define __kernel_rem_pio2 TAPEFLOW_EW_CAT(tapeflow_kernel_rem_pio2_, TAPEFLOW_EW_ISA)
#define __ieee754_rem_pio2 TAPEFLOW_EW_CAT(tapeflow_ieee754_rem_pio2_, TAPEFLOW_EW_ISA)
#include <immintrin.h>  // _mm_prefetch; the AVX2/AVX-512 masked loads (used only under their own -m flags)
#include <xsimd/xsimd.hpp>
#undef __kernel_rem_pio2
#undef __ieee754_rem_pio2

#include "cpu/simd_exp.hpp"  // before any functor is instantiated on batches
#include "cpu/simd_normal_cdf.hpp"
#include "cpu/elementwise_ops.hpp"

namespace tapeflow::cpu {
namespace {

// Outputs at least this big per call skip the cache (non-temporal stores): they could not stay
// in it anyway, and a normal store first reads each destination line (a fresh binary op then
// moves 4 streams instead of 3). Smaller outputs stay cached for the op that reads them next.
inline constexpr std::int64_t kStreamMinBytes = std::int64_t{16} << 20;

// Non-temporal store of b to p, which is aligned to the batch's size.
template <class Arch, class T>
void store_stream(T* p, const xsimd::batch<T, Arch>& b) {
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
    if constexpr (std::is_same_v<T, float>) _mm512_stream_ps(p, b);
    else _mm512_stream_pd(p, b);
  } else if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
    if constexpr (std::is_same_v<T, float>) _mm256_stream_ps(p, b);
    else _mm256_stream_pd(p, b);
  } else {
    if constexpr (std::is_same_v<T, float>) _mm_stream_ps(p, b);
    else _mm_stream_pd(p, b);
  }
}

// The first `rest` < W lanes of p as a batch, the others zero; and the store of the first `rest`
// lanes of b. AVX-512 and AVX2 mask the memory access (nothing past p[rest - 1] is touched).
// Their plain alternative, copying through a zero-padded buffer, stalls: a vector load of lanes
// just written one element at a time cannot be forwarded from the store buffer (measured: a
// third of a 1-element add's kernel time). SSE2 has no masked load and keeps the buffer.
template <class T>
__m256i avx2_lane_mask(std::int64_t rest) {  // all ones in lanes [0, rest) of T-sized lanes
  if constexpr (std::is_same_v<T, float>)
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rest)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  else
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(rest), _mm256_setr_epi64x(0, 1, 2, 3));
}

template <class Arch, class T>
xsimd::batch<T, Arch> load_partial(const T* p, std::int64_t rest) {
  using B = xsimd::batch<T, Arch>;
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
    const auto mask = static_cast<std::uint16_t>((1u << rest) - 1);
    if constexpr (std::is_same_v<T, float>) return _mm512_maskz_loadu_ps(mask, p);
    else return _mm512_maskz_loadu_pd(static_cast<__mmask8>(mask), p);
  } else if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
    if constexpr (std::is_same_v<T, float>) return _mm256_maskload_ps(p, avx2_lane_mask<T>(rest));
    else return _mm256_maskload_pd(p, avx2_lane_mask<T>(rest));
  } else {
    alignas(64) T buf[B::size] = {};
    for (std::int64_t j = 0; j < rest; ++j) buf[j] = p[j];
    return B::load_aligned(buf);
  }
}

template <class Arch, class T>
void store_partial(T* p, const xsimd::batch<T, Arch>& b, std::int64_t rest) {
  if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
    const auto mask = static_cast<std::uint16_t>((1u << rest) - 1);
    if constexpr (std::is_same_v<T, float>) _mm512_mask_storeu_ps(p, mask, b);
    else _mm512_mask_storeu_pd(p, static_cast<__mmask8>(mask), b);
  } else if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
    if constexpr (std::is_same_v<T, float>) _mm256_maskstore_ps(p, avx2_lane_mask<T>(rest), b);
    else _mm256_maskstore_pd(p, avx2_lane_mask<T>(rest), b);
  } else {
    alignas(64) T buf[xsimd::batch<T, Arch>::size];
    b.store_aligned(buf);
    for (std::int64_t j = 0; j < rest; ++j) p[j] = buf[j];
  }
}

// out[i, i + rest) for rest < W, through partial batches (no scalar instantiation of f).
template <class Arch, class F, class T, std::size_t N, std::size_t... I>
void contig_partial(const F& f, T* out, const T* const (&in)[N], std::int64_t i, std::int64_t rest,
                    std::index_sequence<I...>) {
  store_partial<Arch>(out + i, f(load_partial<Arch>(in[I] + i, rest)...), rest);
}

// Software prefetch of the `bytes` that lie `ahead` bytes past p. One core's hardware prefetcher
// alone leaves a stream short of the memory's rate. How far ahead pays depends on the CPU: maps
// take g_map_prefetch_bytes, reductions kReduceAhead (elementwise.cpp has the measurements).
// Prefetching past the end is harmless (a hint never faults); the address is formed as an integer.
inline constexpr std::int64_t kReduceAhead = 8192;
template <std::int64_t bytes>
inline void prefetch_ahead(const void* p, std::int64_t ahead) {
  constexpr std::int64_t kLine = 64;
  const auto here = reinterpret_cast<std::uintptr_t>(p) + static_cast<std::uintptr_t>(ahead);
  for (std::int64_t b = 0; b < bytes; b += kLine)
    _mm_prefetch(reinterpret_cast<const char*>(here + static_cast<std::uintptr_t>(b)), _MM_HINT_T0);
}

// out[j] = f(in...[j]) from j = i while two whole batches remain (two per step hide the latency
// of math functions); returns where it stopped. kStream: non-temporal stores (out aligned to the
// batch); kAhead: software prefetch of the inputs, g_map_prefetch_bytes ahead (prefetch_ahead).
template <bool kStream, bool kAhead, class Arch, class F, class T, std::size_t N, std::size_t... I>
std::int64_t two_batch_loop(const F& f, T* out, const T* const (&in)[N], std::int64_t i, std::int64_t n,
                            std::index_sequence<I...>) {
  using B = xsimd::batch<T, Arch>;
  constexpr std::int64_t W = static_cast<std::int64_t>(B::size);
  const std::int64_t ahead = g_map_prefetch_bytes;
  for (; i + 2 * W <= n; i += 2 * W) {
    if constexpr (kAhead) (prefetch_ahead<2 * sizeof(B)>(in[I] + i, ahead), ...);
    const B r0 = f(B::load_unaligned(in[I] + i)...);
    const B r1 = f(B::load_unaligned(in[I] + i + W)...);
    if constexpr (kStream) {
      store_stream<Arch>(out + i, r0);
      store_stream<Arch>(out + i + W, r1);
    } else {
      r0.store_unaligned(out + i);
      r1.store_unaligned(out + i + W);
    }
  }
  return i;
}

// Runs of at least kStreamMinBytes come from memory, not cache: the inputs are prefetched, and a
// fresh output is streamed. In place the lines are in cache already (read as inputs), so the
// stores stay normal; the prefetch alone took relu_ on 16M floats from 63-67 to 82-90 GB/s on one
// core (smaller runs, 3 MiB, lost 5% to it: they are partly cached).
template <class Arch, class F, class T, std::size_t... I>
void contig_simd(const void* fp, void* outp, const void* const* inp, std::int64_t n, std::index_sequence<I...> seq) {
  using B = xsimd::batch<T, Arch>;
  constexpr std::size_t N = sizeof...(I);
  constexpr std::int64_t W = static_cast<std::int64_t>(B::size);
  const F& f = *static_cast<const F*>(fp);
  T* out = static_cast<T*>(outp);
  const T* in[N] = {static_cast<const T*>(inp[I])...};
  std::int64_t i = 0;
  const auto address = reinterpret_cast<std::uintptr_t>(out);
  const bool from_memory = n * static_cast<std::int64_t>(sizeof(T)) >= kStreamMinBytes;
  if (from_memory && address % sizeof(T) == 0 && ((in[I] != out) && ...)) {
    constexpr std::uintptr_t kAlign = sizeof(B);
    const std::int64_t head = static_cast<std::int64_t>((kAlign - address % kAlign) % kAlign / sizeof(T));
    if (head > 0) contig_partial<Arch>(f, out, in, 0, head, seq);
    i = two_batch_loop<true, true, Arch>(f, out, in, head, n, seq);
    _mm_sfence();  // streamed stores are weakly ordered: publish them before the caller's join
  } else if (from_memory) {
    i = two_batch_loop<false, true, Arch>(f, out, in, 0, n, seq);
  } else {
    i = two_batch_loop<false, false, Arch>(f, out, in, 0, n, seq);
  }
  for (; i + W <= n; i += W) f(B::load_unaligned(in[I] + i)...).store_unaligned(out + i);
  if (i < n) contig_partial<Arch>(f, out, in, i, n - i, seq);
}

template <class Arch, class F, class T, std::size_t N>
void contig_entry(const void* f, void* out, const void* const* in, std::int64_t n) {
  contig_simd<Arch, F, T>(f, out, in, n, std::make_index_sequence<N>{});
}

// The kernel for F with its arity found from which batch arguments it accepts.
template <class Arch, class T, class F>
constexpr ContigFn entry_for() {
  using B = xsimd::batch<T, Arch>;
  if constexpr (std::is_invocable_v<const F&, B>) return &contig_entry<Arch, F, T, 1>;
  else if constexpr (std::is_invocable_v<const F&, B, B>) return &contig_entry<Arch, F, T, 2>;
  else {
    static_assert(std::is_invocable_v<const F&, B, B, B>, "functor in VecOps does not accept batches");
    return &contig_entry<Arch, F, T, 3>;
  }
}

// W = batch<double>::size values from p, widened to double.
template <class Arch, class T>
xsimd::batch<double, Arch> load_as_double(const T* p) {
  using D = xsimd::batch<double, Arch>;
  if constexpr (std::is_same_v<T, double>) {
    return D::load_unaligned(p);
  } else if constexpr (std::is_same_v<Arch, xsimd::avx512bw>) {
    return D(_mm512_cvtps_pd(_mm256_loadu_ps(p)));
  } else if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
    return D(_mm256_cvtps_pd(_mm_loadu_ps(p)));
  } else {
    // Two floats as one 8-byte load: _mm_loadl_epi64 takes any alignment (_mm_load_sd's
    // double* would claim 8-byte alignment, which a float pointer need not have; UBSan flags it).
    return D(_mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)))));
  }
}

// Eight independent accumulators, so the adds' latency does not hold back a memory-speed stream;
// a software prefetch ahead (prefetch_ahead).
template <class Arch, class T>
double contig_sum(const void* vp, std::int64_t n) {
  using D = xsimd::batch<double, Arch>;
  constexpr std::int64_t W = static_cast<std::int64_t>(D::size);
  const T* p = static_cast<const T*>(vp);
  D a0(0.0), a1(0.0), a2(0.0), a3(0.0), a4(0.0), a5(0.0), a6(0.0), a7(0.0);
  std::int64_t i = 0;
  for (; i + 8 * W <= n; i += 8 * W) {
    prefetch_ahead<8 * W * sizeof(T)>(p + i, kReduceAhead);
    a0 += load_as_double<Arch>(p + i);
    a1 += load_as_double<Arch>(p + i + W);
    a2 += load_as_double<Arch>(p + i + 2 * W);
    a3 += load_as_double<Arch>(p + i + 3 * W);
    a4 += load_as_double<Arch>(p + i + 4 * W);
    a5 += load_as_double<Arch>(p + i + 5 * W);
    a6 += load_as_double<Arch>(p + i + 6 * W);
    a7 += load_as_double<Arch>(p + i + 7 * W);
  }
  for (; i + W <= n; i += W) a0 += load_as_double<Arch>(p + i);
  double tail = 0;
  for (; i < n; ++i) tail += static_cast<double>(p[i]);
  return xsimd::hadd(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))) + tail;
}

// SumRowsFn: four rows per pass over the accumulators (a quarter of their loads and stores),
// each column added in row order like the scalar loop, so every instruction set agrees bit for bit.
template <class Arch, class T>
void sum_rows(const void* vp, std::int64_t stride, std::int64_t rows, std::int64_t len, double* acc) {
  using D = xsimd::batch<double, Arch>;
  constexpr std::int64_t W = static_cast<std::int64_t>(D::size);
  const T* p = static_cast<const T*>(vp);
  std::int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const T *q0 = p + r * stride, *q1 = q0 + stride, *q2 = q1 + stride, *q3 = q2 + stride;
    std::int64_t j = 0;
    for (; j + W <= len; j += W) {
      D a = D::load_unaligned(acc + j);
      a += load_as_double<Arch>(q0 + j);
      a += load_as_double<Arch>(q1 + j);
      a += load_as_double<Arch>(q2 + j);
      a += load_as_double<Arch>(q3 + j);
      a.store_unaligned(acc + j);
    }
    for (; j < len; ++j)
      acc[j] = (((acc[j] + static_cast<double>(q0[j])) + static_cast<double>(q1[j])) + static_cast<double>(q2[j])) +
               static_cast<double>(q3[j]);
  }
  for (; r < rows; ++r) {
    const T* q = p + r * stride;
    std::int64_t j = 0;
    for (; j + W <= len; j += W) (D::load_unaligned(acc + j) + load_as_double<Arch>(q + j)).store_unaligned(acc + j);
    for (; j < len; ++j) acc[j] += static_cast<double>(q[j]);
  }
}

}  // namespace
}  // namespace tapeflow::cpu
