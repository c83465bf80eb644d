#pragma once
// The one reduction engine behind every reduce op. A reducer describes the math:
//   using in_t, acc_t;  static constexpr bool kIndexed;   (kIndexed: step needs the position,
//                                                          so positions are visited in logical order)
//   acc_t init() const;  acc_t step(acc_t, in_t, int64 pos) const;  acc_t combine(acc_t a, acc_t b) const
//   (b covers positions after a's)  and optionally  acc_t row(const in_t* p, int64 n) const for a
//   contiguous run (non-indexed reducers only).
// The engine views the reduced dims as an inner index space (no copy) and runs one of two loops:
//  - per output element, over the reduced space row by row (contiguous rows use `row` or a
//    pairwise, lane-split loop the compiler vectorises);
//  - "outer" reductions (the innermost kept dim is contiguous): whole input rows are accumulated
//    into a block of accumulators, so memory is read in order instead of gathered.
// When there are few outputs and much work, the reduced space is cut into chunks of a size fixed
// by the shape alone and the partial results are combined in order, so results are bit-identical
// for any thread count. Results are handed to emit(int64 output_index, acc_t).
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/parallel.hpp"
#include "core/strided_loop.hpp"
#include "kernels/reduce_plan.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::cpu::reduce_detail {

inline constexpr std::int64_t kPairwiseBlock = 4096;  // contiguous run summed with lanes, then halved
inline constexpr std::int64_t kChunkElems = 65536;    // work per partial when splitting a reduction
inline constexpr std::int64_t kMinGroups = 16;        // fewer independent outputs than this: split
inline constexpr std::int64_t kBlockJ = 1024;         // accumulators per block in outer reductions
inline constexpr std::int64_t kGrainElems = 32768;    // elements per parallel piece at least

// Kept and reduced dims of x, size-1 dims dropped and mergeable neighbours merged (strides in
// elements). Kept dims stay in output order; reduced dims stay in logical order when
// keep_order (positions must be row-major indices), else are sorted by decreasing stride.
struct Geometry {
  Shape kept_sizes, kept_strides, red_sizes, red_strides;
  std::int64_t M = 1, K = 1;
};

inline Geometry make_geometry(const Tensor& x, const std::vector<bool>& reduced, bool keep_order) {
  Geometry g;
  const Shape& sz = x.shape();
  const Shape& st = x.strides();
  std::vector<std::size_t> red;
  for (std::size_t d = 0; d < sz.size(); ++d) {
    if (reduced[d]) {
      red.push_back(d);
      g.K *= sz[d];
    } else {
      kernels::push_merged_dim(g.kept_sizes, g.kept_strides, sz[d], st[d]);
      g.M *= sz[d];
    }
  }
  if (!keep_order)
    std::stable_sort(red.begin(), red.end(), [&](std::size_t a, std::size_t b) { return st[a] > st[b]; });
  for (std::size_t d : red) kernels::push_merged_dim(g.red_sizes, g.red_strides, sz[d], st[d]);
  if (g.red_sizes.empty()) {  // one position
    g.red_sizes.push_back(1);
    g.red_strides.push_back(0);
  }
  return g;
}

// Independent lanes over a short contiguous run (vectorised by the compiler, no reassociation).
template <typename Op>
typename Op::acc_t lane_reduce(const Op& op, const typename Op::in_t* p, std::int64_t n) {
  using acc_t = typename Op::acc_t;
  constexpr std::int64_t L = 8;
  acc_t lane[L];
  for (std::int64_t k = 0; k < L; ++k) lane[k] = op.init();
  std::int64_t i = 0;
  for (; i + L <= n; i += L)
    for (std::int64_t k = 0; k < L; ++k) lane[k] = op.step(lane[k], p[i + k], 0);
  acc_t tail = op.init();
  for (; i < n; ++i) tail = op.step(tail, p[i], 0);
  for (std::int64_t w = L / 2; w > 0; w /= 2)
    for (std::int64_t k = 0; k < w; ++k) lane[k] = op.combine(lane[k], lane[k + w]);
  return op.combine(lane[0], tail);
}

