// softmax / log_softmax, layer_norm and batch_norm on cuda:0 against the CPU: forward values,
// saved running statistics, and gradients through backward (the fused first-order kernels) and
// under create_graph (the composed formulas). Shapes cover the kernel layouts: short rows (a warp
// per row), long rows (a block per row), softmax over a non-last dim, (N, C) and (N, C, H, W)
// batch norm. Tolerances: float32 rtol 1e-5 (softmax sums in float on both sides: 1e-4 for long
// rows), float64 1e-10.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::require_close;

namespace {

double rtol_for(DType dt) { return dt == kFloat32 ? 1e-4 : 1e-10; }

// Gradients of sum(op(inputs) * weights) with respect to every input, on the inputs' device.
std::vector<Tensor> grads(const std::function<Tensor(const std::vector<Tensor>&)>& op, std::vector<Tensor> inputs,
                          const Tensor& weights) {
  for (Tensor& t : inputs) t = t.detach().requires_grad_();
  (op(inputs) * weights).sum().backward();
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) out.push_back(t.grad());
  return out;
}

// Forward and gradients of op on the CPU and on the GPU, compared (the fused backward kernels
// also read the mean and rstd the forward kernels saved).
void check_op(const std::string& name, const std::function<Tensor(const std::vector<Tensor>&)>& op,
              const std::vector<Tensor>& inputs, double rtol, double atol = 1e-6) {
  INFO(name);
  std::vector<Tensor> gpu_inputs;
  for (const Tensor& t : inputs) gpu_inputs.push_back(t.to(kGpu));
  const Tensor out = op(inputs);
  require_close(out, op(gpu_inputs), rtol, atol);
  const Tensor w = randn(out.shape(), out.dtype());
  const auto gc = grads(op, inputs, w), gg = grads(op, gpu_inputs, w.to(kGpu));
  for (std::size_t i = 0; i < gc.size(); ++i) require_close(gc[i], gg[i], rtol, atol);
}

}  // namespace

TEST_CASE("softmax and log_softmax match the CPU", "[cuda][softmax]") {
  manual_seed(1);
  for (DType dt : {kFloat32, kFloat64}) {
    const double rtol = rtol_for(dt);
    for (bool log : {false, true}) {
      const auto sm = [log](std::int64_t d) {
        return [log, d](const std::vector<Tensor>& in) { return log ? log_softmax(in[0], d) : softmax(in[0], d); };
      };
      INFO((log ? "log_softmax" : "softmax") << " on " << dt);
      check_op("short rows", sm(1), {randn({37, 10}, dt) * 3}, rtol);
      check_op("long rows", sm(-1), {randn({5, 5000}, dt) * 3}, rtol);
      check_op("rows of a transposed input", sm(1), {randn({40, 33}, dt).t()}, rtol);
      check_op("middle dim", sm(1), {randn({4, 9, 6}, dt)}, rtol);
      check_op("first dim", sm(0), {randn({300, 7}, dt)}, rtol);
      check_op("large magnitudes", sm(1), {randn({8, 100}, dt) * 1000}, rtol);
      check_op("one element", sm(0), {randn({1}, dt)}, rtol);
    }
  }
}

TEST_CASE("softmax with infinities and NaN matches the CPU", "[cuda][softmax]") {
  Tensor x = randn({4, 6});
  x.select(0, 0).select(0, 2).fill_(-std::numeric_limits<double>::infinity());
  x.select(0, 1).fill_(-std::numeric_limits<double>::infinity());  // an all -inf row: NaN on both
  x.select(0, 2).select(0, 4).fill_(std::numeric_limits<double>::quiet_NaN());
  for (std::int64_t d : {0, 1}) {
    require_close(softmax(x, d), softmax(x.to(kGpu), d));
    require_close(log_softmax(x, d), log_softmax(x.to(kGpu), d));
  }
}

