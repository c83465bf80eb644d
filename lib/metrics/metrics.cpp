// Metrics: inputs are validated, copied to host float64/int64 vectors, then counted in plain
// loops. Metric inputs are small (one batch or one epoch of labels), so clarity wins here.
#include "tapeflow/metrics.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "tapeflow/autograd.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/error.hpp"

namespace tapeflow::metrics {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The tensor's elements in row-major order as T, on the host.
template <typename T>
std::vector<T> host_values(const Tensor& t) {
  NoGradGuard no_grad;
  Tensor c = t.to(Device::cpu(), dtype_v<T>).contiguous();
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}

void check_num_classes(const char* op, std::int64_t num_classes) {
  if (num_classes < 1) fail<ValueError>(op, "num_classes must be >= 1, got ", num_classes);
}

// Checks a 1-D integer label tensor and returns its values, each in [0, num_classes).
std::vector<std::int64_t> class_indices(const char* op, const char* what, const Tensor& t,
                                        std::int64_t num_classes) {
  if (!is_integral(t.dtype()))
    fail<DTypeError>(op, what, " must be an integer tensor (int32/int64) of class indices, got ",
                     t.dtype(), " of shape ", t.sizes());
  if (t.dim() != 1) fail<ShapeError>(op, what, " must be 1-D (N), got shape ", t.sizes());
  std::vector<std::int64_t> v = host_values<std::int64_t>(t);
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] < 0 || v[i] >= num_classes)
      fail<IndexError>(op, what, "[", i, "] = ", v[i], " is out of range for ", num_classes,
                       " classes (expected 0 <= value < ", num_classes, ")");
  return v;
}

void check_same_length(const char* op, const char* what, const Tensor& predictions, const Tensor& labels) {
  if (predictions.dim() >= 1 && labels.dim() >= 1 && predictions.size(0) != labels.size(0))
    fail<ShapeError>(op, what, " ", predictions.sizes(), " and labels ", labels.sizes(),
                     " must have the same number of samples");
}

// counts[i * C + j]: samples of true class i predicted as j.
std::vector<std::int64_t> confusion_counts(const char* op, const Tensor& predictions,
                                           const Tensor& labels, std::int64_t num_classes) {
  check_num_classes(op, num_classes);
  std::vector<std::int64_t> pred = class_indices(op, "predictions", predictions, num_classes);
  std::vector<std::int64_t> truth = class_indices(op, "labels", labels, num_classes);
  check_same_length(op, "predictions", predictions, labels);
  std::vector<std::int64_t> counts(static_cast<std::size_t>(num_classes * num_classes), 0);
  for (std::size_t i = 0; i < pred.size(); ++i) ++counts[static_cast<std::size_t>(truth[i] * num_classes + pred[i])];
  return counts;
}

double safe_ratio(double num, double den) { return den > 0.0 ? num / den : 0.0; }

enum class Score { Precision, Recall, F1 };

double score_from(Score score, double tp, double fp, double fn) {
  switch (score) {
    case Score::Precision: return safe_ratio(tp, tp + fp);
    case Score::Recall: return safe_ratio(tp, tp + fn);
    case Score::F1: return safe_ratio(2.0 * tp, 2.0 * tp + fp + fn);
  }
  return 0.0;
}

