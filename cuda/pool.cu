// Pooling kernels over contiguous planes; grid-stride loops, every launch on the current stream.
#include "pool.hpp"

#include <limits>

#include "cuda_check.hpp"
#include "device.hpp"
#include "grid_stride.cuh"
#include "kernels/pool_window.hpp"
#include "tapeflow/dtype.hpp"

namespace tapeflow::cuda_backend {
namespace {

using kernels::AvgWindow;
using kernels::PoolGeom;
using kernels::Window;

template <class T>
__global__ void max_pool_kernel(const T* x, PoolGeom g, long long total, T* out, std::int64_t* indices) {
  const long long out_plane = g.Ho * g.Wo;
  for (long long i = first_item(); i < total; i += item_step()) {
    const long long p = i / out_plane, oh = (i % out_plane) / g.Wo, ow = i % g.Wo;
    const T* plane = x + p * g.H * g.W;
    const Window hw = kernels::dilated_window(oh * g.sH - g.pH, g.kH, g.dH, g.H);
    const Window ww = kernels::dilated_window(ow * g.sW - g.pW, g.kW, g.dW, g.W);
    T best = -std::numeric_limits<T>::infinity();
    long long best_i = kernels::max_pool_first_index(hw, ww, g.W);
    for (long long h = hw.begin; h < hw.end; h += g.dH)
      for (long long w = ww.begin; w < ww.end; w += g.dW) {
        const T v = plane[h * g.W + w];
        if (kernels::max_pool_takes(v, best)) {
          best = v;
          best_i = h * g.W + w;
        }
      }
    out[i] = best;
    if (indices) indices[i] = best_i;
  }
}

template <class T>
__global__ void max_pool_backward_kernel(const T* grad, const std::int64_t* indices, long long out_plane,
                                         long long in_plane, long long total, T* grad_input) {
  for (long long i = first_item(); i < total; i += item_step()) {
    const long long k = indices[i];
    if (k >= 0 && k < in_plane) atomicAdd(grad_input + (i / out_plane) * in_plane + k, grad[i]);  // -1: all padding
  }
}

// The two average pools' windows, as device functors: the window of output (oh, ow), and the
// outputs whose windows hold input (h, w) (rows, columns).
struct AvgPoolWindows {
  PoolGeom g;
  bool count_include_pad;
  __device__ AvgWindow window(long long oh, long long ow) const {
    return kernels::avg_window(g, oh, ow, count_include_pad);
  }
  __device__ Window rows_covering(long long h) const { return kernels::avg_outputs_covering(h, g.kH, g.sH, g.pH, g.Ho); }
  __device__ Window cols_covering(long long w) const { return kernels::avg_outputs_covering(w, g.kW, g.sW, g.pW, g.Wo); }
};
struct AdaptivePoolWindows {
  long long H, W, Ho, Wo;
  __device__ AvgWindow window(long long oh, long long ow) const {
    return kernels::adaptive_window(H, W, Ho, Wo, oh, ow);
  }
  __device__ Window rows_covering(long long h) const { return kernels::adaptive_outputs_covering(h, H, Ho); }
  __device__ Window cols_covering(long long w) const { return kernels::adaptive_outputs_covering(w, W, Wo); }
};

// out = the mean over each output's window (0 for an empty window), as the CPU.
template <class T, class Windows>
__global__ void average_pool_kernel(const T* x, Windows win, long long H, long long W, long long Ho, long long Wo,
                                    long long total, T* out) {
  const long long out_plane = Ho * Wo;
  for (long long i = first_item(); i < total; i += item_step()) {
    const long long p = i / out_plane, oh = (i % out_plane) / Wo, ow = i % Wo;
    const AvgWindow a = win.window(oh, ow);
    if (a.hb >= a.he || a.wb >= a.we) {
      out[i] = T(0);
      continue;
    }
    const T* plane = x + p * H * W;
    T sum = 0;
    for (long long h = a.hb; h < a.he; ++h)
      for (long long w = a.wb; w < a.we; ++w) sum += plane[h * W + w];
    out[i] = sum / static_cast<T>(a.count);
  }
}

// grad_input[h, w] = sum over the outputs whose window holds (h, w) of grad / count: the
// adjoint of the average as a gather (no atomics, a fixed order).
template <class T, class Windows>
__global__ void average_pool_backward_kernel(const T* grad, Windows win, long long H, long long W, long long Ho,
                                             long long Wo, long long total, T* grad_input) {
  const long long in_plane = H * W;
  for (long long i = first_item(); i < total; i += item_step()) {
    const long long p = i / in_plane, h = (i % in_plane) / W, w = i % W;
    const T* g = grad + p * Ho * Wo;
    const Window rows = win.rows_covering(h), cols = win.cols_covering(w);
    T sum = 0;
    for (long long oh = rows.begin; oh < rows.end; ++oh)
      for (long long ow = cols.begin; ow < cols.end; ++ow)
        sum += g[oh * Wo + ow] / static_cast<T>(win.window(oh, ow).count);
    grad_input[i] = sum;
  }
}

// Launches kernel over n items on the current stream of t's device.
template <class Kernel, class... Args>
void launch(const Tensor& t, long long n, Kernel kernel, Args... args) {
  const int device = t.device().index();
  DeviceGuard guard(device);
  launch_items(n, current_stream(device), kernel, args...);
}

template <class Windows>
void average_pool(const char* op, const Tensor& out, const Tensor& x, std::int64_t H, std::int64_t W, std::int64_t Ho,
                  std::int64_t Wo, Windows win) {
  dispatch_floating(x.dtype(), op, [&]<typename T>() {
    launch(out, out.numel(), average_pool_kernel<T, Windows>, x.data_ptr<T>(), win, H, W, Ho, Wo, out.numel(),
           out.data_ptr<T>());
  });
}

template <class Windows>
void average_pool_backward(const char* op, const Tensor& grad_input, const Tensor& grad, std::int64_t H, std::int64_t W,
                           std::int64_t Ho, std::int64_t Wo, Windows win) {
  dispatch_floating(grad.dtype(), op, [&]<typename T>() {
    launch(grad_input, grad_input.numel(), average_pool_backward_kernel<T, Windows>, grad.data_ptr<T>(), win, H, W,
           Ho, Wo, grad_input.numel(), grad_input.data_ptr<T>());
  });
}

}  // namespace

void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, std::int64_t planes, const PoolGeom& g) {
  dispatch_floating(x.dtype(), "max_pool2d", [&]<typename T>() {
    std::int64_t* idx = indices.defined() ? indices.data_ptr<std::int64_t>() : nullptr;
    launch(out, planes * g.Ho * g.Wo, max_pool_kernel<T>, x.data_ptr<T>(), g, planes * g.Ho * g.Wo, out.data_ptr<T>(),
           idx);
  });
}

