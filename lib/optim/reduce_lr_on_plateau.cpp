// ReduceLROnPlateau: PyTorch 1.13's step(), is_better() and _reduce_lr(), term for term.
#include "tapeflow/optim/reduce_lr_on_plateau.hpp"

#include <cmath>
#include <limits>

#include "scheduler_state.hpp"

namespace tapeflow::optim {

namespace {
constexpr const char* kName = "ReduceLROnPlateau";

void check(const ReduceLROnPlateauOptions& o) {
  if (o.mode != PlateauMode::min && o.mode != PlateauMode::max)
    fail<ValueError>(kName, "mode must be min or max, got ", static_cast<int>(o.mode));
  if (o.threshold_mode != ThresholdMode::rel && o.threshold_mode != ThresholdMode::abs)
    fail<ValueError>(kName, "threshold_mode must be rel or abs, got ", static_cast<int>(o.threshold_mode));
  if (!(o.factor < 1.0)) fail<ValueError>(kName, "factor must be < 1.0 (new_lr = lr * factor), got ", o.factor);
  if (!(o.factor >= 0.0)) fail<ValueError>(kName, "factor must be >= 0, got ", o.factor);
  if (o.patience < 0) fail<ValueError>(kName, "patience must be >= 0, got ", o.patience);
  if (o.cooldown < 0) fail<ValueError>(kName, "cooldown must be >= 0, got ", o.cooldown);
  if (!std::isfinite(o.threshold)) fail<ValueError>(kName, "threshold must be finite, got ", o.threshold);
  if (!(o.eps >= 0.0)) fail<ValueError>(kName, "eps must be >= 0, got ", o.eps);
}

double worst(PlateauMode mode) {
  return mode == PlateauMode::min ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}
}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(&optimizer), options_(std::move(options)), best_(worst(options_.mode)) {
  check(options_);
  min_lrs_ = options_.min_lr.resolve(kName, "min_lr", optimizer.num_param_groups());
  for (double m : min_lrs_)
    if (!std::isfinite(m)) fail<ValueError>(kName, "min_lr must be finite, got ", m);
  for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g) last_lr_.push_back(optimizer.lr(g));
}

bool ReduceLROnPlateau::is_better(double a) const {
  const double t = options_.threshold;
  const bool rel = options_.threshold_mode == ThresholdMode::rel;
  if (options_.mode == PlateauMode::min) return rel ? a < best_ * (1. - t) : a < best_ - t;
  return rel ? a > best_ * (t + 1.) : a > best_ + t;
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (in_cooldown()) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs during cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience) {
    reduce_lr();
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  for (std::size_t g = 0; g < last_lr_.size(); ++g) last_lr_[g] = optimizer_->lr(g);
}

void ReduceLROnPlateau::step(const Tensor& metric) {
  if (!metric.defined() || metric.numel() != 1)
    fail<ValueError>(kName, "step: the metric must be a one-element tensor, got ",
                     metric.defined() ? tapeflow::detail::cat_str("shape ", metric.shape()) : std::string("an undefined tensor"));
  step(metric.item<double>());
}

void ReduceLROnPlateau::reduce_lr() {
  for (std::size_t g = 0; g < min_lrs_.size(); ++g) {
    const double old_lr = optimizer_->lr(g);
    const double new_lr = std::max(old_lr * options_.factor, min_lrs_[g]);
    if (old_lr - new_lr > options_.eps) optimizer_->set_lr(g, new_lr);
  }
}

void ReduceLROnPlateau::state_fields(detail::SchedulerState& state) {
  state.value("mode", options_.mode, PlateauMode::max);
  state.value("factor", options_.factor);
  state.value("patience", options_.patience);
  state.value("threshold", options_.threshold);
  state.value("threshold_mode", options_.threshold_mode, ThresholdMode::abs);
  state.value("cooldown", options_.cooldown);
  state.list("min_lrs", min_lrs_);
  state.value("eps", options_.eps);
  state.value("best", best_);
  state.value("num_bad_epochs", num_bad_epochs_);
  state.value("cooldown_counter", cooldown_counter_);
  state.value("last_epoch", last_epoch_);
  state.list("_last_lr", last_lr_);
}

void ReduceLROnPlateau::check_loaded() const {
  check(options_);
  for (const auto* list : {&min_lrs_, &last_lr_})
    if (list->size() != optimizer_->num_param_groups())
      fail<ValueError>(kName, "load_state_dict: the state dict is for ", list->size(),
                       " parameter groups, the optimizer has ", optimizer_->num_param_groups());
}

StateDict ReduceLROnPlateau::state_dict() const {
  StateDict out("ReduceLROnPlateau::state_dict");
  detail::SchedulerState state(kName, out);
  // Saving only reads the fields; state_fields() is shared with loading, hence not const.
  const_cast<ReduceLROnPlateau*>(this)->state_fields(state);
  return out;
}

void ReduceLROnPlateau::load_state_dict(const StateDict& in) {
  detail::load_or_restore(in, [&] { return state_dict(); }, [&](const StateDict& s) {
    detail::SchedulerState state(kName, s);
    state_fields(state);
    state.check_all_read();
    check_loaded();
  });
}

}  // namespace tapeflow::optim
