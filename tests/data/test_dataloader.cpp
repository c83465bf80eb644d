// DataLoader: batch contents, shuffling, workers, early exit and errors.
#include <catch2/catch.hpp>

#include <filesystem>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using data::Batch;
using data::DataLoader;
using data::TensorDataset;

namespace {

// Example i has data row [3i, 3i+1, 3i+2] (float) and target i (int64).
TensorDataset make_dataset(std::int64_t n) {
  std::vector<float> values(static_cast<std::size_t>(n * 3));
  std::iota(values.begin(), values.end(), 0.0f);
  std::vector<std::int64_t> targets(static_cast<std::size_t>(n));
  std::iota(targets.begin(), targets.end(), 0);
  return TensorDataset(tensor(values, {n, 3}), tensor(targets, TensorOptions(kInt64)));
}

std::vector<std::int64_t> to_vector(const Tensor& t) {
  const Tensor c = t.contiguous();
  const std::int64_t* p = c.data_ptr<std::int64_t>();
  return {p, p + c.numel()};
}

// The target (= example index) lists of every batch, checking each data row against its index.
std::vector<std::vector<std::int64_t>> epoch_indices(DataLoader& loader) {
  std::vector<std::vector<std::int64_t>> out;
  for (const Batch& batch : loader) {
    const auto idx = to_vector(batch.target);
    const Tensor d = batch.data.contiguous();
    REQUIRE(d.size(0) == static_cast<std::int64_t>(idx.size()));
    REQUIRE(d.size(1) == 3);
    for (std::size_t r = 0; r < idx.size(); ++r)
      for (int c = 0; c < 3; ++c)
        REQUIRE(d.data_ptr<float>()[r * 3 + static_cast<std::size_t>(c)] == static_cast<float>(idx[r] * 3 + c));
    out.push_back(idx);
  }
  return out;
}

// Goes through get() one example at a time (no batch fast path); throws at `bad_index`.
class CountingDataset : public data::Dataset {
 public:
  CountingDataset(std::int64_t n, std::int64_t bad_index) : n_(n), bad_(bad_index) {}
  std::int64_t size() const override { return n_; }
  data::Example get(std::int64_t i) const override {
    data::check_index("CountingDataset", i, n_);
    if (i == bad_) throw std::runtime_error("bad example " + std::to_string(i));
    return {full({2}, static_cast<double>(i)), scalar_tensor(i, TensorOptions(kInt64))};
  }

 private:
  std::int64_t n_, bad_;
};

}  // namespace

TEST_CASE("batches in order hold the hand-computed rows", "[data][dataloader]") {
  DataLoader loader(make_dataset(10), {.batch_size = 4});
  REQUIRE(loader.size() == 3);
  const auto got = epoch_indices(loader);
  REQUIRE(got == std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}});
}

TEST_CASE("drop_last drops the short batch", "[data][dataloader]") {
  DataLoader loader(make_dataset(10), {.batch_size = 4, .drop_last = true});
  REQUIRE(loader.size() == 2);
  REQUIRE(epoch_indices(loader) == std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}});
  DataLoader exact(make_dataset(8), {.batch_size = 4, .drop_last = true});
  REQUIRE(exact.size() == 2);
}

TEST_CASE("shuffle is a reproducible permutation per epoch", "[data][dataloader]") {
  const data::DataLoaderOptions opts{.batch_size = 7, .shuffle = true, .seed = 42};
  DataLoader a(make_dataset(50), opts), b(make_dataset(50), opts);
  const auto a0 = epoch_indices(a), a1 = epoch_indices(a);
  const auto b0 = epoch_indices(b), b1 = epoch_indices(b);
  REQUIRE(a0 == b0);
  REQUIRE(a1 == b1);
  REQUIRE(a0 != a1);  // a new order each epoch
  std::vector<std::int64_t> flat;
  for (const auto& batch : a0) flat.insert(flat.end(), batch.begin(), batch.end());
  std::vector<std::int64_t> sorted = flat;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> expected(50);
  std::iota(expected.begin(), expected.end(), 0);
  REQUIRE(sorted == expected);
  REQUIRE(flat != expected);  // actually shuffled
  // batch_indices() tells the same order, and set_epoch replays an epoch.
  std::vector<std::vector<std::int64_t>> planned = a.batch_indices(1);
  REQUIRE(planned == a1);
  a.set_epoch(0);
  REQUIRE(epoch_indices(a) == a0);
  DataLoader other_seed(make_dataset(50), {.batch_size = 7, .shuffle = true, .seed = 43});
  REQUIRE(epoch_indices(other_seed) != a0);
}

