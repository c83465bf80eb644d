// Metrics against NumPy references that follow sklearn's definitions (make_metrics_reference.py),
// hand-checked small cases, and float64 loops written here.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
namespace mt = tapeflow::metrics;

namespace {

using Case = std::map<std::string, std::vector<double>>;

// Lines "key count v0 v1 ..." written by make_metrics_reference.py.
Case load_case(const std::string& name) {
  const std::string path = std::string(TAPEFLOW_TESTS_DIR) + "/metrics/data/case_" + name + ".txt";
  std::ifstream in(path);
  REQUIRE(in.good());
  Case c;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    std::size_t n = 0;
    ls >> key >> n;
    std::vector<double> v(n);
    for (double& x : v) ls >> x;
    REQUIRE(ls);
    c[key] = v;
  }
  return c;
}

Tensor long_tensor(const std::vector<double>& v, DType dt = kInt64) {
  std::vector<std::int64_t> i(v.begin(), v.end());
  return tensor(i, kInt64).to(dt);
}

Tensor labels_of(const std::vector<std::int64_t>& v) { return tensor(v, kInt64); }

std::vector<double> values_of(const Tensor& t) {
  Tensor c = t.to(kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

void check_close(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-12));
}

double scalar_of(const Tensor& t) {
  REQUIRE(t.dim() == 0);
  REQUIRE(t.dtype() == kFloat64);
  return t.item<double>();
}

}  // namespace

TEST_CASE("metrics match the NumPy/sklearn reference", "[metrics]") {
  for (const char* name : {"balanced", "absent_classes"}) {
    DYNAMIC_SECTION(name) {
      const Case c = load_case(name);
      const auto N = static_cast<std::int64_t>(c.at("N")[0]);
      const auto C = static_cast<std::int64_t>(c.at("C")[0]);
      const Tensor scores = tensor(c.at("scores"), {N, C}, kFloat64);
      for (DType label_dt : {kInt64, kInt32}) {
        const Tensor labels = long_tensor(c.at("labels"), label_dt);
        const Tensor preds = long_tensor(c.at("predictions"), label_dt);

        CHECK(mt::accuracy(scores, labels) == Approx(c.at("top1")[0]).margin(1e-15));
        CHECK(mt::accuracy(scores, labels, 3) == Approx(c.at("top3")[0]).margin(1e-15));
        CHECK(mt::accuracy(scores.to(kFloat32), labels, 3) == Approx(c.at("top3")[0]).margin(1e-15));
        CHECK(mt::accuracy(preds, labels) == Approx(c.at("top1")[0]).margin(1e-15));
        CHECK(mt::accuracy(argmax(scores, 1), labels) == Approx(c.at("top1")[0]).margin(1e-15));

        const Tensor cm = mt::confusion_matrix(preds, labels, C);
        CHECK(cm.dtype() == kInt64);
        CHECK(cm.sizes() == Shape{C, C});
        check_close(values_of(cm), c.at("confusion"));

        check_close(values_of(mt::precision(preds, labels, C, mt::Average::None)), c.at("precision"));
        check_close(values_of(mt::recall(preds, labels, C, mt::Average::None)), c.at("recall"));
        check_close(values_of(mt::f1_score(preds, labels, C, mt::Average::None)), c.at("f1"));
        const auto& macro = c.at("macro");
        CHECK(scalar_of(mt::precision(preds, labels, C)) == Approx(macro[0]).margin(1e-12));
        CHECK(scalar_of(mt::recall(preds, labels, C, mt::Average::Macro)) == Approx(macro[1]).margin(1e-12));
        CHECK(scalar_of(mt::f1_score(preds, labels, C, mt::Average::Macro)) == Approx(macro[2]).margin(1e-12));
        const auto& micro = c.at("micro");
        CHECK(scalar_of(mt::precision(preds, labels, C, mt::Average::Micro)) == Approx(micro[0]).margin(1e-12));
        CHECK(scalar_of(mt::recall(preds, labels, C, mt::Average::Micro)) == Approx(micro[1]).margin(1e-12));
        CHECK(scalar_of(mt::f1_score(preds, labels, C, mt::Average::Micro)) == Approx(micro[2]).margin(1e-12));
      }
      const Tensor pred = tensor(c.at("reg_pred"), {N, 3}, kFloat64);
      const Tensor target = tensor(c.at("reg_target"), {N, 3}, kFloat64);
      CHECK(mt::mean_absolute_error(pred, target) == Approx(c.at("mae")[0]).epsilon(1e-13));
      CHECK(mt::mean_squared_error(pred, target) == Approx(c.at("mse")[0]).epsilon(1e-13));
      CHECK(mt::mean_absolute_error(pred.to(kFloat32), target.to(kFloat32)) == Approx(c.at("mae")[0]).epsilon(1e-6));
    }
  }
}

