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
  const kernels::ThreadWork w = kernels::thread_work(plan, split_x, chunk_len, blockDim.x, blockDim.y, threadIdx.x,
                                                     threadIdx.y, blockIdx.x, blockIdx.y);
  acc_t acc = r.init();
  if (w.o < plan.outputs) {
    const long long base = plan.out_offset(w.o);
    for (long long k = w.k0; k < w.k1; k += w.step) acc = r.combine(acc, src(w.o, base + plan.red_offset(k)), k);
  }
  const auto merge = [&r](const acc_t& a, const acc_t& b) { return r.merge(a, b); };
  acc_t* smem = shared_as<acc_t>();
  acc = split_x ? lane_allreduce(acc, merge, smem) : row_reduce_to_first(acc, merge, smem);
  if (w.lane != 0 || w.o >= plan.outputs) return;
  if (gridDim.y == 1)
    store(w.o, r.project(acc));
  else
    partial[w.o * gridDim.y + blockIdx.y] = acc;
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

int multiprocessors(int device);

template <class R, class Src, class Store>
void run(const R& r, const Src& src, const Store& store, const kernels::ReducePlan& plan, std::int64_t elem_size,
         Device device) {
  using acc_t = typename R::acc_t;
  if (plan.outputs == 0) return;
  const int index = device.index();
  DeviceGuard guard(index);
  const cudaStream_t stream = current_stream(index);
  const kernels::ReduceLaunch c = kernels::choose_reduce_launch(plan, elem_size, multiprocessors(index));
  const std::size_t smem = sizeof(acc_t) * c.smem_values;
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