TEST_CASE("0, 1 and 3 workers give the same batches", "[data][dataloader][workers]") {
  std::vector<std::vector<std::vector<std::int64_t>>> runs;
  for (int workers : {0, 1, 3}) {
    DataLoader loader(make_dataset(101), {.batch_size = 8, .shuffle = true, .num_workers = workers, .seed = 5});
    const auto e0 = epoch_indices(loader);
    const auto e1 = epoch_indices(loader);
    REQUIRE(e0.size() == 13);
    REQUIRE(e0 != e1);
    runs.push_back(e0);
    runs.back().insert(runs.back().end(), e1.begin(), e1.end());
  }
  REQUIRE(runs[0] == runs[1]);
  REQUIRE(runs[0] == runs[2]);
  // The per-example path (default collate stacking get(i)) agrees with the fast path.
  for (int workers : {0, 2}) {
    DataLoader slow(CountingDataset(30, -1), {.batch_size = 4, .shuffle = true, .num_workers = workers, .seed = 5});
    DataLoader fast(make_dataset(30), {.batch_size = 4, .shuffle = true, .num_workers = workers, .seed = 5});
    std::vector<std::vector<std::int64_t>> slow_idx;
    for (const Batch& b : slow) {
      REQUIRE(b.data.size(1) == 2);
      REQUIRE(b.target.dim() == 1);
      const auto idx = to_vector(b.target);
      for (std::size_t r = 0; r < idx.size(); ++r)
        REQUIRE(b.data.contiguous().data_ptr<float>()[2 * r] == static_cast<float>(idx[r]));
      slow_idx.push_back(idx);
    }
    REQUIRE(slow_idx == epoch_indices(fast));
  }
}

TEST_CASE("breaking out of the loop stops the workers; the next epoch works", "[data][dataloader][workers]") {
  for (int workers : {0, 1, 3}) {
    DataLoader loader(make_dataset(1000), {.batch_size = 2, .num_workers = workers, .prefetch = 2});
    int seen = 0;
    for (const Batch& b : loader) {
      REQUIRE(b.data.size(0) == 2);
      if (++seen == 3) break;
    }
    REQUIRE(seen == 3);
    REQUIRE(epoch_indices(loader).size() == 500);
  }
}

TEST_CASE("an exception in the loop body leaves cleanly", "[data][dataloader][workers]") {
  DataLoader loader(make_dataset(200), {.batch_size = 3, .num_workers = 2});
  auto consume = [&] {
    for (const Batch& b : loader) {
      if (to_vector(b.target)[0] == 9) throw std::logic_error("stop");
    }
  };
  REQUIRE_THROWS_AS(consume(), std::logic_error);
  REQUIRE(epoch_indices(loader).size() == 67);
}

TEST_CASE("an exception while building a batch reaches the loop", "[data][dataloader][workers]") {
  for (int workers : {0, 2}) {
    DataLoader loader(CountingDataset(40, 13), {.batch_size = 4, .num_workers = workers});
    std::vector<std::int64_t> firsts;
    auto consume = [&] {
      for (const Batch& b : loader) firsts.push_back(to_vector(b.target)[0]);
    };
    REQUIRE_THROWS_WITH(consume(), "bad example 13");
    REQUIRE(firsts == std::vector<std::int64_t>{0, 4, 8});  // every batch before the bad one
    // The epoch ends at the error: the iterator that threw now equals end().
    auto it = loader.begin();
    auto advance_all = [&] {
      for (; it != loader.end(); ++it) {
      }
    };
    REQUIRE_THROWS_WITH(advance_all(), "bad example 13");
    REQUIRE(it == loader.end());
    // The first batch failing (inside begin()) is also clean.
    DataLoader first_bad(CountingDataset(10, 0), {.batch_size = 4, .num_workers = workers});
    REQUIRE_THROWS_WITH(first_bad.begin(), "bad example 0");
  }
}

