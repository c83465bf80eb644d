#pragma once
// OneCycleLR (PyTorch 1.13): the 1cycle policy. lr warms up from max_lr / div_factor to max_lr
// over pct_start of the cycle, then anneals to max_lr / div_factor / final_div_factor; with
// cycle_momentum the optimizer's momentum (SGD's momentum, Adam's beta1: Optimizer::momentum())
// moves inversely between max_momentum and base_momentum. three_phase follows the original
// paper (symmetric warm-up and cool-down, then the final annealing). Not chainable: lr is
// computed from the schedule alone. Step it once per batch; stepping past total_steps throws
// ValueError (as PyTorch raises), leaving the scheduler and the optimizer unchanged.
// Conventions: lr_scheduler.hpp.
#include <cstdint>
#include <optional>

#include "tapeflow/optim/lr_scheduler.hpp"

namespace tapeflow::optim {

enum class AnnealStrategy { cos, linear };

struct OneCycleLROptions {
  PerGroup max_lr = {};  // required: peak lr, for all groups or one per group
  // The cycle's length: total_steps, or else epochs * steps_per_epoch.
  std::optional<std::int64_t> total_steps = std::nullopt;
  std::optional<std::int64_t> epochs = std::nullopt;
  std::optional<std::int64_t> steps_per_epoch = std::nullopt;
  double pct_start = 0.3;
  AnnealStrategy anneal_strategy = AnnealStrategy::cos;
  bool cycle_momentum = true;
  PerGroup base_momentum = 0.85;
  PerGroup max_momentum = 0.95;
  double div_factor = 25.0;
  double final_div_factor = 1e4;
  bool three_phase = false;
};

class OneCycleLR final : public LRScheduler {
 public:
  OneCycleLR(Optimizer& optimizer, OneCycleLROptions options);
  const OneCycleLROptions& options() const { return options_; }
  std::int64_t total_steps() const { return total_steps_; }

 protected:
  std::vector<double> get_lr() override;
  void state_fields(detail::SchedulerState& state) override;
  void check_loaded() const override;

 private:
  // What a phase anneals from and to (PyTorch's group keys 'initial_lr', 'max_lr', 'min_lr',
  // 'base_momentum', 'max_momentum').
  enum class LrLevel { initial, max, min };
  enum class MomentumLevel { base, max };
  struct Phase {
    double end_step;
    LrLevel lr_from, lr_to;
    MomentumLevel momentum_from, momentum_to;
  };
  std::vector<Phase> phases() const;
  double anneal(double start, double end, double pct) const;

  OneCycleLROptions options_;
  // Resolved from the options at construction; saved, as PyTorch keeps them in param_groups.
  std::int64_t total_steps_ = 0;
  std::vector<double> max_lrs_, min_lrs_;
  std::vector<double> max_momentums_, base_momentums_;
};

}  // namespace tapeflow::optim
