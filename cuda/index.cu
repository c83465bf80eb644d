// Index kernels: one thread per element of the iteration shape, offsets from kernels::OffsetCalc.
#include "index.hpp"

#include <cub/block/block_reduce.cuh>
#include <cub/device/device_select.cuh>
#include <thrust/iterator/counting_iterator.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "core/strided_loop.hpp"
#include "core/tensor_factory.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "grid_stride.cuh"
#include "kernels/dispatch_index.hpp"
#include "kernels/offset_calc.hpp"

namespace tapeflow::cuda_backend {
namespace {

using kernels::OffsetCalc;

constexpr unsigned kThreads = 256;  // launch_shape's block size, which the block reduction assumes

using kernels::dispatch_index;

// Coalesces the operands and calls launch(oc) with 32-bit offsets when they fit, else 64-bit.
template <std::size_t N, class Launch>
void with_offset_calc(detail::StridedOperands<N> ops, long long n, Launch&& launch) {
  detail::coalesce(ops);
  OffsetCalc<static_cast<int>(N), std::uint32_t> oc32;
  if (n <= static_cast<long long>(std::numeric_limits<std::uint32_t>::max() / 2) && kernels::make_offset_calc(ops, oc32)) {
    launch(oc32);
    return;
  }
  OffsetCalc<static_cast<int>(N), long long> oc64;
  if (!kernels::make_offset_calc(ops, oc64)) fail<ShapeError>("index", "operand offsets exceed 64 bits");
  launch(oc64);
}

template <class T>
__device__ T& at(char* base, long long byte_offset) {
  return *reinterpret_cast<T*>(base + byte_offset);
}
template <class T>
__device__ const T& at(const char* base, long long byte_offset) {
  return *reinterpret_cast<const T*>(base + byte_offset);
}

// ---- range check: a flag and the first bad value recorded, read back once ----

template <class Index, class I>
__global__ void check_range_kernel(const char* index, OffsetCalc<1, Index> oc, long long n, long long size,
                                   unsigned long long* flag, long long* bad) {
  for (long long i = first_item(); i < n; i += item_step()) {
    const long long v = at<I>(index, oc.get(static_cast<Index>(i))[0]);
    if ((v < 0 || v >= size) && atomicCAS(flag, 0ull, 1ull) == 0ull) *bad = v;
  }
}

// ---- gather / scatter_add ----

template <class Index, class T, class I>
__global__ void gather_kernel(char* out, const char* x, const char* index, OffsetCalc<3, Index> oc, long long n,
                              long long dim_stride_bytes) {
  for (long long i = first_item(); i < n; i += item_step()) {
    const auto off = oc.get(static_cast<Index>(i));
    const long long shift = static_cast<long long>(at<I>(index, off[2])) * dim_stride_bytes;
    at<T>(out, off[0]) = at<T>(x, static_cast<long long>(off[1]) + shift);
  }
}

// dst += v atomically; integers wrap around (two's complement), as the CPU's wrapping_add.
template <class T>
__device__ void atomic_add(T* dst, T v) {
  if constexpr (std::is_same_v<T, std::int64_t>)
    atomicAdd(reinterpret_cast<unsigned long long*>(dst), static_cast<unsigned long long>(v));
  else
    atomicAdd(dst, v);
}

template <class Index, class T, class I>
__global__ void scatter_add_kernel(char* x, const char* index, const char* src, OffsetCalc<3, Index> oc, long long n,
                                   long long dim_stride_bytes) {
  for (long long i = first_item(); i < n; i += item_step()) {
    const auto off = oc.get(static_cast<Index>(i));
    const long long shift = static_cast<long long>(at<I>(index, off[1])) * dim_stride_bytes;
    atomic_add(&at<T>(x, static_cast<long long>(off[0]) + shift), at<T>(src, off[2]));
  }
}

// ---- one_hot, count_nonzero, nonzero ----

template <class I>
__global__ void one_hot_kernel(const I* indices, long long n, long long classes, std::int64_t* out) {
  for (long long i = first_item(); i < n; i += item_step()) out[i * classes + static_cast<long long>(indices[i])] = 1;
}

template <class Index, class T>
__global__ void count_nonzero_kernel(const char* x, OffsetCalc<1, Index> oc, long long n, unsigned long long* count) {
  using Reduce = cub::BlockReduce<unsigned long long, kThreads>;
  __shared__ typename Reduce::TempStorage reduce_storage;
  unsigned long long c = 0;
  for (long long i = first_item(); i < n; i += item_step()) c += at<T>(x, oc.get(static_cast<Index>(i))[0]) != T(0);
  c = Reduce(reduce_storage).Sum(c);
  if (threadIdx.x == 0 && c != 0) atomicAdd(count, c);
}

template <class T>
struct NonZeroAt {
  const T* x;
  __device__ bool operator()(long long i) const { return x[i] != T(0); }
};

// Row-major multi-indices of linear positions: out[r * dims + d] = (linear[r] / inner[d]) % sizes[d].
struct Unravel {
  int dims = 0;
  long long sizes[kernels::kMaxKernelDims] = {}, inner[kernels::kMaxKernelDims] = {};
};
__global__ void unravel_kernel(const long long* linear, Unravel u, long long n, std::int64_t* out) {
  for (long long i = first_item(); i < n; i += item_step()) {
    const int d = static_cast<int>(i % u.dims);
    out[i] = (linear[i / u.dims] / u.inner[d]) % u.sizes[d];
  }
}

// A device scratch of `count` int64 values (freed, stream-ordered, at the end of the op).
Tensor scratch(std::int64_t count, Device device) { return detail::make_tensor({count}, kInt64, device); }

}  // namespace

void check_index_range(const char* op, const Tensor& index, std::int64_t dim, std::int64_t size) {
  const long long n = index.numel();
  if (n == 0) return;
  const int device = index.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  const Tensor state = scratch(2, index.device());  // {flag, first bad value}
  auto* flag = reinterpret_cast<unsigned long long*>(state.data_ptr<std::int64_t>());
  auto* bad = reinterpret_cast<long long*>(state.data_ptr<std::int64_t>() + 1);
  TAPEFLOW_CUDA_CHECK(cudaMemsetAsync(flag, 0, sizeof(long long), stream));
  dispatch_index(index.dtype(), [&]<typename I>() {
    with_offset_calc(detail::make_operands<1>(index.shape(), {&index}), n, [&]<class Index>(const OffsetCalc<1, Index>& oc) {
      launch_items(n, stream, check_range_kernel<Index, I>, static_cast<const char*>(index.data_ptr()), oc, n,
                   static_cast<long long>(size), flag, bad);
    });
  });
  long long host[2] = {0, 0};
  TAPEFLOW_CUDA_CHECK(cudaMemcpyAsync(host, flag, sizeof(host), cudaMemcpyDeviceToHost, stream));
  TAPEFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (host[0] != 0) fail<IndexError>(op, "index ", host[1], " is out of bounds for dim ", dim, " with size ", size);
}

void gather(const Tensor& out, const Tensor& x_view, const Tensor& index, std::int64_t dim_stride) {
  const long long n = out.numel();
  if (n == 0) return;
  const int device = out.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  dispatch(out.dtype(), [&]<typename T>() {
    dispatch_index(index.dtype(), [&]<typename I>() {
      const long long ds = static_cast<long long>(dim_stride) * static_cast<long long>(sizeof(T));
      with_offset_calc(detail::make_operands<3>(out.shape(), {&out, &x_view, &index}), n,
                       [&]<class Index>(const OffsetCalc<3, Index>& oc) {
                         launch_items(n, stream, gather_kernel<Index, T, I>, static_cast<char*>(out.data_ptr()),
                                      static_cast<const char*>(x_view.data_ptr()),
                                      static_cast<const char*>(index.data_ptr()), oc, n, ds);
                       });
    });
  });
}

void scatter_add(const Tensor& x_view, const Tensor& index, const Tensor& src, std::int64_t, std::int64_t dim_stride) {
  const long long n = index.numel();
  if (n == 0) return;
  const int device = x_view.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  dispatch_numeric(x_view.dtype(), "scatter_add", [&]<typename T>() {
    dispatch_index(index.dtype(), [&]<typename I>() {
      const long long ds = static_cast<long long>(dim_stride) * static_cast<long long>(sizeof(T));
      with_offset_calc(detail::make_operands<3>(index.shape(), {&x_view, &index, &src}), n,
                       [&]<class Index>(const OffsetCalc<3, Index>& oc) {
                         launch_items(n, stream, scatter_add_kernel<Index, T, I>,
                                      static_cast<char*>(x_view.data_ptr()),
                                      static_cast<const char*>(index.data_ptr()),
                                      static_cast<const char*>(src.data_ptr()), oc, n, ds);
                       });
    });
  });
}

void one_hot(const Tensor& out, const Tensor& indices) {
  const int device = out.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  TAPEFLOW_CUDA_CHECK(cudaMemsetAsync(out.data_ptr(), 0, out.nbytes(), stream));
  dispatch_index(indices.dtype(), [&]<typename I>() {
    launch_items(indices.numel(), stream, one_hot_kernel<I>, static_cast<const I*>(indices.data_ptr()),
                 static_cast<long long>(indices.numel()), static_cast<long long>(out.size(-1)),
                 out.data_ptr<std::int64_t>());
  });
}

std::int64_t count_nonzero(const Tensor& x) {
  const long long n = x.numel();
  if (n == 0) return 0;
  const int device = x.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  const Tensor total = scratch(1, x.device());
  auto* count = reinterpret_cast<unsigned long long*>(total.data_ptr<std::int64_t>());
  TAPEFLOW_CUDA_CHECK(cudaMemsetAsync(count, 0, sizeof(*count), stream));
  dispatch(x.dtype(), [&]<typename T>() {
    with_offset_calc(detail::make_operands<1>(x.shape(), {&x}), n, [&]<class Index>(const OffsetCalc<1, Index>& oc) {
      const LaunchShape ls = launch_shape(n, kThreads);
      count_nonzero_kernel<Index, T><<<ls.blocks, kThreads, 0, stream>>>(static_cast<const char*>(x.data_ptr()), oc,
                                                                           n, count);
      TAPEFLOW_CUDA_CHECK(cudaGetLastError());
    });
  });
  unsigned long long host = 0;
  TAPEFLOW_CUDA_CHECK(cudaMemcpyAsync(&host, count, sizeof(host), cudaMemcpyDeviceToHost, stream));
  TAPEFLOW_CUDA_CHECK(cudaStreamSynchronize(stream));
  return static_cast<std::int64_t>(host);
}

void nonzero_indices(const Tensor& out, const Tensor& x) {
  const std::int64_t count = out.size(0);
  if (out.numel() == 0) return;
  if (x.dim() > kernels::kMaxKernelDims)
    fail<ShapeError>("nonzero", "tensors of ", x.dim(), " dims; the CUDA kernel handles at most ",
                     kernels::kMaxKernelDims);
  const int device = x.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  // The linear positions of the non-zeros, in order (cub's stable select), then unravelled.
  const Tensor linear = scratch(count, x.device()), selected = scratch(1, x.device());
  auto* lin = reinterpret_cast<long long*>(linear.data_ptr<std::int64_t>());
  auto* num = reinterpret_cast<long long*>(selected.data_ptr<std::int64_t>());
  dispatch(x.dtype(), [&]<typename T>() {
    const NonZeroAt<T> pred{static_cast<const T*>(x.data_ptr())};
    const thrust::counting_iterator<long long> positions(0);
    std::size_t bytes = 0;
    TAPEFLOW_CUDA_CHECK(cub::DeviceSelect::If(nullptr, bytes, positions, lin, num, x.numel(), pred, stream));
    const Tensor temp = scratch(static_cast<std::int64_t>((bytes + 7) / 8), x.device());
    TAPEFLOW_CUDA_CHECK(cub::DeviceSelect::If(temp.data_ptr(), bytes, positions, lin, num, x.numel(), pred, stream));
  });
  Unravel u;
  u.dims = static_cast<int>(x.dim());
  long long inner = 1;
  for (int d = u.dims - 1; d >= 0; --d) {
    u.sizes[d] = x.size(d);
    u.inner[d] = inner;
    inner *= x.size(d);
  }
  launch_items(count * u.dims, stream, unravel_kernel, static_cast<const long long*>(lin), u,
               static_cast<long long>(count * u.dims), out.data_ptr<std::int64_t>());
}

}  // namespace tapeflow::cuda_backend