TEST_CASE("a custom collate replaces stacking", "[data][dataloader]") {
  // Collate: data = sum of the example rows, target = the number of examples.
  data::Collate sum_rows = [](std::vector<data::Example> examples) {
    Tensor total = zeros({3});
    for (const auto& e : examples) total = total + e.data;
    return Batch{total, scalar_tensor(static_cast<std::int64_t>(examples.size()), TensorOptions(kInt64))};
  };
  for (int workers : {0, 2}) {
    DataLoader loader(make_dataset(5), {.batch_size = 2, .num_workers = workers}, sum_rows);
    std::vector<std::vector<float>> sums;
    std::vector<std::int64_t> counts;
    for (const Batch& b : loader) {
      const Tensor d = b.data.contiguous();
      sums.push_back({d.data_ptr<float>(), d.data_ptr<float>() + 3});
      counts.push_back(b.target.item<std::int64_t>());
    }
    // Rows are [3i, 3i+1, 3i+2]: batches {0,1}, {2,3}, {4}.
    REQUIRE(sums == std::vector<std::vector<float>>{{3, 5, 7}, {15, 17, 19}, {12, 13, 14}});
    REQUIRE(counts == std::vector<std::int64_t>{2, 2, 1});
  }
}

TEST_CASE("data without targets, and progress(loader)", "[data][dataloader]") {
  DataLoader loader(TensorDataset(arange(12, TensorOptions(kFloat32)).reshape({6, 2})), {.batch_size = 4});
  std::ostringstream log;
  std::int64_t batches = 0;
  for (const Batch& b : progress(loader, {.stream = &log, .interactive = false})) {
    REQUIRE_FALSE(b.target.defined());
    ++batches;
  }
  REQUIRE(batches == 2);
  REQUIRE(log.str().find("2/2") != std::string::npos);
}

TEST_CASE("bad options and indices throw typed errors", "[data][dataloader][errors]") {
  REQUIRE_THROWS_AS(DataLoader(make_dataset(4), {.batch_size = 0}), ValueError);
  REQUIRE_THROWS_WITH(DataLoader(make_dataset(4), {.batch_size = 0}), Catch::Contains("batch_size >= 1"));
  REQUIRE_THROWS_AS(DataLoader(make_dataset(4), {.num_workers = -1}), ValueError);
  REQUIRE_THROWS_AS(DataLoader(make_dataset(4), {.prefetch = 0}), ValueError);
  REQUIRE_THROWS_AS(make_dataset(4).get(4), IndexError);
  REQUIRE_THROWS_AS(TensorDataset(zeros({3, 2}), zeros({4})), ShapeError);
  REQUIRE_THROWS_AS(data::default_collate({}), ValueError);
  DataLoader empty(make_dataset(3), {.batch_size = 4, .drop_last = true});
  REQUIRE(empty.size() == 0);
  REQUIRE(epoch_indices(empty).empty());
}

TEST_CASE("TensorDataset over .npy files", "[data][dataloader][npy]") {
  const std::string dir = std::filesystem::temp_directory_path().string();
  const std::string x_path = dir + "/tapeflow_data_x_" + std::to_string(::getpid()) + ".npy";
  const std::string y_path = dir + "/tapeflow_data_y_" + std::to_string(::getpid()) + ".npy";
  const TensorDataset original = make_dataset(9);
  save_npy(x_path, original.data());
  save_npy(y_path, original.target());
  DataLoader loader(TensorDataset(load_npy(x_path), load_npy(y_path)), {.batch_size = 4, .shuffle = true, .seed = 3});
  DataLoader reference(original, {.batch_size = 4, .shuffle = true, .seed = 3});
  REQUIRE(epoch_indices(loader) == epoch_indices(reference));  // rows checked against their index
  std::filesystem::remove(x_path);
  std::filesystem::remove(y_path);
}
