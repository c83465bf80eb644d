// Losses beyond the PyTorch reference data (test_loss_reference.cpp): cross_entropy against its
// log_softmax + nll_loss composition and a float64 loop, the MLP shapes in float32, int32
// targets, edge values, modules (buffers, printing, option checks), and the errors users get.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <vector>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
namespace F = tapeflow::nn::functional;
using nn::Reduction;

namespace {

// Mean (or sum) cross entropy of float64 rows, written out: the independent reference.
double cross_entropy_loop(const Tensor& logits, const std::vector<std::int64_t>& target, const std::vector<double>& w,
                          std::int64_t ignore_index, double smoothing, bool mean) {
  const Tensor x = logits.to(kFloat64).contiguous();
  const std::int64_t N = x.size(0), C = x.size(1);
  double total = 0, weight_sum = 0;
  for (std::int64_t i = 0; i < N; ++i) {
    const std::int64_t t = target[static_cast<std::size_t>(i)];
    if (t == ignore_index) continue;
    const double* row = x.data_ptr<double>() + i * C;
    double mx = row[0], s = 0;
    for (std::int64_t c = 1; c < C; ++c) mx = std::max(mx, row[c]);
    for (std::int64_t c = 0; c < C; ++c) s += std::exp(row[c] - mx);
    auto nlp = [&](std::int64_t c) { return mx + std::log(s) - row[c]; };
    auto wc = [&](std::int64_t c) { return w.empty() ? 1.0 : w[static_cast<std::size_t>(c)]; };
    double loss = (1 - smoothing) * wc(t) * nlp(t);
    for (std::int64_t c = 0; c < C; ++c) loss += smoothing / static_cast<double>(C) * wc(c) * nlp(c);
    total += loss;
    weight_sum += wc(t);
  }
  return mean ? total / weight_sum : total;
}

std::vector<std::int64_t> random_labels(std::int64_t n, std::int64_t classes, std::uint64_t seed) {
  Generator g(seed);
  const Tensor t = (rand({n}, kFloat64, &g) * static_cast<double>(classes)).floor().to(kInt64);
  return {t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + n};
}

// The message of the error fn throws as E (fails the test when it throws nothing or another type).
template <typename E, typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("no error of the expected type was thrown");
  return "";
}

Tensor grad_of(const Tensor& x, const std::function<Tensor(const Tensor&)>& loss) {
  Tensor leaf = x.detach().clone().requires_grad_(true);
  loss(leaf).backward();
  return leaf.grad();
}

}  // namespace

TEST_CASE("cross_entropy equals log_softmax followed by nll_loss") {
  manual_seed(3);
  struct Setup {
    const char* name;
    Tensor x, target;
    nn::CrossEntropyLossOptions ce;
  };
  Tensor w = tensor({0.5, 2.0, 1.0, 1.5, 0.25}, TensorOptions(kFloat64));
  Tensor kdim_target = tensor(std::vector<std::int64_t>{0, 4, 2, -100, 1, 3, 3, 0, 2, 1, 4, -100}, {2, 3, 2});
  const std::vector<Setup> setups = {
      {"mean", randn({7, 5}, kFloat64), tensor(std::vector<std::int64_t>{0, 1, 4, 4, 2, 3, 0}), {}},
      {"weighted sum with ignore_index", randn({7, 5}, kFloat64),
       tensor(std::vector<std::int64_t>{0, -100, 4, 4, 2, -100, 0}), {.weight = w, .reduction = Reduction::Sum}},
      {"weighted mean, ignore_index 3", randn({6, 5}, kFloat64), tensor(std::vector<std::int64_t>{3, 1, 3, 4, 2, 0}),
       {.weight = w, .ignore_index = 3}},
      {"K-dim none", randn({2, 5, 3, 2}, kFloat64), kdim_target, {.reduction = Reduction::None}},
      {"K-dim weighted mean", randn({2, 5, 3, 2}, kFloat64), kdim_target, {.weight = w}},
      // large enough for several blocks of rows and for the thread pool
      {"large batch, weighted sum", randn({9000, 5}, kFloat64), tensor(random_labels(9000, 5, 21)),
       {.weight = w, .reduction = Reduction::Sum}},
      {"large K-dim, none", randn({3, 5, 40, 50}, kFloat64), tensor(random_labels(6000, 5, 22), {3, 40, 50}),
       {.reduction = Reduction::None}},
  };
  for (const Setup& s : setups) {
    INFO(s.name);
    const nn::NLLLossOptions nll{.weight = s.ce.weight, .ignore_index = s.ce.ignore_index, .reduction = s.ce.reduction};
    auto fused = [&](const Tensor& x) { return F::cross_entropy(x, s.target, s.ce); };
    auto composed = [&](const Tensor& x) { return F::nll_loss(log_softmax(x, 1), s.target, nll); };
    CHECK(allclose(fused(s.x), composed(s.x), 1e-12, 1e-14));
    auto scalar = [&](auto f) {
      return [f](const Tensor& x) {
        const Tensor l = f(x);
        return l.dim() == 0 ? l : (l * arange(l.numel(), TensorOptions(kFloat64)).reshape(l.shape())).sum();
      };
    };
    CHECK(allclose(grad_of(s.x, scalar(fused)), grad_of(s.x, scalar(composed)), 1e-12, 1e-14));
  }
}

