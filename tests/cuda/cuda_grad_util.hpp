#pragma once
// Gradient parity for the CUDA tests of the matmul/conv/pool/index families: the same function
// of the same inputs on the CPU and on cuda:0, its outputs compared, then backward with the same
// upstream gradient (no reduction on the way, so only the op's own backward is exercised) and
// every input's gradient compared.
#include <functional>
#include <vector>

#include "cuda/cuda_test_util.hpp"

namespace cuda_test {

inline tapeflow::Tensor random_cpu(tapeflow::IntArrayRef shape, tapeflow::DType dtype) {
  return tapeflow::randn(shape, tapeflow::TensorOptions(tapeflow::kFloat64)).to(dtype);
}

using TensorFn = std::function<tapeflow::Tensor(const std::vector<tapeflow::Tensor>&)>;

// inputs: CPU tensors; those listed in `differentiable` get requires_grad on both devices.
inline void require_same_grads(const TensorFn& f, const std::vector<tapeflow::Tensor>& inputs,
                               const std::vector<bool>& differentiable, double rtol, double atol) {
  using namespace tapeflow;
  std::vector<Tensor> cpu, gpu;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    Tensor c = inputs[i].clone(), g = inputs[i].to(kGpu);
    if (differentiable[i]) {
      c.requires_grad_();
      g.requires_grad_();
    }
    cpu.push_back(c);
    gpu.push_back(g);
  }
  const Tensor out_c = f(cpu), out_g = f(gpu);
  require_close(out_c.detach(), out_g.detach(), rtol, atol);
  const Tensor upstream = random_cpu(out_c.shape(), out_c.dtype());
  out_c.backward(upstream);
  out_g.backward(upstream.to(kGpu));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!differentiable[i]) continue;
    INFO("gradient of input " << i);
    require_close(cpu[i].grad(), gpu[i].grad(), rtol, atol);
  }
}

}  // namespace cuda_test
