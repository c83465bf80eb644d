// The DataLoader's epochs: batch index lists, the in-thread path, and the worker threads.
#include "tapeflow/data/dataloader.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "tapeflow/cuda.hpp"
#include "tapeflow/ops/shape.hpp"
#include "tapeflow/random.hpp"

namespace tapeflow::data {

Batch default_collate(std::vector<Example> examples) {
  if (examples.empty()) fail<ValueError>("default_collate", "at least one example, but got none");
  std::vector<Tensor> data, target;
  data.reserve(examples.size());
  target.reserve(examples.size());
  const bool has_target = examples.front().target.defined();
  for (std::size_t i = 0; i < examples.size(); ++i) {
    Example& e = examples[i];
    if (!e.data.defined()) fail<ValueError>("default_collate", "examples with data, but example ", i, " has none");
    if (e.target.defined() != has_target)
      fail<ValueError>("default_collate", "all examples with a target or none, but example ", i, " differs from example 0");
    data.push_back(std::move(e.data));
    if (has_target) target.push_back(std::move(e.target));
  }
  return {stack(data, 0), has_target ? stack(target, 0) : Tensor{}};
}

// One epoch: its batches' indices, the batch last yielded, and (with workers) the threads and
// the bounded, ordered queue they fill.
class DataLoader::Run {
 public:
  Run(std::shared_ptr<const Dataset> dataset, const DataLoaderOptions& options, Collate collate,
      std::int64_t epoch, std::vector<std::vector<std::int64_t>> batches)
      : dataset_(std::move(dataset)), options_(options), collate_(std::move(collate)), epoch_(epoch),
        batches_(std::move(batches)),
        capacity_(static_cast<std::size_t>(options.num_workers) * static_cast<std::size_t>(options.prefetch)) {}
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  ~Run() { stop_workers(); }

  // Makes batch `position` current; starts the workers on first use.
  void load(std::size_t position) {
    position_ = position;
    if (position_ >= batches_.size()) {
      current_ = Batch{};
      stop_workers();
      return;
    }
    try {
      if (options_.num_workers > 0 && threads_.empty()) start_workers();
      current_ = options_.num_workers == 0 ? build(position_) : take(position_);
    } catch (...) {
      position_ = batches_.size();  // the epoch ends at the first error
      current_ = Batch{};
      stop_workers();
      throw;
    }
  }
  void advance() { load(position_ + 1); }
  bool at_end() const { return position_ >= batches_.size(); }
  const Batch& current() const { return current_; }

 private:
  Batch build(std::size_t b) const {
    Batch batch = collect(b);
    if (options_.pin_memory && cuda::is_available()) {  // in the worker, so the copy overlaps training
      if (batch.data.defined() && batch.data.is_cpu()) batch.data = batch.data.pin_memory();
      if (batch.target.defined() && batch.target.is_cpu()) batch.target = batch.target.pin_memory();
    }
    return batch;
  }

  Batch collect(std::size_t b) const {
    const std::vector<std::int64_t>& indices = batches_[b];
    if (!collate_) {
      if (std::optional<Batch> fast = dataset_->get_batch(indices)) return std::move(*fast);
    }
    std::vector<Example> examples;
    examples.reserve(indices.size());
    for (std::int64_t i : indices) examples.push_back(dataset_->get_seeded(i, options_.seed, epoch_));
    return collate_ ? collate_(std::move(examples)) : default_collate(std::move(examples));
  }