// A contiguous run: the reducer's own `row` if it has one, else lanes per block of
// kPairwiseBlock, the blocks merged pairwise like a binary counter (error grows with log n;
// iterative, as a recursive version defeated the vectoriser).
template <typename Op>
typename Op::acc_t pairwise_reduce(const Op& op, const typename Op::in_t* p, std::int64_t n) {
  using acc_t = typename Op::acc_t;
  if (n <= kPairwiseBlock) return lane_reduce(op, p, n);
  acc_t stack[64];
  int top = 0;
  for (std::int64_t b = 0; b * kPairwiseBlock < n; ++b) {
    acc_t v = lane_reduce(op, p + b * kPairwiseBlock, std::min(kPairwiseBlock, n - b * kPairwiseBlock));
    for (std::int64_t k = b; k & 1; k >>= 1) v = op.combine(stack[--top], v);
    stack[top++] = v;
  }
  acc_t r = stack[--top];
  while (top > 0) r = op.combine(stack[--top], r);
  return r;
}

template <typename Op>
typename Op::acc_t contiguous_reduce(const Op& op, const typename Op::in_t* p, std::int64_t n) {
  if constexpr (requires { op.row(p, n); }) return op.row(p, n);
  else return pairwise_reduce(op, p, n);
}

// acc folded with n elements at p (byte stride s), positions pos, pos+1, ...
template <typename Op>
typename Op::acc_t run_row(const Op& op, typename Op::acc_t acc, const char* p, std::int64_t s, std::int64_t n,
                           std::int64_t pos) {
  using in_t = typename Op::in_t;
  if (!Op::kIndexed && s == static_cast<std::int64_t>(sizeof(in_t)) && n > 1)
    return op.combine(acc, contiguous_reduce(op, reinterpret_cast<const in_t*>(p), n));
  for (std::int64_t i = 0; i < n; ++i, p += s) acc = op.step(acc, *reinterpret_cast<const in_t*>(p), pos + i);
  return acc;
}

// acc[j] = step(acc[j], row[j]) for a block: the vectorisable heart of outer reductions.
template <typename Op>
void accumulate_row(const Op& op, typename Op::acc_t* __restrict acc, const typename Op::in_t* __restrict row,
                    std::int64_t len, std::int64_t pos) {
  for (std::int64_t j = 0; j < len; ++j) acc[j] = op.step(acc[j], row[j], pos);
}

// Four rows at once (same order of operations as four accumulate_row calls, so bit-identical
// results) with a quarter of the accumulator loads and stores.
template <typename Op>
void accumulate_rows4(const Op& op, typename Op::acc_t* __restrict acc, const char* p, std::int64_t s,
                      std::int64_t len) {
  using in_t = typename Op::in_t;
  const in_t* __restrict r0 = reinterpret_cast<const in_t*>(p);
  const in_t* __restrict r1 = reinterpret_cast<const in_t*>(p + s);
  const in_t* __restrict r2 = reinterpret_cast<const in_t*>(p + 2 * s);
  const in_t* __restrict r3 = reinterpret_cast<const in_t*>(p + 3 * s);
  for (std::int64_t j = 0; j < len; ++j)
    acc[j] = op.step(op.step(op.step(op.step(acc[j], r0[j], 0), r1[j], 0), r2[j], 0), r3[j], 0);
}

