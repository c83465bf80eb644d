#pragma once
// The training-step workloads shared by bench_training (CPU) and bench_cuda (GPU), defined once
// so both measure the same models as the peers (benchmarks/peers/cases.md, suite `training`):
//   MLP 784-256-10 (ReLU), Adam lr 1e-3;
//   CNN conv 1->8 3x3, relu, maxpool 2, conv 8->16 3x3, relu, maxpool 2, linear 400->10,
//   SGD lr 0.01 momentum 0.9.
#include "tapeflow/tapeflow.hpp"

namespace benchmarks {

inline tapeflow::nn::Sequential mlp_model() {
  namespace nn = tapeflow::nn;
  return nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
}

inline tapeflow::nn::Sequential cnn_model() {
  namespace nn = tapeflow::nn;
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 8, 3)), nn::ReLU(), nn::MaxPool2d(2),
                        nn::Conv2d(nn::Conv2dOptions(8, 16, 3)), nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(),
                        nn::Linear(400, 10));
}

inline tapeflow::optim::Adam mlp_optimizer(tapeflow::nn::Sequential& model) {
  return tapeflow::optim::Adam(model->parameters(), {.lr = 1e-3});
}

inline tapeflow::optim::SGD cnn_optimizer(tapeflow::nn::Sequential& model) {
  return tapeflow::optim::SGD(model->parameters(), {.lr = 0.01, .momentum = 0.9});
}

// One whole step, as every peer times it: zero_grad, forward, cross-entropy, backward, step.
template <class Optimizer>
void train_step(tapeflow::nn::Sequential& model, Optimizer& optimizer, const tapeflow::Tensor& x,
                const tapeflow::Tensor& y) {
  optimizer.zero_grad();
  tapeflow::nn::functional::cross_entropy(model->forward(x), y).backward();
  optimizer.step();
}

}  // namespace benchmarks
