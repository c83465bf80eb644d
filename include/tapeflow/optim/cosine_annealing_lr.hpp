#pragma once
// CosineAnnealingLR (PyTorch 1.13): lr follows half a cosine from base_lr down to eta_min over
// T_max epochs, then back up (SGDR's annealing without restarts). Written in PyTorch's
// recursive form (each step rescales the optimizer's current lr), so it composes with other
// schedulers in ChainedScheduler as PyTorch's does. Conventions: lr_scheduler.hpp.
// Stricter than PyTorch: T_max must be >= 1 (PyTorch divides by it).
#include <cstdint>

#include "tapeflow/optim/lr_scheduler.hpp"

namespace tapeflow::optim {

struct CosineAnnealingLROptions {
  std::int64_t T_max = 0;  // required: half-period, in epochs
  double eta_min = 0.0;
};

class CosineAnnealingLR final : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options);
  const CosineAnnealingLROptions& options() const { return options_; }

 protected:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override;
  void state_fields(detail::SchedulerState& state) override;
  void check_loaded() const override;

 private:
  CosineAnnealingLROptions options_;
};

}  // namespace tapeflow::optim
