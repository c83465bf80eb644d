#pragma once
// The iteration engine under every elementwise kernel: N operands viewed over one common shape
// (inputs already broadcast, stride 0), dims coalesced, then visited row by row:
//   inner(std::array<char*, N> ptrs, std::array<int64_t, N> byte_strides, int64_t count)
// A kernel checks whether the row strides equal the element sizes (the contiguous fast path)
// and otherwise walks with the strides. Large iterations are split across the thread pool.
#include <array>
#include <cstdint>

#include "core/parallel.hpp"
#include "tapeflow/shape.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::detail {

template <std::size_t N>
struct StridedOperands {
  Shape shape;                    // iteration shape (after coalescing: outermost first)
  std::array<char*, N> data{};    // first element of each operand
  std::array<Shape, N> strides;   // byte strides of each operand per dim
};

// Views t (broadcast to `shape`) as an operand: byte strides with 0 on broadcast dims.
inline Shape broadcast_byte_strides(const Tensor& t, IntArrayRef shape) {
  const TensorImpl& impl = *t.impl();
  const std::size_t nd = shape.size(), td = impl.sizes.size();
  const std::int64_t es = static_cast<std::int64_t>(element_size(impl.dtype));
  Shape s(nd, 0);
  for (std::size_t i = 0; i < td; ++i) {
    const std::size_t o = nd - td + i;
    s[o] = impl.sizes[i] == 1 && shape[o] != 1 ? 0 : impl.strides[i] * es;
  }
  return s;
}

template <std::size_t N>
StridedOperands<N> make_operands(IntArrayRef shape, const std::array<const Tensor*, N>& tensors) {
  StridedOperands<N> ops;
  ops.shape = Shape(shape);
  for (std::size_t k = 0; k < N; ++k) {
    ops.data[k] = static_cast<char*>(tensors[k]->impl()->data());
    ops.strides[k] = broadcast_byte_strides(*tensors[k], shape);
  }
  return ops;
}

// Drops size-1 dims and merges neighbours that are contiguous for every operand.
template <std::size_t N>
void coalesce(StridedOperands<N>& ops) {
  Shape shape;
  std::array<Shape, N> strides;
  for (std::size_t d = 0; d < ops.shape.size(); ++d) {
    const std::int64_t size = ops.shape[d];
    if (size == 1) continue;
    bool merge = !shape.empty();
    for (std::size_t k = 0; k < N && merge; ++k)
      merge = strides[k].back() == ops.strides[k][d] * size;
    if (merge) {
      shape.back() *= size;
      for (std::size_t k = 0; k < N; ++k) strides[k].back() = ops.strides[k][d];
    } else {
      shape.push_back(size);
      for (std::size_t k = 0; k < N; ++k) strides[k].push_back(ops.strides[k][d]);
    }
  }
  if (shape.empty()) {  // a single element
    shape.push_back(1);
    for (std::size_t k = 0; k < N; ++k) strides[k].push_back(0);
  }
  ops.shape = std::move(shape);
  ops.strides = std::move(strides);
}

// Visits the linear range [begin, end) of the (coalesced) iteration space row by row.
template <std::size_t N, typename F>
void for_each_row(const StridedOperands<N>& ops, std::int64_t begin, std::int64_t end, F&& inner) {
  const std::size_t nd = ops.shape.size();
  const std::int64_t row = ops.shape[nd - 1];
  std::array<std::int64_t, N> inner_strides;
  for (std::size_t k = 0; k < N; ++k) inner_strides[k] = ops.strides[k][nd - 1];
  // Multi-index of `begin`.
  Shape idx(nd, 0);
  std::int64_t rem = begin;
  for (std::size_t d = nd; d-- > 0;) {
    idx[d] = rem % ops.shape[d];
    rem /= ops.shape[d];
  }
  std::array<char*, N> ptrs;
  for (std::size_t k = 0; k < N; ++k) {
    ptrs[k] = ops.data[k];
    for (std::size_t d = 0; d < nd; ++d) ptrs[k] += idx[d] * ops.strides[k][d];
  }
  std::int64_t pos = begin;
  while (pos < end) {
    const std::int64_t count = std::min(row - idx[nd - 1], end - pos);
    inner(ptrs, inner_strides, count);
    pos += count;
    if (pos >= end) break;
    // Move to the start of the next row: carry through the outer dims.
    for (std::size_t k = 0; k < N; ++k) ptrs[k] += (count - 1) * inner_strides[k] + inner_strides[k];
    idx[nd - 1] += count;
    for (std::size_t d = nd - 1; d > 0 && idx[d] == ops.shape[d]; --d) {
      for (std::size_t k = 0; k < N; ++k) ptrs[k] += ops.strides[k][d - 1] - ops.shape[d] * ops.strides[k][d];
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

// Coalesces and visits everything, in parallel when there is enough work.
template <std::size_t N, typename F>
void strided_for_each(StridedOperands<N> ops, F&& inner, std::int64_t grain = kElementwiseGrain) {
  const std::int64_t total = shape_numel(ops.shape);
  if (total == 0) return;
  coalesce(ops);
  parallel_for(0, total, grain, [&](std::int64_t b, std::int64_t e) { for_each_row(ops, b, e, inner); });
}

}  // namespace tapeflow::detail
