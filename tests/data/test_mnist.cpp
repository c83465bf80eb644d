// MNIST over IDX files: small files written here (plain and gzip), and the real Fashion-MNIST
// when it is installed.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
namespace fs = std::filesystem;

namespace {

void write_be32(std::ofstream& out, std::uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  out.write(reinterpret_cast<const char*>(b), 4);
}

// Pixel k of image i (3 images of 2x3) is byte 20 * i + k; labels are 7, 3, 5.
unsigned char pixel(int i, int k) { return static_cast<unsigned char>(20 * i + k); }
const std::int64_t kLabels[3] = {7, 3, 5};

// Writes <dir>/<prefix>-images-idx3-ubyte and -labels-idx1-ubyte; with gz, gzips both.
void write_idx_pair(const fs::path& dir, const std::string& prefix, bool gz) {
  fs::create_directories(dir);
  const fs::path images = dir / (prefix + "-images-idx3-ubyte"), labels = dir / (prefix + "-labels-idx1-ubyte");
  {
    std::ofstream out(images, std::ios::binary);
    write_be32(out, 0x00000803);
    write_be32(out, 3);
    write_be32(out, 2);
    write_be32(out, 3);
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 6; ++k) out.put(static_cast<char>(pixel(i, k)));
  }
  {
    std::ofstream out(labels, std::ios::binary);
    write_be32(out, 0x00000801);
    write_be32(out, 3);
    for (auto l : kLabels) out.put(static_cast<char>(l));
  }
  if (gz) {
    const std::string cmd = "gzip -f '" + images.string() + "' '" + labels.string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
}

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("tapeflow_data_mnist_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  return dir;
}

void check_small(const data::MNIST& set, bool raw) {
  REQUIRE(set.size() == 3);
  for (int i = 0; i < 3; ++i) {
    const data::Example e = set.get(i);
    REQUIRE(e.data.sizes() == Shape{1, 2, 3});
    REQUIRE(e.target.dim() == 0);
    REQUIRE(e.target.item<std::int64_t>() == kLabels[i]);
    const Tensor d = e.data.contiguous();
    for (int k = 0; k < 6; ++k) {
      if (raw) {
        REQUIRE(d.dtype() == kInt32);
        REQUIRE(d.data_ptr<std::int32_t>()[k] == pixel(i, k));
      } else {
        REQUIRE(d.dtype() == kFloat32);
        REQUIRE(d.data_ptr<float>()[k] == Approx(pixel(i, k) / 255.0).epsilon(1e-6));
      }
    }
  }
}

}  // namespace

TEST_CASE("MNIST reads small IDX files, plain and gzip", "[data][mnist]") {
  for (bool gz : {false, true}) {
    const fs::path dir = temp_dir(gz ? "gz" : "plain");
    write_idx_pair(dir, "train", gz);
    write_idx_pair(dir, "t10k", gz);
    check_small(data::MNIST(dir.string(), true), false);
    check_small(data::MNIST(dir.string(), false, /*raw=*/true), true);
    const std::string ext = gz ? ".gz" : "";
    check_small(data::MNIST::from_files((dir / ("train-images-idx3-ubyte" + ext)).string(),
                                        (dir / ("train-labels-idx1-ubyte" + ext)).string()),
                false);
    // The batch fast path equals per-example stacking.
    data::MNIST set(dir.string());
    const auto fast = *set.get_batch({2, 0});
    const auto slow = data::default_collate({set.get(2), set.get(0)});
    REQUIRE(fast.data.sizes() == Shape{2, 1, 2, 3});
    REQUIRE(allclose(fast.data, slow.data));
    REQUIRE(fast.target.sizes() == Shape{2});
    REQUIRE(equal(fast.target, slow.target));
    fs::remove_all(dir);
  }
}

TEST_CASE("MNIST errors name the missing or mismatched file", "[data][mnist][errors]") {
  const fs::path dir = temp_dir("errors");
  REQUIRE_THROWS_AS(data::MNIST(dir.string()), IOError);
  REQUIRE_THROWS_WITH(data::MNIST(dir.string()), Catch::Contains("train-images-idx3-ubyte"));
  write_idx_pair(dir, "train", false);
  // Labels of the wrong count: use the images file of another set size.
  {
    std::ofstream out(dir / "short-labels", std::ios::binary);
    write_be32(out, 0x00000801);
    write_be32(out, 2);
    out.put(1);
    out.put(2);
  }
  REQUIRE_THROWS_AS(data::MNIST::from_files((dir / "train-images-idx3-ubyte").string(), (dir / "short-labels").string()),
                    ShapeError);
  REQUIRE_THROWS_AS(data::MNIST(dir.string()).get(3), IndexError);
  fs::remove_all(dir);
}

TEST_CASE("Fashion-MNIST: the real files", "[data][mnist][fashion]") {
  const std::string root = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(root + "/train-images-idx3-ubyte.gz")) {
    WARN("SKIPPED: " << root << " is not installed");
    return;
  }
  // References from Python's gzip module:
  //   python3 -c "import gzip; d = gzip.open(ROOT + '/train-labels-idx1-ubyte.gz').read()[8:]; print(list(d[:10]))"
  //   python3 -c "import gzip; d = gzip.open(ROOT + '/train-images-idx3-ubyte.gz').read()[16:]; print(sum(d[:784]))"
  data::MNIST train(root, true), test(root, false);
  REQUIRE(train.size() == 60000);
  REQUIRE(test.size() == 10000);
  REQUIRE(train.images().sizes() == Shape{60000, 1, 28, 28});
  const std::vector<std::int64_t> first_labels = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
  for (std::size_t i = 0; i < first_labels.size(); ++i)
    REQUIRE(train.get(static_cast<std::int64_t>(i)).target.item<std::int64_t>() == first_labels[i]);
  REQUIRE(test.get(0).target.item<std::int64_t>() == 9);
  REQUIRE(train.get(0).data.sum().item<double>() * 255.0 == Approx(76247).epsilon(1e-5));
  REQUIRE(train.images().max().item<double>() == 1.0);
  REQUIRE(train.images().min().item<double>() == 0.0);
  // Every class has 6000 training examples.
  const Tensor counts = scatter_add(zeros({10}, TensorOptions(kInt64)), 0, train.targets(),
                                    ones({60000}, TensorOptions(kInt64)));
  REQUIRE(equal(counts, full({10}, 6000, TensorOptions(kInt64))));
  // A full shuffled epoch with workers sees every example once.
  data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .num_workers = 2, .seed = 1});
  REQUIRE(loader.size() == 938);
  Tensor seen = zeros({10}, TensorOptions(kInt64));
  std::int64_t n = 0;
  for (const data::Batch& b : loader) {
    REQUIRE(b.data.size(1) == 1);
    seen = scatter_add(seen, 0, b.target, ones({b.target.size(0)}, TensorOptions(kInt64)));
    n += b.data.size(0);
  }
  REQUIRE(n == 60000);
  REQUIRE(equal(seen, counts));
}