TEST_CASE("classification metrics on a hand-checked example", "[metrics]") {
  // labels 0 1 2 2 2 0, predictions 0 1 1 2 2 2 (3 classes; class 3 of 4 never occurs)
  const Tensor labels = labels_of({0, 1, 2, 2, 2, 0});
  const Tensor preds = labels_of({0, 1, 1, 2, 2, 2});
  // confusion (rows true): [1 0 1 | 0 1 0 | 0 1 2 | 0 0 0]
  check_close(values_of(mt::confusion_matrix(preds, labels, 4)),
              {1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0});
  // precision: class0 1/1, class1 1/2, class2 2/3, class3 0 (no predictions)
  check_close(values_of(mt::precision(preds, labels, 4, mt::Average::None)), {1.0, 0.5, 2.0 / 3.0, 0.0});
  // recall: class0 1/2, class1 1/1, class2 2/3
  check_close(values_of(mt::recall(preds, labels, 4, mt::Average::None)), {0.5, 1.0, 2.0 / 3.0, 0.0});
  // f1 = 2tp / (2tp + fp + fn): 2/3, 2/3, 4/6
  check_close(values_of(mt::f1_score(preds, labels, 4, mt::Average::None)), {2.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0, 0.0});
  // macro over the 3 classes that occur (class 3 is left out, as sklearn does)
  CHECK(scalar_of(mt::precision(preds, labels, 4)) == Approx((1.0 + 0.5 + 2.0 / 3.0) / 3.0));
  CHECK(scalar_of(mt::recall(preds, labels, 4)) == Approx((0.5 + 1.0 + 2.0 / 3.0) / 3.0));
  // micro: 4 correct of 6
  CHECK(scalar_of(mt::f1_score(preds, labels, 4, mt::Average::Micro)) == Approx(4.0 / 6.0));
  CHECK(mt::accuracy(preds, labels) == Approx(4.0 / 6.0));
  // no samples at all: empty confusion matrix, zero scores (zero_division = 0)
  const Tensor none = labels_of({});
  CHECK(values_of(mt::confusion_matrix(none, none, 2)) == std::vector<double>{0, 0, 0, 0});
  CHECK(scalar_of(mt::f1_score(none, none, 2)) == 0.0);
}

TEST_CASE("top-k accuracy: ties rank by class index, like argmax", "[metrics]") {
  const Tensor scores = tensor({{1.0, 1.0, 0.0}, {0.0, 2.0, 2.0}}, kFloat32);
  // row 0: argmax is class 0 (first of the tie), so label 1 is second; row 1: label 2 is second
  CHECK(mt::accuracy(scores, labels_of({1, 2})) == 0.0);
  CHECK(mt::accuracy(scores, labels_of({0, 1})) == 1.0);
  CHECK(mt::accuracy(scores, labels_of({1, 2}), 2) == 1.0);
  CHECK(mt::accuracy(scores, labels_of({2, 0}), 2) == 0.0);
  CHECK(mt::accuracy(scores, labels_of({2, 0}), 3) == 1.0);
}

