// Layer behaviour beyond the PyTorch reference values: Dropout's statistics and modes, BatchNorm's
// mode rules and buffers, Embedding's padding row and from_pretrained, in-place ReLU, options,
// state-dict layouts, and layers composed into a small trainable CNN.
#include <catch2/catch.hpp>

#include <cmath>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

TEST_CASE("Dropout zeroes a fraction p in training, scales survivors, and is the identity in eval",
          "[nn][layers][dropout]") {
  manual_seed(11);
  nn::Dropout drop(0.3);
  Tensor x = ones({200000}, kFloat64);
  x.requires_grad_(true);
  Tensor y = drop(x);
  const double n = 200000.0;
  const double dropped = (y == 0.0).to(kFloat64).sum().item<double>() / n;
  CHECK(std::abs(dropped - 0.3) < 5 * std::sqrt(0.3 * 0.7 / n));
  // Every survivor is exactly 1 / (1 - p).
  CHECK(((y != 0.0) && (y != 1.0 / (1.0 - 0.3))).any().item<bool>() == false);
  // The gradient is the same mask and scale.
  y.sum().backward();
  CHECK(equal(x.grad(), y.detach()));

  drop->eval();
  Tensor z = randn({4, 5});
  CHECK(equal(drop(z), z));
  nn::Dropout all(1.0);
  CHECK(equal(all(z), zeros({4, 5})));

  // A model's eval() reaches its Dropout.
  nn::Sequential net(nn::Linear(5, 5), nn::Dropout(0.9));
  net->eval();
  CHECK(equal(net(z), net(z)));
}

TEST_CASE("BatchNorm updates running statistics only when training with tracking", "[nn][layers][batchnorm]") {
  manual_seed(12);
  nn::BatchNorm1d bn(3);
  Tensor x = randn({16, 3}) * 2.0 + 1.0;
  bn(x);
  CHECK(bn->num_batches_tracked.item<std::int64_t>() == 1);
  // running = 0.9 * initial + 0.1 * batch statistic (unbiased variance).
  CHECK(allclose(bn->running_mean, x.mean({0}) * 0.1, 1e-5, 1e-6));
  CHECK(allclose(bn->running_var, ones({3}) * 0.9 + x.var({0}) * 0.1, 1e-5, 1e-6));
  // Training output: zero mean, unit (biased) variance per channel.
  Tensor y = bn(x);
  CHECK(allclose(y.mean({0}), zeros({3}), 1e-5, 1e-5));
  CHECK(allclose(y.var({0}, 0), ones({3}), 1e-3, 1e-3));

  bn->eval();
  const Tensor mean = bn->running_mean.clone(), var = bn->running_var.clone();
  Tensor e = bn(x);
  CHECK(bn->num_batches_tracked.item<std::int64_t>() == 2);
  CHECK(equal(bn->running_mean, mean));
  CHECK(equal(bn->running_var, var));
  CHECK(allclose(e, (x - mean) / (var + 1e-5).sqrt(), 1e-5, 1e-5));
  CHECK(bn(x.narrow(0, 0, 1)).shape() == Shape{1, 3});  // one sample is fine in eval

  SECTION("without tracking there are no buffers, and eval uses the batch statistics") {
    nn::BatchNorm1d untracked(nn::BatchNorm1dOptions(3).track_running_stats(false).affine(false));
    CHECK(untracked->state_dict().is_empty());
    CHECK(untracked->parameters().empty());
    untracked->eval();
    CHECK(allclose(untracked(x).mean({0}), zeros({3}), 1e-5, 1e-5));
  }
  SECTION("reset_running_stats") {
    bn->reset_running_stats();
    CHECK(equal(bn->running_mean, zeros({3})));
    CHECK(equal(bn->running_var, ones({3})));
    CHECK(bn->num_batches_tracked.item<std::int64_t>() == 0);
  }
}

