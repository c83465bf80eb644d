// The reduction family on CUDA: each op is a reducer from kernels/reducers.hpp run by the one
// engine in reduce_engine.cuh, dispatched over the dtypes the CPU kernels accept.
#include <array>
#include <atomic>
#include <limits>

#include "core/strided_loop.hpp"
#include "kernels/offset_calc.hpp"
#include "kernels/reducers.hpp"
#include "reduce.hpp"
#include "reduce_engine.cuh"

namespace tapeflow::cuda_backend {

namespace reduce_engine {
int multiprocessors(int device) {
  static std::array<std::atomic<int>, 64> cache{};
  std::atomic<int>& slot = cache[static_cast<std::size_t>(device) % cache.size()];
  if (slot.load() == 0) {
    int count = 0;
    TAPEFLOW_CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device));
    slot = count;
  }
  return slot.load();
}
}  // namespace reduce_engine

namespace {

using namespace kernels;
using reduce_engine::Load;
using reduce_engine::StoreOut;

// out[o] = r.project(fold of x over the reduced dims), out contiguous of type R::out_t.
template <class R>
void reduce_into(const char* op, const R& r, const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  using T = typename R::in_t;
  using Out = typename R::out_t;
  const auto es = static_cast<std::int64_t>(sizeof(T));
  const ReducePlan plan = make_reduce_plan(op, x.shape(), x.strides(), es, reduced, /*keep_order=*/false);
  reduce_engine::run(r, Load<T>{static_cast<const char*>(x.data_ptr())},
                     StoreOut<Out>{static_cast<Out*>(out.data_ptr())}, plan, es, x.device());
}

template <bool IsMax>
void extremum(const char* op, const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() { reduce_into(op, ExtremumReducer<T, IsMax>{}, out, x, reduced); });
}

// values (optional) and int64 positions, row-major over the reduced dims in logical order.
template <class T>
struct StoreValueIndex {
  T* values;
  std::int64_t* indices;
  __device__ void operator()(std::int64_t o, const ValueIndex<T>& v) const {
    if (values) values[o] = v.value;
    indices[o] = v.index;
  }
};

template <bool IsMax>
void extremum_with_index(const char* op, const Tensor& values, const Tensor& indices, const Tensor& x,
                         const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() {
    const auto es = static_cast<std::int64_t>(sizeof(T));
    const ReducePlan plan = make_reduce_plan(op, x.shape(), x.strides(), es, reduced, /*keep_order=*/true);
    const StoreValueIndex<T> store{values.defined() ? static_cast<T*>(values.data_ptr()) : nullptr,
                                   static_cast<std::int64_t*>(indices.data_ptr())};
    reduce_engine::run(ArgReducer<T, IsMax>{}, Load<T>{static_cast<const char*>(x.data_ptr())}, store, plan, es,
                       x.device());
  });
}

template <bool IsAll>
void logical(const char* op, const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() { reduce_into(op, LogicalReducer<T, IsAll>{}, out, x, reduced); });
}

// ---- cumsum: accumulating in wide_t like the CPU ----
// Lines strided along dim: one thread per line (neighbouring threads on neighbouring lines).
template <class T, class Index>
__global__ void cumsum_kernel(const char* x, char* out, OffsetCalc<2, Index> lines, Index count, Index n,
                              long long x_step, long long out_step) {
  using Out = sum_out_t<T>;
  const Index stride = static_cast<Index>(blockDim.x) * gridDim.x;
  for (Index l = blockIdx.x * static_cast<Index>(blockDim.x) + threadIdx.x; l < count; l += stride) {
    const auto off = lines.get(l);
    const char* px = x + off[1];
    char* po = out + off[0];
    wide_t<T> acc = 0;
    for (Index i = 0; i < n; ++i, px += x_step, po += out_step) {
      acc += static_cast<wide_t<T>>(*reinterpret_cast<const T*>(px));
      *reinterpret_cast<Out*>(po) = static_cast<Out>(acc);
    }
  }
}

// Lines contiguous along dim: a warp per line walks it in tiles of 32 elements (coalesced loads
// and stores), an inclusive shuffle scan per tile plus the carry of the tiles before.
template <class T>
__global__ void cumsum_warp_kernel(const char* x, char* out, OffsetCalc<2, long long> lines, long long count,
                                   long long n) {
  using Out = sum_out_t<T>;
  using Acc = wide_t<T>;
  const long long warps = static_cast<long long>(gridDim.x) * (blockDim.x / kWarp);
  const int lane = static_cast<int>(threadIdx.x % kWarp);
  for (long long l = (blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x) / kWarp; l < count; l += warps) {
    const auto off = lines.get(l);
    const T* px = reinterpret_cast<const T*>(x + off[1]);
    Out* po = reinterpret_cast<Out*>(out + off[0]);
    Acc carry = 0;
    for (long long t = 0; t < n; t += kWarp) {
      const long long i = t + lane;
      Acc v = i < n ? static_cast<Acc>(px[i]) : Acc(0);
      for (int d = 1; d < kWarp; d *= 2) {
        const Acc up = __shfl_up_sync(0xffffffffu, v, d);
        if (lane >= d) v += up;
      }
      v += carry;
      if (i < n) po[i] = static_cast<Out>(v);
      carry = __shfl_sync(0xffffffffu, v, kWarp - 1);
    }
  }
}

