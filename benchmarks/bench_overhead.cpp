// Per-op overhead: what a tiny op costs when the data is too small to matter. tapeflow beside
// LibTorch (in process), PyTorch and TensorFlow (benchmarks/peers), same threads, same run.
// Cases (ids as in benchmarks/peers/cases.md): c = a + b on 1 and 64 elements, plain and with
// gradient recording; a tiny forward + backward; an optimizer step over 100 small parameters.
// Run: build/benchmarks/bench_overhead [--threads 1,2] [--quick] [--peers ...]
#include <string>
#include <vector>

#include "common/suite.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
using namespace benchmarks;

namespace {

constexpr int kParams = 100;       // optimizer step: this many parameters ...
constexpr int kParamSize = 64;     // ... of this many elements

const std::vector<Case> kCases = {
    {"add_1", "add, 1 element (c = a + b)"},
    {"add_64", "add, 64 elements"},
    {"add_1_recorded", "add, 1 element, recorded for autograd"},
    {"add_64_recorded", "add, 64 elements, recorded"},
    {"tiny_fwd_bwd", "(a*b + a).sum().backward(), 1 element"},
    {"adam_step_100", "Adam step, 100 params x 64"},
    {"sgd_step_100", "SGD momentum step, 100 params x 64"},
};

tf::Tensor uniform(std::int64_t n) { return tf::rand({n}) * 2 - 1; }

PeerRun run_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  for (std::int64_t n : {1, 64}) {
    const tf::Tensor a = uniform(n), b = uniform(n);
    tf::Tensor c;
    r.time("add_" + std::to_string(n), [&] { c = a + b; });
    const tf::Tensor ga = a.clone().requires_grad_(), gb = b.clone().requires_grad_();
    r.time("add_" + std::to_string(n) + "_recorded", [&] { c = ga + gb; });
  }
  {
    const tf::Tensor a = uniform(1).requires_grad_(), b = uniform(1).requires_grad_();
    r.time("tiny_fwd_bwd", [&] {
      a.set_grad({});  // as the peers do: each call starts without gradients
      b.set_grad({});
      (a * b + a).sum().backward();
    });
  }
  std::vector<tf::Tensor> params;
  for (int i = 0; i < kParams; ++i) {
    params.push_back(uniform(kParamSize).requires_grad_());
    params.back().set_grad(uniform(kParamSize));
  }
  tf::optim::Adam adam(params, {.lr = 1e-3});
  r.time("adam_step_100", [&] { adam.step(); });
  tf::optim::SGD sgd(params, {.lr = 0.01, .momentum = 0.9});
  r.time("sgd_step_100", [&] { sgd.step(); });
  return r.take();
}

#ifdef TAPEFLOW_BENCH_LIBTORCH
PeerRun run_libtorch(const Args& args) {
  Recorder r("LibTorch", args);
  const auto uniform_t = [](std::int64_t n) { return torch::rand({n}) * 2 - 1; };
  for (std::int64_t n : {1, 64}) {
    const torch::Tensor a = uniform_t(n), b = uniform_t(n);
    torch::Tensor c;
    r.time("add_" + std::to_string(n), [&] { c = a + b; });
    const torch::Tensor ga = a.clone().requires_grad_(), gb = b.clone().requires_grad_();
    r.time("add_" + std::to_string(n) + "_recorded", [&] { c = ga + gb; });
  }
  {
    torch::Tensor a = uniform_t(1).requires_grad_(), b = uniform_t(1).requires_grad_();
    r.time("tiny_fwd_bwd", [&] {
      a.mutable_grad() = torch::Tensor();
      b.mutable_grad() = torch::Tensor();
      (a * b + a).sum().backward();
    });
  }
  std::vector<torch::Tensor> params;
  for (int i = 0; i < kParams; ++i) {
    params.push_back(uniform_t(kParamSize).requires_grad_());
    params.back().mutable_grad() = uniform_t(kParamSize);
  }
  torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-3));
  r.time("adam_step_100", [&] { adam.step(); });
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.01).momentum(0.9));
  r.time("sgd_step_100", [&] { sgd.step(); });
  return finish_libtorch(r);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv, "per-op overhead: tiny ops, recording, backward, optimizer steps");
  std::printf("tapeflow per-op overhead; medians of %d samples. ratio > 1: tapeflow faster.\n", args.options().repeats);
  for (int threads : args.threads) {
    const auto columns = measure_columns(args, "overhead", threads, run_tapeflow, LIBTORCH_RUNNER(run_libtorch));
    print_suite("per-op overhead, " + std::to_string(threads) + " thread(s)", Measure::Time, "", kCases, columns);
  }
  return 0;
}
