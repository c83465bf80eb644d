// The ops at work on a real data set: softmax regression on Fashion-MNIST, trained with
// hand-derived gradients (matmul, softmax, one_hot, index_select, in-place updates), then
// evaluated on the 10,000 test images. (Autograd and nn modules arrive with later issues.)
//
//   build/samples/fashion_mnist_softmax [data_dir] [epochs]
//   data_dir defaults to /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist)
#include <chrono>
#include <cstdio>
#include <string>

#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;

namespace {

const char* kClasses[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// Images as (N, 784) float32 in [0, 1], labels as int64.
std::pair<tf::Tensor, tf::Tensor> load_split(const std::string& dir, const std::string& split) {
  tf::Tensor images = tf::load_idx(dir + "/" + split + "-images-idx3-ubyte.gz", tf::kFloat32);
  tf::Tensor labels = tf::load_idx(dir + "/" + split + "-labels-idx1-ubyte.gz", tf::kInt64);
  images = images.reshape({images.size(0), -1}) / 255.0;
  return {images, labels};
}

// Fraction of rows whose highest logit is the label.
double accuracy(const tf::Tensor& logits, const tf::Tensor& labels) {
  return tf::eq(logits.argmax(1), labels).to(tf::kFloat64).mean().item<double>();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 5;
  tf::manual_seed(0);

  auto [x_train, y_train] = load_split(dir, "train");
  auto [x_test, y_test] = load_split(dir, "t10k");
  std::printf("Fashion-MNIST: train %s, test %s\n", x_train.toString().c_str(), x_test.toString().c_str());
  // Standardise with the training set's statistics (broadcast over rows).
  const tf::Tensor mean = x_train.mean({0}, true);
  const tf::Tensor stdev = x_train.std({0}, 1, true) + 1e-3;
  x_train = (x_train - mean) / stdev;
  x_test = (x_test - mean) / stdev;

  const std::int64_t n = x_train.size(0), features = x_train.size(1), classes = 10, batch = 128;
  const double lr = 0.05;
  tf::Tensor W = tf::randn({features, classes}) * 0.01;
  tf::Tensor b = tf::zeros({classes});

  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const tf::Tensor perm = tf::randperm(n);
    double loss_sum = 0;
    std::int64_t steps = 0;
    for (std::int64_t i = 0; i + batch <= n; i += batch, ++steps) {
      const tf::Tensor idx = perm.narrow(0, i, batch);
      const tf::Tensor xb = tf::index_select(x_train, 0, idx);
      const tf::Tensor yb = tf::index_select(y_train, 0, idx);
      const tf::Tensor logits = tf::addmm(b, xb, W);
      const tf::Tensor target = tf::one_hot(yb, classes).to(tf::kFloat32);
      // Cross-entropy and its gradient with respect to the logits: softmax - one_hot.
      loss_sum -= (tf::log_softmax(logits, 1) * target).sum().item<double>() / static_cast<double>(batch);
      const tf::Tensor grad_logits = (tf::softmax(logits, 1) - target) / static_cast<double>(batch);
      W.sub_(tf::matmul(xb.t(), grad_logits), lr);  // transposed view: no copy
      b.sub_(grad_logits.sum({0}), lr);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("epoch %d/%d  loss %.4f  train acc %.4f  test acc %.4f  (%.2f s, %.0f images/s)\n", epoch, epochs,
                loss_sum / static_cast<double>(steps), accuracy(tf::addmm(b, x_train, W), y_train),
                accuracy(tf::addmm(b, x_test, W), y_test), secs, static_cast<double>(steps * batch) / secs);
  }

  // Per-class test accuracy, from boolean masks.
  const tf::Tensor pred = tf::addmm(b, x_test, W).argmax(1);
  std::printf("\nper-class test accuracy:\n");
  for (std::int64_t c = 0; c < classes; ++c) {
    const tf::Tensor mask = tf::eq(y_test, tf::scalar_tensor(c, tf::kInt64));
    const double acc = tf::eq(tf::masked_select(pred, mask), tf::scalar_tensor(c, tf::kInt64))
                           .to(tf::kFloat64).mean().item<double>();
    std::printf("  %-12s %.3f\n", kClasses[c], acc);
  }
  tf::save_npy("fashion_mnist_softmax_weights.npy", W);
  std::printf("\nweights saved to fashion_mnist_softmax_weights.npy (numpy.load reads it)\n");
  return 0;
}
