// Generator state: a seed and the next free Philox counter, guarded by one mutex so that a
// reservation always pairs a seed with counters reserved under that same seed.
#include <mutex>

#include "tapeflow/random.hpp"

namespace tapeflow {

struct Generator::State {
  mutable std::mutex mutex;
  std::uint64_t seed = 0;
  std::uint64_t offset = 0;
};

Generator::Generator(std::uint64_t seed) : state_(std::make_shared<State>()) { state_->seed = seed; }

void Generator::manual_seed(std::uint64_t seed) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->seed = seed;
  state_->offset = 0;
}

std::uint64_t Generator::seed() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->seed;
}

std::uint64_t Generator::offset() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->offset;
}

Generator::Reservation Generator::get_state() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return {state_->seed, state_->offset};
}

void Generator::set_state(const Reservation& s) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->seed = s.seed;
  state_->offset = s.offset;
}

Generator::Reservation Generator::reserve(std::uint64_t n) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  const Reservation r{state_->seed, state_->offset};
  state_->offset += n;
  return r;
}

std::uint64_t Generator::advance(std::uint64_t n) { return reserve(n).offset; }

Generator& default_generator() {
  static Generator* gen = new Generator();  // never destroyed: draws may run during static teardown
  return *gen;
}

void manual_seed(std::uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace tapeflow
