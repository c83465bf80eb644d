// Common ops one at a time beside LibTorch, forward (no recording) and forward + backward, on
// shapes of small CNNs and MLPs: where tapeflow stands op by op, and which ops to work on next.
// LibTorch only (the Python peers' per-call overhead would swamp these microsecond ops).
// Run: build/benchmarks/bench_ops [--threads 1,2] [--quick] [--peers libtorch|none]
// On this project's dev box set OPENBLAS_CORETYPE=SkylakeX (its environment presets Haswell),
// or tapeflow's convolutions run OpenBLAS's AVX2 kernels while LibTorch's mkldnn uses AVX-512.
#include <string>
#include <vector>

#include "common/suite.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
using namespace benchmarks;

namespace {

// Activations (64, 16, 28, 28): a batch of 64 after a 16-channel conv on 28 x 28 images.
const std::vector<Case> kCases = {
    {"avg_pool2d", "avg_pool2d 2x2 (64,16,28,28)"},
    {"max_pool2d", "max_pool2d 2x2"},
    {"max_pool2d_s2p1", "max_pool2d 3x3 stride 2 pad 1"},
    {"adaptive_avg_pool2d", "adaptive_avg_pool2d to 1x1"},
    {"relu", "relu"},
    {"sigmoid", "sigmoid"},
    {"tanh", "tanh"},
    {"gelu", "gelu"},
    {"mul_channel", "x * scale, scale (16,1,1)"},
    {"sum_dim1", "sum over dim 1"},
    {"mean_hw", "mean over dims 2,3"},
    {"argmax_dim1", "argmax over dim 1"},
    {"cumsum", "cumsum over dim 3"},
    {"transpose_copy", "transpose(1,3).contiguous()"},
    {"batch_norm", "batch_norm, training"},
    {"dropout", "dropout 0.5, training"},
    {"index_select", "index_select 256 rows of (128,512)"},
    {"embedding", "embedding (10000,128)[(32,64)]"},
    {"log_softmax", "log_softmax (128,512), dim 1"},
    {"bwd_max_pool2d", "fwd+bwd max_pool2d 2x2"},
    {"bwd_avg_pool2d", "fwd+bwd avg_pool2d 2x2"},
    {"bwd_relu", "fwd+bwd relu"},
    {"bwd_batch_norm", "fwd+bwd batch_norm, training"},
    {"bwd_gelu", "fwd+bwd gelu"},
    {"bwd_conv_s1", "fwd+bwd conv2d 16->32 3x3 pad 1 (32,16,28,28)"},
    {"bwd_conv_s2", "fwd+bwd conv2d 16->32 3x3 stride 2 pad 1"},
    {"bwd_embedding", "fwd+bwd embedding"},
    {"bwd_layer_norm", "fwd+bwd layer_norm (256,1024)"},
};

// Both libraries run the same list; L is the library's namespace-like adapter (see below).
template <class L>
void run_cases(Recorder& r) {
  using T = typename L::Tensor;
  const auto sink = [](const T& t) { tf::bench::do_not_optimize(t); };
  {
    typename L::NoGrad no_grad;
    const T a = L::rand({64, 16, 28, 28}), scale = L::rand({16, 1, 1});
    r.time("avg_pool2d", [&] { sink(L::avg_pool2d(a, 2)); });
    r.time("max_pool2d", [&] { sink(L::max_pool2d(a, 2, 2, 0)); });
    r.time("max_pool2d_s2p1", [&] { sink(L::max_pool2d(a, 3, 2, 1)); });
    r.time("adaptive_avg_pool2d", [&] { sink(L::adaptive_avg_pool2d_1(a)); });
    r.time("relu", [&] { sink(L::relu(a)); });
    r.time("sigmoid", [&] { sink(L::sigmoid(a)); });
    r.time("tanh", [&] { sink(L::tanh(a)); });
    r.time("gelu", [&] { sink(L::gelu(a)); });
    r.time("mul_channel", [&] { sink(a * scale); });
    r.time("sum_dim1", [&] { sink(a.sum(1)); });
    r.time("mean_hw", [&] { sink(a.mean({2, 3})); });
    r.time("argmax_dim1", [&] { sink(a.argmax(1)); });
    r.time("cumsum", [&] { sink(a.cumsum(3)); });
    r.time("transpose_copy", [&] { sink(a.transpose(1, 3).contiguous()); });
    r.time("batch_norm", [&] { sink(L::batch_norm_train(a)); });
    r.time("dropout", [&] { sink(L::dropout(a, 0.5)); });
    const T rows = L::rand({128, 512}), idx = L::randint(128, {256});
    r.time("index_select", [&] { sink(rows.index_select(0, idx)); });
    const T table = L::rand({10000, 128}), tokens = L::randint(10000, {32, 64});
    r.time("embedding", [&] { sink(L::embedding(table, tokens)); });
    r.time("log_softmax", [&] { sink(L::log_softmax(rows, 1)); });
  }
  const T a = L::rand({64, 16, 28, 28}).requires_grad_(true);
  r.time("bwd_max_pool2d", [&] { L::max_pool2d(a, 2, 2, 0).sum().backward(); });
  r.time("bwd_avg_pool2d", [&] { L::avg_pool2d(a, 2).sum().backward(); });
  r.time("bwd_relu", [&] { L::relu(a).sum().backward(); });
  r.time("bwd_batch_norm", [&] { L::batch_norm_train(a).sum().backward(); });
  r.time("bwd_gelu", [&] { L::gelu(a).sum().backward(); });
  const T x = L::rand({32, 16, 28, 28}).requires_grad_(true), w = L::rand({32, 16, 3, 3}).requires_grad_(true);
  r.time("bwd_conv_s1", [&] { L::conv2d(x, w, 1, 1).sum().backward(); });
  r.time("bwd_conv_s2", [&] { L::conv2d(x, w, 2, 1).sum().backward(); });
  const T table = L::rand({10000, 128}).requires_grad_(true), tokens = L::randint(10000, {32, 64});
  r.time("bwd_embedding", [&] { L::embedding(table, tokens).sum().backward(); });
  const T h = L::rand({256, 1024}).requires_grad_(true), gamma = L::rand({1024}).requires_grad_(true);
  r.time("bwd_layer_norm", [&] { L::layer_norm(h, gamma).sum().backward(); });
}

struct Tapeflow {
  using Tensor = tf::Tensor;
  using NoGrad = tf::NoGradGuard;
  static Tensor rand(tf::IntArrayRef s) { return tf::rand(s); }
  static Tensor randint(std::int64_t high, tf::IntArrayRef s) { return tf::randint(0, high, s); }
  static Tensor avg_pool2d(const Tensor& a, std::int64_t k) { return tf::avg_pool2d(a, {k, k}); }
  static Tensor max_pool2d(const Tensor& a, std::int64_t k, std::int64_t s, std::int64_t p) {
    return tf::max_pool2d(a, {k, k}, {s, s}, {p, p});
  }
  static Tensor adaptive_avg_pool2d_1(const Tensor& a) { return tf::adaptive_avg_pool2d(a, {1, 1}); }
  static Tensor relu(const Tensor& a) { return tf::relu(a); }
  static Tensor sigmoid(const Tensor& a) { return tf::sigmoid(a); }
  static Tensor tanh(const Tensor& a) { return tf::tanh(a); }
  static Tensor gelu(const Tensor& a) { return tf::gelu(a); }
  static Tensor batch_norm_train(const Tensor& a) {
    return tf::batch_norm(a, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5);
  }
  static Tensor dropout(const Tensor& a, double p) { return tf::dropout(a, p, true); }
  static Tensor embedding(const Tensor& t, const Tensor& i) { return tf::embedding(t, i); }
  static Tensor log_softmax(const Tensor& a, std::int64_t d) { return tf::log_softmax(a, d); }
  static Tensor conv2d(const Tensor& x, const Tensor& w, std::int64_t s, std::int64_t p) {
    return tf::conv2d(x, w, Tensor(), {s, s}, {p, p});
  }
  static Tensor layer_norm(const Tensor& h, const Tensor& g) { return tf::layer_norm(h, {h.size(-1)}, g, Tensor(), 1e-5); }
};

PeerRun run_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  run_cases<Tapeflow>(r);
  return r.take();
}

