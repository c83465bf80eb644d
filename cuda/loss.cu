// CUDA loss kernels. The class-target kernels give each sample a group of G lanes: a whole warp
// when the classes of a sample are contiguous (inner == 1; the lanes stride over the classes,
// coalesced, and combine with shuffles), else one thread (neighbouring threads then hold
// neighbouring samples, which is what makes strided classes coalesce). The math is
// kernels/class_loss_math.hpp, the CPU kernels' formulas.
#include "loss.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/tensor_factory.hpp"
#include "block_reduce.cuh"
#include "cuda_check.hpp"
#include "device.hpp"
#include "kernels/class_loss_math.hpp"

namespace tapeflow::cuda_backend {
namespace {

namespace cl = kernels::class_loss;

constexpr unsigned long long kNone = std::numeric_limits<unsigned long long>::max();

// What the class kernels need of ClassTargets, as plain values.
struct Dims {
  long long samples, C, inner, ignore_index;
  double ls;
};

Dims dims_of(const ClassTargets& c, double ls) { return {c.outer * c.inner, c.classes, c.inner, c.ignore_index, ls}; }

template <typename T>
const T* optional_data(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Calls f.template operator()<I>() with I the C++ type of an int32/int64 target.
template <typename F>
void dispatch_index(DType dt, F&& f) {
  if (dt == kInt32) f.template operator()<std::int32_t>();
  else f.template operator()<std::int64_t>();
}

// Runs body(s, lane) for every sample s, a group of G lanes per sample. With G = 32 a group is
// a warp, so the loop bound is uniform over the warp and the body may use warp_allreduce.
template <int G, class Body>
__device__ void for_each_sample(long long samples, const Body& body) {
  const long long tid = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  const long long groups = static_cast<long long>(blockDim.x) * gridDim.x / G;
  const int lane = static_cast<int>(threadIdx.x % G);
  for (long long s = tid / G; s < samples; s += groups) body(s, lane);
}

template <int G, class T, class I>
__global__ void class_loss_kernel(Dims d, const T* x, const I* target, const T* w, bool from_logits,
                                  double* per_sample, T* stats) {
  for_each_sample<G>(d.samples, [&](long long s, int lane) {
    const T* col = x + cl::class_offset(s, 0, d.C, d.inner);  // class k at col[k * inner]
    const long long t = target[s];
    // The op layer checks targets first; should a bad one get here, it gives NaN instead of
    // reading out of bounds. t is one sample's, uniform over a warp (G == 32) or per thread
    // (G == 1), so either all lanes of a warp leave or none do, and the shuffles below stay safe.
    if (!cl::target_in_range(t, d.C, d.ignore_index)) {
      if (lane == 0) per_sample[s] = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    if (!from_logits) {  // nll_loss: -weight[t] * x[t]
      if (lane == 0) per_sample[s] = t == d.ignore_index ? 0.0 : -cl::class_weight(w, t) * double(col[t * d.inner]);
      return;
    }
    using std::exp, std::log;
    T mx = -std::numeric_limits<T>::infinity();
    for (long long k = lane; k < d.C; k += G) mx = MaxKeep{}(mx, col[k * d.inner]);
    mx = warp_allreduce(mx, MaxKeep{}, G);
    T sum = 0;
    for (long long k = lane; k < d.C; k += G) sum += exp(col[k * d.inner] - mx);
    const T lsum = log(warp_allreduce(sum, Plus{}, G));
    if (stats && lane == 0) {
      stats[s] = mx;
      stats[d.samples + s] = lsum;
    }
    if (t == d.ignore_index) {
      if (lane == 0) per_sample[s] = 0;
      return;
    }
    double smoothed = 0;
    if (d.ls > 0) {
      for (long long k = lane; k < d.C; k += G)
        smoothed += cl::class_weight(w, k) * double(cl::neg_log_prob(mx, col[k * d.inner], lsum));
      smoothed = warp_allreduce(smoothed, Plus{}, G);
    }
    if (lane == 0)
      per_sample[s] = cl::smoothed_loss(d.ls, d.C, cl::class_weight(w, t),
                                        double(cl::neg_log_prob(mx, col[t * d.inner], lsum)), smoothed);
  });
}

// The summed smoothing coefficients of a sample's classes (0 without smoothing).
template <int G, class T>
__device__ double smooth_sum(const Dims& d, const T* w, double scale, int lane) {
  if (!(d.ls > 0)) return 0;
  double sum = 0;
  for (long long k = lane; k < d.C; k += G) sum += cl::smooth_coefficient(scale, d.ls, d.C, cl::class_weight(w, k));
  return warp_allreduce(sum, Plus{}, G);
}

template <int G, class T, class I>
__global__ void class_loss_backward_kernel(Dims d, T* out, const T* x, const I* target, const T* w, const T* stats,
                                           double scale, const T* grad_output, bool scalar_grad, bool from_logits) {
  for_each_sample<G>(d.samples, [&](long long s, int lane) {
    const long long off = cl::class_offset(s, 0, d.C, d.inner);
    T* ocol = out + off;
    const long long t = target[s];
    if (t == d.ignore_index || t < 0 || t >= d.C) {  // out of range (see class_loss_kernel): zeros too
      for (long long k = lane; k < d.C; k += G) ocol[k * d.inner] = T(0);
      return;
    }
    const double g = double(grad_output[scalar_grad ? 0 : s]);
    const double hit = cl::hit_coefficient(scale, d.ls, cl::class_weight(w, t));
    if (!from_logits) {  // -a * g
      for (long long k = lane; k < d.C; k += G) ocol[k * d.inner] = k == t ? static_cast<T>(-hit * g) : T(0);
      return;
    }
    // (softmax * sum(a) - a) * g
    const T sm_scale = static_cast<T>((hit + smooth_sum<G>(d, w, scale, lane)) * g);
    const T mx = stats[s], lsum = stats[d.samples + s];
    const T* col = x + off;
    for (long long k = lane; k < d.C; k += G) {
      const double smooth_k = d.ls > 0 ? cl::smooth_coefficient(scale, d.ls, d.C, cl::class_weight(w, k)) : 0.0;
      ocol[k * d.inner] =
          cl::logits_grad(cl::softmax_from_stats(col[k * d.inner], mx, lsum), sm_scale, smooth_k, hit, k == t, g);
    }
  });
}

template <int G, class T, class I>
__global__ void class_loss_coefficients_kernel(Dims d, const I* target, const T* w, double scale, T* a, T* sums) {
  for_each_sample<G>(d.samples, [&](long long s, int lane) {
    T* acol = a + cl::class_offset(s, 0, d.C, d.inner);
    const long long t = target[s];
    if (t == d.ignore_index || t < 0 || t >= d.C) {  // out of range (see class_loss_kernel): zeros too
      for (long long k = lane; k < d.C; k += G) acol[k * d.inner] = T(0);
      if (lane == 0) sums[s] = T(0);
      return;
    }
    const double hit = cl::hit_coefficient(scale, d.ls, cl::class_weight(w, t));
    for (long long k = lane; k < d.C; k += G) {
      const double smooth_k = d.ls > 0 ? cl::smooth_coefficient(scale, d.ls, d.C, cl::class_weight(w, k)) : 0.0;
      acol[k * d.inner] = static_cast<T>(k == t ? hit + smooth_k : smooth_k);
    }
    const double smoothed = smooth_sum<G>(d, w, scale, lane);
    if (lane == 0) sums[s] = static_cast<T>(hit + smoothed);
  });
}

// Per block: the summed weight of the valid non-ignored targets; the first invalid position
// goes to *first_bad (atomicMin).
template <class T, class I>
__global__ void target_weight_kernel(const I* target, long long n, const T* w, long long C, long long ignore_index,
                                     double* partial, unsigned long long* first_bad) {
  double total = 0;
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n; i += stride) {
    const long long t = target[i];
    if (t == ignore_index) continue;
    if (cl::target_in_range(t, C, ignore_index)) total += cl::class_weight(w, t);
    else atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
  total = block_sum(total);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

// One sample per warp when it loops over its classes, they are contiguous, and many enough to
// share out.
bool warp_per_sample(const Dims& d, bool class_loop) { return class_loop && d.inner == 1 && d.C > 8; }

// Launches kernel<32> or kernel<1> (chosen by warp_per_sample) on the current stream of device.
template <class Launch>
void launch_per_sample(int device, const Dims& d, bool class_loop, const Launch& launch) {
  if (d.samples == 0) return;
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  if (warp_per_sample(d, class_loop)) {
    const LaunchShape shape = launch_shape(d.samples * 32);
    launch.template operator()<32>(shape, stream);
  } else {
    const LaunchShape shape = launch_shape(d.samples);
    launch.template operator()<1>(shape, stream);
  }
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
}

// Copies `count` bytes from the device to the host and waits for them (the host reads them next).
void read_back(void* host, const void* device_ptr, std::size_t count, int device) {
  const cudaStream_t stream = current_stream(device);
  TAPEFLOW_CUDA_CHECK(cudaMemcpyAsync(host, device_ptr, count, cudaMemcpyDeviceToHost, stream));
  TAPEFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
}

// "3" for a 1-D target, "(1, 0, 2)" for a K-dimensional one (the CPU kernel's wording).
std::string position(IntArrayRef shape, std::int64_t flat) {
  if (shape.size() <= 1) return std::to_string(flat);
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0; flat /= shape[d]) idx[d] = flat % shape[d];
  std::ostringstream os;
  os << IntArrayRef(idx);
  return os.str();
}

}  // namespace

double class_target_weight(const ClassTargets& c, const Tensor& target, const Tensor& weight) {
  const long long n = target.numel();
  if (n == 0) return 0;
  const int device = target.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  LaunchShape shape = launch_shape(n);
  shape.blocks = std::min(shape.blocks, 256u);  // few partials: the host adds them in order
  // The block partials, then the first bad position (as bits) in the last slot.
  const Tensor scratch = tapeflow::detail::make_tensor({shape.blocks + 1}, kFloat64, target.device());
  double* partial = scratch.data_ptr<double>();
  auto* first_bad = reinterpret_cast<unsigned long long*>(partial + shape.blocks);
  TAPEFLOW_CUDA_CHECK(cudaMemsetAsync(first_bad, 0xff, sizeof(unsigned long long), stream));
  double total = 0;
  dispatch_floating(weight.defined() ? weight.dtype() : kFloat64, c.op, [&]<typename T>() {
    dispatch_index(target.dtype(), [&]<typename I>() {
      target_weight_kernel<T, I><<<shape.blocks, shape.threads, 0, stream>>>(
          target.data_ptr<I>(), n, optional_data<T>(weight), c.classes, c.ignore_index, partial, first_bad);
      TAPEFLOW_CUDA_CHECK(cudaGetLastError());
      std::vector<double> host(shape.blocks + 1);
      read_back(host.data(), partial, host.size() * sizeof(double), device);
      unsigned long long bad = 0;
      std::memcpy(&bad, &host[shape.blocks], sizeof bad);
      if (bad != kNone) {
        I value{};
        read_back(&value, target.data_ptr<I>() + bad, sizeof value, device);
        fail<IndexError>(c.op, "target ", static_cast<std::int64_t>(value), " is out of range for ", c.classes,
                         " classes (at index ", position(c.target_shape, static_cast<std::int64_t>(bad)), ")");
      }
      for (unsigned b = 0; b < shape.blocks; ++b) total += host[b];
    });
  });
  return total;
}

void class_loss(const ClassTargets& c, const Tensor& input, const Tensor& target, const Tensor& weight,
                bool from_logits, const Tensor& per_sample, const Tensor& stats) {
  const Dims d = dims_of(c, c.label_smoothing);
  dispatch_floating(input.dtype(), c.op, [&]<typename T>() {
    dispatch_index(target.dtype(), [&]<typename I>() {
      // nll_loss reads one class per sample: a thread each.
      launch_per_sample(input.device().index(), d, from_logits, [&]<int G>(LaunchShape shape, cudaStream_t stream) {
        class_loss_kernel<G, T, I><<<shape.blocks, shape.threads, 0, stream>>>(
            d, input.data_ptr<T>(), target.data_ptr<I>(), optional_data<T>(weight), from_logits,
            per_sample.data_ptr<double>(), stats.defined() ? stats.data_ptr<T>() : nullptr);
      });
    });
  });
}

void class_loss_backward(const ClassTargets& c, const Tensor& grad_input, const Tensor& input, const Tensor& target,
                         const Tensor& weight, const Tensor& stats, double scale, const Tensor& grad_output,
                         bool from_logits) {
  const Dims d = dims_of(c, from_logits ? c.label_smoothing : 0.0);
  dispatch_floating(input.dtype(), c.op, [&]<typename T>() {
    dispatch_index(target.dtype(), [&]<typename I>() {
      launch_per_sample(input.device().index(), d, true, [&]<int G>(LaunchShape shape, cudaStream_t stream) {
        class_loss_backward_kernel<G, T, I><<<shape.blocks, shape.threads, 0, stream>>>(
            d, grad_input.data_ptr<T>(), input.data_ptr<T>(), target.data_ptr<I>(), optional_data<T>(weight),
            optional_data<T>(stats), scale, grad_output.data_ptr<T>(), grad_output.numel() == 1, from_logits);
      });
    });
  });
}

void class_loss_coefficients(const ClassTargets& c, const Tensor& target, const Tensor& weight, double scale,
                             const Tensor& a, const Tensor& sums) {
  const Dims d = dims_of(c, c.label_smoothing);
  dispatch_floating(a.dtype(), c.op, [&]<typename T>() {
    dispatch_index(target.dtype(), [&]<typename I>() {
      launch_per_sample(a.device().index(), d, true, [&]<int G>(LaunchShape shape, cudaStream_t stream) {
        class_loss_coefficients_kernel<G, T, I><<<shape.blocks, shape.threads, 0, stream>>>(
            d, target.data_ptr<I>(), optional_data<T>(weight), scale, a.data_ptr<T>(), sums.data_ptr<T>());
      });
    });
  });
}

namespace {

template <class T>
__global__ void bce_kernel(T* out, const T* x, const T* t, long long n, unsigned long long* first_bad) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n; i += stride) {
    const T xi = x[i];
    if (!cl::is_probability(xi)) atomicMin(first_bad, static_cast<unsigned long long>(i));
    out[i] = cl::binary_cross_entropy(xi, t[i]);
  }
}

template <class T>
__global__ void bce_logits_kernel(T* out, const T* x, const T* t, const T* pw, long long n) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n; i += stride)
    out[i] = cl::binary_cross_entropy_with_logits(x[i], t[i], pw ? pw[i] : T(1), pw != nullptr);
}

}  // namespace

