// What a recorded op holds is let go of as soon as none of its outputs is left: results dropped
// without backward() (evaluation with grad mode on, a benchmark loop) do not pile up their
// activations until the tape's next compaction, long chains are let go of without deep recursion,
// and anything a live result still depends on is kept.
#include <catch2/catch.hpp>

#include <memory>
#include <thread>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

std::weak_ptr<Storage> storage_of(const Tensor& t) { return t.impl()->storage; }

}  // namespace

TEST_CASE("a dropped result frees what its op saved, at once") {
  const std::size_t before = autograd::tape_size();
  Tensor x = randn({64, 64}).requires_grad_();
  std::weak_ptr<Storage> saved;
  {
    Tensor y = relu(x * 2);  // relu saves its output (a view of y's storage) for backward
    saved = storage_of(y);
    REQUIRE(autograd::tape_size() == before + 2);
  }
  REQUIRE(saved.expired());
  REQUIRE(autograd::tape_size() == before);
  // The same in a loop: nothing accumulates between compactions.
  for (int i = 0; i < 100; ++i) {
    Tensor y = exp(relu(x * 2).sum());
    saved = storage_of(y);
  }
  REQUIRE(saved.expired());
  REQUIRE(autograd::tape_size() == before);
  // max_pool2d saves its argmax indices, which are not an output of the tape.
  Tensor img = randn({2, 3, 8, 8}).requires_grad_();
  std::weak_ptr<Storage> indices;
  {
    auto [out, idx] = max_pool2d_with_indices(img, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false);
    indices = storage_of(idx);
  }
  REQUIRE(indices.expired());
  REQUIRE(autograd::tape_size() == before);
}

TEST_CASE("a dropped intermediate that a live result depends on is kept") {
  Tensor x = tensor({1.0, -2.0, 3.0}, kFloat64).requires_grad_();
  Tensor z;
  {
    Tensor h = relu(x * 2);  // the handle goes; z's op still holds h as its input
    z = h * 3;
  }
  z.sum().backward();
  const Tensor g = x.grad();
  REQUIRE(g[0].item<double>() == 6.0);  // d(3 relu(2x))/dx
  REQUIRE(g[1].item<double>() == 0.0);
  REQUIRE(g[2].item<double>() == 6.0);
}

TEST_CASE("dropping a long chain releases it without recursing through it") {
  const std::size_t before = autograd::tape_size();
  Tensor x = ones({4}).requires_grad_();
  std::weak_ptr<Storage> first;
  {
    Tensor y = x * 1.0;
    first = storage_of(y);
    for (int i = 0; i < 200000; ++i) y = y + 1.0;  // each step's input is the previous step's output
    REQUIRE(autograd::tape_size() > 0);
  }
  REQUIRE(first.expired());
  // The long chain was compacted on the way (its entries stayed alive); all of it is gone now.
  REQUIRE(autograd::tape_size() == before);
}

TEST_CASE("a persistent GradientTape keeps its entries when results are dropped") {
  Tensor x = tensor({2.0}, kFloat64).requires_grad_();
  GradientTape tape(/*persistent=*/true);
  Tensor loss;
  {
    Tensor h = x * x;  // dropped handle, still reachable from loss
    loss = h * 3;
  }
  const auto g1 = tape.gradient(loss, {x});
  const auto g2 = tape.gradient(loss, {x});
  REQUIRE(g1[0].item<double>() == 12.0);
  REQUIRE(g2[0].item<double>() == 12.0);
}

TEST_CASE("a result recorded on one thread and dropped on another") {
  Tensor x = randn({16}).requires_grad_();
  Tensor y = relu(x * 2);
  std::weak_ptr<Storage> saved = storage_of(y);
  std::thread([moved = std::move(y)]() mutable { moved = Tensor(); }).join();
  // Not this thread's tape to touch from there: the entry waits for this thread's compaction or
  // backward, and nothing crashed.
  const std::size_t size = autograd::tape_size();
  REQUIRE(size >= 1);
  Tensor z = (x * 3).sum();
  z.backward();
  REQUIRE(allclose(x.grad(), full({16}, 3.0)));
}
