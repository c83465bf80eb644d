#pragma once
// The body of ConvKernels (conv_kernels.hpp) for one instruction set. Included only by the
// per-ISA unit (isa_kernels.cpp), after elementwise_simd.hpp (store_partial).
// Each kernel keeps a block of outputs in registers for the whole sum over planes and taps and
// writes it once: AVX-512's 32 registers hold 8 rows x 3 vectors (shifted_sum) or 9 pairs x 2
// vectors (shifted_outer), the 16 of AVX2 4 x 3 and 6 x 2, SSE2's 4 x 2 and 6 x 2. Remainders
// run the same loops with fewer rows or vectors (one instantiation per count, from a table).
#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "cpu/conv_kernels.hpp"

namespace tapeflow::cpu {
namespace {

template <class Arch>
inline constexpr bool kWideRegisterFile = std::is_same_v<Arch, xsimd::avx512bw>;

// out rows [0, RO) of p's NV vectors (the last holding `last` of its lanes), see ConvKernels.
template <class Arch, class T, int RO, int NV>
void sum_block(const ShiftedPlanes<T>& x, const T* w, std::int64_t w_row, std::int64_t w_plane,
               const std::int64_t* w_tap, T* out, std::int64_t ldo, std::int64_t p, std::int64_t last) {
  using B = xsimd::batch<T, Arch>;
  constexpr std::int64_t L = B::size;
  B acc[RO][NV];
  for (auto& row : acc)
    for (auto& a : row) a = B(T(0));
  for (std::int64_t k = 0; k < x.planes; ++k) {
    const T* plane = x.in + k * x.stride + p;
    const T* wk = w + k * w_plane;
    for (std::int64_t t = 0; t < x.taps; ++t) {
      B v[NV];
      for (int j = 0; j < NV; ++j) v[j] = B::load_unaligned(plane + x.shift[t] + j * L);
      const T* wt = wk + w_tap[t];
      for (int r = 0; r < RO; ++r) {
        const B wr(wt[r * w_row]);
        for (int j = 0; j < NV; ++j) acc[r][j] = xsimd::fma(wr, v[j], acc[r][j]);
      }
    }
  }
  for (int r = 0; r < RO; ++r) {
    T* o = out + r * ldo + p;
    for (int j = 0; j + 1 < NV; ++j) acc[r][j].store_unaligned(o + j * L);
    if (last == L) acc[r][NV - 1].store_unaligned(o + (NV - 1) * L);
    else store_partial<Arch>(o + (NV - 1) * L, acc[r][NV - 1], last);
  }
}

// The pairs [0, RB) of an outer-product block over NV vectors of columns, see ConvKernels: src[b]
// is pair b's shifted plane, its accumulator row at acc + acc_row[b].
template <class Arch, class T, int RB, int NV>
void outer_block(const T* const* src, const T* g, std::int64_t ldg, T* acc, const std::int64_t* acc_row,
                 std::int64_t n, std::int64_t images, std::int64_t in_image, std::int64_t g_image) {
  using B = xsimd::batch<T, Arch>;
  constexpr std::int64_t L = B::size;
  B sum[RB][NV];
  for (auto& row : sum)
    for (auto& s : row) s = B(T(0));
  for (std::int64_t i = 0; i < images; ++i) {
    const T* gi = g + i * g_image;
    const T* si[RB];
    for (int b = 0; b < RB; ++b) si[b] = src[b] + i * in_image;
    for (std::int64_t p = 0; p < n; ++p) {
      B gv[NV];
      for (int j = 0; j < NV; ++j) gv[j] = B::load_unaligned(gi + p * ldg + j * L);
      for (int b = 0; b < RB; ++b) {
        const B xb(si[b][p]);
        for (int j = 0; j < NV; ++j) sum[b][j] = xsimd::fma(gv[j], xb, sum[b][j]);
      }
    }
  }
  for (int b = 0; b < RB; ++b)
    for (int j = 0; j < NV; ++j) {
      T* a = acc + acc_row[b] + j * L;
      (B::load_unaligned(a) + sum[b][j]).store_unaligned(a);
    }
}

// table[i][j] = make.operator()<i + 1, j + 1>(): the block for a remainder of i + 1 rows (or pairs)
// and j + 1 vectors.
template <class Fn, int R, class Make, std::size_t... V>
constexpr std::array<Fn, sizeof...(V)> block_row(Make make, std::index_sequence<V...>) {
  return {make.template operator()<R, static_cast<int>(V) + 1>()...};
}
template <class Fn, int Vectors, class Make, std::size_t... R>
constexpr std::array<std::array<Fn, Vectors>, sizeof...(R)> block_table(Make make, std::index_sequence<R...>) {
  return {block_row<Fn, static_cast<int>(R) + 1>(make, std::make_index_sequence<Vectors>{})...};
}

template <class Arch, class T>
void shifted_sum(const ShiftedPlanes<T>& x, const T* w, std::int64_t w_row, std::int64_t w_plane,
                 const std::int64_t* w_tap, T* out, std::int64_t ldo, std::int64_t rows, std::int64_t n) {
  // SSE2 has no FMA: a multiply and an add need a register more each, and 4 x 3 spills (7.3 ms
  // against 5.5 ms for a 16 -> 32 forward); AVX2 is 12% faster with 4 x 3 than with 4 x 2.
  constexpr int kRows = kWideRegisterFile<Arch> ? 8 : 4, kVectors = std::is_same_v<Arch, xsimd::sse2> ? 2 : 3;
  constexpr std::int64_t L = xsimd::batch<T, Arch>::size;
  using Fn = decltype(&sum_block<Arch, T, 1, 1>);
  static constexpr auto blocks =
      block_table<Fn, kVectors>([]<int R, int V>() { return &sum_block<Arch, T, R, V>; },
                                 std::make_index_sequence<kRows>{});
  // Pixels outside, rows inside: the block's input vectors stay in L1 for every row block.
  for (std::int64_t p = 0; p < n; p += kVectors * L) {
    const std::int64_t rest = std::min<std::int64_t>(n - p, kVectors * L), vectors = (rest + L - 1) / L;
    const std::int64_t last = rest - (vectors - 1) * L;
    for (std::int64_t r = 0; r < rows; r += kRows) {
      const std::int64_t block_rows = std::min<std::int64_t>(kRows, rows - r);
      blocks[block_rows - 1][vectors - 1](x, w + r * w_row, w_row, w_plane, w_tap, out + r * ldo, ldo, p, last);
    }
  }
}

template <class Arch, class T>
void shifted_outer(const ShiftedPlanes<T>& x, const T* g, std::int64_t ldg, std::int64_t cols, T* acc,
                   std::int64_t ld_acc, std::int64_t n, std::int64_t images, std::int64_t in_image,
                   std::int64_t g_image) {
  constexpr int kPairs = kWideRegisterFile<Arch> ? 9 : 6, kVectors = 2;
  constexpr std::int64_t L = xsimd::batch<T, Arch>::size;
  using Fn = decltype(&outer_block<Arch, T, 1, 1>);
  static constexpr auto blocks =
      block_table<Fn, kVectors>([]<int R, int V>() { return &outer_block<Arch, T, R, V>; },
                                 std::make_index_sequence<kPairs>{});
  // Columns outside: one block of g's columns (n rows of two vectors per image) stays cached
  // while every pair streams past it; the planes are the larger operand when channels are many.
  const std::int64_t pairs = x.planes * x.taps;
  for (std::int64_t j = 0; j < cols; j += kVectors * L) {
    const std::int64_t vectors = std::min<std::int64_t>(kVectors, (cols - j) / L);
    for (std::int64_t i0 = 0; i0 < pairs; i0 += kPairs) {
      const std::int64_t count = std::min<std::int64_t>(kPairs, pairs - i0);
      const T* src[kPairs];
      std::int64_t acc_row[kPairs];
      for (std::int64_t b = 0; b < count; ++b) {
        const std::int64_t i = i0 + b;
        src[b] = x.in + (i / x.taps) * x.stride + x.shift[i % x.taps];
        acc_row[b] = i * ld_acc;
      }
      blocks[count - 1][vectors - 1](src, g + j, ldg, acc + j, acc_row, n, images, in_image, g_image);
    }
  }
}

template <class Arch, class T>
constexpr ConvKernels<T> make_conv_kernels() {
  return ConvKernels<T>{&shifted_sum<Arch, T>, &shifted_outer<Arch, T>};
}

}  // namespace
}  // namespace tapeflow::cpu
