#include "tapeflow/data/transforms.hpp"

#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/index.hpp"

namespace tapeflow::data {

Normalize::Normalize(std::vector<double> mean, std::vector<double> std) : mean_(std::move(mean)), std_(std::move(std)) {
  if (mean_.empty() || mean_.size() != std_.size())
    fail<ValueError>("Normalize", "mean and std of the same non-zero length, but got ", mean_.size(), " and ",
                     std_.size());
  for (double s : std_)
    if (!(s > 0)) fail<ValueError>("Normalize", "std > 0, but got ", s);
}

Tensor Normalize::operator()(const Tensor& x, Generator&) const {
  const auto channels = static_cast<std::int64_t>(mean_.size());
  if (channels > 1 && (x.dim() == 0 || x.size(0) != channels))
    fail<ShapeError>("Normalize", "data with ", channels, " channels in dim 0, but got shape ", x.sizes());
  // Shape (C, 1, ..., 1) so that each channel broadcasts over the remaining dims.
  Shape shape(static_cast<std::size_t>(std::max<std::int64_t>(x.dim(), 1)), 1);
  shape[0] = channels;
  const TensorOptions opts(x.is_floating_point() ? x.dtype() : kFloat32);
  const Tensor mean = tensor(mean_, opts).reshape(channels > 1 ? IntArrayRef(shape) : IntArrayRef{});
  const Tensor std = tensor(std_, opts).reshape(channels > 1 ? IntArrayRef(shape) : IntArrayRef{});
  return (x.to(opts.dtype()) - mean) / std;
}

RandomCrop::RandomCrop(std::int64_t size, std::int64_t padding) : size_(size), padding_(padding) {
  if (size < 1) fail<ValueError>("RandomCrop", "size >= 1, but got ", size);
  if (padding < 0) fail<ValueError>("RandomCrop", "padding >= 0, but got ", padding);
}

Tensor RandomCrop::operator()(const Tensor& x, Generator& gen) const {
  if (x.dim() < 2) fail<ShapeError>("RandomCrop", "data with at least 2 dims (..., H, W), but got shape ", x.sizes());
  const std::int64_t h = x.size(-2), w = x.size(-1), p = padding_;
  if (h + 2 * p < size_ || w + 2 * p < size_)
    fail<ShapeError>("RandomCrop", "padded size >= ", size_, ", but got ", h, "x", w, " with padding ", p);
  Tensor padded = x;
  if (p > 0) {
    Shape shape = x.sizes();
    shape[shape.size() - 2] += 2 * p;
    shape[shape.size() - 1] += 2 * p;
    padded = zeros(shape, TensorOptions(x.dtype()));
    padded.narrow(-2, p, h).narrow(-1, p, w).copy_(x);
  }
  auto draw = [&gen](std::int64_t high) {
    return randint(0, high, {1}, TensorOptions(kInt64), &gen).item<std::int64_t>();
  };
  const std::int64_t top = draw(h + 2 * p - size_ + 1);
  const std::int64_t left = draw(w + 2 * p - size_ + 1);
  return padded.narrow(-2, top, size_).narrow(-1, left, size_).contiguous();
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  if (!(p >= 0 && p <= 1)) fail<ValueError>("RandomHorizontalFlip", "p in [0, 1], but got ", p);
}

Tensor RandomHorizontalFlip::operator()(const Tensor& x, Generator& gen) const {
  if (x.dim() < 1) fail<ShapeError>("RandomHorizontalFlip", "data with at least 1 dim, but got a scalar");
  const double u = rand({1}, TensorOptions(kFloat64), &gen).item<double>();
  if (u >= p_) return x;
  const std::int64_t w = x.size(-1);
  return index_select(x, x.dim() - 1, arange(w - 1, -1, -1, TensorOptions(kInt64)));
}

Compose::Compose(std::vector<Transform> transforms) : transforms_(std::move(transforms)) {
  for (const Transform& t : transforms_)
    if (!t) fail<ValueError>("Compose", "callable transforms, but got an empty one");
}

Tensor Compose::operator()(const Tensor& x, Generator& gen) const {
  Tensor y = x;
  for (const Transform& t : transforms_) y = t(y, gen);
  return y;
}

MapDataset::MapDataset(std::shared_ptr<const Dataset> dataset, Transform transform)
    : dataset_(std::move(dataset)), transform_(std::move(transform)) {
  if (!dataset_) fail<ValueError>("MapDataset", "a dataset, but got null");
  if (!transform_) fail<ValueError>("MapDataset", "a callable transform, but got an empty one");
}

Example MapDataset::get_seeded(std::int64_t index, std::uint64_t seed, std::int64_t epoch) const {
  Example e = dataset_->get_seeded(index, seed, epoch);
  Generator gen(derive_seed(seed, static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(index)));
  e.data = transform_(e.data, gen);
  return e;
}

}  // namespace tapeflow::data