void max_pool2d_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& indices, std::int64_t planes) {
  dispatch_floating(grad.dtype(), "max_pool2d_backward", [&]<typename T>() {
    const int device = grad_input.device().index();
    DeviceGuard guard(device);
    TAPEFLOW_CUDA_CHECK(cudaMemsetAsync(grad_input.data_ptr(), 0, grad_input.nbytes(), current_stream(device)));
    const std::int64_t in_plane = grad_input.size(-2) * grad_input.size(-1), out_plane = grad.size(-2) * grad.size(-1);
    launch(grad_input, planes * out_plane, max_pool_backward_kernel<T>, grad.data_ptr<T>(),
           indices.data_ptr<std::int64_t>(), out_plane, in_plane, planes * out_plane, grad_input.data_ptr<T>());
  });
}

void avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t, const PoolGeom& g, bool count_include_pad) {
  average_pool("avg_pool2d", out, x, g.H, g.W, g.Ho, g.Wo, AvgPoolWindows{g, count_include_pad});
}

void avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t, const PoolGeom& g,
                         bool count_include_pad) {
  average_pool_backward("avg_pool2d_backward", grad_input, grad, g.H, g.W, g.Ho, g.Wo,
                        AvgPoolWindows{g, count_include_pad});
}

void adaptive_avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t, std::int64_t H, std::int64_t W,
                         std::int64_t Ho, std::int64_t Wo) {
  average_pool("adaptive_avg_pool2d", out, x, H, W, Ho, Wo, AdaptivePoolWindows{H, W, Ho, Wo});
}

void adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t, std::int64_t H,
                                  std::int64_t W, std::int64_t Ho, std::int64_t Wo) {
  average_pool_backward("adaptive_avg_pool2d_backward", grad_input, grad, H, W, Ho, Wo,
                        AdaptivePoolWindows{H, W, Ho, Wo});
}

}  // namespace tapeflow::cuda_backend
