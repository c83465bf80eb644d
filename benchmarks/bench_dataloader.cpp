// DataLoader throughput on Fashion-MNIST (batch 64, shuffle) against the MLP training step it
// feeds (784-256-10, Adam, as in samples/fashion_mnist_mlp): the loader must be much faster than
// the step so that training never waits on it. Also measures the wait a training loop actually
// sees per batch with 2 workers, and the per-example path with augmentation.
// Run: build/benchmarks/bench_dataloader [fashion-mnist folder]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "tapeflow/bench.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
namespace nn = tapeflow::nn;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Batches per second over up to max_batches batches of one epoch (median of 3 epochs).
double loader_rate(tf::data::DataLoader& loader, std::int64_t max_batches) {
  std::vector<double> rates;
  for (int rep = 0; rep < 3; ++rep) {
    std::int64_t n = 0;
    const auto start = Clock::now();
    for (const tf::data::Batch& b : loader) {
      (void)b;
      if (++n == max_batches) break;
    }
    rates.push_back(static_cast<double>(n) / seconds_since(start));
  }
  std::sort(rates.begin(), rates.end());
  return rates[1];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(root)) {
    std::printf("bench_dataloader: %s not found; pass the Fashion-MNIST folder\n", root.c_str());
    return 0;
  }
  tf::set_num_threads(1);
  tf::data::MNIST train(root, true);
  std::printf("Fashion-MNIST train: %lld examples; batch 64, shuffle; 1 library thread\n",
              static_cast<long long>(train.size()));

  // The training step alone, on one pre-gathered batch.
  tf::manual_seed(0);
  nn::Sequential model(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
  tf::optim::Adam optimizer(model->parameters(), {.lr = 1e-3});
  const tf::data::Batch fixed = *train.get_batch(std::vector<std::int64_t>(64, 0));
  auto step = [&](const tf::data::Batch& b) {
    optimizer.zero_grad();
    const tf::Tensor loss = nn::functional::cross_entropy(model->forward(b.data), b.target);
    loss.backward();
    optimizer.step();
  };
  const double step_s = tf::bench::run("step", [&] { step(fixed); }).median;
  std::printf("%-52s %10.1f us  (%8.0f steps/s)\n", "MLP training step (784-256-10, Adam)", step_s * 1e6, 1 / step_s);

  for (int workers : {0, 2}) {
    tf::data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .num_workers = workers});
    const double rate = loader_rate(loader, loader.size());
    std::printf("%-52s %10.1f us  (%8.0f batches/s, %.0fx the step rate)\n",
                ("DataLoader epoch, " + std::to_string(workers) + " workers (per batch)").c_str(), 1e6 / rate, rate,
                rate * step_s);
  }

  // A training loop: how long the loop waits for each next batch (median and mean over 300).
  for (int workers : {0, 2}) {
    tf::data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .num_workers = workers});
    std::vector<double> waits;
    auto it = loader.begin();
    for (; it != loader.end() && waits.size() < 300;) {
      step(*it);
      const auto t = Clock::now();
      ++it;
      waits.push_back(seconds_since(t));
    }
    const double mean = std::accumulate(waits.begin(), waits.end(), 0.0) / static_cast<double>(waits.size());
    std::nth_element(waits.begin(), waits.begin() + static_cast<long>(waits.size() / 2), waits.end());
    const double median = waits[waits.size() / 2];
    std::printf("%-52s %10.1f us  (mean %.1f us, %.1f%% of a step)\n",
                ("train loop, " + std::to_string(workers) + " workers: median wait per batch").c_str(), median * 1e6,
                mean * 1e6, 100 * mean / step_s);
  }

  // The per-example path: crop + flip + normalise on each image, then stack.
  tf::data::MapDataset augmented(train, tf::data::Compose({tf::data::RandomCrop(28, 2),
                                                          tf::data::RandomHorizontalFlip(),
                                                          tf::data::Normalize({0.286}, {0.353})}));
  for (int workers : {0, 2}) {
    tf::data::DataLoader loader(augmented, {.batch_size = 64, .shuffle = true, .num_workers = workers});
    const double rate = loader_rate(loader, 100);
    std::printf("%-52s %10.1f us  (%8.0f batches/s)\n",
                ("augmented (crop+flip+normalise), " + std::to_string(workers) + " workers").c_str(), 1e6 / rate,
                rate);
  }
  return 0;
}
