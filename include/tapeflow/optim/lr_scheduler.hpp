#pragma once
// optim::LRScheduler, the base of the learning-rate schedulers (PyTorch 1.13's _LRScheduler).
//
//   optim::LinearLR warmup(opt, {.start_factor = 0.1, .total_iters = 5});
//   for (epoch ...) { train(); opt.step(); warmup.step(); }
//
// Conventions (the same in every scheduler of tapeflow::optim):
// - Options are aggregate structs with PyTorch's defaults, given with designated initialisers:
//   StepLR(opt, {.step_size = 30, .gamma = 0.1}). Arguments PyTorch requires (StepLR's step_size,
//   ExponentialLR's gamma, OneCycleLR's max_lr...) have no usable default here: leaving them out
//   throws ValueError. Bad values throw ValueError naming the scheduler and the value.
// - A scheduler holds a reference to its optimizer (and composites to their schedulers): keep
//   them alive while the scheduler is used.
// - Construction does PyTorch's initial step: last_epoch() is 0 and the optimizer's lrs are the
//   schedule's first values. Each step() then advances last_epoch by one. PyTorch's last_epoch
//   constructor argument and deprecated step(epoch) are not offered: resume with
//   load_state_dict().
// - Schedulers that PyTorch writes in "chainable" form compute the new lr from the optimizer's
//   current lr, exactly as PyTorch does, so that ChainedScheduler composes like PyTorch's.
// - state_dict() holds the scheduler's options and counters as named 0-d tensors (float64 for
//   real values, int64 for counts, flags and modes; lists as "<name>.<i>"), so that it can be
//   saved with a checkpoint. As in PyTorch it does not hold the optimizer's lrs: to resume, load
//   the optimizer's state dict too. load_state_dict() checks keys and group counts and leaves
//   the scheduler unchanged when it throws.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"
#include "tapeflow/state_dict.hpp"

namespace tapeflow::optim {

class LRScheduler;
class SequentialLR;
namespace detail {
class SchedulerState;
}

// A value for every parameter group: one number for all groups (`.max_lr = 0.1`), or one per
// group (`.max_lr = {0.1, 0.01}`) — PyTorch's "float or list" arguments. A list of one value is
// taken for all groups.
class PerGroup {
 public:
  PerGroup() = default;  // "not given"
  PerGroup(double value) : values_{value} {}  // NOLINT: implicit, like a Python float
  PerGroup(std::initializer_list<double> values) : values_(values) {}
  PerGroup(std::vector<double> values) : values_(std::move(values)) {}  // NOLINT

  bool given() const { return !values_.empty(); }
  const std::vector<double>& values() const { return values_; }
  // One value per group; throws ValueError naming scheduler and option when the count differs
  // from the optimizer's group count or when nothing was given.
  std::vector<double> resolve(const char* scheduler, const char* option, std::size_t groups) const;

 private:
  std::vector<double> values_;
};

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances the schedule by one epoch (or batch) and sets the optimizer's lrs.
  virtual void step();
  // The lrs set by the last step (or by construction).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  // How many steps were taken since construction (0 right after it).
  std::int64_t last_epoch() const { return last_epoch_; }
  // The lrs the schedule starts from (the optimizer's initial_lr of each group).
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  Optimizer& optimizer() const { return *optimizer_; }
  const char* name() const { return name_; }

  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

 protected:
  LRScheduler(const char* name, Optimizer& optimizer) : name_(name), optimizer_(&optimizer) {}

  // The end of PyTorch's _LRScheduler.__init__: records each group's initial_lr in the optimizer
  // unless one is already there, takes them as base_lrs, then does the initial step. Concrete
  // schedulers call it last in their constructor (get_lr() is virtual).
  void start();
  // PyTorch's _initial_step(): resets the step count and steps once.
  void initial_step();
  void set_base_lrs(std::vector<double> lrs) { base_lrs_ = std::move(lrs); }
  std::int64_t step_count() const { return step_count_; }
  std::size_t num_groups() const { return optimizer_->num_param_groups(); }
  std::vector<double> current_lrs() const;  // the optimizer's lrs now
  void set_last_lr(std::vector<double> lrs) { last_lr_ = std::move(lrs); }
  void set_last_epoch(std::int64_t epoch) { last_epoch_ = epoch; }

  // The new lr of each group at last_epoch(), in PyTorch's chainable form where it has one.
  virtual std::vector<double> get_lr() = 0;
  // The closed form at last_epoch(), for schedulers that have one. SequentialLR uses it when it
  // switches to a scheduler (PyTorch's step(0)); others fall back to get_lr().
  virtual std::optional<std::vector<double>> closed_form_lr() const { return std::nullopt; }

  // Lists every saved value, for both saving and loading; overrides call the base first.
  virtual void state_fields(detail::SchedulerState& state);
  // Checks what load_state_dict() read (group counts, option values); throws ValueError.
  virtual void check_loaded() const;

 private:
  friend class SequentialLR;  // switches between its schedulers as PyTorch does
  friend class detail::SchedulerState;
  // PyTorch's step(epoch): jumps to an epoch, using the closed form where there is one.
  void step_to(std::int64_t epoch);
  // Sets last_epoch to epoch and the lrs to the schedule's values there (counters unchanged
  // when that throws).
  void advance(std::int64_t epoch, bool closed_form);
  void apply(const std::vector<double>& lrs);
  void load_fields(const StateDict& state);

  const char* name_;
  Optimizer* optimizer_;
  std::vector<double> base_lrs_;
  std::int64_t last_epoch_ = -1;
  std::int64_t step_count_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace tapeflow::optim