// Walks a multi-index over (sizes, strides) from a linear start, tracking the element offset.
struct Cursor {
  const Shape* sizes;
  const Shape* strides;
  Shape idx;
  std::int64_t offset = 0;
  Cursor(const Shape& sz, const Shape& st, std::int64_t linear) : sizes(&sz), strides(&st), idx(sz.size(), 0) {
    for (std::size_t d = sz.size(); d-- > 0;) {
      idx[d] = linear % sz[d];
      linear /= sz[d];
      offset += idx[d] * st[d];
    }
  }
  void next() {
    for (std::size_t d = sizes->size(); d-- > 0;) {
      offset += (*strides)[d];
      if (++idx[d] < (*sizes)[d]) return;
      offset -= idx[d] * (*strides)[d];
      idx[d] = 0;
    }
  }
};

// Folds the reduced positions [b, e) starting from element pointer base into acc.
template <typename Op>
typename Op::acc_t reduce_positions(const Op& op, const detail::StridedOperands<1>& red, const char* base,
                                    std::int64_t b, std::int64_t e, typename Op::acc_t acc) {
  if (red.shape.size() == 1)  // one reduced dim: no multi-index bookkeeping per output
    return run_row(op, acc, base + b * red.strides[0][0], red.strides[0][0], e - b, b);
  detail::StridedOperands<1> ops = red;
  ops.data[0] = const_cast<char*>(base);
  std::int64_t pos = b;
  detail::for_each_row(ops, b, e, [&](const std::array<char*, 1>& p, const std::array<std::int64_t, 1>& s,
                                      std::int64_t n) {
    acc = run_row(op, acc, p[0], s[0], n, pos);
    pos += n;
  });
  return acc;
}

