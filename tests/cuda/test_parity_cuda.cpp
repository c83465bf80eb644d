// CPU/GPU parity over the gradient-check table (tests/autograd/grad_table_*.cpp): every row's
// function runs on the CPU and on cuda:0 with the same inputs, and the outputs and the gradients
// of sum(output * v) with respect to every differentiable input must agree. The table covers
// every registered differentiable op, so a new op gets a GPU check as soon as it has its row.
#include "autograd/gradcheck.hpp"
#include "cuda/cuda_test_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;

namespace {

// The same values on another device, with the same requires_grad (a new leaf there).
std::vector<Tensor> to_device(const std::vector<Tensor>& xs, Device d) {
  std::vector<Tensor> out;
  for (const Tensor& x : xs) {
    if (!x.defined()) {
      out.push_back(x);
      continue;
    }
    Tensor y = x.detach().to(d);
    if (x.requires_grad()) y.requires_grad_(true);
    out.push_back(y);
  }
  return out;
}

struct Run {
  Tensor output;
  std::vector<Tensor> grads;  // undefined for inputs without requires_grad or unused
};

Run run(const testing::GradCase& c, const std::vector<Tensor>& inputs, const Tensor& v) {
  Run r;
  r.output = c.fn(inputs);
  std::vector<Tensor> wrt;
  for (const Tensor& x : inputs)
    if (x.defined() && x.requires_grad()) wrt.push_back(x);
  if (wrt.empty() || !r.output.requires_grad()) return r;
  const Tensor loss = (r.output * v.to(r.output.device(), r.output.dtype())).sum();
  r.grads = tapeflow::grad({loss}, wrt, {}, std::nullopt, false, /*allow_unused=*/true);
  return r;
}

}  // namespace

TEST_CASE("every row of the gradient-check table gives the CPU's outputs and gradients on the GPU",
          "[cuda][parity]") {
  for (const testing::GradCase& c : testing::grad_cases()) {
    DYNAMIC_SECTION(c.op << " (" << c.label << ")") {
      manual_seed(7);
      const std::vector<Tensor> cpu_inputs = c.inputs();
      const std::vector<Tensor> gpu_inputs = to_device(cpu_inputs, kGpu);
      Tensor v;
      {
        NoGradGuard probe;
        v = randn(c.fn(cpu_inputs).shape(), kFloat64);
      }
      // Rows that draw random numbers (dropout...) draw the same ones: one seed gives the same
      // streams on both devices.
      manual_seed(8);
      const Run cpu_run = run(c, cpu_inputs, v);
      manual_seed(8);
      const Run gpu_run = run(c, gpu_inputs, v);
      // float64 everywhere in the table: the two backends may differ by summation order only.
      cuda_test::require_close(cpu_run.output, gpu_run.output, 1e-9, 1e-10);
      REQUIRE(cpu_run.grads.size() == gpu_run.grads.size());
      for (std::size_t i = 0; i < cpu_run.grads.size(); ++i) {
        INFO("gradient of differentiable input " << i);
        REQUIRE(cpu_run.grads[i].defined() == gpu_run.grads[i].defined());
        if (cpu_run.grads[i].defined()) cuda_test::require_close(cpu_run.grads[i], gpu_run.grads[i], 1e-9, 1e-10);
      }
    }
  }
}
