// optim::LRScheduler (PyTorch's _LRScheduler: initial lrs, the initial step, step(), state
// dicts), PerGroup, and detail::SchedulerState, the saving/loading of scheduler values.
#include "tapeflow/optim/lr_scheduler.hpp"

#include <sstream>

#include "scheduler_state.hpp"
#include "tapeflow/creation.hpp"

namespace tapeflow::optim {

std::vector<double> PerGroup::resolve(const char* scheduler, const char* option, std::size_t groups) const {
  if (values_.empty()) fail<ValueError>(scheduler, option, " must be given (one value, or one per parameter group)");
  if (values_.size() == 1) return std::vector<double>(groups, values_[0]);
  if (values_.size() != groups)
    fail<ValueError>(scheduler, "expected ", groups, " values for ", option, " (one per parameter group), got ",
                     values_.size());
  return values_;
}

// ---- detail::SchedulerState ----

namespace detail {

SchedulerState::SchedulerState(const char* owner, StateDict& out)
    : owner_(owner), out_(&out), read_keys_(std::make_shared<std::set<std::string>>()) {}

SchedulerState::SchedulerState(const char* owner, const StateDict& in)
    : owner_(owner), in_(&in), read_keys_(std::make_shared<std::set<std::string>>()) {}

SchedulerState::SchedulerState(const SchedulerState& parent, const std::string& prefix)
    : owner_(parent.owner_), out_(parent.out_), in_(parent.in_), prefix_(parent.prefix_ + prefix),
      read_keys_(parent.read_keys_) {}

const Tensor& SchedulerState::read(const std::string& key) const {
  const Tensor* t = in_->find(prefix_ + key);
  if (!t) fail<ValueError>(owner_, "load_state_dict: missing key '", prefix_, key, "'");
  if (!t->defined() || t->numel() != 1)
    fail<ValueError>(owner_, "load_state_dict: '", prefix_, key, "' must be a one-element tensor, got ",
                     t->defined() ? tapeflow::detail::cat_str("shape ", t->shape()) : std::string("an undefined tensor"));
  read_keys_->insert(prefix_ + key);
  return *t;
}

void SchedulerState::value(const std::string& key, double& v) {
  if (loading())
    v = read(key).item<double>();
  else
    out_->insert(prefix_ + key, scalar_tensor(v, kFloat64));
}

void SchedulerState::value(const std::string& key, std::int64_t& v) {
  if (!loading()) {
    out_->insert(prefix_ + key, scalar_tensor(v, kInt64));
    return;
  }
  const Tensor& t = read(key);
  if (t.is_floating_point())
    fail<ValueError>(owner_, "load_state_dict: '", prefix_, key, "' must hold an integer, got dtype ",
                     dtype_name(t.dtype()));
  v = t.item<std::int64_t>();
}

void SchedulerState::value(const std::string& key, bool& v) {
  std::int64_t i = v ? 1 : 0;
  value(key, i);
  check_enum(key, i, 1);
  v = i != 0;
}

void SchedulerState::check_enum(const std::string& key, std::int64_t v, std::int64_t last) const {
  if (v < 0 || v > last)
    fail<ValueError>(owner_, "load_state_dict: '", prefix_, key, "' must be in 0..", last, ", got ", v);
}

template <typename T>
void SchedulerState::list_of(const std::string& key, std::vector<T>& v, bool may_be_empty) {
  if (!loading()) {
    for (std::size_t i = 0; i < v.size(); ++i) value(key + "." + std::to_string(i), v[i]);
    return;
  }
  std::vector<T> loaded;
  while (in_->contains(prefix_ + key + "." + std::to_string(loaded.size()))) {
    T item{};
    value(key + "." + std::to_string(loaded.size()), item);
    loaded.push_back(item);
  }
  if (loaded.empty() && !may_be_empty) fail<ValueError>(owner_, "load_state_dict: missing key '", prefix_, key, ".0'");
  v = std::move(loaded);
}

void SchedulerState::list(const std::string& key, std::vector<double>& v, bool may_be_empty) {
  list_of(key, v, may_be_empty);
}
void SchedulerState::list(const std::string& key, std::vector<std::int64_t>& v, bool may_be_empty) {
  list_of(key, v, may_be_empty);
}

void SchedulerState::nested(const std::string& prefix, LRScheduler& child) {
  SchedulerState sub(*this, prefix);
  child.state_fields(sub);
  if (loading()) child.check_loaded();
}

void SchedulerState::check_all_read() const {
  std::vector<std::string> unread;
  for (const auto& item : *in_)
    if (!read_keys_->count(item.key())) unread.push_back(item.key());
  if (unread.empty()) return;
  std::ostringstream os;
  os << "[" << owner_ << "] load_state_dict: unexpected key" << (unread.size() > 1 ? "s" : "");
  for (std::size_t i = 0; i < unread.size(); ++i) os << (i ? ", '" : " '") << unread[i] << "'";
  os << " (a state dict of another scheduler, or of more parameter groups or schedulers?)";
  throw ValueError(os.str());
}

}  // namespace detail

// ---- LRScheduler ----

std::vector<double> LRScheduler::current_lrs() const {
  std::vector<double> lrs(num_groups());
  for (std::size_t g = 0; g < lrs.size(); ++g) lrs[g] = optimizer_->lr(g);
  return lrs;
}

void LRScheduler::start() {
  std::vector<double> base(num_groups());
  for (std::size_t g = 0; g < base.size(); ++g) {
    if (!optimizer_->initial_lr(g)) optimizer_->set_initial_lr(g, optimizer_->lr(g));
    base[g] = *optimizer_->initial_lr(g);
  }
  base_lrs_ = std::move(base);
  last_epoch_ = -1;
  initial_step();
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

void LRScheduler::apply(const std::vector<double>& lrs) {
  for (std::size_t g = 0; g < lrs.size(); ++g) optimizer_->set_lr(g, lrs[g]);
  last_lr_ = current_lrs();
}

void LRScheduler::step() { advance(last_epoch_ + 1, /*closed_form=*/false); }

void LRScheduler::step_to(std::int64_t epoch) { advance(epoch, /*closed_form=*/true); }

void LRScheduler::advance(std::int64_t epoch, bool closed_form) {
  const std::int64_t old_epoch = last_epoch_, old_count = step_count_;
  ++step_count_;
  last_epoch_ = epoch;
  try {
    std::optional<std::vector<double>> closed = closed_form ? closed_form_lr() : std::nullopt;
    apply(closed ? *closed : get_lr());
  } catch (...) {  // e.g. OneCycleLR stepped past its end: leave the counters as they were
    last_epoch_ = old_epoch;
    step_count_ = old_count;
    throw;
  }
}

void LRScheduler::state_fields(detail::SchedulerState& state) {
  state.list("base_lrs", base_lrs_);
  state.value("last_epoch", last_epoch_);
  state.value("_step_count", step_count_);
  state.list("_last_lr", last_lr_);
}

void LRScheduler::check_loaded() const {
  for (const auto* list : {&base_lrs_, &last_lr_})
    if (list->size() != num_groups())
      fail<ValueError>(name_, "load_state_dict: the state dict is for ", list->size(),
                       " parameter groups, the optimizer has ", num_groups());
}

StateDict LRScheduler::state_dict() const {
  StateDict out(std::string(name_) + "::state_dict");
  detail::SchedulerState state(name_, out);
  // Saving only reads the fields; state_fields() is shared with loading, hence not const.
  const_cast<LRScheduler*>(this)->state_fields(state);
  return out;
}

void LRScheduler::load_fields(const StateDict& in) {
  detail::SchedulerState state(name_, in);
  state_fields(state);
  state.check_all_read();
  check_loaded();
}

void LRScheduler::load_state_dict(const StateDict& in) {
  detail::load_or_restore(in, [&] { return state_dict(); }, [&](const StateDict& s) { load_fields(s); });
}

}  // namespace tapeflow::optim
