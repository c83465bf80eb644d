#pragma once
// DataLoader: iterates a Dataset in batches, like torch.utils.data.DataLoader.
//
//   data::DataLoader loader(train_set, {.batch_size = 64, .shuffle = true, .num_workers = 2});
//   for (int epoch = 0; epoch < 5; ++epoch)
//     for (const data::Batch& batch : loader) { ... batch.data, batch.target ... }
//
// Each range-for is one epoch. With shuffle, epoch e uses the permutation drawn by a Philox
// generator seeded from (seed, e), so two runs give identical batches, whatever num_workers.
// Workers (std::threads) build the next batches while the current one trains, into a bounded
// queue (prefetch batches per worker), and batches are always yielded in order. Leaving the
// loop early (break, or an exception) stops and joins the workers; an exception thrown while
// building a batch is rethrown to the loop when that batch is reached, and ends the epoch.
// With workers, the dataset's get/get_seeded/get_batch and the collate function are called
// from several threads at once: they must only read shared state (all datasets here do).
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <vector>

#include "tapeflow/data/dataset.hpp"

namespace tapeflow::data {

struct DataLoaderOptions {
  std::int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;   // drop the last batch when it is smaller than batch_size
  int num_workers = 0;      // 0: batches are built on the iterating thread
  int prefetch = 2;         // batches queued ahead per worker (PyTorch's prefetch_factor)
  std::uint64_t seed = 0;   // shuffle order and random transforms derive from (seed, epoch)
  // Batches in page-locked host memory (Tensor::pin_memory), so .to(cuda) copies them faster;
  // ignored when no GPU is available (PyTorch warns and ignores it too).
  bool pin_memory = false;
};

// Turns a list of examples into a batch.
using Collate = std::function<Batch(std::vector<Example>)>;

// Stacks the data (and the targets, when defined) along a new dim 0.
Batch default_collate(std::vector<Example> examples);

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {}, Collate collate = {});
  // Takes a copy of a concrete dataset (datasets are cheap handles to their tensors).
  template <typename D, std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>, int> = 0>
  explicit DataLoader(D&& dataset, DataLoaderOptions options = {}, Collate collate = {})
      : DataLoader(share(std::forward<D>(dataset)), options, std::move(collate)) {}

  // Number of batches per epoch.
  std::int64_t size() const;
  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }

  // The epoch the next begin() iterates; begin() then advances it. set_epoch replays an epoch.
  std::int64_t epoch() const { return epoch_; }
  void set_epoch(std::int64_t epoch) { epoch_ = epoch; }

  // The dataset indices of every batch of `epoch`, in order.
  std::vector<std::vector<std::int64_t>> batch_indices(std::int64_t epoch) const;

  class Run;  // one epoch in progress (and its workers)
  class iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(std::shared_ptr<Run> run);
    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    iterator& operator++();
    bool operator==(const iterator& other) const { return at_end() == other.at_end(); }
    bool operator!=(const iterator& other) const { return !(*this == other); }

   private:
    bool at_end() const;
    std::shared_ptr<Run> run_;  // null for end(); copies share the epoch
  };
  // Starts an epoch (and its workers). Iterators own the epoch: when the last copy is gone
  // (the loop ended, broke or threw), the workers are stopped and joined.
  iterator begin();
  iterator end() const { return iterator(); }

 private:
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  Collate collate_;
  std::int64_t epoch_ = 0;
};

}  // namespace tapeflow::data
