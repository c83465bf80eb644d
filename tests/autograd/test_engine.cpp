// The autograd engine's features, exercised through custom functions (so that these tests do
// not depend on which ops record): backward, accumulation, retain_graph, hooks, GradientTape,
// functional grad, checkpoint, anomaly mode, tape lifetime, version checks and threads.
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

// y = x^2 elementwise (backward 2 x g).
struct SquareFn : Function<SquareFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x) {
    ctx->save_for_backward({x});
    return x * x;
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, const std::vector<Tensor>& g) {
    return {g[0] * ctx->get_saved_variables()[0] * 2.0};
  }
};

// y = a * b elementwise, same shapes.
struct MulFn : Function<MulFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& a, const Tensor& b) {
    ctx->save_for_backward({a, b});
    return a * b;
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, const std::vector<Tensor>& g) {
    const auto& s = ctx->get_saved_variables();
    return {ctx->needs_input_grad(0) ? g[0] * s[1] : Tensor(), ctx->needs_input_grad(1) ? g[0] * s[0] : Tensor()};
  }
};

// Sum of all elements to a 0-d tensor; backward broadcasts the gradient back.
struct SumFn : Function<SumFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x) {
    ctx->saved_data["shape"] = x.shape().vec();
    return x.sum();
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, const std::vector<Tensor>& g) {
    const auto shape = std::any_cast<std::vector<std::int64_t>>(ctx->saved_data["shape"]);
    return {g[0].expand(shape).contiguous()};
  }
};

// log(x) with a backward that divides: produces inf/nan gradients at x = 0.
struct LogFn : Function<LogFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x) {
    ctx->save_for_backward({x});
    return log(x);
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, const std::vector<Tensor>& g) {
    return {g[0] / ctx->get_saved_variables()[0]};
  }
};

double at(const Tensor& t, std::int64_t i) { return t.contiguous().to(kFloat64).data_ptr<double>()[i]; }

}  // namespace

TEST_CASE("backward accumulates d(sum x^2)/dx = 2x into .grad") {
  Tensor x = tensor({1.0, -2.0, 3.0}, kFloat64).requires_grad_();
  REQUIRE(x.is_leaf());
  Tensor y = SumFn::apply(SquareFn::apply(x));
  REQUIRE_FALSE(y.is_leaf());
  REQUIRE(y.requires_grad());
  y.backward();
  REQUIRE(at(x.grad(), 0) == 2.0);
  REQUIRE(at(x.grad(), 1) == -4.0);
  // A second forward/backward accumulates.
  SumFn::apply(SquareFn::apply(x)).backward();
  REQUIRE(at(x.grad(), 2) == 12.0);
  x.set_grad(Tensor());
  REQUIRE_FALSE(x.grad().defined());
}

TEST_CASE("a value used twice receives both contributions") {
  Tensor a = tensor({2.0, 3.0}, kFloat64).requires_grad_();
  Tensor b = tensor({5.0, 7.0}, kFloat64).requires_grad_();
  Tensor p = MulFn::apply(a, b);
  Tensor q = MulFn::apply(p, a);  // a^2 b
  SumFn::apply(q).backward();
  REQUIRE(at(a.grad(), 0) == 2 * 2.0 * 5.0);  // 2ab
  REQUIRE(at(b.grad(), 1) == 9.0);            // a^2
}

TEST_CASE("non-scalar backward needs a gradient; shapes are checked") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = SquareFn::apply(x);
  REQUIRE_THROWS_AS(y.backward(), Error);
  REQUIRE_THROWS_AS(y.backward(ones({3}, kFloat64)), ShapeError);
  y.backward(tensor({1.0, 10.0}, kFloat64));
  REQUIRE(at(x.grad(), 1) == 40.0);
  Tensor c = tensor({1.0});
  REQUIRE_THROWS_AS(c.backward(), Error);  // does not require grad
}

