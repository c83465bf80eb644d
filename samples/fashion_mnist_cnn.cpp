// A small convolutional network on Fashion-MNIST, written as a custom module in PyTorch's
// style: two conv-relu-pool blocks and two linear layers with dropout, trained with Adam.
// Reaches about 0.919 test accuracy in 8 epochs (under 2 minutes on 2 cores).
//
//   build/samples/fashion_mnist_cnn [--epochs 8] [--batch-size 64] [--lr 1e-3] [--seed 0] ...
#include <cstdio>

#include "common/fashion_mnist.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
namespace nn = tapeflow::nn;

// (N, 1, 28, 28) -> conv 3x3 -> (N, 16, 28, 28) -> pool -> (N, 16, 14, 14)
//                -> conv 3x3 -> (N, 32, 14, 14) -> pool -> (N, 32, 7, 7) -> 128 -> 10
struct CnnImpl : nn::Module {
  CnnImpl()
      : conv1(register_module("conv1", nn::Conv2d(nn::Conv2dOptions(1, 16, 3).padding(1)))),
        conv2(register_module("conv2", nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1)))),
        pool(register_module("pool", nn::MaxPool2d(2))),
        fc1(register_module("fc1", nn::Linear(32 * 7 * 7, 128))),
        dropout(register_module("dropout", nn::Dropout(0.25))),
        fc2(register_module("fc2", nn::Linear(128, 10))) {}

  tf::Tensor forward(const tf::Tensor& x) {
    tf::Tensor h = pool(tf::relu(conv1(x)));
    h = pool(tf::relu(conv2(h)));
    h = dropout(tf::relu(fc1(h.flatten(1))));
    return fc2(h);
  }

  nn::Conv2d conv1, conv2;
  nn::MaxPool2d pool;
  nn::Linear fc1;
  nn::Dropout dropout;
  nn::Linear fc2;
};
TAPEFLOW_MODULE(Cnn);

int run(int argc, char** argv) {
  samples::FashionArgs a{.epochs = 8};
  if (!samples::parse_fashion_args(argc, argv, "fashion_mnist_cnn", "A small CNN (2 conv blocks, Adam) on Fashion-MNIST.", a)) return 0;

  const samples::FashionMnist data = samples::load_fashion_mnist(a.data_dir, a.train_limit, a.test_limit);

  Cnn model;

  model->to(tf::Device(a.device));  // parameters move before the optimizer takes them
  tf::optim::Adam optimizer(model->parameters(), {.lr = a.lr});
  // The learning rate follows half a cosine from lr down to 0 over the run.
  tf::optim::CosineAnnealingLR schedule(optimizer, {.T_max = a.epochs});
  samples::train_classifier(model, optimizer, data, samples::train_config(a, &schedule));
  return 0;
}

int main(int argc, char** argv) { return samples::run_main(argc, argv, run); }
