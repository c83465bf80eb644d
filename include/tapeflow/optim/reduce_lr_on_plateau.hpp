#pragma once
// ReduceLROnPlateau (PyTorch 1.13): lowers each group's lr by `factor` when a metric has not
// improved for more than `patience` steps; step(metric) once per evaluation.
//
//   optim::ReduceLROnPlateau plateau(opt, {.factor = 0.5, .patience = 3});
//   for (epoch ...) { train(); plateau.step(validation_loss); }
//
// "Improved" means below best * (1 - threshold) (mode min, threshold_mode rel), below
// best - threshold (min, abs), above best * (1 + threshold) (max, rel) or above
// best + threshold (max, abs). After a reduction, `cooldown` steps pass before bad steps count
// again. lr never goes below min_lr (one value, or one per group), and changes smaller than eps
// are skipped. As in PyTorch it is not an LRScheduler (its step needs a metric), so it cannot be
// chained. Differences: get_last_lr() is available from construction (PyTorch 1.13 has no
// get_last_lr on it); factor must be in [0, 1), patience and cooldown >= 0.
// Options and state_dict() follow the conventions in lr_scheduler.hpp.
#include <cstdint>
#include <vector>

#include "tapeflow/optim/lr_scheduler.hpp"

namespace tapeflow::optim {

enum class PlateauMode { min, max };
enum class ThresholdMode { rel, abs };

struct ReduceLROnPlateauOptions {
  PlateauMode mode = PlateauMode::min;
  double factor = 0.1;
  std::int64_t patience = 10;
  double threshold = 1e-4;
  ThresholdMode threshold_mode = ThresholdMode::rel;
  std::int64_t cooldown = 0;
  PerGroup min_lr = 0.0;
  double eps = 1e-8;
};

class ReduceLROnPlateau {
 public:
  explicit ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  ReduceLROnPlateau(const ReduceLROnPlateau&) = delete;
  ReduceLROnPlateau& operator=(const ReduceLROnPlateau&) = delete;

  void step(double metric);
  void step(const Tensor& metric);  // a one-element tensor (a loss, say)

  const std::vector<double>& get_last_lr() const { return last_lr_; }
  std::int64_t last_epoch() const { return last_epoch_; }
  double best() const { return best_; }
  std::int64_t num_bad_epochs() const { return num_bad_epochs_; }
  bool in_cooldown() const { return cooldown_counter_ > 0; }
  const std::vector<double>& min_lrs() const { return min_lrs_; }
  const ReduceLROnPlateauOptions& options() const { return options_; }
  Optimizer& optimizer() const { return *optimizer_; }

  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

 private:
  bool is_better(double metric) const;
  void reduce_lr();
  void state_fields(detail::SchedulerState& state);
  void check_loaded() const;

  Optimizer* optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;
  double best_;
  std::int64_t num_bad_epochs_ = 0;
  std::int64_t cooldown_counter_ = 0;
  std::int64_t last_epoch_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace tapeflow::optim
