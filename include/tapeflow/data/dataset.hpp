#pragma once
// Datasets: random access to examples (size(), get(i)), like torch.utils.data.Dataset.
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/tensor.hpp"

namespace tapeflow::data {

// One example: an input and its target (target may be undefined for unlabelled data).
struct Example {
  Tensor data{};
  Tensor target{};
};

// A batch as the DataLoader yields it: examples stacked along a new dim 0.
struct Batch {
  Tensor data{};
  Tensor target{};
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::int64_t size() const = 0;
  // Throws IndexError when index is outside [0, size()).
  virtual Example get(std::int64_t index) const = 0;

  // The example as seen in `epoch` of a loader seeded with `seed`: datasets with random
  // transforms derive their randomness from (seed, epoch, index), so batches do not depend on
  // which worker thread builds them. Plain datasets ignore seed and epoch.
  virtual Example get_seeded(std::int64_t index, std::uint64_t seed, std::int64_t epoch) const {
    (void)seed;
    (void)epoch;
    return get(index);
  }

  // Fast path: a whole batch at once (e.g. one index_select per tensor instead of one stack of
  // many small tensors), equal to stacking get(i) for each index. nullopt: not supported.
  virtual std::optional<Batch> get_batch(const std::vector<std::int64_t>& indices) const {
    (void)indices;
    return std::nullopt;
  }
};

// A shared, immutable copy of a concrete dataset (datasets are cheap handles to their tensors);
// wrappers such as Subset, MapDataset and DataLoader hold their dataset this way.
template <typename D, std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>, int> = 0>
std::shared_ptr<const Dataset> share(D&& dataset) {
  return std::make_shared<const std::decay_t<D>>(std::forward<D>(dataset));
}

// Throws IndexError naming `op` unless 0 <= index < size.
void check_index(const char* op, std::int64_t index, std::int64_t size);

// A well-mixed seed for (seed, a, b) (splitmix64 rounds): generators seeded from it give
// streams that depend only on these numbers, never on thread or call order.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0);

}  // namespace tapeflow::data
