#pragma once
// Multiplicative schedules (PyTorch 1.13 names, defaults and chainable formulas): StepLR,
// MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR. Conventions: lr_scheduler.hpp.
//
// Stricter than PyTorch, where PyTorch would divide by zero or silently misbehave:
// step_size, total_iters >= 1; MultiStepLR milestones strictly increasing and not empty;
// ConstantLR factor and LinearLR start_factor in (0, 1] (PyTorch allows 0, then divides by it).
#include <cstdint>
#include <limits>
#include <vector>

#include "tapeflow/optim/lr_scheduler.hpp"

namespace tapeflow::optim {

struct StepLROptions {
  std::int64_t step_size = 0;  // required: decay every step_size epochs
  double gamma = 0.1;
};

// lr *= gamma every step_size epochs.
class StepLR final : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, StepLROptions options);
  const StepLROptions& options() const { return options_; }

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void state_fields(detail::SchedulerState& state) override;
  void check_loaded() const override;

 private:
  StepLROptions options_;
};

struct MultiStepLROptions {
  std::vector<std::int64_t> milestones = {};  // required: epochs at which lr *= gamma (increasing)
  double gamma = 0.1;
};

// lr *= gamma when the epoch reaches each milestone.
class MultiStepLR final : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, MultiStepLROptions options);
  const MultiStepLROptions& options() const { return options_; }

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void state_fields(detail::SchedulerState& state) override;
  void check_loaded() const override;

 private:
  MultiStepLROptions options_;
};

struct ConstantLROptions {
  double factor = 1.0 / 3;
  std::int64_t total_iters = 5;
};

// lr * factor for the first total_iters epochs, then lr.
class ConstantLR final : public LRScheduler {
 public:
  ConstantLR(Optimizer& optimizer, ConstantLROptions options = {});
  const ConstantLROptions& options() const { return options_; }

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void state_fields(detail::SchedulerState& state) override;
  void check_loaded() const override;

 private:
  ConstantLROptions options_;
};

struct LinearLROptions {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  std::int64_t total_iters = 5;
};

// lr * a factor going linearly from start_factor to end_factor over total_iters epochs
// (a warm-up with the defaults).
class LinearLR final : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, LinearLROptions options = {});
  const LinearLROptions& options() const { return options_; }

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void state_fields(detail::SchedulerState& state) override;
  void check_loaded() const override;

 private:
  LinearLROptions options_;
};

struct ExponentialLROptions {
  double gamma = std::numeric_limits<double>::quiet_NaN();  // required
};

// lr *= gamma every epoch.
class ExponentialLR final : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, ExponentialLROptions options);
  const ExponentialLROptions& options() const { return options_; }

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void state_fields(detail::SchedulerState& state) override;
  void check_loaded() const override;

 private:
  ExponentialLROptions options_;
};

struct PolynomialLROptions {
  std::int64_t total_iters = 5;
  double power = 1.0;
};

// lr = base_lr * (1 - epoch / total_iters) ^ power, then constant.
class PolynomialLR final : public LRScheduler {
 public:
  PolynomialLR(Optimizer& optimizer, PolynomialLROptions options = {});
  const PolynomialLROptions& options() const { return options_; }

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void state_fields(detail::SchedulerState& state) override;
  void check_loaded() const override;

 private:
  PolynomialLROptions options_;
};

}  // namespace tapeflow::optim
