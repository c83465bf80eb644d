#pragma once
// Evaluation metrics (torchmetrics / scikit-learn style), computed eagerly in float64 on the
// host. They are not recorded on the tape: metrics are for reporting, not for gradients.
//
// Conventions (those of sklearn.metrics, which torchmetrics follows for multiclass input):
// - Labels and predicted labels are 1-D integer tensors (int32/int64) with values in
//   [0, num_classes); anything else throws (DTypeError, ShapeError, IndexError).
// - confusion_matrix: rows are true classes, columns predicted classes.
// - zero_division = 0: a class with no predictions has precision 0, one with no true samples
//   has recall 0, and F1 is 0 where 2*tp + fp + fn == 0.
// - Average::Macro averages over the classes that occur in labels OR predictions (sklearn's
//   default `labels`, torchmetrics' behaviour): a class never seen on either side does not
//   drag the mean down. Average::None still reports such classes (as 0).
// - Average::Micro pools tp/fp/fn over classes; for single-label multiclass data precision,
//   recall and F1 all equal the accuracy.
#include <cstdint>

#include "tapeflow/tensor.hpp"

namespace tapeflow::metrics {

enum class Average { Micro, Macro, None };

// Fraction of samples whose label is among the k highest scores of its row.
// input: (N, C) logits or probabilities (floating), or (N) predicted labels (integer; k must
// be 1). Ties are ordered like argmax/stable sort: equal scores rank by lower class index first.
double accuracy(const Tensor& input, const Tensor& labels, std::int64_t k = 1);

// (num_classes, num_classes) int64 counts: entry [i][j] = samples with label i predicted as j.
Tensor confusion_matrix(const Tensor& predictions, const Tensor& labels, std::int64_t num_classes);

// Per-class scores from predicted labels. Returns a float64 tensor: 0-dim for Micro/Macro,
// (num_classes) for None. (sklearn returns a float or an array; torchmetrics a tensor.)
Tensor precision(const Tensor& predictions, const Tensor& labels, std::int64_t num_classes,
                 Average average = Average::Macro);
Tensor recall(const Tensor& predictions, const Tensor& labels, std::int64_t num_classes,
              Average average = Average::Macro);
Tensor f1_score(const Tensor& predictions, const Tensor& labels, std::int64_t num_classes,
                Average average = Average::Macro);

// Mean over all elements of |prediction - target| (resp. its square). Shapes must be equal
// (no broadcasting: a silently broadcast target is a classic bug); any non-bool dtype.
double mean_absolute_error(const Tensor& prediction, const Tensor& target);
double mean_squared_error(const Tensor& prediction, const Tensor& target);

// Weighted running mean for logging (e.g. the epoch's loss): update(batch_loss, batch_size).
// Kept as an incremental mean, so long runs do not lose precision to a huge running sum.
class RunningMean {
 public:
  // weight must be finite and >= 0 (ValueError); value may be anything, NaN included, so a
  // diverging loss shows up in the log instead of being hidden.
  void update(double value, double weight = 1.0);
  void update(const Tensor& value, double weight = 1.0);  // a one-element tensor
  // The weighted mean; NaN before the first update with weight > 0 (as torchmetrics).
  double value() const;
  std::int64_t count() const { return count_; }       // number of update() calls
  double total_weight() const { return total_weight_; }
  void reset();

 private:
  double mean_ = 0.0;
  double total_weight_ = 0.0;
  std::int64_t count_ = 0;
};
using RunningAverage = RunningMean;

// Exponential moving average with Adam-style bias correction:
// avg_t = beta * avg_{t-1} + (1 - beta) * x_t, value() = avg_t / (1 - beta^t),
// so early values are not biased toward the zero start. beta in [0, 1) (ValueError).
class ExponentialMovingAverage {
 public:
  explicit ExponentialMovingAverage(double beta = 0.98);
  void update(double value);
  void update(const Tensor& value);  // a one-element tensor
  double value() const;              // NaN before the first update
  std::int64_t count() const { return count_; }
  double beta() const { return beta_; }
  void reset();

 private:
  double beta_;
  double avg_ = 0.0;
  double beta_power_ = 1.0;  // beta^count, for the bias correction
  std::int64_t count_ = 0;
};
using EMA = ExponentialMovingAverage;

}  // namespace tapeflow::metrics
