// Normalisation on CUDA. layer_norm: the lanes of a row (block_reduce.cuh) take the two-pass
// mean and variance in double, then write; its backward has a row kernel for grad_x and a column
// reduction for grad_weight/grad_bias. batch_norm: per-channel statistics and gradient sums run
// through the reduce engine (which picks the coalesced layout for (N, C) and (N, C, S) inputs
// and splits large channels across blocks), the elementwise parts are one thread per element.
#include <cmath>

#include "kernels/reduce_plan.hpp"
#include "kernels/reducers.hpp"
#include "norm.hpp"
#include "reduce_engine.cuh"

namespace tapeflow::cuda_backend {
namespace {

using kernels::Moments;
using kernels::SumPair;

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.data_ptr()) : nullptr;
}
template <class T>
T* out_or_null(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.data_ptr()) : nullptr;
}

// The calling lanes' row sum of f(i) over [0, n), in double; every lane gets it.
template <class F>
__device__ double row_sum(long long n, bool active, double* smem, F f) {
  double s = 0;
  if (active)
    for (long long i = threadIdx.x; i < n; i += blockDim.x) s += f(i);
  return lane_allreduce(s, Plus{}, smem);
}

template <class T>
__global__ void layer_norm_rows(const T* x, const T* w, const T* b, T* out, T* mean, T* rstd, long long M, long long N,
                                double eps) {
  const long long r = static_cast<long long>(blockIdx.x) * blockDim.y + threadIdx.y;
  const bool active = r < M;
  const T* xr = x + (active ? r : 0) * N;
  double* smem = shared_as<double>();
  const double m = row_sum(N, active, smem, [&](long long i) { return static_cast<double>(xr[i]); }) / N;
  const double var = row_sum(N, active, smem,
                             [&](long long i) {
                               const double d = static_cast<double>(xr[i]) - m;
                               return d * d;
                             }) /
                     N;
  if (!active) return;
  const T mt = static_cast<T>(m), rt = static_cast<T>(1.0 / sqrt(var + eps));
  if (threadIdx.x == 0) {
    mean[r] = mt;
    rstd[r] = rt;
  }
  T* yr = out + r * N;
  for (long long i = threadIdx.x; i < N; i += blockDim.x) {
    const T v = (xr[i] - mt) * rt;
    yr[i] = (w ? v * w[i] : v) + (b ? b[i] : T(0));
  }
}

// grad_x per row: rstd * (gy - mean(gy) - xhat * mean(gy * xhat)), gy = g * w.
template <class T>
__global__ void layer_norm_grad_rows(const T* g, const T* x, const T* mean, const T* rstd, const T* w, T* gx,
                                     long long M, long long N) {
  const long long r = static_cast<long long>(blockIdx.x) * blockDim.y + threadIdx.y;
  const bool active = r < M;
  const long long base = (active ? r : 0) * N;
  const double mr = active ? static_cast<double>(mean[r]) : 0.0, rr = active ? static_cast<double>(rstd[r]) : 0.0;
  const auto gy = [&](long long i) { return static_cast<double>(g[base + i]) * (w ? static_cast<double>(w[i]) : 1.0); };
  const auto xhat = [&](long long i) { return (static_cast<double>(x[base + i]) - mr) * rr; };
  double* smem = shared_as<double>();
  const double a = row_sum(N, active, smem, gy) / N;
  const double c = row_sum(N, active, smem, [&](long long i) { return gy(i) * xhat(i); }) / N;
  if (!active) return;
  for (long long i = threadIdx.x; i < N; i += blockDim.x) gx[base + i] = static_cast<T>(rr * (gy(i) - a - xhat(i) * c));
}

// (g, g * (x - mean) * rstd) of the element at byte offset off; the statistics are per row of
// `row_len` elements (layer_norm) or per output (batch_norm: one channel per output).
template <class T, bool PerRow>
struct GradPairSource {
  const T *g, *x, *mean, *rstd;
  long long row_len;
  __device__ SumPair operator()(std::int64_t o, std::int64_t off) const {
    const long long i = off / static_cast<long long>(sizeof(T));
    const long long s = PerRow ? i / row_len : o;
    const double gv = static_cast<double>(g[i]);
    return {gv, gv * (static_cast<double>(x[i]) - static_cast<double>(mean[s])) * static_cast<double>(rstd[s])};
  }
};

// grad_bias = sum(g), grad_weight = sum(g * xhat); optionally the sums in double for grad_x.
template <class T>
struct ParamGradStore {
  T *gw, *gb;
  double* sums;  // [sum(g) for each output, then sum(g * xhat)], or null
  long long count;
  __device__ void operator()(std::int64_t o, const SumPair& s) const {
    if (gb) gb[o] = static_cast<T>(s.a);
    if (gw) gw[o] = static_cast<T>(s.b);
    if (sums) {
      sums[o] = s.a;
      sums[count + o] = s.b;
    }
  }
};

