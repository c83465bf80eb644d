// Fused optimizer updates on cuda:0 against the CPU: every optimizer with each of its options,
// several steps from the same parameters and gradients (contiguous and strided parameters,
// float32 and float64), the state placed on the parameter's device; and a few training steps of
// a small MLP with cross_entropy and Adam.
//
// Tolerances: float64 1e-12; float32 1e-5 relative (nvcc fuses multiply-adds that the CPU rounds
// twice, and trajectories carry those last-bit differences from step to step).
#include <functional>
#include <memory>
#include <string>

#include "cuda/cuda_test_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::require_close;

namespace {

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

// Parameters of several layouts on the CPU: a matrix, a vector, and a transposed (strided) leaf.
std::vector<Tensor> cpu_params(DType dtype) {
  return {randn({33, 17}, dtype).requires_grad_(true), randn({5}, dtype).requires_grad_(true),
          randn({9, 4}, dtype).t().detach().requires_grad_(true)};
}

// The same values on the GPU, with the same layouts.
std::vector<Tensor> gpu_copies(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  for (const Tensor& p : params) {
    Tensor g = p.is_contiguous() ? p.detach().to(kGpu, /*copy=*/true)
                                 : p.detach().t().to(kGpu, /*copy=*/true).t().detach();
    out.push_back(g.requires_grad_(true));
  }
  return out;
}

void check_optimizer(const std::string& name, const MakeOptimizer& make, int steps = 5) {
  for (DType dtype : {kFloat32, kFloat64}) {
    const double tol = dtype == kFloat32 ? 1e-5 : 1e-12;
    manual_seed(7);
    const std::vector<Tensor> pc = cpu_params(dtype), pg = gpu_copies(pc);
    REQUIRE_FALSE(pg[2].is_contiguous());
    auto oc = make(pc), og = make(pg);
    for (int s = 0; s < steps; ++s) {
      std::vector<Tensor> gc, gg;
      for (const Tensor& p : pc) gc.push_back(randn(p.shape(), dtype));
      for (const Tensor& g : gc) gg.push_back(g.to(kGpu));
      oc->apply_gradients(gc);
      og->apply_gradients(gg);
      for (std::size_t i = 0; i < pc.size(); ++i) {
        INFO(name << ", " << dtype << ", step " << s + 1 << ", parameter " << i);
        require_close(pc[i].detach(), pg[i].detach(), tol, tol);
      }
    }
  }
}

template <class Opt, class Options>
MakeOptimizer maker(Options o) {
  return [o](std::vector<Tensor> params) { return std::make_unique<Opt>(std::move(params), o); };
}

}  // namespace

TEST_CASE("SGD: plain, momentum, dampening, nesterov, weight decay, maximize", "[cuda]") {
  check_optimizer("plain", maker<optim::SGD>(optim::SGDOptions{.lr = 0.1}));
  check_optimizer("momentum", maker<optim::SGD>(optim::SGDOptions{.lr = 0.05, .momentum = 0.9}));
  check_optimizer("dampening", maker<optim::SGD>(optim::SGDOptions{.lr = 0.05, .momentum = 0.8, .dampening = 0.3}));
  check_optimizer("nesterov + decay", maker<optim::SGD>(optim::SGDOptions{
                                          .lr = 0.05, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true}));
  check_optimizer("maximize", maker<optim::SGD>(optim::SGDOptions{.lr = 0.1, .momentum = 0.5, .maximize = true}));
}

TEST_CASE("Adam and AdamW: amsgrad, weight decay, maximize", "[cuda]") {
  check_optimizer("adam", maker<optim::Adam>(optim::AdamOptions{.lr = 0.01}));
  check_optimizer("adam amsgrad + decay",
                  maker<optim::Adam>(optim::AdamOptions{.lr = 0.01, .weight_decay = 0.1, .amsgrad = true}));
  check_optimizer("adam maximize", maker<optim::Adam>(optim::AdamOptions{.lr = 0.01, .maximize = true}));
  check_optimizer("adamw", maker<optim::AdamW>(optim::AdamWOptions{.lr = 0.01, .weight_decay = 0.05}));
  check_optimizer("adamw amsgrad",
                  maker<optim::AdamW>(optim::AdamWOptions{.lr = 0.01, .betas = {0.8, 0.99}, .amsgrad = true}));
}

TEST_CASE("RMSprop: centered, momentum, weight decay, maximize", "[cuda]") {
  check_optimizer("plain", maker<optim::RMSprop>(optim::RMSpropOptions{.lr = 0.01}));
  check_optimizer("centered", maker<optim::RMSprop>(optim::RMSpropOptions{.lr = 0.01, .centered = true}));
  check_optimizer("momentum", maker<optim::RMSprop>(optim::RMSpropOptions{.lr = 0.01, .momentum = 0.9}));
  check_optimizer("centered + momentum + decay + maximize",
                  maker<optim::RMSprop>(optim::RMSpropOptions{
                      .lr = 0.01, .weight_decay = 0.1, .momentum = 0.5, .centered = true, .maximize = true}));
}

TEST_CASE("Adagrad: lr decay, initial accumulator, weight decay, maximize", "[cuda]") {
  check_optimizer("plain", maker<optim::Adagrad>(optim::AdagradOptions{.lr = 0.1}));
  check_optimizer("all options", maker<optim::Adagrad>(optim::AdagradOptions{.lr = 0.1,
                                                                             .lr_decay = 0.01,
                                                                             .weight_decay = 0.05,
                                                                             .initial_accumulator_value = 0.5,
                                                                             .maximize = true}));
}

TEST_CASE("optimizer state lives on the parameter's device", "[cuda]") {
  Tensor p = randn({4, 3}).to(kGpu).requires_grad_(true);
  optim::Adam adam({p}, optim::AdamOptions{.lr = 0.1, .amsgrad = true});
  adam.apply_gradients({randn({4, 3}).to(kGpu)});
  const auto state = adam.state_dict();
  std::size_t on_gpu = 0;
  for (const Tensor& t : state.values())
    if (t.defined() && t.is_cuda()) ++on_gpu;
  CHECK(on_gpu == 3);  // exp_avg, exp_avg_sq, max_exp_avg_sq; the step count stays on the host
}

TEST_CASE("a few MLP training steps with cross_entropy and Adam", "[cuda]") {
  const auto model_on = [](Device d) {
    manual_seed(11);
    nn::Sequential m(nn::Linear(12, 32), nn::ReLU(), nn::Linear(32, 5));
    m->to(d);
    return m;
  };
  nn::Sequential mc = model_on(Device::cpu()), mg = model_on(kGpu);
  optim::Adam oc(mc->parameters(), {.lr = 1e-2}), og(mg->parameters(), {.lr = 1e-2});
  manual_seed(12);
  const Tensor x = randn({64, 12}, kFloat64).to(kFloat32);
  const Tensor y = randint(0, 5, {64});
  for (int step = 0; step < 5; ++step) {
    INFO("step " << step);
    oc.zero_grad();
    og.zero_grad();
    const Tensor lc = nn::functional::cross_entropy(mc(x), y);
    const Tensor lg = nn::functional::cross_entropy(mg(x.to(kGpu)), y.to(kGpu));
    require_close(lc, lg, 1e-4, 1e-5);
    lc.backward();
    lg.backward();
    oc.step();
    og.step();
  }
  const std::vector<Tensor> pc = mc->parameters(), pg = mg->parameters();
  for (std::size_t i = 0; i < pc.size(); ++i) require_close(pc[i].detach(), pg[i].detach(), 1e-4, 1e-5);
}
