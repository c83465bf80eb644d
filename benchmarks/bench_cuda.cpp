// GPU benchmarks (issue 7): tapeflow on cuda:0 beside PyTorch eager on the same GPU, measured in
// the same run (benchmarks/peers/pytorch_peer.py, suites cuda_*), four tables:
//   1. elementwise on 64M float32 in GB/s against the device's copy bandwidth (target: 85%);
//      the limit is the faster of tapeflow's copy_ and PyTorch's copy_ (a cudaMemcpyAsync
//      device to device), counted as read + write. Bytes per call: binary ops 3 x 256 MiB,
//      unary and copy 2 x, sum 1 x.
//   2. matmul n x n x n float32 in GFLOP/s, n = 256..8192, exact float32 on both sides (no TF32:
//      tapeflow's cuBLAS handle uses CUBLAS_DEFAULT_MATH, the peer sets allow_tf32 = False), so
//      PyTorch's column is cuBLAS called directly (target: within a few %).
//   3. training steps of the MLP and CNN of bench_training (common/models.hpp) on the GPU.
//   4. per-op launch overhead: c = a + b on 1 element, recorded and not.
// Every sample is timed with CUDA events on the current stream and ends synchronised (tapeflow
// and the peer alike), so asynchronous launches are counted in full.
// Without a GPU (or a build without CUDA) it prints "no CUDA device: skipped" and exits 0.
// Run: build/benchmarks/bench_cuda [--quick] [--peers pytorch|none]
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "common/elementwise_cases.hpp"
#include "common/models.hpp"
#include "common/suite.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
using namespace benchmarks;

namespace {

const tf::Device kGpu = tf::Device::cuda(0);
constexpr std::int64_t kN = 64 << 20;
constexpr double kFloatBytes = static_cast<double>(kN) * sizeof(float);

// The device's limit first, then the cases bench_elementwise runs on the CPU.
const std::vector<Case> kElementwise = [] {
  std::vector<Case> cases = {{"copy", "copy, c.copy_(a) (the device's limit)", 2 * kFloatBytes}};
  for (Case& c : elementwise_cases(kN)) cases.push_back(std::move(c));
  return cases;
}();

constexpr std::int64_t kMatmulSizes[] = {256, 512, 1024, 2048, 4096, 8192};

std::vector<Case> matmul_cases() {
  std::vector<Case> cases;
  for (std::int64_t n : kMatmulSizes) {
    const std::string s = std::to_string(n);
    cases.push_back({"mm_" + s, "matmul " + s + " x " + s + " x " + s, 2.0 * static_cast<double>(n * n * n)});
  }
  return cases;
}

const std::vector<Case> kTraining = {
    {"mlp_adam_32", "MLP 784-256-10, Adam, batch 32"},
    {"mlp_adam_256", "MLP 784-256-10, Adam, batch 256"},
    {"cnn_sgd_64", "CNN (2 conv, 1 linear), SGD momentum, batch 64"},
};

const std::vector<Case> kOverhead = {
    {"add_1", "add, 1 element (c = a + b)"},
    {"add_1_recorded", "add, 1 element, recorded for autograd"},
};

tf::Tensor uniform(tf::IntArrayRef shape) { return tf::rand(shape, kGpu) * 2 - 1; }

// Times one case; an op that throws on the GPU costs that cell ("error"), not the whole run.
template <typename Fn>
void time_case(Recorder& r, const std::string& id, Fn&& fn) {
  try {
    r.time(id, std::forward<Fn>(fn));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda: tapeflow %s failed: %s\n", id.c_str(), e.what());
  }
}

PeerRun elementwise_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  tf::Tensor a = uniform({kN}), b = uniform({kN}), ones = tf::ones({kN}, kGpu), c = tf::empty({kN}, kGpu);
  time_case(r, "copy", [&] { c.copy_(a); });
  time_case(r, "add", [&] { c = a + b; });
  time_case(r, "mul", [&] { c = a * b; });
  time_case(r, "relu", [&] { c = tf::relu(a); });
  time_case(r, "exp", [&] { c = tf::exp(a); });
  time_case(r, "exp_out", [&] { tf::exp_out(c, a); });
  time_case(r, "sum", [&] { tf::bench::do_not_optimize(a.sum()); });
  time_case(r, "add_inplace", [&] { a.add_(b); });
  time_case(r, "mul_inplace", [&] { a.mul_(ones); });  // ones: a stays finite however many calls
  time_case(r, "relu_inplace", [&] { a.relu_(); });
  return r.take();
}

