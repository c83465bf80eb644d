#pragma once
// MNIST and Fashion-MNIST (same IDX file layout), plain or .gz.
#include <string>

#include "tapeflow/data/dataset.hpp"

namespace tapeflow::data {

// Example i: image (1, 28, 28) float32 in [0, 1] (or, with raw, int32 in 0..255) and its label
// as an int64 scalar. `root` holds train-images-idx3-ubyte and train-labels-idx1-ubyte (train)
// or t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (test), each possibly with ".gz".
class MNIST : public Dataset {
 public:
  explicit MNIST(const std::string& root, bool train = true, bool raw = false);
  // Named files instead of a folder.
  static MNIST from_files(const std::string& images_path, const std::string& labels_path, bool raw = false);

  std::int64_t size() const override { return images_.size(0); }
  Example get(std::int64_t index) const override;
  std::optional<Batch> get_batch(const std::vector<std::int64_t>& indices) const override;

  const Tensor& images() const { return images_; }  // (N, 1, H, W)
  const Tensor& targets() const { return targets_; }  // (N,) int64

 private:
  MNIST(Tensor images, Tensor targets);
  static MNIST load(const std::string& images_path, const std::string& labels_path, bool raw);
  Tensor images_, targets_;
};

}  // namespace tapeflow::data