template <typename Op, typename Emit>
void run_reduce(const Op& op, const Tensor& x, const std::vector<bool>& reduced, Emit&& emit) {
  using in_t = typename Op::in_t;
  using acc_t = typename Op::acc_t;
  const Geometry g = make_geometry(x, reduced, Op::kIndexed);
  if (g.M == 0) return;
  if (g.K == 0) {
    detail::parallel_for(0, g.M, kGrainElems, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t o = b; o < e; ++o) emit(o, op.init());
    });
    return;
  }
  const char* base = static_cast<const char*>(x.data_ptr());
  const auto es = static_cast<std::int64_t>(sizeof(in_t));
  detail::StridedOperands<1> red;
  red.shape = g.red_sizes;
  red.strides[0] = g.red_strides;
  for (auto& s : red.strides[0]) s *= es;

  // Outer reduction: innermost kept dim contiguous while the reduced rows are not.
  const bool outer = !g.kept_sizes.empty() && g.kept_strides.back() == 1 && g.kept_sizes.back() >= 4 &&
                     !(g.red_strides.back() == 1 && g.K > 1);
  const std::int64_t J = outer ? g.kept_sizes.back() : 1;
  const std::int64_t B = outer ? std::min(J, kBlockJ) : 1;  // outputs per group
  const std::int64_t blocks = (J + B - 1) / B;
  const std::int64_t groups = outer ? (g.M / J) * blocks : g.M;
  Shape outer_sizes = g.kept_sizes, outer_strides = g.kept_strides;
  if (outer) {
    outer_sizes.back() = 1;
    outer_strides.back() = 0;
  }
  // Fixed, shape-only chunking of the reduced space (thread-count independent results).
  const std::int64_t work = g.K * B;
  std::int64_t nck = 1;
  if (groups < kMinGroups && work >= 2 * kChunkElems) nck = (work + kChunkElems - 1) / kChunkElems;
  const std::int64_t chunk = (g.K + nck - 1) / nck;
  nck = (g.K + chunk - 1) / chunk;
  // Not std::vector: vector<bool> packs bits, and threads write neighbouring partials.
  std::unique_ptr<acc_t[]> partial(nck > 1 ? new acc_t[static_cast<std::size_t>(groups * nck * B)] : nullptr);

  const std::int64_t tasks = groups * nck;
  const std::int64_t grain = std::max<std::int64_t>(1, kGrainElems / std::max<std::int64_t>(1, chunk * B));
  detail::parallel_for(0, tasks, grain, [&](std::int64_t tb, std::int64_t te) {
    if (!outer && nck == 1) {  // one task per output (the common case: no divisions per output)
      Cursor cur(g.kept_sizes, g.kept_strides, tb);
      for (std::int64_t o = tb; o < te; ++o) {
        if (o > tb) cur.next();
        emit(o, reduce_positions(op, red, base + cur.offset * es, 0, g.K, op.init()));
      }
      return;
    }
    if (!outer) {
      // One output per group; tasks are (output, chunk) with chunk fastest.
      Cursor cur(g.kept_sizes, g.kept_strides, tb / nck);
      std::int64_t cur_o = tb / nck;
      for (std::int64_t t = tb; t < te; ++t) {
        const std::int64_t o = t / nck, c = t % nck;
        while (cur_o < o) {
          cur.next();
          ++cur_o;
        }
        const std::int64_t pb = c * chunk, pe = std::min(g.K, pb + chunk);
        const acc_t a = reduce_positions(op, red, base + cur.offset * es, pb, pe, op.init());
        if (nck == 1) emit(o, a);
        else partial[static_cast<std::size_t>(t)] = a;
      }
      return;
    }
    std::array<acc_t, kBlockJ> acc;
    for (std::int64_t t = tb; t < te; ++t) {
      const std::int64_t grp = t / nck, c = t % nck;
      const std::int64_t q = grp / blocks, j0 = (grp % blocks) * B, len = std::min(B, J - j0);
      const Cursor cur(outer_sizes, outer_strides, q);
      for (std::int64_t j = 0; j < len; ++j) acc[static_cast<std::size_t>(j)] = op.init();
      detail::StridedOperands<1> ops = red;
      ops.data[0] = const_cast<char*>(base + (cur.offset + j0) * es);
      std::int64_t pos = c * chunk;
      detail::for_each_row(ops, pos, std::min(g.K, pos + chunk),
                           [&](const std::array<char*, 1>& p, const std::array<std::int64_t, 1>& s, std::int64_t n) {
                             std::int64_t r = 0;
                             if constexpr (requires { op.rows(acc.data(), p[0], s[0], n, len); })
                               if (op.rows(acc.data(), p[0], s[0], n, len)) {
                                 pos += n;
                                 return;
                               }
                             if constexpr (!Op::kIndexed)
                               for (; r + 4 <= n; r += 4, pos += 4)
                                 accumulate_rows4(op, acc.data(), p[0] + r * s[0], s[0], len);
                             for (; r < n; ++r, ++pos)
                               accumulate_row(op, acc.data(), reinterpret_cast<const in_t*>(p[0] + r * s[0]), len, pos);
                           });
      if (nck == 1) {
        const std::int64_t o0 = q * J + j0;
        for (std::int64_t j = 0; j < len; ++j) emit(o0 + j, acc[static_cast<std::size_t>(j)]);
      } else {
        for (std::int64_t j = 0; j < len; ++j) partial[static_cast<std::size_t>(t * B + j)] = acc[static_cast<std::size_t>(j)];
      }
    }
  });
  if (nck == 1) return;
  // Combine the chunks of each output in order.
  detail::parallel_for(0, groups, std::max<std::int64_t>(1, kGrainElems / (nck * B)), [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t grp = b; grp < e; ++grp) {
      const std::int64_t q = grp / blocks, j0 = (grp % blocks) * B, len = outer ? std::min(B, J - j0) : 1;
      // Fold chunk rows into chunk 0's row, contiguously (a strided gather per output thrashes).
      acc_t* first = partial.get() + grp * nck * B;
      for (std::int64_t c = 1; c < nck; ++c) {
        const acc_t* next = first + c * B;
        for (std::int64_t j = 0; j < len; ++j) first[j] = op.combine(first[j], next[j]);
      }
      for (std::int64_t j = 0; j < len; ++j) emit(outer ? q * J + j0 + j : grp, first[j]);
    }
  });
}

}  // namespace tapeflow::cpu::reduce_detail