TEST_CASE("class-index gradients with create_graph (public ops) equal the fused kernel's") {
  manual_seed(4);
  const Tensor w = tensor({0.5, 2.0, 1.0, 1.5}, TensorOptions(kFloat64));
  const Tensor t2 = tensor(std::vector<std::int64_t>{0, -100, 3, 1, 3});
  const Tensor tk = tensor(std::vector<std::int64_t>{0, 3, 2, -100, 1, 1}, {2, 3});
  struct Setup {
    const char* name;
    Tensor x;
    std::function<Tensor(const Tensor&)> loss;
  };
  const std::vector<Setup> setups = {
      {"mean, weight, smoothing", randn({5, 4}, kFloat64),
       [&](const Tensor& x) { return F::cross_entropy(x, t2, {.weight = w, .label_smoothing = 0.2}); }},
      {"none, K-dim, weighted sum of the samples", randn({2, 4, 3}, kFloat64),
       [&](const Tensor& x) {
         return (F::cross_entropy(x, tk, {.weight = w, .reduction = Reduction::None, .label_smoothing = 0.1}) *
                 tensor({1.0, -2.0, 0.5, 3.0, 1.5, -1.0}, TensorOptions(kFloat64)).reshape({2, 3}))
             .sum();
       }},
      {"none summed (an expanded gradient)", randn({5, 4}, kFloat64).t().contiguous().t(),
       [&](const Tensor& x) { return F::cross_entropy(x, t2, {.reduction = Reduction::None}).sum(); }},
      {"nll_loss, weighted mean", randn({5, 4}, kFloat64),
       [&](const Tensor& x) { return F::nll_loss(x, t2, {.weight = w}); }},
      {"nll_loss, K-dim none", randn({2, 4, 3}, kFloat64),
       [&](const Tensor& x) { return (F::nll_loss(x, tk, {.reduction = Reduction::None}) * 2.0).sum(); }},
  };
  for (const Setup& s : setups) {
    INFO(s.name);
    Tensor x = s.x.detach().requires_grad_(true);
    const Tensor fast = grad({s.loss(x)}, {x})[0];
    const Tensor graph = grad({s.loss(x)}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
    CHECK(allclose(fast, graph.detach(), 1e-12, 1e-14));
  }
}

TEST_CASE("cross_entropy on MLP shapes in float32 matches a float64 loop") {
  for (std::int64_t N : {32, 256}) {
    INFO("batch " << N);
    manual_seed(static_cast<std::uint64_t>(N));
    const Tensor logits = randn({N, 10}) * 4.0;
    const std::vector<std::int64_t> labels = random_labels(N, 10, 11);
    const Tensor target = tensor(labels);
    const Tensor x = logits.clone().requires_grad_(true);
    const Tensor loss = F::cross_entropy(x, target);
    CHECK(loss.dtype() == kFloat32);
    CHECK(loss.item<double>() == Approx(cross_entropy_loop(logits, labels, {}, -100, 0.0, true)).epsilon(1e-6));
    loss.backward();
    // d/dx = (softmax(x) - one_hot) / N, from float64 softmax
    const Tensor expected = (softmax(logits.to(kFloat64), 1) - one_hot(target, 10).to(kFloat64)) / static_cast<double>(N);
    CHECK(allclose(x.grad().to(kFloat64), expected, 1e-5, 1e-7));
    // label smoothing and weights on the same shapes
    const std::vector<double> wv = {1, 2, 3, 1, 0.5, 1, 1, 2, 0.25, 1};
    const Tensor w = tensor(wv, TensorOptions(kFloat32));
    const double smooth = F::cross_entropy(logits, target, {.weight = w, .label_smoothing = 0.1}).item<double>();
    CHECK(smooth == Approx(cross_entropy_loop(logits, labels, wv, -100, 0.1, true)).epsilon(1e-6));
  }
}

TEST_CASE("cross_entropy with label smoothing equals the smoothed probabilities target") {
  manual_seed(5);
  const Tensor x = randn({6, 4}, kFloat64);
  const Tensor target = tensor(std::vector<std::int64_t>{0, 3, 3, 1, 2, 0});
  const double ls = 0.3;
  const Tensor probs = one_hot(target, 4).to(kFloat64) * (1 - ls) + ls / 4;
  for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
    INFO("reduction " << r);
    CHECK(allclose(F::cross_entropy(x, target, {.reduction = r, .label_smoothing = ls}),
                   F::cross_entropy(x, probs, {.reduction = r}), 1e-12, 1e-14));
  }
}

