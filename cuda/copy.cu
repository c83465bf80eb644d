// Copies and fill on the GPU. Whatever the layouts, a transfer between host and device moves one
// contiguous block of the source dtype (cudaMemcpyAsync); casts, broadcasts and strides are done
// on the side that has them: by the elementwise kernel on the GPU, by cpu::copy on the host.
#include "copy.hpp"

#include "core/tensor_factory.hpp"
#include "cpu/copy.hpp"
#include "elementwise.cuh"
#include "host_allocator.hpp"

namespace tapeflow::cuda_backend {
namespace {

// dst = cast(src) on one GPU, any strides, src broadcast.
void copy_on_device(const Tensor& dst, const Tensor& src) {
  const Tensor* in[] = {&src};
  dispatch(dst.dtype(), [&]<typename Out>() {
    dispatch(src.dtype(), [&]<typename In>() { Map<cpu::Identity, Out, In>::run(cpu::Identity{}, dst, in); });
  });
}

// t itself when it is contiguous with `shape`, else a contiguous copy of t broadcast to `shape`
// (same dtype, same device).
Tensor dense(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape && t.is_contiguous()) return t;
  Tensor d = detail::make_tensor(shape, t.dtype(), t.device());
  if (t.is_cpu()) cpu::copy(d, t);
  else copy_on_device(d, t);
  return d;
}

// dst when it can receive a plain byte copy of a dense `dtype` block, else a dense staging tensor
// on dst's device; finish() moves the staging tensor into dst.
struct Landing {
  Tensor dst, block;
  Landing(const Tensor& d, DType dtype)
      : dst(d), block(d.dtype() == dtype && d.is_contiguous() ? d : detail::make_tensor(d.shape(), dtype, d.device())) {}
  void finish() const {
    if (block.impl() == dst.impl()) return;
    if (dst.is_cpu()) cpu::copy(dst, block);
    else copy_on_device(dst, block);
  }
};

}  // namespace

void copy(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  if (dst.is_cuda() && src.is_cuda() && dst.device() == src.device()) return copy_on_device(dst, src);
  const Tensor from = dense(src, dst.shape());
  const Landing to(dst, src.dtype());
  const std::size_t bytes = static_cast<std::size_t>(dst.numel()) * element_size(src.dtype());
  if (dst.is_cuda() && src.is_cuda()) {  // between two GPUs: the source's queued work must be done first
    {
      DeviceGuard guard(src.device().index());
      TAPEFLOW_CUDA_CHECK(cudaStreamSynchronize(current_stream(src.device().index())));
    }
    DeviceGuard guard(dst.device().index());
    const cudaStream_t stream = current_stream(dst.device().index());
    TAPEFLOW_CUDA_CHECK(cudaMemcpyPeerAsync(to.block.data_ptr(), dst.device().index(), from.data_ptr(),
                                            src.device().index(), bytes, stream));
    // Once we return, the source block (a temporary from dense(), or the caller's) may go back to
    // the source device's allocator and be reused by work on that device's stream, which is not
    // ordered after this copy: make that stream wait for it.
    cudaEvent_t copied = nullptr;
    TAPEFLOW_CUDA_CHECK(cudaEventCreateWithFlags(&copied, cudaEventDisableTiming));
    cudaError_t status = cudaEventRecord(copied, stream);
    if (status == cudaSuccess) {
      DeviceGuard src_guard(src.device().index());
      status = cudaStreamWaitEvent(current_stream(src.device().index()), copied, 0);
    }
    const cudaError_t destroyed = cudaEventDestroy(copied);  // the queued wait keeps what it needs
    TAPEFLOW_CUDA_CHECK(status);
    TAPEFLOW_CUDA_CHECK(destroyed);
  } else if (dst.is_cuda()) {
    // Host to device, blocking like PyTorch's default (non_blocking=false; tapeflow has no
    // non_blocking option): the caller may write into src as soon as this returns. Pageable memory
    // is staged by the driver before cudaMemcpyAsync returns, but pinned memory is read by the GPU
    // during the transfer, so wait for it. The pinned block is still marked in use, which keeps the
    // host allocator's bookkeeping right should an asynchronous path be added.
    DeviceGuard guard(dst.device().index());
    const cudaStream_t stream = current_stream(dst.device().index());
    TAPEFLOW_CUDA_CHECK(cudaMemcpyAsync(to.block.data_ptr(), from.data_ptr(), bytes, cudaMemcpyHostToDevice, stream));
    record_host_use(from.data_ptr(), stream, dst.device().index());
    TAPEFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
  } else {  // device to host: the host reads the values next, so wait for them
    DeviceGuard guard(src.device().index());
    const cudaStream_t stream = current_stream(src.device().index());
    TAPEFLOW_CUDA_CHECK(cudaMemcpyAsync(to.block.data_ptr(), from.data_ptr(), bytes, cudaMemcpyDeviceToHost, stream));
    TAPEFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  to.finish();
}

void fill(const Tensor& dst, Scalar value) {
  dispatch(dst.dtype(), [&]<typename T>() { Map<cpu::Fill<T>, T>::run(cpu::Fill<T>{value.to<T>()}, dst, nullptr); });
}

}  // namespace tapeflow::cuda_backend
