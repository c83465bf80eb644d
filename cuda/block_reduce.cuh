#pragma once
// Reductions across the threads of a block, generic over the value type and the merge (any
// trivially copyable struct: shuffled as 32-bit words). The block is a grid of
// (blockDim.x lanes) x (blockDim.y rows); blockDim.x * blockDim.y is a multiple of 32 and
// blockDim.x is a power of two, so every warp is full and no warp straddles two rows when
// blockDim.x <= 32. Every thread of the block must call these (they synchronise).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/reduce_plan.hpp"

namespace tapeflow::cuda_backend {

inline constexpr int kWarp = 32;

// The larger of two values; a NaN never wins (the CPU's running max of softmax and losses, where
// a NaN poisons the sum instead).
struct MaxKeep {
  template <class T>
  __device__ T operator()(T a, T b) const {
    return b > a ? b : a;
  }
};

// The merge of sums.
struct Plus {
  template <class T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};

template <class T>
__device__ T shfl_xor(const T& v, int lane_mask, int width) {
  constexpr int kWords = (sizeof(T) + 3) / 4;
  unsigned words[kWords] = {};
  memcpy(words, &v, sizeof(T));
#pragma unroll
  for (int i = 0; i < kWords; ++i) words[i] = __shfl_xor_sync(0xffffffffu, words[i], lane_mask, width);
  T r;
  memcpy(&r, words, sizeof(T));
  return r;
}

// Butterfly over groups of `width` lanes (a power of two <= 32): every lane gets the result.
template <class T, class Merge>
__device__ T warp_allreduce(T v, const Merge& merge, int width) {
  for (int m = width / 2; m > 0; m /= 2) v = merge(v, shfl_xor(v, m, width));
  return v;
}

// Reduces across the lanes (x) of each row; every lane of the row gets the result.
// smem: at least blockDim.y * 32 values (unused when blockDim.x <= 32).
template <class T, class Merge>
__device__ T lane_allreduce(T v, const Merge& merge, T* smem) {
  const int bx = static_cast<int>(blockDim.x);
  if (bx <= kWarp) return warp_allreduce(v, merge, bx);
  v = warp_allreduce(v, merge, kWarp);
  const int warps = bx / kWarp, row = static_cast<int>(threadIdx.y);
  T* mine = smem + row * kWarp;
  __syncthreads();  // smem may still be read by a previous call
  if (threadIdx.x % kWarp == 0) mine[threadIdx.x / kWarp] = v;
  __syncthreads();
  v = mine[0];
  for (int w = 1; w < warps; ++w) v = merge(v, mine[w]);
  return v;
}

// Reduces across the rows (y) of each lane column; the result is valid in row 0.
// smem: at least blockDim.x * blockDim.y values.
template <class T, class Merge>
__device__ T row_reduce_to_first(T v, const Merge& merge, T* smem) {
  const int bx = static_cast<int>(blockDim.x), by = static_cast<int>(blockDim.y);
  if (by == 1) return v;
  __syncthreads();
  smem[threadIdx.y * bx + threadIdx.x] = v;
  __syncthreads();
  if (threadIdx.y == 0)
    for (int y = 1; y < by; ++y) v = merge(v, smem[y * bx + threadIdx.x]);
  return v;
}

// Host side: lanes per row (a power of two, about a quarter of the row, up to max_lanes) and rows
// per block (a block of at least 256 threads), for kernels that give a row to the lanes of x.
struct RowBlocks {
  unsigned bx, by, blocks;
  std::size_t smem_values;  // values of shared memory lane_allreduce needs
};
inline RowBlocks row_blocks(long long rows, long long n, unsigned max_lanes = 1024) {
  RowBlocks b;
  b.bx = kernels::pow2_at_most((n + 3) / 4, max_lanes);
  b.by = b.bx >= 256 ? 1 : 256 / b.bx;
  b.blocks = static_cast<unsigned>((rows + b.by - 1) / b.by);
  b.smem_values = b.bx > static_cast<unsigned>(kWarp) ? b.by * kWarp : 0;
  return b;
}

// The sum of v over a one-row block (blockDim.y == 1), valid in every thread.
template <class T>
__device__ T block_sum(T v) {
  __shared__ T smem[kWarp];
  return lane_allreduce(v, Plus{}, smem);
}

// Dynamic shared memory of the launch, viewed as T.
template <class T>
__device__ T* shared_as() {
  extern __shared__ __align__(16) unsigned char tapeflow_smem[];
  return reinterpret_cast<T*>(tapeflow_smem);
}

}  // namespace tapeflow::cuda_backend