TEST_CASE("class-index losses take int32 targets like int64 ones") {
  manual_seed(6);
  const Tensor x = randn({5, 4}, kFloat64);
  const Tensor t64 = tensor(std::vector<std::int64_t>{3, -100, 0, 1, 3});
  const Tensor t32 = t64.to(kInt32);
  CHECK(F::cross_entropy(x, t32).item<double>() == F::cross_entropy(x, t64).item<double>());
  CHECK(F::nll_loss(x, t32).item<double>() == F::nll_loss(x, t64).item<double>());
  CHECK(equal(grad_of(x, [&](const Tensor& v) { return F::cross_entropy(v, t32, {.label_smoothing = 0.2}); }),
              grad_of(x, [&](const Tensor& v) { return F::cross_entropy(v, t64, {.label_smoothing = 0.2}); })));
}

TEST_CASE("cross_entropy edge values") {
  SECTION("an empty batch: mean is NaN, sum is 0 (as PyTorch)") {
    const Tensor x = zeros({0, 3});
    const Tensor t = zeros({0}, kInt64);
    CHECK(std::isnan(F::cross_entropy(x, t).item<double>()));
    CHECK(F::cross_entropy(x, t, {.reduction = Reduction::Sum}).item<double>() == 0.0);
    CHECK(F::cross_entropy(x, t, {.reduction = Reduction::None}).shape() == Shape{0});
  }
  SECTION("every target ignored: mean is NaN, the gradient is zero") {
    const Tensor x = randn({3, 4}).requires_grad_(true);
    const Tensor loss = F::cross_entropy(x, full({3}, -100, kInt64));
    CHECK(std::isnan(loss.item<double>()));
    loss.backward();
    CHECK(equal(x.grad(), zeros({3, 4})));
  }
  SECTION("huge logits in float32 stay finite") {
    const Tensor x = tensor({{1e30f, -1e30f, 0.0f}, {-3e38f, 3e38f, 3e38f}}).requires_grad_(true);
    const Tensor loss = F::cross_entropy(x, tensor(std::vector<std::int64_t>{1, 2}), {.reduction = Reduction::None});
    CHECK(loss[0].item<double>() == Approx(2e30));
    CHECK(loss[1].item<double>() == Approx(std::log(2.0)));
    loss.sum().backward();
    CHECK(isfinite(x.grad()).all().item<bool>());
  }
  SECTION("recording only when the input requires grad") {
    const std::size_t before = autograd::tape_size();
    const Tensor loss = F::cross_entropy(randn({4, 3}), tensor(std::vector<std::int64_t>{0, 1, 2, 0}));
    CHECK(!loss.requires_grad());
    CHECK(autograd::tape_size() == before);
  }
}

TEST_CASE("binary cross entropies at the edges") {
  SECTION("a saturated float32 sigmoid (exactly 1 or 0) gives finite gradients") {
    const Tensor logits = tensor({40.0f, -120.0f, 0.5f}).requires_grad_(true);
    const Tensor p = sigmoid(logits);
    REQUIRE(p[0].item<float>() == 1.0f);
    REQUIRE(p[1].item<float>() == 0.0f);
    const Tensor loss = F::binary_cross_entropy(p, tensor({0.0f, 1.0f, 1.0f}));
    CHECK(loss.item<double>() == Approx((100.0 + 100.0 + std::log1p(std::exp(-0.5))) / 3).epsilon(1e-6));
    loss.backward();
    CHECK(isfinite(logits.grad()).all().item<bool>());
  }
  SECTION("with logits: the sigmoid form for moderate values, no overflow for large ones") {
    const Tensor x = tensor({-3.0, -0.5, 0.0, 2.0, 4.0}, TensorOptions(kFloat64));
    const Tensor t = tensor({0.0, 1.0, 0.3, 0.9, 1.0}, TensorOptions(kFloat64));
    CHECK(allclose(F::binary_cross_entropy_with_logits(x, t, {.reduction = Reduction::None}),
                   F::binary_cross_entropy(sigmoid(x), t, {.reduction = Reduction::None}), 1e-12, 1e-14));
    const Tensor big = tensor({1e4f, -1e4f}).requires_grad_(true);
    const Tensor loss = F::binary_cross_entropy_with_logits(big, tensor({0.0f, 0.0f}), {.reduction = Reduction::Sum});
    CHECK(loss.item<double>() == Approx(1e4));
    loss.backward();
    CHECK(equal(big.grad(), tensor({1.0f, 0.0f})));
  }
}

