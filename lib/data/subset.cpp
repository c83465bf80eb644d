#include "tapeflow/data/subset.hpp"

#include <cmath>
#include <numeric>

#include "tapeflow/random.hpp"

namespace tapeflow::data {

Subset::Subset(std::shared_ptr<const Dataset> dataset, std::vector<std::int64_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
  if (!dataset_) fail<ValueError>("Subset", "a dataset, but got null");
  for (auto i : indices_) check_index("Subset", i, dataset_->size());
}

Example Subset::get(std::int64_t index) const {
  check_index("Subset::get", index, size());
  return dataset_->get(indices_[static_cast<std::size_t>(index)]);
}

Example Subset::get_seeded(std::int64_t index, std::uint64_t seed, std::int64_t epoch) const {
  check_index("Subset::get", index, size());
  return dataset_->get_seeded(indices_[static_cast<std::size_t>(index)], seed, epoch);
}

std::optional<Batch> Subset::get_batch(const std::vector<std::int64_t>& indices) const {
  std::vector<std::int64_t> mapped(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    check_index("Subset::get_batch", indices[k], size());
    mapped[k] = indices_[static_cast<std::size_t>(indices[k])];
  }
  return dataset_->get_batch(mapped);
}

namespace {
// Subset sizes from sizes or fractions (see the header).
std::vector<std::int64_t> split_sizes(std::int64_t n, const std::vector<double>& lengths) {
  if (lengths.empty()) fail<ValueError>("random_split", "at least one length, but got none");
  for (double l : lengths)
    if (!(l >= 0)) fail<ValueError>("random_split", "lengths >= 0, but got ", l);
  const double total = std::accumulate(lengths.begin(), lengths.end(), 0.0);
  std::vector<std::int64_t> sizes;
  if (std::abs(total - 1.0) < 1e-9 && n != 1) {
    for (double f : lengths) sizes.push_back(static_cast<std::int64_t>(std::floor(f * static_cast<double>(n))));
    std::int64_t rest = n - std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0});
    for (std::size_t k = 0; rest > 0; k = (k + 1) % sizes.size(), --rest) ++sizes[k];
    return sizes;
  }
  for (double l : lengths) {
    if (l != std::floor(l))
      fail<ValueError>("random_split", "integer sizes or fractions summing to 1, but got ", l);
    sizes.push_back(static_cast<std::int64_t>(l));
  }
  if (std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0}) != n)
    fail<ValueError>("random_split", "sizes summing to the dataset size ", n, " (or fractions summing to 1), but they sum to ",
                     total);
  return sizes;
}
}  // namespace

std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset, const std::vector<double>& lengths,
                                 std::uint64_t seed) {
  if (!dataset) fail<ValueError>("random_split", "a dataset, but got null");
  const std::int64_t n = dataset->size();
  const std::vector<std::int64_t> sizes = split_sizes(n, lengths);
  Generator gen(seed);
  const Tensor perm = randperm(n, TensorOptions(kInt64), &gen);
  const std::int64_t* p = perm.data_ptr<std::int64_t>();
  std::vector<Subset> out;
  std::int64_t start = 0;
  for (std::int64_t s : sizes) {
    out.emplace_back(dataset, std::vector<std::int64_t>(p + start, p + start + s));
    start += s;
  }
  return out;
}

}  // namespace tapeflow::data
