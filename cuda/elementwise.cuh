#pragma once
// The CUDA elementwise loop behind kernels::map: out[i] = f(in[i]...) over one shape, inputs
// broadcast (stride 0), any strides, dtype of each operand given by Out/In. Two kernels:
// - contiguous operands of out's shape: each thread handles a vector of 16 bytes per operand
//   (one 128-bit load per input) when every pointer is aligned for it, grid-stride;
// - anything else: dims coalesced on the host, then one element per thread with offsets from
//   kernels::OffsetCalc (32-bit index math whenever the offsets fit).
// Instances are made explicitly per functor and dtypes in cuda/elementwise_*.cu.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "core/strided_loop.hpp"
#include "cpu/functors.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "kernels/map.hpp"
#include "kernels/offset_calc.hpp"

namespace tapeflow::cuda_backend {
namespace elementwise {

template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// Elements per thread in the vectorised kernel: 16 bytes of the widest operand.
template <class Out, class... In>
constexpr int vec_width() {
  constexpr std::size_t widest = std::max({sizeof(Out), sizeof(In)...});
  return static_cast<int>(16 / widest) > 0 ? static_cast<int>(16 / widest) : 1;
}

template <class F, class Out, class... In>
__global__ void contiguous_kernel(F f, Out* out, long long n, const In*... in) {
  constexpr int V = vec_width<Out, In...>();
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  const long long chunks = n / V;
  for (long long c = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; c < chunks; c += stride) {
    Vec<Out, V> o;
    // One vector load per input, then V scalar applications of f.
    [&](const Vec<In, V>&... x) {
#pragma unroll
      for (int j = 0; j < V; ++j) o.v[j] = static_cast<Out>(f(x.v[j]...));
    }(reinterpret_cast<const Vec<In, V>*>(in)[c]...);
    reinterpret_cast<Vec<Out, V>*>(out)[c] = o;
  }
  // The tail that does not fill a vector.
  const long long t = chunks * V + blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (t < n) out[t] = static_cast<Out>(f(in[t]...));
}

template <class F, class Out, class... In>
__global__ void scalar_kernel(F f, Out* out, long long n, const In*... in) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n; i += stride)
    out[i] = static_cast<Out>(f(in[i]...));
}

template <class Index, class F, class Out, class... In, std::size_t... I>
__device__ void strided_element(const F& f, char* out, const kernels::OffsetCalc<sizeof...(In) + 1, Index>& oc,
                                Index i, std::index_sequence<I...>, const char* const* in) {
  const auto off = oc.get(i);
  *reinterpret_cast<Out*>(out + off[0]) = static_cast<Out>(f(*reinterpret_cast<const In*>(in[I] + off[I + 1])...));
}

template <class Index, class F, class Out, class... In>
__global__ void strided_kernel(F f, char* out, kernels::OffsetCalc<sizeof...(In) + 1, Index> oc, Index n,
                               std::array<const char*, sizeof...(In) == 0 ? 1 : sizeof...(In)> in) {
  const Index stride = static_cast<Index>(blockDim.x) * gridDim.x;
  for (Index i = blockIdx.x * static_cast<Index>(blockDim.x) + threadIdx.x; i < n; i += stride)
    strided_element<Index, F, Out, In...>(f, out, oc, i, std::index_sequence_for<In...>{}, in.data());
}

template <class Index, class F, class Out, class... In>
bool try_strided(const F& f, const detail::StridedOperands<sizeof...(In) + 1>& ops, long long n, cudaStream_t stream) {
  constexpr int N = sizeof...(In) + 1;
  kernels::OffsetCalc<N, Index> oc;
  if (n > static_cast<long long>(std::numeric_limits<Index>::max() / 2) || !kernels::make_offset_calc(ops, oc)) return false;
  std::array<const char*, sizeof...(In) == 0 ? 1 : sizeof...(In)> in{};
  for (std::size_t k = 1; k < static_cast<std::size_t>(N); ++k) in[k - 1] = ops.data[k];
  const LaunchShape ls = launch_shape(n);
  strided_kernel<Index, F, Out, In...><<<ls.blocks, ls.threads, 0, stream>>>(f, ops.data[0], oc, static_cast<Index>(n),
                                                                             in);
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
  return true;
}

inline bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace elementwise

template <class F, class Out, class... In>
void Map<F, Out, In...>::run(const F& f, const Tensor& out, const Tensor* const* in) {
  constexpr std::size_t N = sizeof...(In);
  using Seq = std::make_index_sequence<N>;
  const long long n = out.numel();
  if (n == 0) return;
  const int device = out.device().index();
  DeviceGuard guard(device);
  const cudaStream_t stream = current_stream(device);
  const bool contiguous = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return out.is_contiguous() && ((in[I]->shape() == out.shape() && in[I]->is_contiguous()) && ...);
  }(Seq{});
  if (contiguous) {
    Out* o = static_cast<Out*>(out.data_ptr());
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      const LaunchShape ls = launch_shape(n);
      bool aligned = elementwise::aligned16(o);
      ((aligned = aligned && elementwise::aligned16(in[I]->data_ptr())), ...);
      if (aligned)
        elementwise::contiguous_kernel<F, Out, In...><<<ls.blocks, ls.threads, 0, stream>>>(
            f, o, n, static_cast<const In*>(in[I]->data_ptr())...);
      else
        elementwise::scalar_kernel<F, Out, In...><<<ls.blocks, ls.threads, 0, stream>>>(
            f, o, n, static_cast<const In*>(in[I]->data_ptr())...);
    }(Seq{});
    TAPEFLOW_CUDA_CHECK(cudaGetLastError());
    return;
  }
  const auto operands = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<const Tensor*, N + 1>{&out, in[I]...};
  }(Seq{});
  auto ops = detail::make_operands<N + 1>(out.shape(), operands);
  detail::coalesce(ops);
  if (elementwise::try_strided<std::uint32_t, F, Out, In...>(f, ops, n, stream)) return;
  // No kernel ran when even 64-bit offsets do not fit: never leave out unwritten silently.
  if (!elementwise::try_strided<long long, F, Out, In...>(f, ops, n, stream))
    fail<ShapeError>("elementwise", "operand offsets exceed the 64-bit index range");
}

}  // namespace tapeflow::cuda_backend
