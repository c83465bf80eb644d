#pragma once
// Minimal warp and block reductions for the loss kernels (device code only).
#include <cuda_runtime.h>

namespace tapeflow::cuda_backend {

// Combines v over a group of G consecutive lanes (G = 1 or 32, a whole warp): every lane of the
// group gets the result. With G = 32 all lanes of the warp must call it together.
template <int G, class T, class Op>
__device__ __forceinline__ T group_reduce(T v, Op op) {
  static_assert(G == 1 || G == 32, "a group is one lane or a whole warp");
#pragma unroll
  for (int o = G / 2; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

struct Plus {
  template <class T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};

// The sum of v over the block (blockDim.x a multiple of 32, at most 1024), valid in thread 0;
// every thread of the block must call it.
template <class T>
__device__ T block_sum(T v) {
  __shared__ T partial[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = group_reduce<32>(v, Plus{});
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = threadIdx.x < blockDim.x / 32 ? partial[threadIdx.x] : T(0);
  if (warp == 0) v = group_reduce<32>(v, Plus{});
  return v;
}

}  // namespace tapeflow::cuda_backend