TEST_CASE("layer_norm forward, statistics and gradients match the CPU", "[cuda][norm]") {
  manual_seed(2);
  for (DType dt : {kFloat32, kFloat64}) {
    const double rtol = dt == kFloat32 ? 1e-4 : 1e-9;
    INFO(dt);
    const Tensor x = randn({6, 10, 32}, dt) * 2 + 3;
    const Tensor w = randn({32}, dt), b = randn({32}, dt), w2 = randn({10, 32}, dt);
    check_op(
        "affine", [](const auto& in) { return layer_norm(in[0], {32}, in[1], in[2]); }, {x, w, b}, rtol, 1e-5);
    check_op(
        "no affine", [](const auto& in) { return layer_norm(in[0], {32}); }, {x}, rtol, 1e-5);
    check_op(
        "weight only, two dims",
        [](const auto& in) {
          return layer_norm(in[0], {10, 32}, in[1]);
        },
        {x, w2}, rtol, 1e-5);
    check_op(
        "long rows", [](const auto& in) { return layer_norm(in[0], {3000}, in[1], in[2]); },
        {randn({4, 3000}, dt), randn({3000}, dt), randn({3000}, dt)}, rtol, 1e-5);
    check_op(
        "many short rows", [](const auto& in) { return layer_norm(in[0], {3}, in[1], in[2]); },
        {randn({5000, 3}, dt), randn({3}, dt), randn({3}, dt)}, rtol, 1e-5);
  }
}

TEST_CASE("layer_norm second-order gradients match the CPU", "[cuda][norm]") {
  manual_seed(3);
  const Tensor x = randn({4, 12}, kFloat64), w = randn({12}, kFloat64);
  auto second = [](const Tensor& xin, const Tensor& win) {
    const Tensor a = xin.detach().requires_grad_(), b = win.detach().requires_grad_();
    const Tensor y = layer_norm(a, {12}, b);
    const auto g = tapeflow::grad({(y * y * y).sum()}, {a}, {}, /*retain_graph=*/true, /*create_graph=*/true);
    g[0].square().sum().backward();
    return std::vector<Tensor>{a.grad(), b.grad()};
  };
  const auto c = second(x, w), g = second(x.to(kGpu), w.to(kGpu));
  require_close(c[0], g[0], 1e-9, 1e-9);
  require_close(c[1], g[1], 1e-9, 1e-9);
}

TEST_CASE("batch_norm forward, running statistics and gradients match the CPU", "[cuda][norm]") {
  manual_seed(4);
  for (DType dt : {kFloat32, kFloat64}) {
    const double rtol = dt == kFloat32 ? 1e-4 : 1e-9;
    for (const Shape& shape : {Shape{64, 16}, Shape{8, 6, 5, 7}, Shape{3000, 4}}) {
      const std::int64_t C = shape[1];
      INFO(dt << " " << shape);
      const Tensor x = randn(shape, dt) * 2 + 1, w = randn({C}, dt), b = randn({C}, dt);
      for (bool training : {true, false}) {
        INFO("training " << training);
        // Running statistics: updated in place on each device, compared after.
        const Tensor rm = randn({C}, dt), rv = rand({C}, dt) + 0.5;
        const Tensor crm = rm.clone(), crv = rv.clone(), grm = rm.to(kGpu), grv = rv.to(kGpu);
        const Tensor yc = batch_norm(x, crm, crv, w, b, training, 0.1, 1e-5);
        const Tensor yg = batch_norm(x.to(kGpu), grm, grv, w.to(kGpu), b.to(kGpu), training, 0.1, 1e-5);
        require_close(yc, yg, rtol, 1e-5);
        require_close(crm, grm, rtol, 1e-6);
        require_close(crv, grv, rtol, 1e-6);
        check_op(
            "gradients",
            [&](const auto& in) {
              const Tensor m = in[0].is_cpu() ? rm.clone() : rm.to(kGpu), v = in[0].is_cpu() ? rv.clone() : rv.to(kGpu);
              return batch_norm(in[0], m, v, in[1], in[2], training, 0.1, 1e-5);
            },
            {x, w, b}, rtol, 1e-5);
      }
    }
  }
}
