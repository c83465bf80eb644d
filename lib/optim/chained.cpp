// ChainedScheduler and SequentialLR, as PyTorch 1.13 writes them.
#include "tapeflow/optim/chained.hpp"

#include <algorithm>
#include <string>

#include "scheduler_state.hpp"

namespace tapeflow::optim {

namespace {

// The optimizer all schedulers share (checked), for the base class.
Optimizer& shared_optimizer(const char* name, const SchedulerList& schedulers, Optimizer* expected) {
  if (schedulers.empty()) fail<ValueError>(name, "needs at least one scheduler, got none");
  Optimizer& first = expected ? *expected : schedulers[0].get().optimizer();
  for (std::size_t i = 0; i < schedulers.size(); ++i)
    if (&schedulers[i].get().optimizer() != &first)
      fail<ValueError>(name, "expects all schedulers to wrap the same optimizer, but scheduler ", i, " (",
                       schedulers[i].get().name(), ") wraps ",
                       expected ? "another one than the optimizer passed in" : "another one than scheduler 0");
  return first;
}

void check_milestones(const std::vector<std::int64_t>& milestones, std::size_t num_schedulers) {
  if (milestones.size() + 1 != num_schedulers)
    fail<ValueError>("SequentialLR", "expects one milestone fewer than schedulers, got ", num_schedulers,
                     " schedulers and ", milestones.size(), " milestones");
  for (std::size_t i = 0; i < milestones.size(); ++i) {
    if (milestones[i] < 1) fail<ValueError>("SequentialLR", "milestones must be positive, got ", milestones[i]);
    if (i > 0 && milestones[i] <= milestones[i - 1])
      fail<ValueError>("SequentialLR", "milestones must be strictly increasing, got ", milestones[i - 1], " then ",
                       milestones[i]);
  }
}

std::vector<double> initial_lrs(const Optimizer& optimizer) {
  std::vector<double> lrs(optimizer.num_param_groups());
  for (std::size_t g = 0; g < lrs.size(); ++g) lrs[g] = optimizer.initial_lr(g).value_or(optimizer.lr(g));
  return lrs;
}

void state_of_schedulers(detail::SchedulerState& state, const SchedulerList& schedulers) {
  for (std::size_t i = 0; i < schedulers.size(); ++i)
    state.nested("_schedulers." + std::to_string(i) + ".", schedulers[i].get());
}

}  // namespace

// ---- ChainedScheduler ----

ChainedScheduler::ChainedScheduler(SchedulerList schedulers)
    : LRScheduler("ChainedScheduler", shared_optimizer("ChainedScheduler", schedulers, nullptr)),
      schedulers_(std::move(schedulers)) {
  // No initial step: the schedulers took theirs when they were built.
  set_base_lrs(initial_lrs(optimizer()));
  set_last_epoch(0);
  set_last_lr(current_lrs());
}

void ChainedScheduler::step() {
  for (auto& s : schedulers_) s.get().step();
  set_last_epoch(last_epoch() + 1);
  set_last_lr(current_lrs());
}

// A composite has no formula of its own (step() is overridden): its lrs are what its schedulers set.
std::vector<double> ChainedScheduler::get_lr() { return current_lrs(); }

void ChainedScheduler::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state_of_schedulers(state, schedulers_);
}

// ---- SequentialLR ----

SequentialLR::SequentialLR(Optimizer& optimizer, SchedulerList schedulers, std::vector<std::int64_t> milestones)
    : LRScheduler("SequentialLR", shared_optimizer("SequentialLR", schedulers, &optimizer)),
      schedulers_(std::move(schedulers)),
      milestones_(std::move(milestones)) {
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    const LRScheduler& s = schedulers_[i].get();
    if (dynamic_cast<const ChainedScheduler*>(&s) || dynamic_cast<const SequentialLR*>(&s))
      fail<ValueError>("SequentialLR", "scheduler ", i, " is a ", s.name(),
                       "; SequentialLR switches between plain schedulers only");
  }
  check_milestones(milestones_, schedulers_.size());
  // As PyTorch: back to the initial lrs, undo the schedulers' initial steps, and start the first.
  const std::vector<double> initial = initial_lrs(optimizer);
  for (std::size_t g = 0; g < initial.size(); ++g) optimizer.set_lr(g, initial[g]);
  for (auto& s : schedulers_) s.get().last_epoch_ -= 1;
  schedulers_[0].get().initial_step();
  set_base_lrs(initial);
  set_last_epoch(0);
  set_last_lr(schedulers_[0].get().get_last_lr());
}

void SequentialLR::step() {
  const std::int64_t epoch = last_epoch() + 1;
  const auto idx = static_cast<std::size_t>(std::upper_bound(milestones_.begin(), milestones_.end(), epoch) -
                                            milestones_.begin());
  LRScheduler& s = schedulers_[idx].get();
  if (idx > 0 && milestones_[idx - 1] == epoch)
    s.step_to(0);  // the next scheduler starts from its own epoch 0
  else
    s.step();
  set_last_epoch(epoch);
  set_last_lr(s.get_last_lr());
}

// A composite has no formula of its own (step() is overridden): its lrs are what its schedulers set.
std::vector<double> SequentialLR::get_lr() { return current_lrs(); }

void SequentialLR::state_fields(detail::SchedulerState& state) {
  LRScheduler::state_fields(state);
  state.list("_milestones", milestones_, /*may_be_empty=*/true);  // one scheduler: none
  state_of_schedulers(state, schedulers_);
}

void SequentialLR::check_loaded() const {
  LRScheduler::check_loaded();
  check_milestones(milestones_, schedulers_.size());
}

}  // namespace tapeflow::optim
