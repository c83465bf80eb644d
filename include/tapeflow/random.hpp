#pragma once
// Random numbers from a counter-based generator (Philox4x32-10): element i of a draw depends only
// on the seed, the generator's offset and i, so results are identical on any thread count
// (and the CUDA backend can draw the same streams).
#include <cstdint>
#include <memory>

#include "tapeflow/creation.hpp"

namespace tapeflow {

// A seed and a counter offset. Copies share one state (like a handle); each draw reserves as
// many counters as it needs, so consecutive draws never overlap.
class Generator {
 public:
  explicit Generator(std::uint64_t seed = 67280421310721ULL);
  void manual_seed(std::uint64_t seed);
  std::uint64_t seed() const;
  // Reserves n counters (each yields four 32-bit words) and returns the first; thread-safe.
  std::uint64_t advance(std::uint64_t n);
  // Same, returning the seed together with the first counter, read under the same lock (so a
  // concurrent manual_seed can never pair one seed with the other's counters). Draws use this.
  struct Reservation {
    std::uint64_t seed;
    std::uint64_t offset;
  };
  Reservation reserve(std::uint64_t n);
  // The next counter a draw would get (seeding resets it to 0).
  std::uint64_t offset() const;
  // The whole state: save it, and set it back later to replay the same draws.
  Reservation get_state() const;
  void set_state(const Reservation& state);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

Generator& default_generator();
void manual_seed(std::uint64_t seed);  // seeds the default generator

// All draws use the default generator unless one is given.
Tensor rand(IntArrayRef shape, TensorOptions options = {}, Generator* gen = nullptr);   // U[0,1)
Tensor randn(IntArrayRef shape, TensorOptions options = {}, Generator* gen = nullptr);  // N(0,1)
// Integers uniform in [low, high); dtype defaults to int64.
Tensor randint(std::int64_t low, std::int64_t high, IntArrayRef shape,
               TensorOptions options = TensorOptions(kInt64), Generator* gen = nullptr);
Tensor randint(std::int64_t high, IntArrayRef shape, TensorOptions options = TensorOptions(kInt64),
               Generator* gen = nullptr);
// 1 with probability p[i] (elementwise), else 0; same dtype as p.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(IntArrayRef shape, double p, TensorOptions options = {}, Generator* gen = nullptr);
// A random permutation of 0..n-1 (int64).
Tensor randperm(std::int64_t n, TensorOptions options = TensorOptions(kInt64), Generator* gen = nullptr);
// In place: U[from, to) and N(mean, std).
Tensor& uniform_(Tensor& t, double from = 0.0, double to = 1.0, Generator* gen = nullptr);
Tensor& normal_(Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);

}  // namespace tapeflow
