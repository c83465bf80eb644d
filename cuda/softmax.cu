// Stable softmax on CUDA. Rows of the last dim (inner == 1): lanes of a row (a warp, or a block
// for long rows; several rows per block for short ones) find the max, sum exp(x - max), then
// write, reading the row three times (from cache after the first). Other dims (inner > 1): one
// thread per (outer, inner) column, neighbouring threads on neighbouring columns (coalesced).
#include <cmath>
#include <limits>

#include "block_reduce.cuh"
#include "cuda_check.hpp"
#include "device.hpp"
#include "softmax.hpp"

namespace tapeflow::cuda_backend {
namespace {

// The final value of element v of a row with max m and s = sum(exp(x - m)) (inv: 1/s or log(s)).
template <class T, bool Log>
__device__ T softmax_value(T v, T m, T inv) {
  using std::exp;
  if constexpr (Log)
    return (v - m) - inv;  // not v - (m + log s): that rounds at the scale of m
  else
    return exp(v - m) * inv;
}

template <class T, bool Log>
__device__ T finish_sum(T s) {
  using std::log;
  if constexpr (Log)
    return log(s);
  else
    return T(1) / s;
}

template <class T, bool Log>
__global__ void softmax_rows(const T* x, T* y, long long rows, long long n) {
  using std::exp;
  const long long r = static_cast<long long>(blockIdx.x) * blockDim.y + threadIdx.y;
  const bool active = r < rows;
  const T* xr = x + (active ? r : 0) * n;
  T* yr = y + (active ? r : 0) * n;
  T* smem = shared_as<T>();
  T m = -std::numeric_limits<T>::infinity();
  if (active)
    for (long long i = threadIdx.x; i < n; i += blockDim.x) m = MaxKeep{}(m, xr[i]);
  m = lane_allreduce(m, MaxKeep{}, smem);
  T s = 0;
  if (active)
    for (long long i = threadIdx.x; i < n; i += blockDim.x) s += exp(xr[i] - m);
  s = lane_allreduce(s, Plus{}, smem);
  if (!active) return;
  const T inv = finish_sum<T, Log>(s);
  for (long long i = threadIdx.x; i < n; i += blockDim.x) yr[i] = softmax_value<T, Log>(xr[i], m, inv);
}

template <class T, bool Log>
__global__ void softmax_columns(const T* x, T* y, long long columns, long long n, long long inner) {
  using std::exp;
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long c = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; c < columns; c += stride) {
    const long long o = c / inner, j = c % inner;
    const T* xc = x + o * n * inner + j;
    T* yc = y + o * n * inner + j;
    T m = -std::numeric_limits<T>::infinity();
    for (long long k = 0; k < n; ++k) m = MaxKeep{}(m, xc[k * inner]);
    T s = 0;
    for (long long k = 0; k < n; ++k) s += exp(xc[k * inner] - m);
    const T inv = finish_sum<T, Log>(s);
    for (long long k = 0; k < n; ++k) yc[k * inner] = softmax_value<T, Log>(xc[k * inner], m, inv);
  }
}

template <class T, bool Log>
void launch(const T* x, T* y, long long outer, long long n, long long inner, cudaStream_t stream) {
  if (inner == 1) {
    const RowBlocks b = row_blocks(outer, n);
    softmax_rows<T, Log><<<b.blocks, dim3(b.bx, b.by), sizeof(T) * b.smem_values, stream>>>(x, y, outer, n);
  } else {
    const LaunchShape ls = launch_shape(outer * inner);
    softmax_columns<T, Log><<<ls.blocks, ls.threads, 0, stream>>>(x, y, outer * inner, n, inner);
  }
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void softmax(const Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  const int device = x.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  dispatch_floating(x.dtype(), log ? "log_softmax" : "softmax", [&]<typename T>() {
    const T* px = static_cast<const T*>(x.data_ptr());
    T* py = static_cast<T*>(out.data_ptr());
    if (log)
      launch<T, true>(px, py, outer, n, inner, stream);
    else
      launch<T, false>(px, py, outer, n, inner, stream);
  });
}

}  // namespace tapeflow::cuda_backend