// One implementation for precision/recall/F1: per-class tp/fp/fn from the confusion matrix,
// then the requested average.
Tensor classification_score(const char* op, Score score, const Tensor& predictions,
                            const Tensor& labels, std::int64_t num_classes, Average average) {
  const std::vector<std::int64_t> cm = confusion_counts(op, predictions, labels, num_classes);
  const auto C = static_cast<std::size_t>(num_classes);
  std::vector<double> tp(C, 0.0), fp(C, 0.0), fn(C, 0.0);
  for (std::size_t i = 0; i < C; ++i)
    for (std::size_t j = 0; j < C; ++j) {
      const auto n = static_cast<double>(cm[i * C + j]);
      if (i == j) tp[i] += n;
      else { fn[i] += n; fp[j] += n; }
    }
  const Device device = predictions.device();
  switch (average) {
    case Average::None: {
      std::vector<double> per_class(C);
      for (std::size_t c = 0; c < C; ++c) per_class[c] = score_from(score, tp[c], fp[c], fn[c]);
      return tensor(per_class, kFloat64).to(device);
    }
    case Average::Micro: {
      double TP = 0, FP = 0, FN = 0;
      for (std::size_t c = 0; c < C; ++c) { TP += tp[c]; FP += fp[c]; FN += fn[c]; }
      return scalar_tensor(score_from(score, TP, FP, FN), kFloat64).to(device);
    }
    case Average::Macro: {
      double sum = 0.0;
      std::int64_t present = 0;
      for (std::size_t c = 0; c < C; ++c) {
        if (tp[c] + fp[c] + fn[c] == 0.0) continue;  // class absent from labels and predictions
        sum += score_from(score, tp[c], fp[c], fn[c]);
        ++present;
      }
      return scalar_tensor(present > 0 ? sum / static_cast<double>(present) : 0.0, kFloat64).to(device);
    }
  }
  fail<ValueError>(op, "unknown average mode");
}

// Shared checks and the mean of f(prediction - target) over all elements.
template <typename F>
double mean_of_errors(const char* op, const Tensor& prediction, const Tensor& target, F f) {
  if (prediction.sizes() != target.sizes())
    fail<ShapeError>(op, "prediction ", prediction.sizes(), " and target ", target.sizes(),
                     " must have the same shape");
  if (prediction.dtype() == kBool || target.dtype() == kBool)
    fail<DTypeError>(op, "expected numeric tensors, got ", prediction.dtype(), " and ", target.dtype());
  if (prediction.numel() == 0) fail<ValueError>(op, "the mean of zero elements is undefined (shape ", prediction.sizes(), ")");
  const std::vector<double> p = host_values<double>(prediction);
  const std::vector<double> t = host_values<double>(target);
  double sum = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) sum += f(p[i] - t[i]);
  return sum / static_cast<double>(p.size());
}

double single_value(const char* op, const Tensor& value) {
  if (value.numel() != 1)
    fail<ShapeError>(op, "expected a one-element tensor, got shape ", value.sizes());
  return value.item<double>();
}

}  // namespace

double accuracy(const Tensor& input, const Tensor& labels, std::int64_t k) {
  constexpr const char* op = "metrics::accuracy";
  if (labels.dim() != 1) fail<ShapeError>(op, "labels must be 1-D (N), got shape ", labels.sizes());
  if (input.dim() == 1) {
    if (!is_integral(input.dtype()))
      fail<DTypeError>(op, "a 1-D input must hold predicted labels (int32/int64), got ", input.dtype(),
                       "; pass scores as (N, C)");
    if (k != 1) fail<ValueError>(op, "top-k with k = ", k, " needs (N, C) scores, got predicted labels ", input.sizes());
  } else if (input.dim() == 2) {
    if (!input.is_floating_point())
      fail<DTypeError>(op, "(N, C) scores must be floating point, got ", input.dtype());
    if (k < 1 || k > input.size(1))
      fail<ValueError>(op, "k must be in [1, C] = [1, ", input.size(1), "], got ", k, " for input ", input.sizes());
  } else {
    fail<ShapeError>(op, "input must be (N, C) scores or (N) predicted labels, got shape ", input.sizes());
  }
  check_same_length(op, "input", input, labels);
  if (labels.numel() == 0) fail<ValueError>(op, "accuracy of zero samples is undefined");

  if (input.dim() == 1) {
    // Predicted labels may be any integer; only the true labels must be valid class indices.
    if (!is_integral(labels.dtype()))
      fail<DTypeError>(op, "labels must be an integer tensor (int32/int64), got ", labels.dtype());
    const std::vector<std::int64_t> pred = host_values<std::int64_t>(input);
    const std::vector<std::int64_t> truth = host_values<std::int64_t>(labels);
    std::int64_t correct = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) correct += pred[i] == truth[i];
    return static_cast<double>(correct) / static_cast<double>(pred.size());
  }
  const std::int64_t C = input.size(1);
  const std::vector<std::int64_t> truth = class_indices(op, "labels", labels, C);
  const std::vector<double> scores = host_values<double>(input);
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const double* row = scores.data() + i * static_cast<std::size_t>(C);
    const std::int64_t y = truth[i];
    // Rank of the label's score in a stable descending sort of the row.
    std::int64_t rank = 0;
    for (std::int64_t j = 0; j < C; ++j)
      rank += row[j] > row[y] || (row[j] == row[y] && j < y);
    correct += rank < k;
  }
  return static_cast<double>(correct) / static_cast<double>(truth.size());
}

