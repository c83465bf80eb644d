#include "tapeflow/data/mnist.hpp"

#include <filesystem>

#include "tapeflow/data/tensor_dataset.hpp"
#include "tapeflow/io/idx.hpp"

namespace tapeflow::data {

namespace {
// root/name, or root/name.gz when only that exists.
std::string find_file(const std::string& root, const std::string& name) {
  const std::filesystem::path plain = std::filesystem::path(root) / name;
  if (std::filesystem::exists(plain)) return plain.string();
  std::filesystem::path gz = plain;
  gz += ".gz";
  if (std::filesystem::exists(gz)) return gz.string();
  fail<IOError>("MNIST", "the file '", plain.string(), "' (or '", gz.string(), "'), but neither exists");
}
}  // namespace

MNIST::MNIST(Tensor images, Tensor targets) : images_(std::move(images)), targets_(std::move(targets)) {}

MNIST::MNIST(const std::string& root, bool train, bool raw) : MNIST(Tensor{}, Tensor{}) {
  const std::string prefix = train ? "train" : "t10k";
  const std::string images = find_file(root, prefix + "-images-idx3-ubyte");  // reported first when missing
  const std::string labels = find_file(root, prefix + "-labels-idx1-ubyte");
  *this = load(images, labels, raw);
}

MNIST MNIST::from_files(const std::string& images_path, const std::string& labels_path, bool raw) {
  return load(images_path, labels_path, raw);
}

MNIST MNIST::load(const std::string& images_path, const std::string& labels_path, bool raw) {
  Tensor images = load_idx(images_path, raw ? std::optional<DType>(kInt32) : std::optional<DType>(kFloat32));
  const Tensor labels = load_idx(labels_path, kInt64);
  if (images.dim() != 3)
    fail<ShapeError>("MNIST", "'", images_path, "' to hold images (N, H, W), but it holds ", images.sizes());
  if (labels.dim() != 1 || labels.size(0) != images.size(0))
    fail<ShapeError>("MNIST", "'", labels_path, "' to hold ", images.size(0), " labels (N,), but it holds ",
                     labels.sizes());
  if (!raw) images.div_(255.0);  // bytes to [0, 1]
  return MNIST(images.reshape({images.size(0), 1, images.size(1), images.size(2)}), labels);
}

Example MNIST::get(std::int64_t index) const {
  check_index("MNIST::get", index, size());
  return {images_.select(0, index), targets_.select(0, index)};
}

std::optional<Batch> MNIST::get_batch(const std::vector<std::int64_t>& indices) const {
  for (auto i : indices) check_index("MNIST::get_batch", i, size());
  return gather_rows(images_, targets_, indices);
}

}  // namespace tapeflow::data