#ifdef TAPEFLOW_BENCH_LIBTORCH
struct LibTorch {
  using Tensor = torch::Tensor;
  using NoGrad = torch::NoGradGuard;
  static Tensor rand(torch::IntArrayRef s) { return torch::rand(s); }
  static Tensor randint(std::int64_t high, torch::IntArrayRef s) { return torch::randint(0, high, s); }
  static Tensor avg_pool2d(const Tensor& a, std::int64_t k) { return torch::avg_pool2d(a, k); }
  static Tensor max_pool2d(const Tensor& a, std::int64_t k, std::int64_t s, std::int64_t p) {
    return torch::max_pool2d(a, k, s, p);
  }
  static Tensor adaptive_avg_pool2d_1(const Tensor& a) { return torch::adaptive_avg_pool2d(a, {1, 1}); }
  static Tensor relu(const Tensor& a) { return torch::relu(a); }
  static Tensor sigmoid(const Tensor& a) { return torch::sigmoid(a); }
  static Tensor tanh(const Tensor& a) { return torch::tanh(a); }
  static Tensor gelu(const Tensor& a) { return torch::gelu(a); }
  static Tensor batch_norm_train(const Tensor& a) { return torch::batch_norm(a, {}, {}, {}, {}, true, 0.1, 1e-5, false); }
  static Tensor dropout(const Tensor& a, double p) { return torch::dropout(a, p, true); }
  static Tensor embedding(const Tensor& t, const Tensor& i) { return torch::embedding(t, i); }
  static Tensor log_softmax(const Tensor& a, std::int64_t d) { return torch::log_softmax(a, d); }
  static Tensor conv2d(const Tensor& x, const Tensor& w, std::int64_t s, std::int64_t p) {
    return torch::conv2d(x, w, {}, s, p);
  }
  static Tensor layer_norm(const Tensor& h, const Tensor& g) { return torch::layer_norm(h, {h.size(-1)}, g, {}, 1e-5); }
};

PeerRun run_libtorch(const Args& args) {
  Recorder r("LibTorch", args);
  run_cases<LibTorch>(r);
  return finish_libtorch(r);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv, "common ops one at a time beside LibTorch");
  args.pytorch = args.tensorflow = false;  // LibTorch only (see the top of this file)
  std::printf("tapeflow ops, float32; medians of %d samples. ratio > 1: tapeflow faster.\n", args.options().repeats);
  for (int threads : args.threads) {
    const auto columns = measure_columns(args, "ops", threads, run_tapeflow, LIBTORCH_RUNNER(run_libtorch));
    print_suite("ops, " + std::to_string(threads) + " thread(s)", Measure::Time, "", kCases, columns);
  }
  return 0;
}