Tensor confusion_matrix(const Tensor& predictions, const Tensor& labels, std::int64_t num_classes) {
  std::vector<std::int64_t> counts = confusion_counts("metrics::confusion_matrix", predictions, labels, num_classes);
  return tensor(counts, {num_classes, num_classes}, kInt64).to(predictions.device());
}

Tensor precision(const Tensor& predictions, const Tensor& labels, std::int64_t num_classes, Average average) {
  return classification_score("metrics::precision", Score::Precision, predictions, labels, num_classes, average);
}
Tensor recall(const Tensor& predictions, const Tensor& labels, std::int64_t num_classes, Average average) {
  return classification_score("metrics::recall", Score::Recall, predictions, labels, num_classes, average);
}
Tensor f1_score(const Tensor& predictions, const Tensor& labels, std::int64_t num_classes, Average average) {
  return classification_score("metrics::f1_score", Score::F1, predictions, labels, num_classes, average);
}

double mean_absolute_error(const Tensor& prediction, const Tensor& target) {
  return mean_of_errors("metrics::mean_absolute_error", prediction, target, [](double d) { return std::abs(d); });
}
double mean_squared_error(const Tensor& prediction, const Tensor& target) {
  return mean_of_errors("metrics::mean_squared_error", prediction, target, [](double d) { return d * d; });
}

void RunningMean::update(double value, double weight) {
  if (!std::isfinite(weight) || weight < 0.0)
    fail<ValueError>("metrics::RunningMean::update", "weight must be finite and >= 0, got ", weight);
  ++count_;
  if (weight == 0.0) return;
  total_weight_ += weight;
  mean_ += (weight / total_weight_) * (value - mean_);
}
void RunningMean::update(const Tensor& value, double weight) {
  update(single_value("metrics::RunningMean::update", value), weight);
}
double RunningMean::value() const { return total_weight_ > 0.0 ? mean_ : kNaN; }
void RunningMean::reset() { *this = RunningMean(); }

ExponentialMovingAverage::ExponentialMovingAverage(double beta) : beta_(beta) {
  if (!(beta >= 0.0 && beta < 1.0))
    fail<ValueError>("metrics::ExponentialMovingAverage", "beta must be in [0, 1), got ", beta);
}
void ExponentialMovingAverage::update(double value) {
  avg_ = beta_ * avg_ + (1.0 - beta_) * value;
  beta_power_ *= beta_;
  ++count_;
}
void ExponentialMovingAverage::update(const Tensor& value) {
  update(single_value("metrics::ExponentialMovingAverage::update", value));
}
double ExponentialMovingAverage::value() const { return count_ > 0 ? avg_ / (1.0 - beta_power_) : kNaN; }
void ExponentialMovingAverage::reset() {
  avg_ = 0.0;
  beta_power_ = 1.0;
  count_ = 0;
}

}  // namespace tapeflow::metrics
