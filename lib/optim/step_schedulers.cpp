// StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR: PyTorch 1.13's
// chainable get_lr() (scaling the optimizer's current lr) and closed forms, term for term so
// that the floating-point results match.
#include "tapeflow/optim/step_schedulers.hpp"

#include <algorithm>
#include <cmath>

#include "scheduler_state.hpp"

namespace tapeflow::optim {

namespace {

std::vector<double> scaled(std::vector<double> lrs, double factor) {
  for (double& lr : lrs) lr *= factor;
  return lrs;
}

void check_positive(const char* scheduler, const char* option, std::int64_t value) {
  if (value < 1) fail<ValueError>(scheduler, option, " must be a positive integer, got ", value);
}

// A multiplicative factor: finite and >= 0 (NaN means "not given").
void check_gamma(const char* scheduler, double gamma) {
  if (std::isnan(gamma)) fail<ValueError>(scheduler, "gamma must be given (a multiplicative factor >= 0)");
  if (!(gamma >= 0.0) || std::isinf(gamma))
    fail<ValueError>(scheduler, "gamma must be a finite multiplicative factor >= 0, got ", gamma);
}

// A factor in (0, 1] (or [0, 1] when zero_allowed).
void check_factor(const char* scheduler, const char* option, double factor, bool zero_allowed) {
  const bool ok = factor <= 1.0 && (zero_allowed ? factor >= 0.0 : factor > 0.0);
  if (!ok)
    fail<ValueError>(scheduler, option, " must be in ", zero_allowed ? "[0, 1]" : "(0, 1]", ", got ", factor);
}

void check(const StepLROptions& o) {
  check_positive("StepLR", "step_size", o.step_size);
  check_gamma("StepLR", o.gamma);
}

void check(const MultiStepLROptions& o) {
  if (o.milestones.empty()) fail<ValueError>("MultiStepLR", "milestones must be given (at least one epoch)");
  for (std::size_t i = 1; i < o.milestones.size(); ++i)
    if (o.milestones[i] <= o.milestones[i - 1])
      fail<ValueError>("MultiStepLR", "milestones must be strictly increasing, got ", o.milestones[i - 1],
                       " then ", o.milestones[i], " (positions ", i - 1, " and ", i, ")");
  check_gamma("MultiStepLR", o.gamma);
}

void check(const ConstantLROptions& o) {
  check_factor("ConstantLR", "factor", o.factor, /*zero_allowed=*/false);
  check_positive("ConstantLR", "total_iters", o.total_iters);
}

void check(const LinearLROptions& o) {
  check_factor("LinearLR", "start_factor", o.start_factor, /*zero_allowed=*/false);
  check_factor("LinearLR", "end_factor", o.end_factor, /*zero_allowed=*/true);
  check_positive("LinearLR", "total_iters", o.total_iters);
}

void check(const ExponentialLROptions& o) { check_gamma("ExponentialLR", o.gamma); }

void check(const PolynomialLROptions& o) {
  check_positive("PolynomialLR", "total_iters", o.total_iters);
  if (!std::isfinite(o.power)) fail<ValueError>("PolynomialLR", "power must be finite, got ", o.power);
}

}  // namespace

// ---- StepLR ----

StepLR::StepLR(Optimizer& optimizer, StepLROptions options) : LRScheduler("StepLR", optimizer), options_(options) {
  check(options_);
  start();
}

std::vector<double> StepLR::get_lr() {
  if (last_epoch() == 0 || last_epoch() % options_.step_size != 0) return current_lrs();
  return scaled(current_lrs(), options_.gamma);
}

std::optional<std::vector<double>> StepLR::closed_form_lr() const {
  const auto decays = static_cast<double>(last_epoch() / options_.step_size);
  return scaled(base_lrs(), std::pow(options_.gamma, decays));
}

void StepLR::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state.value("step_size", options_.step_size);
  state.value("gamma", options_.gamma);
}

void StepLR::check_loaded() const {
  LRScheduler::check_loaded();
  check(options_);
}

// ---- MultiStepLR ----

MultiStepLR::MultiStepLR(Optimizer& optimizer, MultiStepLROptions options)
    : LRScheduler("MultiStepLR", optimizer), options_(std::move(options)) {
  check(options_);
  start();
}

std::vector<double> MultiStepLR::get_lr() {
  const auto& m = options_.milestones;
  // Milestones are distinct, so gamma applies once (PyTorch: gamma ** count).
  if (!std::binary_search(m.begin(), m.end(), last_epoch())) return current_lrs();
  return scaled(current_lrs(), options_.gamma);
}

