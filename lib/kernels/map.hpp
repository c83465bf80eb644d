#pragma once
// Elementwise maps on any device: out[i] = f(in[i]...), inputs broadcast to out's shape, each
// operand read and written with its own strides. The functor (cpu/functors.hpp: host and device code) is the
// same on every device; only the loop differs. CPU tensors run cpu::map (lib/cpu/elementwise.hpp);
// CUDA tensors run cuda_backend::Map, whose instances for each functor and dtype are compiled by
// nvcc (cuda/elementwise_*.cu), so a functor used here must be listed there too (a CUDA build
// fails to link otherwise).
#include "cpu/elementwise.hpp"
#include "kernels/backend.hpp"

namespace tapeflow {

namespace cuda_backend {
// Map<F, Out, In...>::run: the CUDA loop (cuda/elementwise.cuh); in: sizeof...(In) tensors on
// out's device. Explicitly instantiated per functor and dtypes in cuda/elementwise_*.cu.
template <class F, class Out, class... In>
struct Map {
  static void run(const F& f, const Tensor& out, const Tensor* const* in);
};
}  // namespace cuda_backend

namespace kernels {

template <class Out, class... In, class F, class... Ts>
void map(const F& f, const Tensor& out, const Ts&... in) {
  if (out.is_cpu()) [[likely]] {
    cpu::map<Out, In...>(f, out, in...);
    return;
  }
#ifdef TAPEFLOW_WITH_CUDA
  const Tensor* const operands[] = {&in...};
  cuda_backend::Map<F, Out, In...>::run(f, out, operands);
#else
  on(out.device());  // throws: this build has no backend for out's device
#endif
}

}  // namespace kernels
}  // namespace tapeflow