TEST_CASE("state dict keys are torch.nn's", "[nn][layers][state]") {
  using Keys = std::vector<std::string>;
  CHECK(nn::Linear(2, 3)->state_dict().keys() == Keys{"weight", "bias"});
  CHECK(nn::Linear(nn::LinearOptions(2, 3).bias(false))->state_dict().keys() == Keys{"weight"});
  CHECK(nn::Conv2d(2, 3, 3)->state_dict().keys() == Keys{"weight", "bias"});
  CHECK(nn::BatchNorm2d(4)->state_dict().keys() ==
        Keys{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
  CHECK(nn::BatchNorm2d(4)->parameters().size() == 2);
  CHECK(nn::LayerNorm(nn::LayerNormOptions({4}).elementwise_affine(false))->state_dict().is_empty());
  CHECK(nn::Embedding(5, 2)->state_dict().keys() == Keys{"weight"});
  nn::Sequential net(nn::Conv2d(1, 2, 3), nn::BatchNorm2d(2), nn::ReLU(), nn::Flatten(), nn::Linear(2, 1));
  CHECK(net->state_dict().keys() == Keys{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                         "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias"});
}

TEST_CASE("Embedding: the padding row gets no gradient; from_pretrained", "[nn][layers][embedding]") {
  manual_seed(13);
  nn::Embedding emb(nn::EmbeddingOptions(5, 2).padding_idx(1));
  Tensor idx = tensor({{1, 0, 1}, {3, 3, 3}});
  Tensor out = emb(idx);
  CHECK(out.shape() == Shape{2, 3, 2});
  CHECK(equal(out[0][1], emb->weight[0]));
  out.sum().backward();
  // d sum / d row = occurrences of the row, except the padding row.
  CHECK(equal(emb->weight.grad(), tensor({{1.0f, 1.0f}, {0.0f, 0.0f}, {0.0f, 0.0f}, {3.0f, 3.0f}, {0.0f, 0.0f}})));
  CHECK(emb(idx.to(kInt32)).shape() == Shape{2, 3, 2});

  Tensor vectors = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64);
  auto frozen = nn::Embedding::from_pretrained(vectors);
  CHECK_FALSE(frozen->weight.requires_grad());
  CHECK(frozen->weight.dtype() == kFloat64);
  CHECK(equal(frozen(tensor({2, 0})), tensor({{5.0, 6.0}, {1.0, 2.0}}, kFloat64)));
  CHECK(equal(frozen->weight, vectors));  // used as given (no re-initialisation)
  auto tuned = nn::Embedding::from_pretrained(vectors, /*freeze=*/false);
  CHECK(tuned->weight.requires_grad());
  auto padded = nn::Embedding::from_pretrained(vectors, nn::EmbeddingFromPretrainedOptions().freeze(false).padding_idx(0));
  CHECK(padded->options.padding_idx() == 0);
  padded(tensor({0, 2})).sum().backward();
  CHECK(equal(padded->weight.grad(), tensor({{0.0, 0.0}, {0.0, 0.0}, {1.0, 1.0}}, kFloat64)));
}

TEST_CASE("ReLU(inplace) overwrites its input and keeps gradients right", "[nn][layers][activation]") {
  Tensor a = tensor({-1.0, 2.0, -3.0, 4.0});
  a.requires_grad_(true);
  Tensor h = a * 2.0;
  nn::ReLU relu(true);
  Tensor y = relu(h);
  CHECK(y.is_same(h));
  CHECK(equal(h, tensor({0.0, 4.0, 0.0, 8.0})));
  y.sum().backward();
  CHECK(equal(a.grad(), tensor({0.0, 2.0, 0.0, 2.0})));
}

TEST_CASE("options are readable back from the layers", "[nn][layers][options]") {
  nn::Conv2d conv(nn::Conv2dOptions(4, 8, {3, 5}).stride(2).groups(4));
  CHECK(conv->options.kernel_size()[1] == 5);
  CHECK(conv->options.stride()[0] == 2);
  CHECK(conv->options.padding()[0] == 0);
  CHECK(conv->weight.shape() == Shape{8, 1, 3, 5});
  nn::MaxPool2d pool(nn::MaxPool2dOptions({2, 3}));
  CHECK(pool->options.stride()[1] == 3);  // defaults to kernel_size
  nn::BatchNorm2d bn(nn::BatchNorm2dOptions(3).eps(1e-3));
  CHECK(bn->options.eps() == 1e-3);
  CHECK(bn->options.momentum() == 0.1);
}

TEST_CASE("unbatched inputs and 1-D inputs", "[nn][layers]") {
  manual_seed(14);
  Tensor img = randn({2, 6, 6});
  nn::Conv2d conv(2, 3, 3);
  CHECK(allclose(conv(img), conv(img.unsqueeze(0)).squeeze(0)));
  nn::MaxPool2d pool(2);
  CHECK(equal(pool(img), pool(img.unsqueeze(0)).squeeze(0)));
  auto [values, indices] = pool->forward_with_indices(img.unsqueeze(0));
  CHECK(equal(values.squeeze(0), pool(img)));
  CHECK(indices.dtype() == kInt64);
  nn::Linear fc(6, 2);
  CHECK(fc(randn({6})).shape() == Shape{2});
}

TEST_CASE("a small CNN built from the layers trains in float64", "[nn][layers][integration]") {
  manual_seed(15);
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::BatchNorm2d(4), nn::GELU(),
                       nn::MaxPool2d(2), nn::Flatten(), nn::Dropout(0.1), nn::Linear(4 * 4 * 4, 3),
                       nn::LogSoftmax(1));
  model->to(kFloat64);
  Tensor x = randn({12, 1, 8, 8}, kFloat64);
  Tensor target = one_hot(randint(3, {12}), 3).to(kFloat64);
  auto loss_fn = [&] { return -(model(x) * target).sum() / 12.0; };
  const double first = loss_fn().item<double>();
  for (int step = 0; step < 30; ++step) {
    model->zero_grad();
    Tensor loss = loss_fn();
    loss.backward();
    NoGradGuard no_grad;
    for (Tensor p : model->parameters()) {
      REQUIRE(p.grad().defined());
      p.sub_(p.grad() * 0.1);
    }
  }
  model->eval();
  const double last = loss_fn().item<double>();
  CHECK(last < 0.5 * first);
  CHECK(model(x).shape() == Shape{12, 3});
}
