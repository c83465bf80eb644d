// Transforms (against float64 loops), MapDataset reproducibility, Subset and random_split.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <set>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.to(kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

// (C, H, W) image whose value at (c, y, x) is 100c + 10y + x + 1 (never 0, so padding shows).
Tensor image(std::int64_t c, std::int64_t h, std::int64_t w) {
  std::vector<float> v;
  for (std::int64_t i = 0; i < c; ++i)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x) v.push_back(static_cast<float>(100 * i + 10 * y + x + 1));
  return tensor(v, {c, h, w});
}

}  // namespace

TEST_CASE("Normalize per channel and with one value", "[data][transforms]") {
  Generator gen(0);
  const Tensor x = image(2, 2, 3);
  const std::vector<double> mean = {1.0, 2.0}, sd = {2.0, 4.0};
  const auto got = values(data::Normalize(mean, sd)(x, gen));
  const auto in = values(x);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::size_t c = i / 6;
    REQUIRE(got[i] == Approx((in[i] - mean[c]) / sd[c]));
  }
  const auto one = values(data::Normalize({0.5}, {0.25})(x, gen));
  for (std::size_t i = 0; i < in.size(); ++i) REQUIRE(one[i] == Approx((in[i] - 0.5) / 0.25));
  REQUIRE_THROWS_AS(data::Normalize({0.5, 0.5, 0.5}, {1, 1, 1})(x, gen), ShapeError);
  REQUIRE_THROWS_AS(data::Normalize({0.5}, {0.0}), ValueError);
  REQUIRE_THROWS_AS(data::Normalize({0.5, 1}, {1.0}), ValueError);
}

TEST_CASE("RandomCrop is a window of the zero-padded image", "[data][transforms]") {
  const Tensor x = image(2, 4, 5);
  const std::int64_t p = 2, size = 4;
  std::set<std::pair<std::int64_t, std::int64_t>> offsets;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    Generator gen(seed);
    const Tensor crop = data::RandomCrop(size, p)(x, gen);
    REQUIRE(crop.sizes() == Shape{2, size, size});
    const auto got = values(crop);
    // Find the offset whose hand-padded window matches.
    bool found = false;
    for (std::int64_t top = 0; top <= 4 + 2 * p - size && !found; ++top)
      for (std::int64_t left = 0; left <= 5 + 2 * p - size && !found; ++left) {
        bool match = true;
        for (std::int64_t c = 0; c < 2 && match; ++c)
          for (std::int64_t y = 0; y < size && match; ++y)
            for (std::int64_t xx = 0; xx < size && match; ++xx) {
              const std::int64_t sy = top + y - p, sx = left + xx - p;
              const double want = (sy >= 0 && sy < 4 && sx >= 0 && sx < 5) ? double(100 * c + 10 * sy + sx + 1) : 0.0;
              match = got[static_cast<std::size_t>((c * size + y) * size + xx)] == want;
            }
        if (match) {
          found = true;
          offsets.insert({top, left});
        }
      }
    REQUIRE(found);
  }
  REQUIRE(offsets.size() > 10);  // the offsets vary (5 x 6 are possible)
  Generator gen(1);
  REQUIRE(equal(data::RandomCrop(4, 0)(image(1, 4, 4), gen), image(1, 4, 4)));  // nothing to choose
  REQUIRE_THROWS_AS(data::RandomCrop(9, 1)(x, gen), ShapeError);
  REQUIRE_THROWS_AS(data::RandomCrop(0), ValueError);
}

TEST_CASE("RandomHorizontalFlip reverses the width with probability p", "[data][transforms]") {
  const Tensor x = image(2, 2, 3);
  std::vector<double> flipped;
  for (std::int64_t c = 0; c < 2; ++c)
    for (std::int64_t y = 0; y < 2; ++y)
      for (std::int64_t w = 2; w >= 0; --w) flipped.push_back(double(100 * c + 10 * y + w + 1));
  Generator gen(3);
  REQUIRE(values(data::RandomHorizontalFlip(1.0)(x, gen)) == flipped);
  REQUIRE(values(data::RandomHorizontalFlip(0.0)(x, gen)) == values(x));
  int flips = 0;
  for (int i = 0; i < 400; ++i) flips += values(data::RandomHorizontalFlip(0.5)(x, gen)) == flipped;
  REQUIRE(flips > 150);
  REQUIRE(flips < 250);
  REQUIRE_THROWS_AS(data::RandomHorizontalFlip(1.5), ValueError);
}

