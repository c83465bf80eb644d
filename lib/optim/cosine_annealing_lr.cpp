// CosineAnnealingLR: PyTorch 1.13's recursive get_lr() and closed form, term for term.
#include "tapeflow/optim/cosine_annealing_lr.hpp"

#include <cmath>
#include <numbers>

#include "scheduler_state.hpp"

namespace tapeflow::optim {

namespace {
constexpr double kPi = std::numbers::pi;  // == Python's math.pi

void check(const CosineAnnealingLROptions& o) {
  if (o.T_max < 1) fail<ValueError>("CosineAnnealingLR", "T_max must be a positive integer, got ", o.T_max);
  if (!std::isfinite(o.eta_min)) fail<ValueError>("CosineAnnealingLR", "eta_min must be finite, got ", o.eta_min);
}
}  // namespace

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options)
    : LRScheduler("CosineAnnealingLR", optimizer), options_(options) {
  check(options_);
  start();
}

std::vector<double> CosineAnnealingLR::get_lr() {
  const double eta_min = options_.eta_min;
  const auto t_max = static_cast<double>(options_.T_max);
  const std::int64_t epoch = last_epoch();
  const auto e = static_cast<double>(epoch);
  std::vector<double> lrs = current_lrs();
  if (epoch == 0) return lrs;
  if (step_count() == 1 && epoch > 0) return *closed_form_lr();  // first step of a resumed schedule
  if ((epoch - 1 - options_.T_max) % (2 * options_.T_max) == 0) {
    // Just past the minimum, where the ratio below would divide by zero: step up additively.
    for (std::size_t g = 0; g < lrs.size(); ++g)
      lrs[g] = lrs[g] + (base_lrs()[g] - eta_min) * (1 - std::cos(kPi / t_max)) / 2;
    return lrs;
  }
  for (double& lr : lrs)
    lr = (1 + std::cos(kPi * e / t_max)) / (1 + std::cos(kPi * (e - 1) / t_max)) * (lr - eta_min) + eta_min;
  return lrs;
}

std::optional<std::vector<double>> CosineAnnealingLR::closed_form_lr() const {
  const auto t_max = static_cast<double>(options_.T_max);
  const auto e = static_cast<double>(last_epoch());
  std::vector<double> lrs = base_lrs();
  for (double& lr : lrs)
    lr = options_.eta_min + (lr - options_.eta_min) * (1 + std::cos(kPi * e / t_max)) / 2;
  return lrs;
}

void CosineAnnealingLR::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state.value("T_max", options_.T_max);
  state.value("eta_min", options_.eta_min);
}

void CosineAnnealingLR::check_loaded() const {
  LRScheduler::check_loaded();
  check(options_);
}

}  // namespace tapeflow::optim
