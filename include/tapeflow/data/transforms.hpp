#pragma once
// Transforms of an example's data (torchvision style) and MapDataset, which applies one.
//
//   auto train = data::MapDataset(mnist, data::Compose({data::RandomCrop(28, 4),
//                                 data::RandomHorizontalFlip(), data::Normalize({0.286}, {0.353})}));
//
// A transform receives a Generator for its random draws. MapDataset seeds it from
// (loader seed, epoch, example index), so augmentations are reproducible and do not depend on
// the number of workers, yet differ between epochs.
#include <functional>
#include <vector>

#include "tapeflow/data/dataset.hpp"
#include "tapeflow/random.hpp"

namespace tapeflow::data {

using Transform = std::function<Tensor(const Tensor&, Generator&)>;

// (x - mean[c]) / std[c] for channel c = dim 0 (channel-first images); one value applies to all.
class Normalize {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  Tensor operator()(const Tensor& x, Generator& gen) const;

 private:
  std::vector<double> mean_, std_;
};

// A random size x size window of the last two dims, after zero-padding them by `padding` on
// every side.
class RandomCrop {
 public:
  explicit RandomCrop(std::int64_t size, std::int64_t padding = 0);
  Tensor operator()(const Tensor& x, Generator& gen) const;

 private:
  std::int64_t size_, padding_;
};

// Reverses the last dim (width) with probability p.
class RandomHorizontalFlip {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  Tensor operator()(const Tensor& x, Generator& gen) const;

 private:
  double p_;
};

// Applies transforms in order.
class Compose {
 public:
  explicit Compose(std::vector<Transform> transforms);
  Tensor operator()(const Tensor& x, Generator& gen) const;

 private:
  std::vector<Transform> transforms_;
};

// The examples of `dataset` with `transform` applied to their data (targets pass through).
// get(i) alone uses epoch 0 with seed 0. No batch fast path: examples are transformed one by one.
class MapDataset : public Dataset {
 public:
  MapDataset(std::shared_ptr<const Dataset> dataset, Transform transform);
  template <typename D, std::enable_if_t<std::is_base_of_v<Dataset, std::decay_t<D>>, int> = 0>
  MapDataset(D&& dataset, Transform transform) : MapDataset(share(std::forward<D>(dataset)), std::move(transform)) {}

  std::int64_t size() const override { return dataset_->size(); }
  Example get(std::int64_t index) const override { return get_seeded(index, 0, 0); }
  Example get_seeded(std::int64_t index, std::uint64_t seed, std::int64_t epoch) const override;

 private:
  std::shared_ptr<const Dataset> dataset_;
  Transform transform_;
};

}  // namespace tapeflow::data
