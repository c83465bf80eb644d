// Layer ops, forward (and one forward + backward), beside LibTorch, PyTorch and TensorFlow:
// conv2d (32, 64, 28, 28) * (64, 64, 3, 3) padding 1, softmax and cross-entropy on (256, 1000),
// layer_norm on (256, 1024). Workloads as in benchmarks/peers/cases.md (TensorFlow runs conv2d
// in NHWC, its CPU layout; same FLOPs).
// Run: build/benchmarks/bench_layers [--threads 1,2] [--quick] [--peers ...]
#include <string>
#include <vector>

#include "common/suite.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
namespace F = tapeflow::nn::functional;
using namespace benchmarks;

namespace {

const std::vector<Case> kCases = {
    {"conv2d", "conv2d 32x64x28x28, 64 3x3 filters, pad 1"},
    {"softmax", "softmax (256, 1000), last dim"},
    {"cross_entropy", "cross_entropy (256, 1000), mean"},
    {"cross_entropy_fwd_bwd", "cross_entropy forward + backward"},
    {"layer_norm", "layer_norm (256, 1024), affine"},
};

PeerRun run_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  const auto u = [](tf::IntArrayRef shape) { return tf::rand(shape) * 2 - 1; };
  {
    tf::NoGradGuard no_grad;
    const tf::Tensor x = u({32, 64, 28, 28}), w = u({64, 64, 3, 3}), bias = u({64});
    r.time("conv2d", [&] { tf::bench::do_not_optimize(tf::conv2d(x, w, bias, {1, 1}, {1, 1})); });
    const tf::Tensor logits = u({256, 1000}), target = tf::randint(0, 1000, {256});
    r.time("softmax", [&] { tf::bench::do_not_optimize(tf::softmax(logits, -1)); });
    r.time("cross_entropy", [&] { tf::bench::do_not_optimize(F::cross_entropy(logits, target)); });
    const tf::Tensor h = u({256, 1024}), gamma = u({1024}), beta = u({1024});
    r.time("layer_norm", [&] { tf::bench::do_not_optimize(tf::layer_norm(h, {1024}, gamma, beta, 1e-5)); });
  }
  const tf::Tensor logits = u({256, 1000}).requires_grad_(), target = tf::randint(0, 1000, {256});
  r.time("cross_entropy_fwd_bwd", [&] {
    logits.set_grad({});
    F::cross_entropy(logits, target).backward();
  });
  return r.take();
}

#ifdef TAPEFLOW_BENCH_LIBTORCH
PeerRun run_libtorch(const Args& args) {
  Recorder r("LibTorch", args);
  const auto u = [](torch::IntArrayRef shape) { return torch::rand(shape) * 2 - 1; };
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor x = u({32, 64, 28, 28}), w = u({64, 64, 3, 3}), bias = u({64});
    r.time("conv2d", [&] { tf::bench::do_not_optimize(torch::conv2d(x, w, bias, 1, 1)); });
    const torch::Tensor logits = u({256, 1000}), target = torch::randint(0, 1000, {256});
    r.time("softmax", [&] { tf::bench::do_not_optimize(torch::softmax(logits, -1)); });
    r.time("cross_entropy", [&] { tf::bench::do_not_optimize(torch::nn::functional::cross_entropy(logits, target)); });
    const torch::Tensor h = u({256, 1024}), gamma = u({1024}), beta = u({1024});
    r.time("layer_norm", [&] { tf::bench::do_not_optimize(torch::layer_norm(h, {1024}, gamma, beta, 1e-5)); });
  }
  torch::Tensor logits = u({256, 1000}).requires_grad_();
  const torch::Tensor target = torch::randint(0, 1000, {256});
  r.time("cross_entropy_fwd_bwd", [&] {
    logits.mutable_grad() = torch::Tensor();
    torch::nn::functional::cross_entropy(logits, target).backward();
  });
  return finish_libtorch(r);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv, "conv2d, softmax, cross-entropy, layer_norm");
  std::printf("tapeflow layer ops, float32; medians of %d samples. ratio > 1: tapeflow faster.\n", args.options().repeats);
  for (int threads : args.threads) {
    const auto columns = measure_columns(args, "layers", threads, run_tapeflow, LIBTORCH_RUNNER(run_libtorch));
    print_suite("layers, " + std::to_string(threads) + " thread(s)", Measure::Time, "", kCases, columns);
  }
  return 0;
}
