// Gradients agree with PyTorch: inputs and gradients produced by make_torch_reference.py
// (PyTorch 1.13, float64) are loaded, the same loss is computed here, and the gradients compared.
#include <catch2/catch.hpp>
#include <string>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

const std::string kDir = TAPEFLOW_AUTOGRAD_DATA;

using LossFn = std::function<Tensor(const std::vector<Tensor>&)>;

void check_case(const std::string& name, std::size_t n_inputs, const LossFn& loss_fn) {
  std::vector<Tensor> inputs;
  for (std::size_t i = 0; i < n_inputs; ++i)
    inputs.push_back(load_npy(kDir + name + "_in" + std::to_string(i) + ".npy").requires_grad_());
  Tensor loss = loss_fn(inputs);
  REQUIRE(loss.item<double>() == Approx(load_npy(kDir + name + "_loss.npy").item<double>()).epsilon(1e-10));
  loss.backward();
  for (std::size_t i = 0; i < n_inputs; ++i) {
    INFO(name << ": gradient of input " << i);
    const Tensor expected = load_npy(kDir + name + "_grad" + std::to_string(i) + ".npy");
    REQUIRE(inputs[i].grad().defined());
    REQUIRE(inputs[i].grad().shape() == expected.shape());
    REQUIRE(allclose(inputs[i].grad(), expected, 1e-9, 1e-10));
  }
}

Tensor arange64(std::int64_t n) { return arange(n, TensorOptions(kFloat64)); }

}  // namespace

TEST_CASE("MLP with a softmax cross-entropy matches PyTorch") {
  check_case("mlp", 5, [](const std::vector<Tensor>& p) {
    Tensor h = relu(matmul(p[0], p[1]) + p[2]);
    Tensor logits = matmul(h, p[3]) + p[4];
    Tensor target = one_hot(tensor({0, 2, 1, 2, 0, 1}), 3).to(kFloat64);
    return -(log_softmax(logits, 1) * target).sum() / 6.0;
  });
}

TEST_CASE("elementwise functions with broadcasting match PyTorch") {
  check_case("elementwise", 2, [](const std::vector<Tensor>& p) {
    const Tensor& a = p[0];
    const Tensor& b = p[1];
    Tensor pos = abs(b) + 0.5;
    Tensor y = sigmoid(a) * tanh(b) + exp(-square(a)) / pos;
    y = y + log(pos) * sqrt(pos) - pow(pos, 1.5) + softplus(a) - silu(b) + gelu(a);
    y = where(a > 0, y, y * 0.5) + clamp(a, -0.5, 0.5) + maximum(a, b) + elu(b);
    return y.sum();
  });
}

TEST_CASE("reductions match PyTorch") {
  check_case("reductions", 1, [](const std::vector<Tensor>& p) {
    const Tensor& x = p[0];
    return x.var({1}).sum() + x.std({0}, 0).sum() + logsumexp(x, {1}).sum() + x.norm() + amax(x, {1}).sum() +
           x.mean() + cumsum(x, 1).sum() * 0.1 + (x.prod(1) * 0.01).sum();
  });
}

TEST_CASE("views, cat/stack and index ops match PyTorch") {
  check_case("shapes", 2, [](const std::vector<Tensor>& p) {
    const Tensor& x = p[0];
    const Tensor& y = p[1];
    Tensor t = x.t().reshape({2, 10}).index({Slice(), Slice(1, 9, 2)});
    Tensor g = gather(y, 1, tensor({{0, 2}, {1, 1}, {3, 0}}));
    Tensor s = index_select(x, 0, tensor({2, 0, 2}));
    Tensor c = cat({t.flatten(), g.flatten(), s.flatten()});
    Tensor m = masked_select(y, y > 0);
    return (c * arange64(c.numel())).sum() + m.square().sum() + stack({x[0], x[1]}).sum();
  });
}

TEST_CASE("a convolutional block matches PyTorch") {
  check_case("conv_block", 5, [](const std::vector<Tensor>& p) {
    Tensor y = conv2d(p[0], p[1], p[2], {1, 1}, {1, 1}, {1, 1}, 2);
    y = batch_norm(y, Tensor(), Tensor(), p[3], p[4], /*training=*/true);
    y = max_pool2d(relu(y), {2}) + avg_pool2d(y, {2});
    y = layer_norm(y, {y.size(1), y.size(2), y.size(3)});
    y = adaptive_avg_pool2d(y, {1, 1}).flatten(1);
    return (y * arange64(y.numel()).reshape(y.shape())).sum();
  });
}

TEST_CASE("embedding and softmax match PyTorch") {
  check_case("embedding", 1, [](const std::vector<Tensor>& p) {
    Tensor e = embedding(p[0], tensor({{1, 3, 3}, {0, 2, 4}}));
    return (softmax(e, -1) * arange64(e.size(-1))).sum();
  });
}