TEST_CASE("retain_graph: a second backward needs it") {
  Tensor x = tensor({3.0}, kFloat64).requires_grad_();
  Tensor y = SumFn::apply(SquareFn::apply(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  REQUIRE(at(x.grad(), 0) == 12.0);
  REQUIRE_THROWS_AS(y.backward(), Error);
}

TEST_CASE("the tape holds nothing after backward, and forgets dropped results") {
  const std::size_t before = autograd::tape_size();
  Tensor x = randn({4}, kFloat64).requires_grad_();
  {
    Tensor y = SumFn::apply(SquareFn::apply(x));
    REQUIRE(autograd::tape_size() == before + 2);
    y.backward();
    REQUIRE(autograd::tape_size() == before);
  }
  for (int i = 0; i < 10000; ++i) {
    Tensor y = SumFn::apply(SquareFn::apply(x));  // dropped without backward
  }
  REQUIRE(autograd::tape_size() < 4096 + 2);  // pruned as it grows: memory stays flat
  {
    Tensor y = SumFn::apply(SquareFn::apply(x));
    y.backward();
  }
  REQUIRE(autograd::tape_size() == before);
}

TEST_CASE("NoGradGuard turns recording off, EnableGradGuard back on") {
  Tensor x = tensor({1.0}, kFloat64).requires_grad_();
  {
    NoGradGuard guard;
    REQUIRE_FALSE(GradMode::is_enabled());
    REQUIRE_FALSE(SquareFn::apply(x).requires_grad());
    {
      EnableGradGuard on;
      REQUIRE(SquareFn::apply(x).requires_grad());
    }
  }
  REQUIRE(GradMode::is_enabled());
}

TEST_CASE("hooks see, replace and stop seeing gradients") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor seen;
  const int h1 = x.register_hook([&](const Tensor& g) { seen = g.clone(); });
  const int h2 = x.register_hook([](const Tensor& g) { return g * 10.0; });
  SumFn::apply(SquareFn::apply(x)).backward();
  REQUIRE(at(seen, 1) == 4.0);       // the first hook saw the original gradient
  REQUIRE(at(x.grad(), 1) == 40.0);  // the second replaced it
  x.remove_hook(h2);
  x.remove_hook(h1);
  x.set_grad(Tensor());
  SumFn::apply(SquareFn::apply(x)).backward();
  REQUIRE(at(x.grad(), 1) == 4.0);
  // A hook on an intermediate tensor.
  Tensor y = SquareFn::apply(x);
  y.register_hook([](const Tensor& g) { return g * 0.5; });
  x.set_grad(Tensor());
  SumFn::apply(y).backward();
  REQUIRE(at(x.grad(), 0) == 1.0);
  REQUIRE_THROWS_AS(tensor({1.0}).register_hook([](const Tensor&) {}), Error);
}

TEST_CASE("retain_grad keeps a non-leaf gradient") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = SquareFn::apply(x);
  y.retain_grad();
  SumFn::apply(y).backward();
  REQUIRE(y.grad().defined());
  REQUIRE(at(y.grad(), 0) == 1.0);
}

TEST_CASE("functional grad leaves .grad alone; allow_unused") {
  Tensor x = tensor({2.0}, kFloat64).requires_grad_();
  Tensor z = tensor({5.0}, kFloat64).requires_grad_();
  Tensor y = SumFn::apply(SquareFn::apply(x));
  auto g = grad({y}, {x}, {}, /*retain_graph=*/true);
  REQUIRE(at(g[0], 0) == 4.0);
  REQUIRE_FALSE(x.grad().defined());
  REQUIRE_THROWS_AS(grad({y}, {x, z}, {}, true), Error);
  auto g2 = grad({y}, {x, z}, {}, false, false, /*allow_unused=*/true);
  REQUIRE_FALSE(g2[1].defined());
  REQUIRE_THROWS_AS(grad({y}, {tensor({1.0})}), Error);
}

TEST_CASE("GradientTape: watch, persistent, single use") {
  Tensor x = tensor({3.0}, kFloat64);  // does not require grad
  {
    GradientTape tape;
    tape.watch(x);
    Tensor y = SquareFn::apply(x);
    auto g = tape.gradient(y, {x});
    REQUIRE(at(g[0], 0) == 6.0);
    REQUIRE_THROWS_AS(tape.gradient(y, {x}), Error);
    REQUIRE_FALSE(x.grad().defined());
  }
  {
    GradientTape tape(/*persistent=*/true);
    tape.watch(x);
    Tensor y = SquareFn::apply(x);
    Tensor z = SquareFn::apply(y);  // x^4
    REQUIRE(at(tape.gradient(y, {x})[0], 0) == 6.0);
    REQUIRE(at(tape.gradient(z, {x})[0], 0) == 4 * 27.0);
    Tensor unrelated = tensor({1.0}, kFloat64);
    REQUIRE_FALSE(tape.gradient(z, {unrelated})[0].defined());
  }
  // After the tape is gone, x is no longer tracked.
  REQUIRE_FALSE(SquareFn::apply(x).requires_grad());
  GradientTape t2;
  REQUIRE_THROWS_AS(t2.watch(tensor({1, 2})), DTypeError);
}

TEST_CASE("checkpoint recomputes instead of saving and gives the same gradient") {
  Tensor x = tensor({1.5, -0.5}, kFloat64).requires_grad_();
  auto segment = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{SquareFn::apply(SquareFn::apply(in[0]))}; };
  const std::size_t before = autograd::tape_size();
  Tensor y = checkpoint(segment, {x})[0];
  REQUIRE(autograd::tape_size() == before + 1);  // one entry for the whole segment
  SumFn::apply(y).backward();
  REQUIRE(at(x.grad(), 0) == Approx(4 * 1.5 * 1.5 * 1.5));
  REQUIRE(at(x.grad(), 1) == Approx(4 * -0.125));
}