TEST_CASE("top-k accuracy matches a float64 sort loop on random scores", "[metrics]") {
  manual_seed(7);
  const std::int64_t N = 300, C = 10;
  const Tensor scores = randn({N, C}, kFloat64);
  const Tensor labels = randint(0, C, {N}, kInt64);
  const std::vector<double> s = values_of(scores);
  const std::vector<double> y = values_of(labels);
  for (std::int64_t k : {1, 2, 5, 10}) {
    std::int64_t hits = 0;
    for (std::int64_t i = 0; i < N; ++i) {
      std::vector<std::int64_t> order(static_cast<std::size_t>(C));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
        return s[static_cast<std::size_t>(i * C + a)] > s[static_cast<std::size_t>(i * C + b)];
      });
      hits += std::find(order.begin(), order.begin() + k, static_cast<std::int64_t>(y[static_cast<std::size_t>(i)])) !=
              order.begin() + k;
    }
    CHECK(mt::accuracy(scores, labels, k) == Approx(static_cast<double>(hits) / N).margin(1e-15));
  }
  CHECK(mt::accuracy(scores, labels, C) == 1.0);
}

TEST_CASE("RunningMean: weighted mean, count, reset", "[metrics]") {
  mt::RunningMean m;
  CHECK(std::isnan(m.value()));
  CHECK(m.count() == 0);
  double sum = 0.0, weights = 0.0;
  for (int i = 0; i < 1000; ++i) {
    const double v = std::sin(0.1 * i) + 3.0;
    const double w = 1.0 + (i % 7);
    m.update(v, w);
    sum += v * w;
    weights += w;
  }
  CHECK(m.value() == Approx(sum / weights).epsilon(1e-13));
  CHECK(m.count() == 1000);
  CHECK(m.total_weight() == weights);
  m.update(1e9, 0.0);  // a zero weight counts as an update but does not move the mean
  CHECK(m.value() == Approx(sum / weights).epsilon(1e-13));
  CHECK(m.count() == 1001);
  m.reset();
  CHECK(std::isnan(m.value()));
  CHECK(m.count() == 0);
  m.update(scalar_tensor(2.5, kFloat32));
  m.update(tensor(std::vector<double>{4.5}, kFloat64), 3.0);
  CHECK(m.value() == Approx((2.5 + 3 * 4.5) / 4.0));
  mt::RunningAverage alias;  // same class under the other name
  alias.update(1.0);
  CHECK(alias.value() == 1.0);
  CHECK_THROWS_AS(m.update(1.0, -1.0), ValueError);
  CHECK_THROWS_WITH(m.update(1.0, std::nan("")), Catch::Contains("RunningMean::update") && Catch::Contains("weight"));
  CHECK_THROWS_AS(m.update(zeros({2})), ShapeError);
}

TEST_CASE("ExponentialMovingAverage with bias correction", "[metrics]") {
  mt::EMA ema(0.9);
  CHECK(std::isnan(ema.value()));
  double avg = 0.0;
  for (int t = 1; t <= 50; ++t) {
    const double x = std::cos(0.3 * t);
    ema.update(x);
    avg = 0.9 * avg + 0.1 * x;
    CHECK(ema.value() == Approx(avg / (1.0 - std::pow(0.9, t))).epsilon(1e-12));
  }
  CHECK(ema.count() == 50);
  ema.reset();
  for (int t = 0; t < 5; ++t) ema.update(4.0);  // bias correction: a constant stays itself
  CHECK(ema.value() == Approx(4.0).epsilon(1e-14));
  mt::ExponentialMovingAverage last(0.0);  // beta = 0 keeps only the latest value
  last.update(1.0);
  last.update(scalar_tensor(7.0, kFloat64));
  CHECK(last.value() == 7.0);
  CHECK_THROWS_AS(mt::EMA(1.0), ValueError);
  CHECK_THROWS_WITH(mt::EMA(-0.1), Catch::Contains("beta must be in [0, 1)"));
}

