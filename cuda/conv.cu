// conv2d as im2col + cuBLAS. Images are processed in chunks whose column matrix fits a scratch
// budget; within a chunk, one GEMM call (strided-batched over images, a loop over groups in
// cuda/gemm.cu's outer batch) does all the products. All work is queued on the current stream.
#include "conv.hpp"

#include <algorithm>

#include "copy.hpp"
#include "core/tensor_factory.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "gemm.hpp"
#include "grid_stride.cuh"
#include "kernels/conv_index.hpp"
#include "tapeflow/dtype.hpp"

namespace tapeflow::cuda_backend {
namespace {

using kernels::ConvGeom;
using kernels::GemmBatch;
using kernels::GemmOperand;

// Scratch (column matrices) per chunk of images: large enough that GEMMs stay big, small
// enough to leave the device's memory to the model.
constexpr std::int64_t kScratchBytes = std::int64_t(1) << 28;

// The whole-image geometry: all groups' channels, so a column row r covers channel r / (kH*kW)
// of the image (rows of group gi are the gi-th block of C*kH*kW rows).
ConvGeom all_channels(ConvGeom g, std::int64_t groups) {
  g.C *= groups;
  return g;
}

// col[n*sn + r*sr + p] = image n's column entry (r, p), for Nc images of `image` elements each.
template <class T>
__global__ void im2col_kernel(const T* in, ConvGeom g, long long image, long long rows, long long cols,
                              long long total, long long sn, long long sr, T* col) {
  for (long long i = first_item(); i < total; i += item_step()) {
    const long long p = i % cols, r = (i / cols) % rows, n = i / (cols * rows);
    const long long src = kernels::im2col_source(g, r, p);
    col[n * sn + r * sr + p] = src < 0 ? T(0) : in[n * image + src];
  }
}

// im[i] = sum of the column entries that read input element i (col2im as a gather), over Nc
// images of C x H x W (C: all groups' channels); overwrites im.
template <class T>
__global__ void col2im_kernel(const T* col, ConvGeom g, long long total, long long sn, long long sr, T* im) {
  const long long hw = g.H * g.W, image = g.C * hw;
  for (long long i = first_item(); i < total; i += item_step()) {
    const long long n = i / image, c = (i % image) / hw, h = (i % hw) / g.W, w = i % g.W;
    const T* cn = col + n * sn;
    T sum = 0;
    kernels::for_each_column_entry_of(g, c, h, w, [&](long long r, long long p) { sum += cn[r * sr + p]; });
    im[i] = sum;
  }
}

// out[i] = bias[channel of i] over N x Cout x P outputs.
template <class T>
__global__ void bias_fill_kernel(T* out, const T* bias, long long cout, long long plane, long long total) {
  for (long long i = first_item(); i < total; i += item_step())
    out[i] = bias[(i / plane) % cout];
}

// Images per chunk for a scratch of `per_image` elements of T each.
template <class T>
std::int64_t chunk_images(std::int64_t N, std::int64_t per_image) {
  const std::int64_t bytes = std::max<std::int64_t>(1, per_image * static_cast<std::int64_t>(sizeof(T)));
  return std::clamp<std::int64_t>(kScratchBytes / bytes, 1, std::max<std::int64_t>(N, 1));
}

// The sizes every conv kernel needs.
struct ConvDims {
  std::int64_t N, Cout, Mg, K, P, HW, Cin;
};

// What every conv kernel call sets up: the device of `on` made current, its stream, the sizes
// and the whole-image geometry.
struct ConvCall {
  DeviceGuard guard;
  cudaStream_t stream;
  ConvDims d;
  ConvGeom ga;
  ConvCall(const Tensor& on, std::int64_t N, std::int64_t Cout, const ConvGeom& g, std::int64_t groups)
      : guard(on.device().index()),
        stream(current_stream(on.device().index())),
        d{N, Cout, Cout / groups, g.col_rows(), g.col_cols(), g.H * g.W, g.C * groups},
        ga(all_channels(g, groups)) {}
};

}  // namespace

void conv2d_forward(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                    const ConvGeom& g, std::int64_t groups) {
  const ConvCall call(out, input.size(0), weight.size(0), g, groups);
  const ConvDims& d = call.d;
  const ConvGeom& ga = call.ga;
  const cudaStream_t stream = call.stream;
  dispatch_floating(out.dtype(), "conv2d", [&]<typename T>() {
    T* o = out.data_ptr<T>();
    const T* in = input.data_ptr<T>();
    if (bias.defined()) launch_items(out.numel(), stream, bias_fill_kernel<T>, o, bias.data_ptr<T>(), d.Cout, d.P, out.numel());
    const Scalar beta = bias.defined() ? 1 : 0;
    const bool pointwise = g.is_pointwise();
    const std::int64_t rows = groups * d.K, nc = chunk_images<T>(d.N, rows * d.P);
    const Tensor col = pointwise ? Tensor() : detail::make_tensor({nc * rows * d.P}, out.dtype(), out.device());
    for (std::int64_t n0 = 0; n0 < d.N; n0 += nc) {
      const std::int64_t cnt = std::min(nc, d.N - n0);
      const T* src = in + n0 * d.Cin * d.HW;
      T* cols = pointwise ? const_cast<T*>(src) : col.data_ptr<T>();
      if (!pointwise)
        launch_items(cnt * rows * d.P, stream, im2col_kernel<T>, src, ga, d.Cin * d.HW, rows, d.P, cnt * rows * d.P,
               rows * d.P, d.P, cols);
      // out[n, group gi] (Mg x P) = W_gi (Mg x K) @ col[n, gi] (K x P), batched over (n, gi).
      GemmBatch batch;
      batch.sizes = {cnt, groups};
      batch.strides = {Shape{0, d.Mg * d.K}, Shape{rows * d.P, d.K * d.P}, Shape{d.Cout * d.P, d.Mg * d.P}};
      gemm(out.dtype(), d.Mg, d.P, d.K, 1, GemmOperand{weight.data_ptr(), d.K, 1}, GemmOperand{cols, d.P, 1}, beta,
           GemmOperand{o + n0 * d.Cout * d.P, d.P, 1}, batch);
    }
  });
}

void conv2d_backward_input(const Tensor& grad_input, const Tensor& grad, const Tensor& weight, const ConvGeom& g,
                           std::int64_t groups) {
  const ConvCall call(grad_input, grad_input.size(0), weight.size(0), g, groups);
  const ConvDims& d = call.d;
  const ConvGeom& ga = call.ga;
  const cudaStream_t stream = call.stream;
  dispatch_floating(grad.dtype(), "conv2d_backward_input", [&]<typename T>() {
    T* gi = grad_input.data_ptr<T>();
    const T* go = grad.data_ptr<T>();
    const bool pointwise = g.is_pointwise();  // the column matrix is grad_input itself
    const std::int64_t rows = groups * d.K, nc = chunk_images<T>(d.N, rows * d.P);
    const Tensor col = pointwise ? Tensor() : detail::make_tensor({nc * rows * d.P}, grad.dtype(), grad.device());
    for (std::int64_t n0 = 0; n0 < d.N; n0 += nc) {
      const std::int64_t cnt = std::min(nc, d.N - n0);
      T* dst = gi + n0 * d.Cin * d.HW;
      T* cols = pointwise ? dst : col.data_ptr<T>();
      // col[n, gi] (K x P) = W_gi^T (K x Mg, a transposed view) @ grad[n, gi] (Mg x P).
      GemmBatch batch;
      batch.sizes = {cnt, groups};
      batch.strides = {Shape{0, d.Mg * d.K}, Shape{d.Cout * d.P, d.Mg * d.P}, Shape{rows * d.P, d.K * d.P}};
      gemm(grad.dtype(), d.K, d.P, d.Mg, 1, GemmOperand{weight.data_ptr(), 1, d.K},
           GemmOperand{const_cast<T*>(go + n0 * d.Cout * d.P), d.P, 1}, 0, GemmOperand{cols, d.P, 1}, batch);
      if (!pointwise)
        launch_items(cnt * d.Cin * d.HW, stream, col2im_kernel<T>, static_cast<const T*>(cols), ga, cnt * d.Cin * d.HW,
               rows * d.P, d.P, dst);
    }
  });
}

void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad, const Tensor& input, const ConvGeom& g,
                            std::int64_t groups) {
  const ConvCall call(grad_weight, input.size(0), grad_weight.size(0), g, groups);
  const ConvDims& d = call.d;
  const ConvGeom& ga = call.ga;
  const cudaStream_t stream = call.stream;
  dispatch_floating(grad.dtype(), "conv2d_backward_weight", [&]<typename T>() {
    T* gw = grad_weight.data_ptr<T>();
    const T* in = input.data_ptr<T>();
    if (d.N == 0) {
      TAPEFLOW_CUDA_CHECK(cudaMemsetAsync(gw, 0, grad_weight.nbytes(), stream));
      return;
    }
    // Per chunk: the column matrices as (groups*K) x (images*P) and the gradient as
    // Cout x (images*P), so that one GEMM per group sums over the chunk's images.
    const std::int64_t rows = groups * d.K, nc = chunk_images<T>(d.N, (rows + d.Cout) * d.P);
    const Tensor col = detail::make_tensor({rows * nc * d.P}, grad.dtype(), grad.device());
    const Tensor gp = detail::make_tensor({d.Cout * nc * d.P}, grad.dtype(), grad.device());
    for (std::int64_t n0 = 0; n0 < d.N; n0 += nc) {
      const std::int64_t cnt = std::min(nc, d.N - n0), width = cnt * d.P;
      launch_items(cnt * rows * d.P, stream, im2col_kernel<T>, in + n0 * d.Cin * d.HW, ga, d.Cin * d.HW, rows, d.P,
             cnt * rows * d.P, d.P, width, col.data_ptr<T>());
      // grad[n0 + n, c, p] -> gp[c, n, p]: a strided copy of the chunk.
      const Tensor chunk = detail::make_view(grad, {d.Cout, cnt, d.P}, {d.P, d.Cout * d.P, 1},
                                             grad.storage_offset() + n0 * d.Cout * d.P);
      const Tensor gp_view = detail::make_view(gp, {d.Cout, cnt, d.P}, {width, d.P, 1}, gp.storage_offset());
      copy(gp_view, chunk);
      // dW_gi (Mg x K) (+)= gp_gi (Mg x width) @ col_gi^T (width x K, a transposed view).
      GemmBatch batch;
      batch.sizes = {groups};
      batch.strides = {Shape{d.Mg * width}, Shape{d.K * width}, Shape{d.Mg * d.K}};
      gemm(grad.dtype(), d.Mg, d.K, width, 1, GemmOperand{gp.data_ptr(), width, 1},
           GemmOperand{col.data_ptr(), 1, width}, n0 == 0 ? 0 : 1, GemmOperand{gw, d.K, 1}, batch);
    }
  });
}

}  // namespace tapeflow::cuda_backend