PeerRun matmul_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  for (std::int64_t n : kMatmulSizes) {
    const tf::Tensor a = uniform({n, n}), b = uniform({n, n});
    tf::Tensor c;
    time_case(r, "mm_" + std::to_string(n), [&] { c = tf::matmul(a, b); });
  }
  return r.take();
}

PeerRun training_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  for (std::int64_t batch : {32, 256}) {
    tf::nn::Sequential mlp = mlp_model();
    mlp->to(kGpu);  // before the optimizer takes the parameters
    tf::optim::Adam adam = mlp_optimizer(mlp);
    const tf::Tensor x = tf::rand({batch, 784}, kGpu), y = tf::randint(0, 10, {batch}).to(kGpu);
    time_case(r, "mlp_adam_" + std::to_string(batch), [&] { train_step(mlp, adam, x, y); });
  }
  tf::nn::Sequential cnn = cnn_model();
  cnn->to(kGpu);
  tf::optim::SGD sgd = cnn_optimizer(cnn);
  const tf::Tensor x = tf::rand({64, 1, 28, 28}, kGpu), y = tf::randint(0, 10, {64}).to(kGpu);
  time_case(r, "cnn_sgd_64", [&] { train_step(cnn, sgd, x, y); });
  return r.take();
}

PeerRun overhead_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  const tf::Tensor a = uniform({1}), b = uniform({1});
  tf::Tensor c;
  time_case(r, "add_1", [&] { c = a + b; });
  const tf::Tensor ga = a.clone().requires_grad_(), gb = b.clone().requires_grad_();
  time_case(r, "add_1_recorded", [&] { c = ga + gb; });
  return r.take();
}

// tapeflow's column, then PyTorch's (run on the same suite in a child process). A failure while
// setting a suite up (e.g. out of memory) leaves tapeflow's column "error" and the run goes on.
std::vector<PeerRun> measure(const Args& args, const std::string& suite, Runner tapeflow) {
  PeerRun ours;
  try {
    ours = tapeflow(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda: tapeflow %s failed: %s\n", suite.c_str(), e.what());
    ours.library = "tapeflow";
    ours.absent = "error";
  }
  return {ours, run_python_peer(kPyTorch, args.pytorch, suite, 1, args.quick)};
}

std::string percent_of(double value, double limit) {
  return limit > 0 ? std::to_string(static_cast<int>(100 * value / limit + 0.5)) + "% of copy" : "";
}

void elementwise_table(const Args& args) {
  const auto columns = measure(args, "cuda_elementwise", elementwise_tapeflow);
  // The device's limit: the faster device-to-device copy of the two libraries.
  double copy = 0;
  for (const auto& column : columns)
    if (Cell c = column.rate("copy", 2 * kFloatBytes); c.has_value() && c.value > copy) copy = c.value;
  std::printf("\ndevice limit: copy (the faster of tapeflow's and PyTorch's copy_, read + write) %.4g GB/s; "
              "target: 85%% of it\n", copy);
  print_suite("elementwise on cuda:0, 64M float32", Measure::Rate, "GB/s", kElementwise, columns,
              [copy](const Case&, const Cell& ours) { return ours.has_value() ? percent_of(ours.value, copy) : ""; });
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv, "GPU benchmarks: elementwise, matmul, training steps, launch overhead");
  if (!tf::cuda::is_available()) {
    std::printf("bench_cuda: no CUDA device: skipped (tapeflow built without CUDA, or no GPU visible)\n");
    return 0;
  }
  args.device = kGpu;
  std::printf("tapeflow on %s beside PyTorch eager on the same GPU; medians of %d samples, each timed with CUDA "
              "events and synchronised. ratio > 1: tapeflow faster.\n",
              kGpu.str().c_str(), args.options().repeats);
  elementwise_table(args);
  print_suite("matmul on cuda:0, float32 (no TF32); PyTorch = cuBLAS", Measure::Rate, "GFLOP/s", matmul_cases(),
              measure(args, "cuda_matmul", matmul_tapeflow));
  print_suite("training step on cuda:0", Measure::Time, "", kTraining, measure(args, "cuda_training", training_tapeflow));
  print_suite("per-op launch overhead on cuda:0 (per call, synchronised per sample)", Measure::Time, "", kOverhead,
              measure(args, "cuda_overhead", overhead_tapeflow));
  return 0;
}