void binary_cross_entropy(const char* op, const Tensor& out, const Tensor& x, const Tensor& t) {
  const long long n = x.numel();
  if (n == 0) return;
  const int device = x.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  const Tensor flag = tapeflow::detail::make_tensor({1}, kInt64, x.device());
  auto* first_bad = reinterpret_cast<unsigned long long*>(flag.data_ptr<std::int64_t>());
  TAPEFLOW_CUDA_CHECK(cudaMemsetAsync(first_bad, 0xff, sizeof(unsigned long long), stream));
  dispatch_floating(x.dtype(), op, [&]<typename T>() {
    const LaunchShape shape = launch_shape(n);
    bce_kernel<T><<<shape.blocks, shape.threads, 0, stream>>>(out.data_ptr<T>(), x.data_ptr<T>(), t.data_ptr<T>(), n,
                                                              first_bad);
    TAPEFLOW_CUDA_CHECK(cudaGetLastError());
    unsigned long long bad = 0;
    read_back(&bad, first_bad, sizeof bad, device);
    if (bad == kNone) return;
    T value{};
    read_back(&value, x.data_ptr<T>() + bad, sizeof value, device);
    fail<ValueError>(op, "input must hold probabilities in [0, 1], got ", value, " at flat index ", bad,
                     " (for logits use binary_cross_entropy_with_logits)");
  });
}

void binary_cross_entropy_with_logits(const Tensor& out, const Tensor& x, const Tensor& t, const Tensor& pos_weight) {
  const long long n = x.numel();
  if (n == 0) return;
  const int device = x.device().index();
  DeviceGuard guard(device);
  dispatch_floating(x.dtype(), "binary_cross_entropy_with_logits", [&]<typename T>() {
    const LaunchShape shape = launch_shape(n);
    bce_logits_kernel<T><<<shape.blocks, shape.threads, 0, current_stream(device)>>>(
        out.data_ptr<T>(), x.data_ptr<T>(), t.data_ptr<T>(), optional_data<T>(pos_weight), n);
    TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace tapeflow::cuda_backend
