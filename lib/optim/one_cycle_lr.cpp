// OneCycleLR: PyTorch 1.13's phases, annealing functions and momentum cycling, term for term.
#include "tapeflow/optim/one_cycle_lr.hpp"

#include <cmath>
#include <numbers>

#include "scheduler_state.hpp"

namespace tapeflow::optim {

namespace {
constexpr const char* kName = "OneCycleLR";

std::int64_t resolve_total_steps(const OneCycleLROptions& o) {
  if (o.total_steps) {
    if (*o.total_steps <= 0) fail<ValueError>(kName, "total_steps must be a positive integer, got ", *o.total_steps);
    return *o.total_steps;
  }
  if (!o.epochs && !o.steps_per_epoch)
    fail<ValueError>(kName, "the cycle's length must be given: total_steps, or epochs and steps_per_epoch");
  if (!o.epochs || !o.steps_per_epoch)
    fail<ValueError>(kName, "epochs and steps_per_epoch must both be given (or total_steps), got only ",
                     o.epochs ? "epochs" : "steps_per_epoch");
  if (*o.epochs <= 0) fail<ValueError>(kName, "epochs must be a positive integer, got ", *o.epochs);
  if (*o.steps_per_epoch <= 0)
    fail<ValueError>(kName, "steps_per_epoch must be a positive integer, got ", *o.steps_per_epoch);
  return *o.epochs * *o.steps_per_epoch;
}

void check_scalars(const OneCycleLROptions& o) {
  if (!(o.pct_start >= 0.0 && o.pct_start <= 1.0))
    fail<ValueError>(kName, "pct_start must be between 0 and 1, got ", o.pct_start);
  if (!(o.div_factor > 0.0) || std::isinf(o.div_factor))
    fail<ValueError>(kName, "div_factor must be a finite number > 0, got ", o.div_factor);
  if (!(o.final_div_factor > 0.0) || std::isinf(o.final_div_factor))
    fail<ValueError>(kName, "final_div_factor must be a finite number > 0, got ", o.final_div_factor);
  if (o.anneal_strategy != AnnealStrategy::cos && o.anneal_strategy != AnnealStrategy::linear)
    fail<ValueError>(kName, "anneal_strategy must be cos or linear, got ", static_cast<int>(o.anneal_strategy));
}
}  // namespace

OneCycleLR::OneCycleLR(Optimizer& optimizer, OneCycleLROptions options)
    : LRScheduler(kName, optimizer), options_(std::move(options)) {
  total_steps_ = resolve_total_steps(options_);
  check_scalars(options_);
  max_lrs_ = options_.max_lr.resolve(kName, "max_lr", num_groups());
  if (options_.cycle_momentum) {
    for (std::size_t g = 0; g < num_groups(); ++g)
      if (!optimizer.momentum(g))
        fail<ValueError>(kName, "cycle_momentum needs an optimizer with a momentum (or beta1) option; group ", g,
                         " has none (pass .cycle_momentum = false)");
    max_momentums_ = options_.max_momentum.resolve(kName, "max_momentum", num_groups());
    base_momentums_ = options_.base_momentum.resolve(kName, "base_momentum", num_groups());
  }
  // PyTorch overwrites the groups' initial_lr before the base class reads it.
  std::vector<double> initial(num_groups());
  min_lrs_.resize(num_groups());
  for (std::size_t g = 0; g < num_groups(); ++g) {
    initial[g] = max_lrs_[g] / options_.div_factor;
    min_lrs_[g] = initial[g] / options_.final_div_factor;
    optimizer.set_initial_lr(g, initial[g]);
    if (options_.cycle_momentum) optimizer.set_momentum(g, max_momentums_[g]);
  }
  start();
}

std::vector<OneCycleLR::Phase> OneCycleLR::phases() const {
  const double pct = options_.pct_start;
  const auto total = static_cast<double>(total_steps_);
  if (options_.three_phase)
    return {{pct * total - 1, LrLevel::initial, LrLevel::max, MomentumLevel::max, MomentumLevel::base},
            {2 * pct * total - 2, LrLevel::max, LrLevel::initial, MomentumLevel::base, MomentumLevel::max},
            {total - 1, LrLevel::initial, LrLevel::min, MomentumLevel::max, MomentumLevel::max}};
  return {{pct * total - 1, LrLevel::initial, LrLevel::max, MomentumLevel::max, MomentumLevel::base},
          {total - 1, LrLevel::max, LrLevel::min, MomentumLevel::base, MomentumLevel::max}};
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (options_.anneal_strategy == AnnealStrategy::linear) return (end - start) * pct + start;
  const double cos_out = std::cos(std::numbers::pi * pct) + 1;
  return end + (start - end) / 2.0 * cos_out;
}

std::vector<double> OneCycleLR::get_lr() {
  const std::int64_t step_num = last_epoch();
  if (step_num > total_steps_)
    fail<ValueError>(kName, "tried to step ", step_num + 1, " times; the specified number of total steps is ",
                     total_steps_);
  // Find the phase and the fraction of it done (the same for every group).
  const std::vector<Phase> all = phases();
  const auto step = static_cast<double>(step_num);
  double start_step = 0;
  std::size_t i = 0;
  while (!(step <= all[i].end_step || i + 1 == all.size())) start_step = all[i++].end_step;
  const Phase& phase = all[i];
  if (phase.end_step == start_step)
    fail<ValueError>(kName, "phase ", i, " of the cycle has zero length at step ", step_num,
                     " (pct_start * total_steps = ", options_.pct_start * static_cast<double>(total_steps_),
                     "); change pct_start or total_steps");
  const double pct = (step - start_step) / (phase.end_step - start_step);

  std::vector<double> lrs(num_groups());
  for (std::size_t g = 0; g < num_groups(); ++g) {
    auto lr_at = [&](LrLevel level) {
      return level == LrLevel::initial ? base_lrs()[g] : level == LrLevel::max ? max_lrs_[g] : min_lrs_[g];
    };
    lrs[g] = anneal(lr_at(phase.lr_from), lr_at(phase.lr_to), pct);
    if (options_.cycle_momentum) {
      auto momentum_at = [&](MomentumLevel level) {
        return level == MomentumLevel::base ? base_momentums_[g] : max_momentums_[g];
      };
      optimizer().set_momentum(g, anneal(momentum_at(phase.momentum_from), momentum_at(phase.momentum_to), pct));
    }
  }
  return lrs;
}

void OneCycleLR::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state.value("total_steps", total_steps_);
  state.value("pct_start", options_.pct_start);
  state.value("anneal_strategy", options_.anneal_strategy, AnnealStrategy::linear);
  state.value("div_factor", options_.div_factor);
  state.value("final_div_factor", options_.final_div_factor);
  state.value("three_phase", options_.three_phase);
  state.list("max_lrs", max_lrs_);
  state.list("min_lrs", min_lrs_);
  state.value("cycle_momentum", options_.cycle_momentum);
  if (options_.cycle_momentum) {
    state.list("max_momentums", max_momentums_);
    state.list("base_momentums", base_momentums_);
  }
}

void OneCycleLR::check_loaded() const {
  LRScheduler::check_loaded();
  if (total_steps_ <= 0) fail<ValueError>(kName, "total_steps must be a positive integer, got ", total_steps_);
  check_scalars(options_);
  std::vector<const std::vector<double>*> lists = {&max_lrs_, &min_lrs_};
  if (options_.cycle_momentum) lists.insert(lists.end(), {&max_momentums_, &base_momentums_});
  for (const auto* list : lists)
    if (list->size() != num_groups())
      fail<ValueError>(kName, "load_state_dict: the state dict is for ", list->size(),
                       " parameter groups, the optimizer has ", num_groups());
  if (options_.cycle_momentum)
    for (std::size_t g = 0; g < num_groups(); ++g)
      if (!optimizer().momentum(g))
        fail<ValueError>(kName, "load_state_dict: the state dict cycles momentum, but group ", g,
                         " of the optimizer has no momentum (or beta1) option");
}

}  // namespace tapeflow::optim
