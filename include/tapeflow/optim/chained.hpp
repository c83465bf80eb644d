#pragma once
// Combining schedulers (PyTorch 1.13): ChainedScheduler steps several schedulers together, each
// scaling the lr the previous one left (so chainable schedulers compose: a warm-up times a
// decay); SequentialLR hands over from one scheduler to the next at milestone epochs.
//
//   optim::LinearLR warmup(opt, {.start_factor = 0.1, .total_iters = 5});
//   optim::CosineAnnealingLR cosine(opt, {.T_max = 95});
//   optim::SequentialLR schedule(opt, {warmup, cosine}, {5});
//   ... schedule.step();   // step only the composite, not the schedulers it holds
//
// Both hold references to their schedulers (keep them alive) and save the schedulers' states in
// their own state_dict() under "_schedulers.<i>.". Conventions: lr_scheduler.hpp.
// Stricter than PyTorch: SequentialLR's milestones must be positive and strictly increasing, and
// its schedulers cannot be composites (PyTorch fails on those later, with an AttributeError).
#include <cstdint>
#include <functional>
#include <vector>

#include "tapeflow/optim/lr_scheduler.hpp"

namespace tapeflow::optim {

using SchedulerList = std::vector<std::reference_wrapper<LRScheduler>>;

class ChainedScheduler final : public LRScheduler {
 public:
  // All schedulers must wrap the same optimizer.
  explicit ChainedScheduler(SchedulerList schedulers);
  void step() override;
  const SchedulerList& schedulers() const { return schedulers_; }

 protected:
  std::vector<double> get_lr() override;
  void state_fields(detail::SchedulerState& state) override;

 private:
  SchedulerList schedulers_;
};

class SequentialLR final : public LRScheduler {
 public:
  // schedulers[i + 1] takes over at epoch milestones[i]; all wrap `optimizer`.
  SequentialLR(Optimizer& optimizer, SchedulerList schedulers, std::vector<std::int64_t> milestones);
  void step() override;
  const SchedulerList& schedulers() const { return schedulers_; }
  const std::vector<std::int64_t>& milestones() const { return milestones_; }

 protected:
  std::vector<double> get_lr() override;
  void state_fields(detail::SchedulerState& state) override;
  void check_loaded() const override;

 private:
  SchedulerList schedulers_;
  std::vector<std::int64_t> milestones_;
};

}  // namespace tapeflow::optim