TEST_CASE("MapDataset augments reproducibly, whatever the number of workers", "[data][transforms][workers]") {
  std::vector<Tensor> images;
  for (int i = 0; i < 20; ++i) images.push_back(image(1, 6, 6) + static_cast<double>(1000 * i));
  data::TensorDataset base(stack(images, 0), arange(20, TensorOptions(kInt64)));
  data::MapDataset augmented(base, data::Compose({data::RandomCrop(6, 2), data::RandomHorizontalFlip(),
                                                  data::Normalize({0.5}, {2.0})}));
  auto epoch = [](data::DataLoader& loader) {
    std::vector<Tensor> out;
    for (const data::Batch& b : loader) out.push_back(b.data.clone());
    return out;
  };
  std::vector<std::vector<Tensor>> runs;
  for (int workers : {0, 1, 3}) {
    data::DataLoader loader(augmented, {.batch_size = 3, .shuffle = true, .num_workers = workers, .seed = 9});
    auto e0 = epoch(loader), e1 = epoch(loader);
    e0.insert(e0.end(), e1.begin(), e1.end());
    runs.push_back(e0);
  }
  for (std::size_t r = 1; r < runs.size(); ++r) {
    REQUIRE(runs[r].size() == runs[0].size());
    for (std::size_t b = 0; b < runs[0].size(); ++b) REQUIRE(equal(runs[r][b], runs[0][b]));
  }
  // Different epochs augment differently (same example, new crop/flip).
  data::DataLoader plain(augmented, {.batch_size = 20, .seed = 9});
  const Tensor first = epoch(plain)[0], second = epoch(plain)[0];
  REQUIRE_FALSE(equal(first, second));
  // get(i) alone is deterministic too.
  REQUIRE(equal(augmented.get(4).data, augmented.get(4).data));
  REQUIRE(augmented.get(4).target.item<std::int64_t>() == 4);
}

TEST_CASE("random_split sizes, fractions, disjointness and seeds", "[data][split]") {
  data::TensorDataset base(arange(10, TensorOptions(kFloat32)).reshape({10, 1}), arange(10, TensorOptions(kInt64)));
  auto indices_of = [](const std::vector<data::Subset>& parts) {
    std::vector<std::int64_t> all;
    for (const auto& s : parts) all.insert(all.end(), s.indices().begin(), s.indices().end());
    return all;
  };
  const auto parts = data::random_split(base, {0.8, 0.2}, 1);
  REQUIRE(parts.size() == 2);
  REQUIRE(parts[0].size() == 8);
  REQUIRE(parts[1].size() == 2);
  auto all = indices_of(parts);
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(10);
  std::iota(expected.begin(), expected.end(), 0);
  REQUIRE(all == expected);  // disjoint and complete
  // Subset examples come from the mapped index (target == index here).
  for (std::int64_t i = 0; i < parts[1].size(); ++i)
    REQUIRE(parts[1].get(i).target.item<std::int64_t>() == parts[1].indices()[static_cast<std::size_t>(i)]);
  const auto batch = *parts[0].get_batch({1, 0});
  REQUIRE(values(batch.target) == std::vector<double>{double(parts[0].indices()[1]), double(parts[0].indices()[0])});
  // Same seed, same split; another seed, another.
  REQUIRE(indices_of(data::random_split(base, {0.8, 0.2}, 1)) == indices_of(parts));
  REQUIRE(indices_of(data::random_split(base, {0.8, 0.2}, 2)) != indices_of(parts));
  // Sizes, and fractions with a remainder spread over the first subsets (PyTorch's rule).
  const auto sized = data::random_split(base, {3, 3, 4});
  REQUIRE((sized[0].size() == 3 && sized[1].size() == 3 && sized[2].size() == 4));
  const auto thirds = data::random_split(base, {1.0 / 3, 1.0 / 3, 1.0 / 3});
  REQUIRE((thirds[0].size() == 4 && thirds[1].size() == 3 && thirds[2].size() == 3));
  REQUIRE_THROWS_AS(data::random_split(base, {3, 3}), ValueError);
  REQUIRE_THROWS_AS(data::random_split(base, {0.5, 0.4}), ValueError);
  REQUIRE_THROWS_AS(data::random_split(base, {}), ValueError);
  REQUIRE_THROWS_AS(data::Subset(base, {10}), IndexError);
}
