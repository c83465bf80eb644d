#pragma once
// How a reduction walks its input, for kernels that give outputs to threads (CUDA): from the
// input's shape and strides and the ReduceMask, the number of outputs (row-major over the kept
// dims, the layout of the contiguous output tensor), the number of reduced positions, and two
// offset calculators: output index -> byte offset of the output's first input element, and
// reduced index -> byte offset from there. Size-1 dims are dropped and neighbours that are one
// constant stride are merged (also across dims of the other kind: the linear index stays the
// same). Reduced positions are row-major over the reduced dims in logical order when keep_order
// (argmax/argmin return them), else sorted by decreasing stride so that consecutive positions
// are as close in memory as the layout allows.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/host_device.hpp"
#include "kernels/offset_calc.hpp"
#include "kernels/params.hpp"
#include "tapeflow/error.hpp"
#include "tapeflow/shape.hpp"

namespace tapeflow::kernels {

struct ReducePlan {
  std::int64_t outputs = 1;           // kept elements (0: nothing to do)
  std::int64_t reduced = 1;           // positions per output (0: every output is the reducer's identity)
  OffsetCalc<1, std::int64_t> out;    // output index -> byte offset into the input
  OffsetCalc<1, std::int64_t> red;    // reduced index -> byte offset from an output's base
  std::int64_t out_inner_stride = 0;  // bytes between neighbouring outputs' bases (innermost kept dim)
  std::int64_t red_inner_stride = 0;  // bytes between neighbouring reduced positions (innermost reduced dim)

  bool out_index_32 = true, red_index_32 = true;  // the index spaces fit 32-bit division

  TAPEFLOW_HD std::int64_t out_offset(std::int64_t o) const { return offset_of(out, out_index_32, o); }
  TAPEFLOW_HD std::int64_t red_offset(std::int64_t k) const { return offset_of(red, red_index_32, k); }

  // One dim: a multiply. Otherwise 32-bit divisions when the index space allows (several times
  // cheaper than 64-bit ones on a GPU, and they run once per element for multi-dim reductions).
  TAPEFLOW_HD static std::int64_t offset_of(const OffsetCalc<1, std::int64_t>& oc, bool index_32, std::int64_t i) {
    if (oc.dims == 1) return i * oc.strides[0][0];
    if (!index_32) return oc.get(i)[0];
    auto linear = static_cast<std::uint32_t>(i);
    std::int64_t off = 0;
    for (int d = 0; d < oc.dims; ++d) {
      const auto size = static_cast<std::uint32_t>(oc.sizes[d]);
      off += static_cast<std::int64_t>(linear % size) * oc.strides[d][0];
      linear /= size;
    }
    return off;
  }
};

// Appends a dim of `size` with `stride` to (sizes, strides), folding it into the previous dim when
// the two are one run in memory; size-1 dims vanish. The CPU reduce engine uses it too.
inline void push_merged_dim(Shape& sizes, Shape& strides, std::int64_t size, std::int64_t stride) {
  if (size == 1) return;
  if (!sizes.empty() && strides.back() == stride * size) {
    sizes.back() *= size;
    strides.back() = stride;
  } else {
    sizes.push_back(size);
    strides.push_back(stride);
  }
}

namespace reduce_plan_detail {

// sizes/strides outermost first -> an OffsetCalc (innermost first); no dims means one position.
inline void fill_calc(const char* op, const Shape& sizes, const Shape& strides, OffsetCalc<1, std::int64_t>& oc) {
  const int nd = static_cast<int>(sizes.size());
  if (nd > kMaxKernelDims)
    fail<ShapeError>(op, "an input of ", nd, " non-mergeable dims; the CUDA reductions handle at most ",
                     kMaxKernelDims);
  oc.dims = nd;
  for (int d = 0; d < nd; ++d) {
    oc.sizes[d] = sizes[static_cast<std::size_t>(nd - 1 - d)];
    oc.strides[d][0] = strides[static_cast<std::size_t>(nd - 1 - d)];
  }
}

}  // namespace reduce_plan_detail

// sizes/strides: the input's (strides in elements); elem_size: bytes per element.
inline ReducePlan make_reduce_plan(const char* op, IntArrayRef sizes, IntArrayRef strides, std::int64_t elem_size,
                                   const ReduceMask& reduced, bool keep_order) {
  ReducePlan p;
  Shape kept_sizes, kept_strides, red_sizes, red_strides;
  std::vector<std::size_t> red;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (reduced[d]) {
      red.push_back(d);
      p.reduced *= sizes[d];
    } else {
      push_merged_dim(kept_sizes, kept_strides, sizes[d], strides[d] * elem_size);
      p.outputs *= sizes[d];
    }
  }
  if (!keep_order)
    std::stable_sort(red.begin(), red.end(), [&](std::size_t a, std::size_t b) { return strides[a] > strides[b]; });
  for (std::size_t d : red) push_merged_dim(red_sizes, red_strides, sizes[d], strides[d] * elem_size);
  reduce_plan_detail::fill_calc(op, kept_sizes, kept_strides, p.out);
  reduce_plan_detail::fill_calc(op, red_sizes, red_strides, p.red);
  constexpr std::int64_t kMax32 = 0xffffffffLL;
  p.out_index_32 = p.outputs <= kMax32;
  p.red_index_32 = p.reduced <= kMax32;
  p.out_inner_stride = kept_strides.empty() ? 0 : kept_strides.back();
  p.red_inner_stride = red_strides.empty() ? 0 : red_strides.back();
  return p;
}

