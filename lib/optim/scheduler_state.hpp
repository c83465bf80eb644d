#pragma once
// detail::SchedulerState: one list of a scheduler's saved values that serves both state_dict()
// and load_state_dict(), so that what is saved and what is loaded cannot drift apart.
// Values are 0-d tensors: float64 for reals, int64 for counts, flags and enums; a list is saved
// as "<key>.0", "<key>.1", ...; a nested scheduler's values carry a "<prefix>" before their keys.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "tapeflow/state_dict.hpp"

namespace tapeflow::optim {
class LRScheduler;
}

namespace tapeflow::optim::detail {

class SchedulerState {
 public:
  // Saving: every value() call inserts into out.
  SchedulerState(const char* owner, StateDict& out);
  // Loading: every value() call reads from in (ValueError naming owner and key when missing).
  SchedulerState(const char* owner, const StateDict& in);

  bool loading() const { return in_ != nullptr; }

  void value(const std::string& key, double& v);
  void value(const std::string& key, std::int64_t& v);
  void value(const std::string& key, bool& v);
  // An enum whose values are 0..last.
  template <typename Enum>
    requires std::is_enum_v<Enum>
  void value(const std::string& key, Enum& v, Enum last) {
    auto i = static_cast<std::int64_t>(v);
    value(key, i);
    check_enum(key, i, static_cast<std::int64_t>(last));
    v = static_cast<Enum>(i);
  }
  // Lists must have an element unless may_be_empty (then a missing "<key>.0" loads as empty).
  void list(const std::string& key, std::vector<double>& v, bool may_be_empty = false);
  void list(const std::string& key, std::vector<std::int64_t>& v, bool may_be_empty = false);
  // A wrapped scheduler's values, under "<prefix>" (e.g. "_schedulers.0.").
  void nested(const std::string& prefix, LRScheduler& child);

  // Loading: throws ValueError listing keys that no value() read (a state dict of another
  // scheduler, or of more groups or schedulers than this one has).
  void check_all_read() const;

 private:
  SchedulerState(const SchedulerState& parent, const std::string& prefix);
  const Tensor& read(const std::string& key) const;
  void check_enum(const std::string& key, std::int64_t v, std::int64_t last) const;
  template <typename T>
  void list_of(const std::string& key, std::vector<T>& v, bool may_be_empty);

  const char* owner_;
  StateDict* out_ = nullptr;
  const StateDict* in_ = nullptr;
  std::string prefix_;
  std::shared_ptr<std::set<std::string>> read_keys_;  // shared with nested states
};

// Loads with load(in); on failure reloads what save() gave just before and rethrows, so that a
// failed load_state_dict() leaves the scheduler as it was.
template <typename Save, typename Load>
void load_or_restore(const StateDict& in, Save&& save, Load&& load) {
  const StateDict before = save();
  try {
    load(in);
  } catch (...) {
    load(before);
    throw;
  }
}

}  // namespace tapeflow::optim::detail
