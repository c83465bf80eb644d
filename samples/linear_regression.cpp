// The classic first example: fit y = w x + b to noisy points with one nn::Linear(1, 1), mean
// squared error and SGD, then compare with the least-squares solution.
//
//   build/samples/linear_regression [--points 200] [--epochs 100] [--lr 0.1] [--seed 0] ...
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/sample_args.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
namespace nn = tapeflow::nn;
namespace F = tapeflow::nn::functional;

// Reads "x,y" lines (a header line or '#' comments are skipped) into two (n, 1) tensors.
std::pair<tf::Tensor, tf::Tensor> read_points(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw tf::IOError("[linear_regression] cannot open " + path);
  std::vector<float> xs, ys;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    float x = 0, y = 0;
    char comma = 0;
    if (line.empty() || line[0] == '#') continue;
    if (fields >> x >> comma >> y && comma == ',') {
      xs.push_back(x);
      ys.push_back(y);
    } else if (!xs.empty()) {
      throw tf::IOError("[linear_regression] " + path + ": expected 'x,y', got '" + line + "'");
    }
  }
  if (xs.empty()) throw tf::IOError("[linear_regression] " + path + ": no 'x,y' lines");
  const auto n = static_cast<std::int64_t>(xs.size());
  return {tf::tensor(xs, {n, 1}), tf::tensor(ys, {n, 1})};
}

int run(int argc, char** argv) {
  std::string data;
  std::int64_t points = 200, epochs = 100, seed = 0, print_every = 10;
  double lr = 0.1, true_w = 3.0, true_b = 2.0, noise = 0.5;
  samples::SampleArgs args("linear_regression", "Fits y = w x + b with nn::Linear(1, 1), MSE and SGD.");
  args.add("data", &data, "CSV file of x,y lines to fit (default: generate points)");
  args.add("points", &points, "number of generated (x, y) points");
  args.add("epochs", &epochs, "full-batch gradient steps");
  args.add("lr", &lr, "SGD learning rate");
  args.add("seed", &seed, "random seed (data and initialisation)");
  args.add("true-w", &true_w, "slope of the generating line");
  args.add("true-b", &true_b, "intercept of the generating line");
  args.add("noise", &noise, "standard deviation of the Gaussian noise on y");
  args.add("print-every", &print_every, "report every N epochs");
  if (!args.parse(argc, argv)) return 0;
  tf::manual_seed(static_cast<std::uint64_t>(seed));

  // Data: from --data, or x uniform in [-2, 2] and y = w x + b + noise; shapes (n, 1) as
  // nn::Linear expects.
  tf::Tensor x, y;
  if (!data.empty()) {
    std::tie(x, y) = read_points(data);
    points = x.size(0);
  } else {
    x = tf::rand({points, 1}) * 4.0 - 2.0;
    y = x * true_w + true_b + tf::randn({points, 1}) * noise;
  }

  nn::Linear model(1, 1);
  tf::optim::SGD optimizer(model->parameters(), {.lr = lr});
  std::printf("model: %s\n", (std::ostringstream() << model).str().c_str());
  std::printf("before training: loss %.4f\n", F::mse_loss(model(x), y).item<double>());
  for (std::int64_t epoch = 1; epoch <= epochs; ++epoch) {
    optimizer.zero_grad();
    const tf::Tensor loss = F::mse_loss(model(x), y);
    loss.backward();
    optimizer.step();
    if (epoch % print_every == 0 || epoch == epochs)
      std::printf("epoch %3lld: loss %.4f, w %.4f, b %.4f\n", static_cast<long long>(epoch), loss.item<double>(),
                  model->weight.item<double>(), model->bias.item<double>());
  }

  // The exact least-squares line from the normal equations, for comparison.
  const tf::Tensor X = tf::cat({x, tf::ones({points, 1})}, 1).to(tf::kFloat64);
  const tf::Tensor Y = y.to(tf::kFloat64);
  const tf::Tensor Xt_X = tf::matmul(X.t(), X), Xt_Y = tf::matmul(X.t(), Y);
  const double a = Xt_X[0][0].item<double>(), b = Xt_X[0][1].item<double>(), d = Xt_X[1][1].item<double>();
  const double det = a * d - b * b;
  const double ls_w = (d * Xt_Y[0][0].item<double>() - b * Xt_Y[1][0].item<double>()) / det;
  const double ls_b = (a * Xt_Y[1][0].item<double>() - b * Xt_Y[0][0].item<double>()) / det;

  std::printf("fit:           y = %.4f x + %.4f\n", model->weight.item<double>(), model->bias.item<double>());
  std::printf("least squares: y = %.4f x + %.4f\n", ls_w, ls_b);
  if (data.empty()) std::printf("true line:     y = %.4f x + %.4f\n", true_w, true_b);
  return 0;
}

int main(int argc, char** argv) { return samples::run_main(argc, argv, run); }