TEST_CASE("loss modules") {
  SECTION("printing as PyTorch") {
    std::ostringstream os;
    os << nn::CrossEntropyLoss() << " " << nn::MSELoss() << " " << nn::BCEWithLogitsLoss() << " " << nn::KLDivLoss();
    CHECK(os.str() == "CrossEntropyLoss() MSELoss() BCEWithLogitsLoss() KLDivLoss()");
  }
  SECTION("weights are buffers: in state_dict, converted by to(dtype)") {
    nn::CrossEntropyLoss ce(nn::CrossEntropyLossOptions{.weight = tensor({1.0f, 2.0f, 0.5f}), .label_smoothing = 0.1});
    CHECK(ce->named_buffers().keys() == std::vector<std::string>{"weight"});
    CHECK(ce->parameters().empty());
    CHECK(ce->state_dict().contains("weight"));
    ce->to(kFloat64);
    CHECK(ce->options.weight.dtype() == kFloat64);
    const Tensor x = randn({4, 3}, kFloat64);
    const Tensor t = tensor(std::vector<std::int64_t>{0, 2, 1, 1});
    CHECK(ce(x, t).item<double>() ==
          F::cross_entropy(x, t, {.weight = tensor({1.0, 2.0, 0.5}, TensorOptions(kFloat64)), .label_smoothing = 0.1}).item<double>());
    nn::BCEWithLogitsLoss bce(nn::BCEWithLogitsLossOptions{.pos_weight = tensor({3.0f})});
    CHECK(bce->named_buffers().keys() == std::vector<std::string>{"pos_weight"});
    CHECK(nn::CrossEntropyLoss()->named_buffers().is_empty());
  }
  SECTION("forward uses the options") {
    const Tensor a = randn({3, 2}), b = randn({3, 2});
    CHECK(nn::HuberLoss(nn::HuberLossOptions{.reduction = Reduction::Sum, .delta = 0.5})(a, b).item<double>() ==
          F::huber_loss(a, b, Reduction::Sum, 0.5).item<double>());
    CHECK(nn::L1Loss(nn::L1LossOptions{Reduction::None})(a, b).shape() == Shape{3, 2});
  }
  SECTION("bad options are rejected at construction") {
    CHECK_THROWS_AS(nn::SmoothL1Loss(nn::SmoothL1LossOptions{.beta = -1.0}), ValueError);
    CHECK_THROWS_AS(nn::HuberLoss(nn::HuberLossOptions{.delta = 0.0}), ValueError);
    CHECK_THROWS_AS(nn::CrossEntropyLoss(nn::CrossEntropyLossOptions{.label_smoothing = 1.5}), ValueError);
    CHECK_THROWS_AS(nn::NLLLoss(nn::NLLLossOptions{.weight = ones({2, 2})}), ShapeError);
    CHECK_THROWS_AS(nn::BCELoss(nn::BCELossOptions{.weight = ones({2}, kInt64)}), DTypeError);
  }
}