// mean and biased variance of each output (channel).
template <class T>
struct MomentsReducer : kernels::VarReducer<T> {
  using out_t = Moments;
  __device__ Moments project(Moments m) const { return m; }
};
template <class T>
struct MomentsStore {
  T *mean, *var;
  __device__ void operator()(std::int64_t o, const Moments& m) const {
    mean[o] = static_cast<T>(m.mean);
    var[o] = static_cast<T>(m.m2 / m.n);
  }
};

// The (N, C, S) view of a contiguous tensor, reducing N and S per channel.
kernels::ReducePlan channel_plan(std::int64_t N, std::int64_t C, std::int64_t S, std::int64_t es) {
  return kernels::make_reduce_plan("batch_norm", Shape{N, C, S}, Shape{C * S, S, 1}, es, {true, false, true}, false);
}

template <class T>
__global__ void channel_normalize_kernel(const T* x, const T* mean, const T* rstd, const T* w, const T* b, T* out,
                                         long long total, long long C, long long S) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total; i += stride) {
    const long long c = (i / S) % C;
    const T scale = rstd[c] * (w ? w[c] : T(1));
    const T shift = (b ? b[c] : T(0)) - mean[c] * scale;
    out[i] = x[i] * scale + shift;
  }
}

template <class T>
__global__ void batch_norm_grad_x(const T* g, const T* x, const T* mean, const T* rstd, const T* w, const double* sums,
                                  T* gx, long long total, long long C, long long S, double count, bool training) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total; i += stride) {
    const long long c = (i / S) % C;
    const double r = static_cast<double>(rstd[c]), scale = r * (w ? static_cast<double>(w[c]) : 1.0);
    const double a = training ? sums[c] / count : 0.0, b = training ? sums[C + c] / count : 0.0;
    const double xhat = (static_cast<double>(x[i]) - static_cast<double>(mean[c])) * r;
    gx[i] = static_cast<T>(scale * (static_cast<double>(g[i]) - a - xhat * b));
  }
}

// Elementwise over the C values of per-channel vectors.
template <class T>
__global__ void inverse_std_kernel(T* rstd, const T* var, long long n, double eps) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n; i += stride)
    rstd[i] = static_cast<T>(1.0 / sqrt(static_cast<double>(var[i]) + eps));
}
template <class T>
__global__ void momentum_kernel(T* running, const T* stat, long long n, double momentum, double factor) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n; i += stride)
    running[i] = static_cast<T>((1.0 - momentum) * static_cast<double>(running[i]) +
                                momentum * factor * static_cast<double>(stat[i]));
}

// Device guard and stream of t's device for the launches of one op.
struct OnDevice {
  DeviceGuard guard;
  cudaStream_t stream;
  explicit OnDevice(const Tensor& t) : guard(t.device().index()), stream(current_stream(t.device().index())) {}
};

}  // namespace

void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                const Tensor& bias, std::int64_t M, std::int64_t N, double eps) {
  if (M * N == 0) return;
  const OnDevice on(x);
  dispatch_floating(x.dtype(), "layer_norm", [&]<typename T>() {
    const RowBlocks b = row_blocks(M, N);
    layer_norm_rows<T><<<b.blocks, dim3(b.bx, b.by), sizeof(double) * b.smem_values, on.stream>>>(
        static_cast<const T*>(x.data_ptr()), ptr_or_null<T>(weight), ptr_or_null<T>(bias),
        static_cast<T*>(out.data_ptr()), static_cast<T*>(mean.data_ptr()), static_cast<T*>(rstd.data_ptr()), M, N, eps);
    TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  });
}

void layer_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                         const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, std::int64_t M,
                         std::int64_t N) {
  if (M * N == 0) return;
  const OnDevice on(x);
  dispatch_floating(x.dtype(), "layer_norm", [&]<typename T>() {
    const T *pg = static_cast<const T*>(g.data_ptr()), *px = static_cast<const T*>(x.data_ptr());
    const T *pm = static_cast<const T*>(mean.data_ptr()), *pr = static_cast<const T*>(rstd.data_ptr());
    if (grad_weight.defined() || grad_bias.defined()) {
      // Column sums over the M rows: outputs are the N columns.
      const auto es = static_cast<std::int64_t>(sizeof(T));
      const kernels::ReducePlan plan =
          kernels::make_reduce_plan("layer_norm", Shape{M, N}, Shape{N, 1}, es, {true, false}, false);
      reduce_engine::run(kernels::PairSumReducer{}, GradPairSource<T, true>{pg, px, pm, pr, N},
                         ParamGradStore<T>{out_or_null<T>(grad_weight), out_or_null<T>(grad_bias), nullptr, N}, plan,
                         es, x.device());
    }
    if (!grad_x.defined()) return;
    const RowBlocks b = row_blocks(M, N);
    layer_norm_grad_rows<T><<<b.blocks, dim3(b.bx, b.by), sizeof(double) * b.smem_values, on.stream>>>(
        pg, px, pm, pr, ptr_or_null<T>(weight), static_cast<T*>(grad_x.data_ptr()), M, N);
    TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  });
}

