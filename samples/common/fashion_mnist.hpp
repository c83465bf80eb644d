#pragma once
// What the Fashion-MNIST samples share: loading the IDX files, evaluation, and the training
// loop (shuffle, mini-batches, forward, cross-entropy, backward, optimizer step) with a
// progress bar and a per-epoch report. Uses only tapeflow's public headers.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/checkpointing.hpp"
#include "common/sample_args.hpp"
#include "tapeflow/tapeflow.hpp"

namespace samples {

namespace tf = tapeflow;
namespace F = tapeflow::nn::functional;

inline const char* kFashionClasses[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// The options every Fashion-MNIST sample takes.
struct FashionArgs {
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::int64_t epochs = 5, batch_size = 64, seed = 0, threads = 0, train_limit = 0, test_limit = 0;
  double lr = 1e-3;
  std::string checkpoint{};  // folder for per-epoch checkpoints ("" = none)
  std::string logdir{};      // TensorBoard log folder (set by parse_fashion_args; "" = none)
  bool resume = false;
  std::int64_t stop_after = 0;
  std::string device = "cpu";  // where the model trains: cpu, cuda, cuda:N
};

// Parses the options (false after --help), then applies --threads and --seed.
inline bool parse_fashion_args(int argc, char** argv, const char* program, const char* about, FashionArgs& a) {
  SampleArgs args(program, about);
  args.add("data", &a.data_dir, "directory with the Fashion-MNIST IDX files (.gz)");
  args.add("epochs", &a.epochs, "passes over the training set");
  args.add("batch-size", &a.batch_size, "images per step");
  args.add("lr", &a.lr, "learning rate");
  args.add("seed", &a.seed, "random seed (initialisation, shuffling, dropout)");
  args.add("threads", &a.threads, "CPU threads (0: all cores)");
  args.add("train-limit", &a.train_limit, "use only the first N training images (0: all)");
  args.add("test-limit", &a.test_limit, "use only the first N test images (0: all)");
  a.logdir = std::string("runs/") + program;
  args.add("logdir", &a.logdir, "TensorBoard log folder for loss, accuracy and lr (\"\" to turn off)");
  args.add("checkpoint", &a.checkpoint, "folder to save model, optimizer, scheduler and RNG state after each epoch");
  args.add("resume", &a.resume, "continue from the state saved in --checkpoint");
  args.add("stop-after", &a.stop_after, "stop after this many epochs (0: run all), e.g. to test --resume");
  args.add("device", &a.device, "where to train: cpu, cuda or cuda:N (the data stays on the host, batches move)");
  if (!args.parse(argc, argv)) return false;
  if (a.threads > 0) tf::set_num_threads(static_cast<int>(a.threads));
  tf::manual_seed(static_cast<std::uint64_t>(a.seed));
  return true;
}

struct FashionMnist {
  tf::Tensor train_images, train_labels;  // (N, 1, 28, 28) float32 standardised, (N) int64
  tf::Tensor test_images, test_labels;
};

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from dir; keeps the first `limit`
// examples of each split when limit > 0. Pixels are standardised with the training set's mean
// and standard deviation.
inline FashionMnist load_fashion_mnist(const std::string& dir, std::int64_t train_limit, std::int64_t test_limit) {
  auto split = [&](const std::string& name, std::int64_t limit) {
    tf::Tensor images = tf::load_idx(dir + "/" + name + "-images-idx3-ubyte.gz", tf::kFloat32);
    tf::Tensor labels = tf::load_idx(dir + "/" + name + "-labels-idx1-ubyte.gz", tf::kInt64);
    if (limit > 0 && limit < images.size(0)) {
      images = images.narrow(0, 0, limit);
      labels = labels.narrow(0, 0, limit);
    }
    return std::pair{images.reshape({images.size(0), 1, 28, 28}) / 255.0, labels};
  };
  FashionMnist d;
  std::tie(d.train_images, d.train_labels) = split("train", train_limit);
  std::tie(d.test_images, d.test_labels) = split("t10k", test_limit);
  const double mean = d.train_images.mean().item<double>();
  const double stdev = d.train_images.std().item<double>();
  d.train_images = (d.train_images - mean) / stdev;
  d.test_images = (d.test_images - mean) / stdev;
  std::printf("Fashion-MNIST: %lld training and %lld test images\n", static_cast<long long>(d.train_images.size(0)),
              static_cast<long long>(d.test_images.size(0)));
  return d;
}

struct Evaluation {
  double loss = 0, accuracy = 0;
};

// Mean cross-entropy and accuracy over a whole split, in eval mode without recording.
template <typename Model>
Evaluation evaluate(Model& model, const tf::Tensor& images, const tf::Tensor& labels, tf::Device device,
                    std::int64_t batch = 1000) {
  tf::NoGradGuard no_grad;
  model->eval();
  double loss = 0, correct = 0;
  const std::int64_t n = images.size(0);
  for (std::int64_t i = 0; i < n; i += batch) {
    const std::int64_t b = std::min(batch, n - i);
    const tf::Tensor logits = model(images.narrow(0, i, b).to(device));
    const tf::Tensor y = labels.narrow(0, i, b).to(device);
    loss += F::cross_entropy(logits, y, {.reduction = tf::nn::Reduction::Sum}).template item<double>();
    correct += tf::eq(logits.argmax(1), y).sum().template item<double>();
  }
  model->train();
  return {loss / static_cast<double>(n), correct / static_cast<double>(n)};
}

// Test-set metrics: per-class precision/recall/F1, macro averages, top-2 accuracy and the
// confusion matrix (rows: true class, columns: predicted).
template <typename Model>
void print_test_metrics(Model& model, const FashionMnist& data, tf::Device device) {
  namespace M = tf::metrics;
  tf::NoGradGuard no_grad;
  model->eval();
  std::vector<tf::Tensor> chunks;
  const std::int64_t n = data.test_images.size(0);
  for (std::int64_t i = 0; i < n; i += 1000)
    chunks.push_back(model(data.test_images.narrow(0, i, std::min<std::int64_t>(1000, n - i)).to(device)).to(tf::Device::cpu()));
  model->train();
  const tf::Tensor logits = tf::cat(chunks, 0), pred = logits.argmax(1), y = data.test_labels;
  const tf::Tensor p = M::precision(pred, y, 10, M::Average::None), r = M::recall(pred, y, 10, M::Average::None),
                   f1 = M::f1_score(pred, y, 10, M::Average::None);
  std::printf("test metrics:      precision  recall  f1\n");
  for (std::int64_t c = 0; c < 10; ++c)
    std::printf("  %-12s %13.3f %7.3f %6.3f\n", kFashionClasses[c], p[c].item<double>(), r[c].item<double>(),
                f1[c].item<double>());
  std::printf("  %-12s %13.3f %7.3f %6.3f\n", "macro avg", M::precision(pred, y, 10).item<double>(),
              M::recall(pred, y, 10).item<double>(), M::f1_score(pred, y, 10).item<double>());
  std::printf("top-2 accuracy: %.4f\nconfusion matrix:\n", M::accuracy(logits, y, 2));
  const tf::Tensor cm = M::confusion_matrix(pred, y, 10);
  for (std::int64_t t = 0; t < 10; ++t) {
    std::printf("  %-12s", kFashionClasses[t]);
    for (std::int64_t q = 0; q < 10; ++q) std::printf(" %4lld", static_cast<long long>(cm[t][q].item<std::int64_t>()));
    std::printf("\n");
  }
}

struct TrainConfig {
  std::int64_t epochs = 5;
  std::int64_t batch_size = 64;
  tf::optim::LRScheduler* scheduler = nullptr;  // stepped after each epoch when given
  std::string checkpoint{};                      // save the training state here after each epoch
  bool resume = false;                           // start from the state saved in `checkpoint`
  std::int64_t stop_after = 0;                   // stop after this epoch (0: run all)
  std::string logdir{};                          // TensorBoard logs ("" = none)
  std::uint64_t seed = 0;                        // the data order of epoch e derives from (seed, e)
  tf::Device device = tf::Device::cpu();         // the model's device; batches are moved there
};

// The loop's settings from the command line.
inline TrainConfig train_config(const FashionArgs& a, tf::optim::LRScheduler* scheduler) {
  return {.epochs = a.epochs,
          .batch_size = a.batch_size,
          .scheduler = scheduler,
          .checkpoint = a.checkpoint,
          .resume = a.resume,
          .stop_after = a.stop_after,
          .logdir = a.logdir,
          .seed = static_cast<std::uint64_t>(a.seed),
          .device = tf::Device(a.device)};
}

// The training loop. Prints the model, the test loss/accuracy before training, one line per
// epoch, test metrics and the final test accuracy; returns the final test evaluation.
template <typename Model>
Evaluation train_classifier(Model& model, tf::optim::Optimizer& optimizer, const FashionMnist& data,
                            const TrainConfig& config) {
  std::printf("%s\nparameters: %lld\n", (std::ostringstream() << model).str().c_str(),
              static_cast<long long>(model->parameter_count()));
  const Evaluation before = evaluate(model, data.test_images, data.test_labels, config.device);
  std::printf("before training: test loss %.4f, test acc %.4f\n", before.loss, before.accuracy);
  std::fflush(stdout);
  // Shuffled mini-batches; the last partial batch is dropped. Epoch e's order depends only on
  // (seed, e), so a resumed run sees the same batches.
  tf::data::DataLoader loader(tf::data::TensorDataset(data.train_images, data.train_labels),
                              {.batch_size = config.batch_size, .shuffle = true, .drop_last = true, .seed = config.seed});
  const auto steps = static_cast<std::int64_t>(loader.size());
  Evaluation test;
  std::int64_t first_epoch = 1;
  if (config.resume) {
    if (config.checkpoint.empty()) throw tf::ValueError("--resume needs --checkpoint DIR");
    first_epoch = load_training_state(config.checkpoint, model, optimizer, config.scheduler) + 1;
    std::printf("resumed from %s after epoch %lld\n", config.checkpoint.c_str(), static_cast<long long>(first_epoch - 1));
  }
  std::optional<tf::SummaryWriter> writer;
  if (!config.logdir.empty()) {
    writer.emplace(config.logdir);
    std::printf("TensorBoard logs: %s (tensorboard --logdir %s)\n", config.logdir.c_str(), config.logdir.c_str());
  }
  for (std::int64_t epoch = first_epoch; epoch <= config.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    tf::metrics::RunningMean train_loss, train_acc;
    tf::ProgressBar bar(steps, {.description = "epoch " + std::to_string(epoch) + "/" + std::to_string(config.epochs),
                                .unit = "batch"});
    loader.set_epoch(epoch);
    std::int64_t s = 0;
    for (const tf::data::Batch& batch : loader) {
      const tf::Tensor x = batch.data.to(config.device);
      const tf::Tensor y = batch.target.to(config.device);

      optimizer.zero_grad();
      const tf::Tensor logits = model(x);
      const tf::Tensor loss = F::cross_entropy(logits, y);
      loss.backward();
      optimizer.step();

      train_loss.update(loss);
      train_acc.update(tf::metrics::accuracy(logits, y));
      bar.update(1, {{"loss", train_loss.value()}, {"acc", train_acc.value()}});
      const std::int64_t global_step = (epoch - 1) * steps + ++s;
      if (writer && global_step % 50 == 0) writer->add_scalar("train/batch_loss", loss, global_step);
    }
    bar.close();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    test = evaluate(model, data.test_images, data.test_labels, config.device);
    std::printf("epoch %lld/%lld: lr %.3g, train loss %.4f, train acc %.4f, test loss %.4f, test acc %.4f "
                "(%.1f s, %.0f img/s)\n",
                static_cast<long long>(epoch), static_cast<long long>(config.epochs), optimizer.lr(0),
                train_loss.value(), train_acc.value(),
                test.loss, test.accuracy, seconds, static_cast<double>(steps * config.batch_size) / seconds);
    if (writer) {
      writer->add_scalar("train/loss", train_loss.value(), epoch);
      writer->add_scalar("train/accuracy", train_acc.value(), epoch);
      writer->add_scalar("test/loss", test.loss, epoch);
      writer->add_scalar("test/accuracy", test.accuracy, epoch);
      writer->add_scalar("lr", optimizer.lr(0), epoch);
      writer->flush();
    }
    if (config.scheduler) config.scheduler->step();
    if (!config.checkpoint.empty()) save_training_state(config.checkpoint, model, optimizer, config.scheduler, epoch);
    if (epoch == config.stop_after && epoch < config.epochs) {
      std::printf("stopped after epoch %lld; continue with --resume\n", static_cast<long long>(epoch));
      return test;
    }
    std::fflush(stdout);
  }
  print_test_metrics(model, data, config.device);
  std::printf("final test accuracy: %.4f\n", test.accuracy);
  return test;
}

}  // namespace samples