// The largest power of two <= n (at least 1), capped at cap (a power of two).
inline unsigned pow2_at_most(long long n, unsigned cap) {
  unsigned p = 1;
  while (p * 2 <= cap && static_cast<long long>(p) * 2 <= n) p *= 2;
  return p;
}

// How a GPU kernel lays threads over a plan: blocks of (bx, by) threads; with split_x the bx lanes
// along x share one output (by outputs per block), else x indexes bx neighbouring outputs and the
// by rows split their reduced positions. Blocks along y cut the reduced range into `chunks` of
// chunk_len positions (partial results merged by a second pass) when the outputs alone leave
// the GPU idle. Every block has a multiple of 32 threads, at most 512.
struct ReduceLaunch {
  unsigned bx = 1, by = 1;
  bool split_x = true;
  long long out_blocks = 1;
  unsigned chunks = 1;
  long long chunk_len = 1;
  unsigned smem_values = 0;  // accumulators of shared memory the block reduction needs
};

// elem_size: bytes of one element as the plan's strides count them; sms: multiprocessors.
inline ReduceLaunch choose_reduce_launch(const ReducePlan& plan, std::int64_t elem_size, int sms) {
  constexpr unsigned kWarpLanes = 32;
  ReduceLaunch c;
  const long long M = plan.outputs, K = plan.reduced;
  // Outputs next to each other in memory: x over outputs keeps loads coalesced.
  c.split_x = !(plan.out_inner_stride == elem_size && M > 1);
  if (c.split_x) {
    c.bx = pow2_at_most((K + 3) / 4, 512);  // a few positions per lane, up to a block per output
    c.by = c.bx >= 256 ? 1 : 256 / c.bx;
    c.smem_values = c.bx > kWarpLanes ? c.by * kWarpLanes : 0;
  } else {
    c.bx = kWarpLanes;
    c.by = pow2_at_most(K, 16);
    c.smem_values = c.bx * c.by;
  }
  const long long slots = c.split_x ? c.by : c.bx, lanes = c.split_x ? c.bx : c.by;
  c.out_blocks = (M + slots - 1) / slots;
  c.chunk_len = K > 1 ? K : 1;
  constexpr long long kMinPerLane = 32;  // positions each lane folds at least when the range is split
  const long long target = 4LL * sms;    // blocks that keep every multiprocessor busy
  if (c.out_blocks < target && K > lanes * kMinPerLane) {
    const long long want = std::min({(target + c.out_blocks - 1) / c.out_blocks, K / (lanes * kMinPerLane), 65535LL});
    c.chunk_len = (K + want - 1) / want;
    c.chunks = static_cast<unsigned>((K + c.chunk_len - 1) / c.chunk_len);
  }
  return c;
}

// What one thread of a ReduceLaunch folds: output o (>= outputs: none) and reduced positions
// k0, k0 + step, ... below k1; `lane` 0 of each output holds the merged result.
struct ThreadWork {
  long long o, k0, k1, step;
  int lane;
};
TAPEFLOW_HD inline ThreadWork thread_work(const ReducePlan& plan, bool split_x, long long chunk_len, unsigned bx,
                                          unsigned by, unsigned tx, unsigned ty, unsigned block_x, unsigned block_y) {
  const unsigned lane = split_x ? tx : ty, lanes = split_x ? bx : by;
  const unsigned slot = split_x ? ty : tx, slots = split_x ? by : bx;
  ThreadWork w;
  w.o = static_cast<long long>(block_x) * slots + slot;
  const long long begin = static_cast<long long>(block_y) * chunk_len;
  w.k0 = begin + lane;
  w.k1 = begin + chunk_len < plan.reduced ? begin + chunk_len : plan.reduced;
  w.step = lanes;
  w.lane = static_cast<int>(lane);
  return w;
}

}  // namespace tapeflow::kernels
