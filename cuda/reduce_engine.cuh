#pragma once
// The one CUDA reduction kernel behind every reduce op (and the per-channel sums of the norm
// kernels). A reducer (kernels/reducers.hpp) gives the math; a source reads the element at a
// byte offset for an output; a store writes each projected result. Blocks are
// (blockDim.x, blockDim.y) threads laid out by the plan (kernels/reduce_plan.hpp):
// - "inner" layout (split_x): the lanes along x share one output and stride through its reduced
//   positions together (consecutive lanes read consecutive memory when the reduced dim is
//   contiguous); few positions per output give narrow rows of lanes, many give a block per output.
// - "outer" layout: neighbouring outputs are neighbours in memory (e.g. a column sum), so x
//   indexes 32 outputs (coalesced loads) and the rows along y split the reduced positions.
// When the outputs alone cannot fill the GPU, the reduced range is also cut into chunks across
// gridDim.y; each chunk writes its partial result to a workspace that a second kernel merges
// (no host synchronisation, no atomics, deterministic).
#include <algorithm>
#include <cstdint>

#include "block_reduce.cuh"
#include "core/tensor_factory.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "kernels/reduce_plan.hpp"

namespace tapeflow::cuda_backend::reduce_engine {

// Element of type T at a byte offset from base.
template <class T>
struct Load {
  const char* base;
  __device__ T operator()(std::int64_t, std::int64_t off) const { return *reinterpret_cast<const T*>(base + off); }
};

// out[o] = result, converted to Out.
template <class Out>
struct StoreOut {
  Out* out;
  template <class V>
  __device__ void operator()(std::int64_t o, const V& v) const {
    out[o] = static_cast<Out>(v);
  }
};

template <class R, class Src, class Store>
__global__ void reduce_kernel(R r, Src src, Store store, kernels::ReducePlan plan, bool split_x, long long chunk_len,
                              typename R::acc_t* partial) {
  using acc_t = typename R::acc_t;
  const int lane = split_x ? threadIdx.x : threadIdx.y, lanes = split_x ? blockDim.x : blockDim.y;
  const int slot = split_x ? threadIdx.y : threadIdx.x, slots = split_x ? blockDim.y : blockDim.x;
  const long long o = static_cast<long long>(blockIdx.x) * slots + slot;
  const long long k0 = static_cast<long long>(blockIdx.y) * chunk_len;
  const long long k1 = k0 + chunk_len < plan.reduced ? k0 + chunk_len : plan.reduced;
  acc_t acc = r.init();
  if (o < plan.outputs) {
    const long long base = plan.out_offset(o);
    for (long long k = k0 + lane; k < k1; k += lanes) acc = r.combine(acc, src(o, base + plan.red_offset(k)), k);
  }
  const auto merge = [&r](const acc_t& a, const acc_t& b) { return r.merge(a, b); };
  acc_t* smem = shared_as<acc_t>();
  acc = split_x ? lane_allreduce(acc, merge, smem) : row_reduce_to_first(acc, merge, smem);
  if (lane != 0 || o >= plan.outputs) return;
  if (gridDim.y == 1)
    store(o, r.project(acc));
  else
    partial[o * gridDim.y + blockIdx.y] = acc;
}

// Merges the chunks of each output (in chunk order) and stores the projection.
template <class R, class Store>
__global__ void finish_kernel(R r, Store store, const typename R::acc_t* partial, long long outputs, unsigned chunks) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long o = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; o < outputs; o += stride) {
    typename R::acc_t acc = partial[o * chunks];
    for (unsigned c = 1; c < chunks; ++c) acc = r.merge(acc, partial[o * chunks + c]);
    store(o, r.project(acc));
  }
}

struct Config {
  unsigned bx = 1, by = 1;
  bool split_x = true;
  long long out_blocks = 1;
  unsigned chunks = 1;
  long long chunk_len = 1;
};

int multiprocessors(int device);

// elem_size: bytes of one element as the plan's strides see it.
inline Config choose_config(const kernels::ReducePlan& plan, std::int64_t elem_size, int sms) {
  Config c;
  const long long M = plan.outputs, K = plan.reduced;
  c.split_x = !(plan.out_inner_stride == elem_size && M > 1);
  if (c.split_x) {
    c.bx = pow2_at_most((K + 3) / 4, 512);  // a few positions per lane, up to a block per output
    c.by = std::max(1u, 256u / c.bx);
  } else {
    c.bx = kWarp;
    c.by = pow2_at_most(K, 16);
  }
  const long long slots = c.split_x ? c.by : c.bx, lanes = c.split_x ? c.bx : c.by;
  c.out_blocks = (M + slots - 1) / slots;
  c.chunk_len = std::max<long long>(K, 1);
  constexpr long long kMinPerLane = 32;  // positions each lane folds at least when the range is split
  const long long target = 4LL * sms;
  if (c.out_blocks < target && K > lanes * kMinPerLane) {
    const long long want = std::min({(target + c.out_blocks - 1) / c.out_blocks, K / (lanes * kMinPerLane), 65535LL});
    c.chunk_len = (K + want - 1) / want;
    c.chunks = static_cast<unsigned>((K + c.chunk_len - 1) / c.chunk_len);
  }
  return c;
}

template <class R, class Src, class Store>
void run(const R& r, const Src& src, const Store& store, const kernels::ReducePlan& plan, std::int64_t elem_size,
         Device device) {
  using acc_t = typename R::acc_t;
  if (plan.outputs == 0) return;
  const int index = device.index();
  DeviceGuard guard(index);
  const cudaStream_t stream = current_stream(index);
  const Config c = choose_config(plan, elem_size, multiprocessors(index));
  const std::size_t smem = sizeof(acc_t) * (c.split_x ? (c.bx > kWarp ? c.by * kWarp : 0) : c.bx * c.by);
  Tensor workspace;
  acc_t* partial = nullptr;
  if (c.chunks > 1) {
    const auto bytes = static_cast<std::int64_t>(sizeof(acc_t)) * plan.outputs * c.chunks;
    workspace = detail::make_tensor({(bytes + 7) / 8}, kInt64, device);
    partial = static_cast<acc_t*>(workspace.data_ptr());
  }
  const dim3 grid(static_cast<unsigned>(c.out_blocks), c.chunks), block(c.bx, c.by);
  reduce_kernel<<<grid, block, smem, stream>>>(r, src, store, plan, c.split_x, c.chunk_len, partial);
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  if (c.chunks == 1) return;
  const LaunchShape ls = launch_shape(plan.outputs);
  finish_kernel<<<ls.blocks, ls.threads, 0, stream>>>(r, store, partial, plan.outputs, c.chunks);
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  // The workspace returns to the caching allocator here; later work on this stream is ordered after.
}

}  // namespace tapeflow::cuda_backend::reduce_engine