TEST_CASE("metrics reject bad input with typed errors", "[metrics]") {
  const Tensor scores = zeros({4, 3});
  const Tensor labels = labels_of({0, 1, 2, 1});
  // label out of range
  CHECK_THROWS_AS(mt::accuracy(scores, labels_of({0, 1, 3, 1})), IndexError);
  CHECK_THROWS_WITH(mt::accuracy(scores, labels_of({0, 1, -1, 1})),
                    Catch::Contains("[metrics::accuracy]") && Catch::Contains("labels[2] = -1") &&
                    Catch::Contains("out of range for 3 classes"));
  CHECK_THROWS_WITH(mt::confusion_matrix(labels_of({0, 5, 0, 0}), labels, 3),
                    Catch::Contains("[metrics::confusion_matrix]") && Catch::Contains("predictions[1] = 5"));
  CHECK_THROWS_AS(mt::precision(labels, labels_of({0, 1, 2, 3}), 3), IndexError);
  // shape mismatch
  CHECK_THROWS_WITH(mt::accuracy(scores, labels_of({0, 1})),
                    Catch::Contains("input (4, 3) and labels (2) must have the same number of samples"));
  CHECK_THROWS_WITH(mt::recall(labels_of({0, 1}), labels, 3),
                    Catch::Contains("[metrics::recall]") && Catch::Contains("same number of samples"));
  CHECK_THROWS_AS(mt::accuracy(zeros({2, 3, 4}), labels_of({0, 1})), ShapeError);
  CHECK_THROWS_AS(mt::accuracy(scores, labels_of({0, 1})), ShapeError);
  CHECK_THROWS_AS(mt::recall(labels_of({0, 1}), labels, 3), ShapeError);
  CHECK_THROWS_AS(mt::accuracy(scores, labels.reshape({2, 2})), ShapeError);
  CHECK_THROWS_AS(mt::f1_score(labels.reshape({2, 2}), labels.reshape({2, 2}), 3), ShapeError);
  CHECK_THROWS_WITH(mt::mean_absolute_error(zeros({4, 3}), zeros({3})),
                    Catch::Contains("[metrics::mean_absolute_error]") && Catch::Contains("same shape"));
  CHECK_THROWS_AS(mt::mean_squared_error(zeros({4, 1}), zeros({4})), ShapeError);
  // non-integer labels / bad dtypes
  CHECK_THROWS_AS(mt::accuracy(scores, zeros({4})), DTypeError);
  CHECK_THROWS_WITH(mt::f1_score(zeros({4}), labels, 3),
                    Catch::Contains("[metrics::f1_score]") && Catch::Contains("predictions must be an integer tensor"));
  CHECK_THROWS_AS(mt::accuracy(zeros({4}), labels), DTypeError);         // 1-D floats are not labels
  CHECK_THROWS_AS(mt::accuracy(labels.reshape({2, 2}), labels_of({0, 1})), DTypeError);  // integer scores
  CHECK_THROWS_AS(mt::mean_absolute_error(ones({2}, kBool), ones({2}, kBool)), DTypeError);
  // bad arguments
  CHECK_THROWS_AS(mt::accuracy(scores, labels, 0), ValueError);
  CHECK_THROWS_WITH(mt::accuracy(scores, labels, 4), Catch::Contains("k must be in [1, C] = [1, 3]"));
  CHECK_THROWS_AS(mt::accuracy(labels, labels, 2), ValueError);
  CHECK_THROWS_AS(mt::accuracy(zeros({0, 3}), labels_of({})), ValueError);
  CHECK_THROWS_AS(mt::confusion_matrix(labels, labels, 0), ValueError);
  CHECK_THROWS_AS(mt::mean_absolute_error(zeros({0}), zeros({0})), ValueError);
}
