// Whole training steps (zero_grad, forward, cross-entropy, backward, optimizer step) on one
// fixed random batch, beside LibTorch, PyTorch and TensorFlow (eager, and tf.function as its own
// column since that is how TensorFlow users usually train):
//   MLP 784-256-10 (ReLU), Adam lr 1e-3, batch 32 and 256;
//   CNN conv 1->8 3x3, relu, maxpool 2, conv 8->16 3x3, relu, maxpool 2, linear 400->10,
//   SGD lr 0.01 momentum 0.9, batch 64.
// Run: build/benchmarks/bench_training [--threads 1,2] [--quick] [--peers ...]
#include <string>
#include <vector>

#include "common/models.hpp"
#include "common/suite.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
namespace nn = tapeflow::nn;
using namespace benchmarks;

namespace {

const std::vector<Case> kCases = {
    {"mlp_adam_32", "MLP 784-256-10, Adam, batch 32"},
    {"mlp_adam_256", "MLP 784-256-10, Adam, batch 256"},
    {"cnn_sgd_64", "CNN (2 conv, 1 linear), SGD momentum, batch 64"},
};

PeerRun run_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  for (std::int64_t batch : {32, 256}) {
    nn::Sequential mlp = mlp_model();
    tf::optim::Adam adam = mlp_optimizer(mlp);
    const tf::Tensor x = tf::rand({batch, 784}), y = tf::randint(0, 10, {batch});
    r.time("mlp_adam_" + std::to_string(batch), [&] { train_step(mlp, adam, x, y); });
  }
  nn::Sequential cnn = cnn_model();
  tf::optim::SGD sgd = cnn_optimizer(cnn);
  const tf::Tensor x = tf::rand({64, 1, 28, 28}), y = tf::randint(0, 10, {64});
  r.time("cnn_sgd_64", [&] { train_step(cnn, sgd, x, y); });
  return r.take();
}

#ifdef TAPEFLOW_BENCH_LIBTORCH
PeerRun run_libtorch(const Args& args) {
  Recorder r("LibTorch", args);
  const auto step = [&](const std::string& id, torch::nn::Sequential& model, torch::optim::Optimizer& optimizer,
                        const torch::Tensor& x, const torch::Tensor& y) {
    r.time(id, [&] {
      // zero_grad(set_to_none) as tapeflow and the PyTorch peer do; LibTorch 1.13's zeroes in place.
      for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
      torch::nn::functional::cross_entropy(model->forward(x), y).backward();
      optimizer.step();
    });
  };
  for (std::int64_t batch : {32, 256}) {
    torch::nn::Sequential mlp(torch::nn::Linear(784, 256), torch::nn::ReLU(), torch::nn::Linear(256, 10));
    torch::optim::Adam adam(mlp->parameters(), torch::optim::AdamOptions(1e-3));
    step("mlp_adam_" + std::to_string(batch), mlp, adam, torch::rand({batch, 784}), torch::randint(0, 10, {batch}));
  }
  torch::nn::Sequential cnn(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 8, 3)), torch::nn::ReLU(),
                            torch::nn::MaxPool2d(2), torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 16, 3)),
                            torch::nn::ReLU(), torch::nn::MaxPool2d(2), torch::nn::Flatten(), torch::nn::Linear(400, 10));
  torch::optim::SGD sgd(cnn->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  step("cnn_sgd_64", cnn, sgd, torch::rand({64, 1, 28, 28}), torch::randint(0, 10, {64}));
  return finish_libtorch(r);
}
#endif

// TensorFlow reports its tf.function steps as "<id>:graph": they get a column of their own.
PeerRun graph_column(const PeerRun& tensorflow) {
  PeerRun g;
  g.library = "TF graph";
  g.absent = tensorflow.absent;
  g.version = tensorflow.version;
  for (const auto& [id, s] : tensorflow.seconds)
    if (id.size() > 6 && id.compare(id.size() - 6, 6, ":graph") == 0) g.seconds[id.substr(0, id.size() - 6)] = s;
  return g;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv, "training steps: MLP (Adam) and CNN (SGD momentum)");
  std::printf("tapeflow training steps; medians of %d samples. ratio > 1: tapeflow faster.\n", args.options().repeats);
  for (int threads : args.threads) {
    auto columns = measure_columns(args, "training", threads, run_tapeflow, LIBTORCH_RUNNER(run_libtorch));
    columns.push_back(graph_column(columns.back()));
    print_suite("training step, " + std::to_string(threads) + " thread(s)", Measure::Time, "", kCases, columns);
  }
  return 0;
}