std::optional<std::vector<double>> MultiStepLR::closed_form_lr() const {
  const auto& m = options_.milestones;
  const auto passed = static_cast<double>(std::upper_bound(m.begin(), m.end(), last_epoch()) - m.begin());
  return scaled(base_lrs(), std::pow(options_.gamma, passed));
}

void MultiStepLR::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state.list("milestones", options_.milestones);
  state.value("gamma", options_.gamma);
}

void MultiStepLR::check_loaded() const {
  LRScheduler::check_loaded();
  check(options_);
}

// ---- ConstantLR ----

ConstantLR::ConstantLR(Optimizer& optimizer, ConstantLROptions options)
    : LRScheduler("ConstantLR", optimizer), options_(options) {
  check(options_);
  start();
}

std::vector<double> ConstantLR::get_lr() {
  if (last_epoch() == 0) return scaled(current_lrs(), options_.factor);
  if (last_epoch() != options_.total_iters) return current_lrs();
  return scaled(current_lrs(), 1.0 / options_.factor);
}

std::optional<std::vector<double>> ConstantLR::closed_form_lr() const {
  const double done = last_epoch() >= options_.total_iters ? 1.0 : 0.0;
  return scaled(base_lrs(), options_.factor + done * (1 - options_.factor));
}

void ConstantLR::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state.value("factor", options_.factor);
  state.value("total_iters", options_.total_iters);
}

void ConstantLR::check_loaded() const {
  LRScheduler::check_loaded();
  check(options_);
}

// ---- LinearLR ----

LinearLR::LinearLR(Optimizer& optimizer, LinearLROptions options)
    : LRScheduler("LinearLR", optimizer), options_(options) {
  check(options_);
  start();
}

std::vector<double> LinearLR::get_lr() {
  const double start = options_.start_factor, end = options_.end_factor;
  const auto total = static_cast<double>(options_.total_iters);
  if (last_epoch() == 0) return scaled(current_lrs(), start);
  if (last_epoch() > options_.total_iters) return current_lrs();
  // The ratio of consecutive factors, as PyTorch writes it.
  const auto previous = static_cast<double>(last_epoch() - 1);
  return scaled(current_lrs(), 1. + (end - start) / (total * start + previous * (end - start)));
}

std::optional<std::vector<double>> LinearLR::closed_form_lr() const {
  const double start = options_.start_factor, end = options_.end_factor;
  const auto progress = static_cast<double>(std::min(options_.total_iters, last_epoch()));
  return scaled(base_lrs(), start + (end - start) * progress / static_cast<double>(options_.total_iters));
}

void LinearLR::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state.value("start_factor", options_.start_factor);
  state.value("end_factor", options_.end_factor);
  state.value("total_iters", options_.total_iters);
}

void LinearLR::check_loaded() const {
  LRScheduler::check_loaded();
  check(options_);
}

// ---- ExponentialLR ----

ExponentialLR::ExponentialLR(Optimizer& optimizer, ExponentialLROptions options)
    : LRScheduler("ExponentialLR", optimizer), options_(options) {
  check(options_);
  start();
}

std::vector<double> ExponentialLR::get_lr() {
  if (last_epoch() == 0) return current_lrs();
  return scaled(current_lrs(), options_.gamma);
}

std::optional<std::vector<double>> ExponentialLR::closed_form_lr() const {
  return scaled(base_lrs(), std::pow(options_.gamma, static_cast<double>(last_epoch())));
}

void ExponentialLR::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state.value("gamma", options_.gamma);
}

void ExponentialLR::check_loaded() const {
  LRScheduler::check_loaded();
  check(options_);
}

// ---- PolynomialLR ----

PolynomialLR::PolynomialLR(Optimizer& optimizer, PolynomialLROptions options)
    : LRScheduler("PolynomialLR", optimizer), options_(options) {
  check(options_);
  start();
}

std::vector<double> PolynomialLR::get_lr() {
  if (last_epoch() == 0 || last_epoch() > options_.total_iters) return current_lrs();
  const auto total = static_cast<double>(options_.total_iters);
  const auto epoch = static_cast<double>(last_epoch());
  const double decay = std::pow((1.0 - epoch / total) / (1.0 - (epoch - 1) / total), options_.power);
  return scaled(current_lrs(), decay);
}

std::optional<std::vector<double>> PolynomialLR::closed_form_lr() const {
  const auto total = static_cast<double>(options_.total_iters);
  const auto progress = static_cast<double>(std::min(options_.total_iters, last_epoch()));
  return scaled(base_lrs(), std::pow(1.0 - progress / total, options_.power));
}

void PolynomialLR::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state.value("total_iters", options_.total_iters);
  state.value("power", options_.power);
}

void PolynomialLR::check_loaded() const {
  LRScheduler::check_loaded();
  check(options_);
}

}  // namespace tapeflow::optim