TEST_CASE("class-target loss errors say what was expected and what came") {
  const Tensor x = randn({5, 10});
  SECTION("a class index out of range names it, the class count and its position") {
    const Tensor t = tensor(std::vector<std::int64_t>{1, 2, 3, 12, 0});
    CHECK(error_of<IndexError>([&] { F::cross_entropy(x, t); }) ==
          "[cross_entropy] target 12 is out of range for 10 classes (at index 3)");
    CHECK(error_of<IndexError>([&] { F::nll_loss(x, tensor(std::vector<std::int64_t>{1, -1, 3, 4, 0})); }) ==
          "[nll_loss] target -1 is out of range for 10 classes (at index 1)");
    const Tensor k = tensor(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 0, 0}, {2, 3, 2});
    CHECK(error_of<IndexError>([&] { F::cross_entropy(randn({2, 10, 3, 2}), k); }) ==
          "[cross_entropy] target 10 is out of range for 10 classes (at index (1, 1, 1))");
    // ignore_index is exempt, also when it lies outside the classes
    CHECK_NOTHROW(F::cross_entropy(x, tensor(std::vector<std::int64_t>{1, 2, 3, 12, 0}), {.ignore_index = 12}));
  }
  SECTION("mis-shaped class indices") {
    const std::string msg = error_of<ShapeError>([&] { F::cross_entropy(x, zeros({4}, kInt64)); });
    CHECK_THAT(msg, Catch::Contains("(5, 10)") && Catch::Contains("(5)") && Catch::Contains("(4)"));
    CHECK_THROWS_AS(F::nll_loss(randn({2, 3, 4}), zeros({2, 3}, kInt64)), ShapeError);
  }
  SECTION("class indices must be integers; probabilities floating and of the input's shape") {
    CHECK_THAT(error_of<DTypeError>([&] { F::cross_entropy(x, zeros({5})); }),
               Catch::Contains("int64 or int32") && Catch::Contains("float32"));
    CHECK_THROWS_AS(F::nll_loss(x, zeros({5})), DTypeError);
    CHECK_THROWS_AS(F::cross_entropy(x, zeros({5}, kBool)), DTypeError);
    CHECK_THAT(error_of<DTypeError>([&] { F::cross_entropy(x, zeros({5, 10}, kInt64)); }),
               Catch::Contains("floating-point"));
    CHECK_THAT(error_of<ShapeError>([&] { F::cross_entropy(x, zeros({5, 9})); }),
               Catch::Contains("(5, 10)") && Catch::Contains("(5, 9)"));
    CHECK_THROWS_AS(F::cross_entropy(x, zeros({5, 10}, kFloat64)), DTypeError);
    CHECK_THROWS_AS(F::cross_entropy(x, zeros({5, 10}), {.ignore_index = 0}), ValueError);
  }
  SECTION("weights, inputs and options") {
    const Tensor t = zeros({5}, kInt64);
    CHECK_THAT(error_of<ShapeError>([&] { F::cross_entropy(x, t, {.weight = ones({9})}); }),
               Catch::Contains("10 classes") && Catch::Contains("(9)"));
    CHECK_THROWS_AS(F::cross_entropy(x, t, {.weight = ones({10}, kFloat64)}), DTypeError);
    CHECK_THROWS_AS(F::cross_entropy(x, zeros({5, 10}), {.weight = ones({3})}), ShapeError);
    CHECK_THROWS_AS(F::cross_entropy(zeros({5, 10}, kInt64), t), DTypeError);
    CHECK_THROWS_AS(F::cross_entropy(randn({}), zeros({}, kInt64)), ShapeError);
    CHECK_THROWS_AS(F::cross_entropy(x, t, {.label_smoothing = -0.1}), ValueError);
  }
}

TEST_CASE("elementwise loss errors") {
  const Tensor a = randn({5, 4});
  CHECK_THAT(error_of<ShapeError>([&] { F::mse_loss(a, randn({5, 1})); }),
             Catch::Contains("[mse_loss]") && Catch::Contains("(5, 4)") && Catch::Contains("(5, 1)"));
  CHECK_THROWS_AS(F::l1_loss(a, randn({4})), ShapeError);
  CHECK_THROWS_AS(F::kl_div(a, randn({4, 5})), ShapeError);
  CHECK_THROWS_AS(F::binary_cross_entropy_with_logits(a, randn({5})), ShapeError);
  CHECK_THROWS_AS(F::mse_loss(a, zeros({5, 4}, kInt64)), DTypeError);
  CHECK_THROWS_AS(F::mse_loss(zeros({5, 4}, kInt64), zeros({5, 4}, kInt64)), DTypeError);
  CHECK_THROWS_AS(F::mse_loss(a, randn({5, 4}, kFloat64)), DTypeError);
  CHECK_THROWS_AS(F::smooth_l1_loss(a, a, Reduction::Mean, -0.5), ValueError);
  CHECK_THROWS_AS(F::huber_loss(a, a, Reduction::Mean, 0.0), ValueError);
  const Tensor p = rand({5, 4});
  CHECK_THAT(error_of<ValueError>([&] { F::binary_cross_entropy(p * 2.0 + 0.5, p); }), Catch::Contains("[0, 1]"));
  CHECK_THROWS_AS(F::binary_cross_entropy(full({2}, NAN), zeros({2})), ValueError);
  CHECK_THAT(error_of<ShapeError>([&] { F::binary_cross_entropy(p, p, {.weight = ones({3})}); }),
             Catch::Contains("(3)") && Catch::Contains("(5, 4)"));
  CHECK_THROWS_AS(F::binary_cross_entropy_with_logits(a, p, {.pos_weight = ones({5})}), ShapeError);
  CHECK_THROWS_AS(F::binary_cross_entropy_with_logits(a, p, {.pos_weight = ones({4}, kFloat64)}), DTypeError);
}