  void start_workers() {
    threads_.reserve(static_cast<std::size_t>(options_.num_workers));
    for (int w = 0; w < options_.num_workers; ++w) threads_.emplace_back([this] { worker_loop(); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    space_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    ready_.clear();
  }

  // Claims the next unclaimed batch while fewer than `capacity_` wait unconsumed.
  void worker_loop() {
    for (;;) {
      std::size_t b;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        space_cv_.wait(lock, [this] {
          return stop_ || next_claim_ >= batches_.size() || next_claim_ < consumed_ + capacity_;
        });
        if (stop_ || next_claim_ >= batches_.size()) return;
        b = next_claim_++;
      }
      Slot slot;
      try {
        slot.batch = build(b);
      } catch (...) {
        slot.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.emplace(b, std::move(slot));
      }
      ready_cv_.notify_all();
    }
  }

  Batch take(std::size_t b) {
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_cv_.wait(lock, [&] { return ready_.count(b) != 0; });
      auto it = ready_.find(b);
      slot = std::move(it->second);
      ready_.erase(it);
      consumed_ = b + 1;
    }
    space_cv_.notify_all();
    if (slot.error) std::rethrow_exception(slot.error);
    return std::move(slot.batch);
  }

  struct Slot {
    Batch batch{};
    std::exception_ptr error{};
  };

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  Collate collate_;
  std::int64_t epoch_;
  std::vector<std::vector<std::int64_t>> batches_;
  std::size_t position_ = 0;
  Batch current_{};

  // Worker state, guarded by mutex_.
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_cv_, space_cv_;
  std::size_t next_claim_ = 0, consumed_ = 0;
  std::map<std::size_t, Slot> ready_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options, Collate collate)
    : dataset_(std::move(dataset)), options_(options), collate_(std::move(collate)) {
  if (!dataset_) fail<ValueError>("DataLoader", "a dataset, but got null");
  if (options_.batch_size < 1) fail<ValueError>("DataLoader", "batch_size >= 1, but got ", options_.batch_size);
  if (options_.num_workers < 0) fail<ValueError>("DataLoader", "num_workers >= 0, but got ", options_.num_workers);
  if (options_.prefetch < 1) fail<ValueError>("DataLoader", "prefetch >= 1, but got ", options_.prefetch);
}

std::int64_t DataLoader::size() const {
  const std::int64_t n = dataset_->size(), bs = options_.batch_size;
  return options_.drop_last ? n / bs : (n + bs - 1) / bs;
}

std::vector<std::vector<std::int64_t>> DataLoader::batch_indices(std::int64_t epoch) const {
  const std::int64_t n = dataset_->size();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  if (options_.shuffle && n > 0) {
    Generator gen(derive_seed(options_.seed, static_cast<std::uint64_t>(epoch)));
    const Tensor perm = randperm(n, TensorOptions(kInt64), &gen);
    const std::int64_t* p = perm.data_ptr<std::int64_t>();
    order.assign(p, p + n);
  } else {
    for (std::int64_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  }
  std::vector<std::vector<std::int64_t>> batches(static_cast<std::size_t>(size()));
  const auto bs = static_cast<std::size_t>(options_.batch_size);
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const std::size_t start = b * bs, stop = std::min(order.size(), start + bs);
    batches[b].assign(order.begin() + static_cast<std::ptrdiff_t>(start), order.begin() + static_cast<std::ptrdiff_t>(stop));
  }
  return batches;
}

DataLoader::iterator DataLoader::begin() {
  const std::int64_t epoch = epoch_++;
  auto run = std::make_shared<Run>(dataset_, options_, collate_, epoch, batch_indices(epoch));
  run->load(0);  // outside the constructor: if it throws, ~Run still joins the workers
  return iterator(std::move(run));
}

DataLoader::iterator::iterator(std::shared_ptr<Run> run) : run_(std::move(run)) {}

const Batch& DataLoader::iterator::operator*() const {
  if (at_end()) fail<IndexError>("DataLoader::iterator", "a batch, but the iterator is at the end");
  return run_->current();
}

DataLoader::iterator& DataLoader::iterator::operator++() {
  if (!at_end()) run_->advance();
  if (at_end()) run_.reset();  // the epoch is over: release its batch and threads now
  return *this;
}

bool DataLoader::iterator::at_end() const { return !run_ || run_->at_end(); }

}  // namespace tapeflow::data