void channel_moments(const Tensor& mean, const Tensor& var, const Tensor& x, std::int64_t N, std::int64_t C,
                     std::int64_t S) {
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    const auto es = static_cast<std::int64_t>(sizeof(T));
    reduce_engine::run(MomentsReducer<T>{}, reduce_engine::Load<T>{static_cast<const char*>(x.data_ptr())},
                       MomentsStore<T>{static_cast<T*>(mean.data_ptr()), static_cast<T*>(var.data_ptr())},
                       channel_plan(N, C, S, es), es, x.device());
  });
}

void inverse_std(const Tensor& rstd, const Tensor& var, double eps) {
  if (var.numel() == 0) return;
  const OnDevice on(var);
  dispatch_floating(var.dtype(), "batch_norm", [&]<typename T>() {
    const LaunchShape ls = launch_shape(var.numel());
    inverse_std_kernel<T><<<ls.blocks, ls.threads, 0, on.stream>>>(
        static_cast<T*>(rstd.data_ptr()), static_cast<const T*>(var.data_ptr()), var.numel(), eps);
    TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  });
}

void channel_normalize(const Tensor& out, const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                       const Tensor& bias, std::int64_t N, std::int64_t C, std::int64_t S) {
  const std::int64_t total = N * C * S;
  if (total == 0) return;
  const OnDevice on(x);
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    const LaunchShape ls = launch_shape(total);
    channel_normalize_kernel<T><<<ls.blocks, ls.threads, 0, on.stream>>>(
        static_cast<const T*>(x.data_ptr()), static_cast<const T*>(mean.data_ptr()),
        static_cast<const T*>(rstd.data_ptr()), ptr_or_null<T>(weight), ptr_or_null<T>(bias),
        static_cast<T*>(out.data_ptr()), total, C, S);
    TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  });
}

void momentum_update(const Tensor& running, const Tensor& stat, double momentum, double factor) {
  if (running.numel() == 0) return;
  const OnDevice on(running);
  dispatch_floating(running.dtype(), "batch_norm", [&]<typename T>() {
    const LaunchShape ls = launch_shape(running.numel());
    momentum_kernel<T><<<ls.blocks, ls.threads, 0, on.stream>>>(
        static_cast<T*>(running.data_ptr()), static_cast<const T*>(stat.data_ptr()), running.numel(), momentum, factor);
    TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  });
}

void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                         const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight, std::int64_t N,
                         std::int64_t C, std::int64_t S, bool training) {
  if (C == 0) return;
  const OnDevice on(x);
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>() {
    const T *pg = static_cast<const T*>(g.data_ptr()), *px = static_cast<const T*>(x.data_ptr());
    const T *pm = static_cast<const T*>(mean.data_ptr()), *pr = static_cast<const T*>(rstd.data_ptr());
    // Per channel: sum(g) and sum(g * xhat), kept in double for grad_x.
    const Tensor sums = detail::make_tensor({2 * C}, kFloat64, x.device());
    const auto es = static_cast<std::int64_t>(sizeof(T));
    reduce_engine::run(kernels::PairSumReducer{}, GradPairSource<T, false>{pg, px, pm, pr, S},
                       ParamGradStore<T>{out_or_null<T>(grad_weight), out_or_null<T>(grad_bias),
                                         static_cast<double*>(sums.data_ptr()), C},
                       channel_plan(N, C, S, es), es, x.device());
    const std::int64_t total = N * C * S;
    if (!grad_x.defined() || total == 0) return;
    const LaunchShape ls = launch_shape(total);
    batch_norm_grad_x<T><<<ls.blocks, ls.threads, 0, on.stream>>>(
        pg, px, pm, pr, ptr_or_null<T>(weight), static_cast<const double*>(sums.data_ptr()),
        static_cast<T*>(grad_x.data_ptr()), total, C, S, static_cast<double>(N * S), training);
    TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace tapeflow::cuda_backend