TEST_CASE("anomaly mode names the op that produced a NaN/Inf gradient") {
  Tensor x = tensor({0.0, 1.0}, kFloat64).requires_grad_();
  set_detect_anomaly(true);
  Tensor y = SumFn::apply(LogFn::apply(x));
  try {
    y.backward();
    FAIL("expected an anomaly error");
  } catch (const Error& e) {
    REQUIRE(std::string(e.what()).find("LogFn") != std::string::npos);
  }
  set_detect_anomaly(false);
  Tensor x2 = tensor({0.0, 1.0}, kFloat64).requires_grad_();
  SumFn::apply(LogFn::apply(x2)).backward();  // no check: inf lands in .grad
  REQUIRE(std::isinf(at(x2.grad(), 0)));
}

TEST_CASE("modifying a saved tensor in place makes backward throw") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor h = x.detach().clone().requires_grad_();
  Tensor y = SumFn::apply(MulFn::apply(x, h));
  {
    NoGradGuard g;
    h.add_(1.0);
  }
  REQUIRE_THROWS_AS(y.backward(), Error);
}

TEST_CASE("two threads training separately get the same results as each alone") {
  auto train = [](double start) {
    Tensor w = tensor({start}, kFloat64).requires_grad_();
    for (int step = 0; step < 200; ++step) {
      Tensor loss = SumFn::apply(SquareFn::apply(w));  // minimise w^2
      loss.backward();
      NoGradGuard g;
      w.sub_(w.grad(), 0.01);
      w.set_grad(Tensor());
    }
    return w.item<double>();
  };
  const double alone1 = train(1.0), alone2 = train(-3.0);
  double t1 = 0, t2 = 0;
  std::thread a([&] { t1 = train(1.0); });
  std::thread b([&] { t2 = train(-3.0); });
  a.join();
  b.join();
  REQUIRE(t1 == alone1);
  REQUIRE(t2 == alone2);
  REQUIRE(alone1 == Approx(std::pow(0.98, 200)));
}

TEST_CASE("in-place ops on views while recording throw instead of giving wrong gradients") {
  Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64).requires_grad_();
  Tensor z = x.clone();
  REQUIRE_THROWS_AS(z[0].mul_(tensor({5.0}, kFloat64)), Error);
  Tensor a = tensor({1.0, 2.0, 3.0}, kFloat64).requires_grad_();
  Tensor y = zeros({2, 3}, kFloat64);
  REQUIRE_THROWS_AS(y[0].copy_(a * 2.0), Error);
  // Without recording, views are modified in place as usual.
  {
    NoGradGuard no_grad;
    y[1].copy_(a * 2.0);
  }
  REQUIRE(y.data_ptr<double>()[5] == 6.0);
  // Modifying a clone of the view is fine.
  Tensor row = z[0].clone();
  row.mul_(tensor({5.0}, kFloat64));
  row.sum().backward();
  REQUIRE(x.grad().data_ptr<double>()[0] == 5.0);
  REQUIRE(x.grad().data_ptr<double>()[3] == 0.0);
}

TEST_CASE("nested GradientTapes and create_graph give second derivatives of real ops") {
  Tensor x = tensor({0.5, -1.5, 2.0}, kFloat64);
  GradientTape outer;
  outer.watch(x);
  std::vector<Tensor> g1;
  {
    GradientTape inner;
    inner.watch(x);
    Tensor y = (x * x * x + sin(x)).sum();
    g1 = inner.gradient(y, {x});  // 3x^2 + cos x, recorded by the outer tape
  }
  auto g2 = outer.gradient(g1[0].sum(), {x});  // 6x - sin x
  for (std::int64_t i = 0; i < 3; ++i) {
    const double xi = x.data_ptr<double>()[i];
    REQUIRE(g1[0].data_ptr<double>()[i] == Approx(3 * xi * xi + std::cos(xi)));
    REQUIRE(g2[0].data_ptr<double>()[i] == Approx(6 * xi - std::sin(xi)));
  }
  // The PyTorch form: backward(create_graph) then differentiate the gradient again.
  Tensor w = tensor({1.5}, kFloat64).requires_grad_();
  Tensor loss = exp(w * 2.0).sum();
  auto dw = grad({loss}, {w}, {}, std::nullopt, /*create_graph=*/true);
  REQUIRE(dw[0].requires_grad());
  dw[0].sum().backward();
  REQUIRE(w.grad().item<double>() == Approx(4 * std::exp(3.0)));
}
