#pragma once
// Subset (a view of chosen examples) and random_split (train/validation splits).
#include <vector>

#include "tapeflow/data/dataset.hpp"

namespace tapeflow::data {

// Example i is example indices[i] of the underlying dataset.
class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> dataset, std::vector<std::int64_t> indices);
  template <typename D, std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>, int> = 0>
  Subset(D&& dataset, std::vector<std::int64_t> indices) : Subset(share(std::forward<D>(dataset)), std::move(indices)) {}

  std::int64_t size() const override { return static_cast<std::int64_t>(indices_.size()); }
  Example get(std::int64_t index) const override;
  Example get_seeded(std::int64_t index, std::uint64_t seed, std::int64_t epoch) const override;
  std::optional<Batch> get_batch(const std::vector<std::int64_t>& indices) const override;

  const std::vector<std::int64_t>& indices() const { return indices_; }
  const Dataset& dataset() const { return *dataset_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<std::int64_t> indices_;
};

// Splits a dataset into disjoint random subsets, like torch.utils.data.random_split: `lengths`
// are sizes summing to size(), or fractions summing to 1 (floored, and the remainder spread
// one by one over the first subsets). The permutation comes from a Philox generator seeded with
// `seed` (PyTorch takes a generator; a seed keeps the split reproducible by construction).
std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset, const std::vector<double>& lengths,
                                 std::uint64_t seed = 0);
template <typename D, std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>, int> = 0>
std::vector<Subset> random_split(D&& dataset, const std::vector<double>& lengths, std::uint64_t seed = 0) {
  return random_split(share(std::forward<D>(dataset)), lengths, seed);
}

}  // namespace tapeflow::data