template <class T, class Index>
bool try_cumsum(const detail::StridedOperands<2>& lines, long long count, long long n, long long x_step,
                long long out_step, cudaStream_t stream) {
  OffsetCalc<2, Index> oc;
  const long long limit = static_cast<long long>(std::numeric_limits<Index>::max() / 2);
  if (count > limit || n > limit || !make_offset_calc(lines, oc)) return false;
  const LaunchShape ls = launch_shape(count);
  cumsum_kernel<T, Index><<<ls.blocks, ls.threads, 0, stream>>>(
      lines.data[1], lines.data[0], oc, static_cast<Index>(count), static_cast<Index>(n), x_step, out_step);
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  return true;
}

}  // namespace

void sum(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() { reduce_into("sum", SumReducer<T>{}, out, x, reduced); });
}

void prod(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() { reduce_into("prod", ProdReducer<T>{}, out, x, reduced); });
}

void mean(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  const auto k = static_cast<double>(kernels::reduced_count(x.shape(), reduced));
  dispatch_floating(x.dtype(), "mean", [&]<typename T>() {
    MeanReducer<T> r;
    r.count = k;
    reduce_into("mean", r, out, x, reduced);
  });
}

void var(const Tensor& out, const Tensor& x, const ReduceMask& reduced, std::int64_t correction, bool take_sqrt) {
  dispatch_floating(x.dtype(), "var", [&]<typename T>() {
    reduce_into("var", VarReducer<T>{correction, take_sqrt}, out, x, reduced);
  });
}

void logsumexp(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch_floating(x.dtype(), "logsumexp",
                    [&]<typename T>() { reduce_into("logsumexp", LogSumExpReducer<T>{}, out, x, reduced); });
}

void norm(const Tensor& out, const Tensor& x, const ReduceMask& reduced, double p) {
  dispatch_floating(x.dtype(), "norm", [&]<typename T>() {
    if (p == 0)
      reduce_into("norm", NormReducer<T, NormKind::Zero>{p}, out, x, reduced);
    else if (p == 1)
      reduce_into("norm", NormReducer<T, NormKind::One>{p}, out, x, reduced);
    else if (p == 2)
      reduce_into("norm", NormReducer<T, NormKind::Two>{p}, out, x, reduced);
    else if (p == std::numeric_limits<double>::infinity())
      reduce_into("norm", NormReducer<T, NormKind::Inf>{p}, out, x, reduced);
    else
      reduce_into("norm", NormReducer<T, NormKind::P>{p}, out, x, reduced);
  });
}

void amax(const Tensor& out, const Tensor& x, const ReduceMask& reduced) { extremum<true>("amax", out, x, reduced); }
void amin(const Tensor& out, const Tensor& x, const ReduceMask& reduced) { extremum<false>("amin", out, x, reduced); }

void max_with_index(const Tensor& values, const Tensor& indices, const Tensor& x, const ReduceMask& reduced) {
  extremum_with_index<true>("max", values, indices, x, reduced);
}
void min_with_index(const Tensor& values, const Tensor& indices, const Tensor& x, const ReduceMask& reduced) {
  extremum_with_index<false>("min", values, indices, x, reduced);
}

void all(const Tensor& out, const Tensor& x, const ReduceMask& reduced) { logical<true>("all", out, x, reduced); }
void any(const Tensor& out, const Tensor& x, const ReduceMask& reduced) { logical<false>("any", out, x, reduced); }

void cumsum(const Tensor& out, const Tensor& x, std::int64_t dim) {
  if (x.numel() == 0) return;
  const int device = x.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  dispatch(x.dtype(), [&]<typename T>() {
    using Out = sum_out_t<T>;
    const auto xs = static_cast<std::int64_t>(sizeof(T)), os = static_cast<std::int64_t>(sizeof(Out));
    // The lines: every dim but `dim`, with the byte strides of out (operand 0) and x (operand 1).
    detail::StridedOperands<2> lines;
    lines.data = {static_cast<char*>(out.data_ptr()), static_cast<char*>(x.data_ptr())};
    long long n = 1, x_step = 0, out_step = 0;
    for (std::int64_t d = 0; d < x.dim(); ++d) {
      const auto k = static_cast<std::size_t>(d);
      if (d == dim) {
        n = x.shape()[k];
        x_step = x.strides()[k] * xs;
        out_step = out.strides()[k] * os;
        continue;
      }
      lines.shape.push_back(x.shape()[k]);
      lines.strides[0].push_back(out.strides()[k] * os);
      lines.strides[1].push_back(x.strides()[k] * xs);
    }
    const long long count = shape_numel(lines.shape);
    detail::coalesce(lines);
    if (x_step == xs && out_step == os && n >= kWarp) {
      OffsetCalc<2, long long> oc;
      make_offset_calc(lines, oc);
      const LaunchShape ls = launch_shape(count * kWarp);
      cumsum_warp_kernel<T><<<ls.blocks, ls.threads, 0, stream>>>(lines.data[1], lines.data[0], oc, count, n);
      TAPEFLOW_CUDA_CHECK(cudaGetLastError());
      return;
    }
    if (!try_cumsum<T, std::uint32_t>(lines, count, n, x_step, out_step, stream))
      try_cumsum<T, long long>(lines, count, n, x_step, out_step, stream);
  });
}

}  // namespace tapeflow::cuda_backend
