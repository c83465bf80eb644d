// The random draws every backend shares (kernels/random_draws.hpp), run on the CPU over many
// Philox blocks: each emitter against an independent float64 / 128-bit reference of its
// transform, ranges (half-open uniform even when rounding reaches the upper bound, randint
// bounds up to the whole int64 range), Box-Muller identities, and distribution statistics with
// fixed seeds (six standard errors: deterministic, far from the observed values).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numbers>
#include <utility>
#include <vector>

#include "kernels/random_draws.hpp"

namespace px = tapeflow::detail::philox;
namespace draws = tapeflow::kernels::draws;

namespace {

constexpr std::uint64_t kSeed = 0x1234abcd5678ef01ULL;

// Runs emit over n elements the way a backend does (counter c -> elements [c * kPer, ...)).
template <class Emit>
void run(const Emit& emit, std::int64_t n, std::uint64_t offset = 7) {
  for (std::int64_t c = 0; c < draws::counters_for<Emit>(n); ++c) {
    const std::int64_t first = c * Emit::kPer;
    emit(px::block(kSeed, offset + static_cast<std::uint64_t>(c)), first,
         static_cast<int>(std::min<std::int64_t>(Emit::kPer, n - first)));
  }
}

// Word j of element i's block for a draw using `per` elements per counter of `words` words each.
std::uint32_t word_of(std::int64_t i, int per, int words, int k, std::uint64_t offset = 7) {
  const px::Block b = px::block(kSeed, offset + static_cast<std::uint64_t>(i / per));
  return b.w[(i % per) * words + k];
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double var_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size());
}

__extension__ typedef unsigned __int128 u128;  // the 128-bit reference products

}  // namespace

TEST_CASE("counters per draw and the layout of elements over blocks") {
  CHECK(draws::counters_for<draws::UniformEmit<float>>(0) == 0);
  CHECK(draws::counters_for<draws::UniformEmit<float>>(9) == 3);   // 4 floats per block
  CHECK(draws::counters_for<draws::UniformEmit<double>>(9) == 5);  // 2 doubles per block
  CHECK(draws::counters_for<draws::RandintEmit<std::int64_t>>(3) == 2);
  CHECK(draws::counters_for<draws::DropoutEmit<float>>(4) == 1);
}

TEST_CASE("uniform: float64 reference of the transform, half-open range") {
  const std::int64_t n = 10001;  // not a multiple of the block's elements: a partial last block
  SECTION("float") {
    std::vector<float> out(n);
    run(draws::uniform_emit<float>(out.data(), -2.0, 3.0), n);
    std::vector<double> v(out.begin(), out.end());
    for (std::int64_t i = 0; i < n; ++i) {
      const double u = static_cast<double>(word_of(i, 4, 1, 0) >> 8) / 16777216.0;
      REQUIRE(out[i] == static_cast<float>(-2.0 + 5.0 * u));
      REQUIRE((out[i] >= -2.0f && out[i] < 3.0f));
    }
    CHECK(std::abs(mean_of(v) - 0.5) < 6 * 5.0 / std::sqrt(12.0 * n));
    CHECK(std::abs(var_of(v) - 25.0 / 12) < 0.1);
  }
  SECTION("double") {
    std::vector<double> out(n);
    run(draws::uniform_emit<double>(out.data(), 10.0, 11.0), n);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t bits = (static_cast<std::uint64_t>(word_of(i, 2, 2, 1)) << 32) | word_of(i, 2, 2, 0);
      REQUIRE(out[i] == 10.0 + std::ldexp(static_cast<double>(bits >> 11), -53));
      REQUIRE((out[i] >= 10.0 && out[i] < 11.0));
    }
    CHECK(std::abs(mean_of(out) - 10.5) < 6 / std::sqrt(12.0 * n));
  }
  SECTION("rounding up to `to` steps back below it") {
    // [1, next float after 1): every u > 1/2 rounds to the upper bound in float.
    const float to = std::nextafter(1.0f, 2.0f);
    std::vector<float> out(1000);
    run(draws::uniform_emit<float>(out.data(), 1.0, static_cast<double>(to)), 1000);
    for (float x : out) REQUIRE(x == 1.0f);
  }
  SECTION("an empty interval gives its bound") {
    std::vector<double> out(8);
    run(draws::uniform_emit<double>(out.data(), 4.0, 4.0), 8);
    for (double x : out) REQUIRE(x == 4.0);
  }
}

TEST_CASE("normal: Box-Muller pairs against float64, standard moments") {
  SECTION("float: two pairs per block") {
    const std::int64_t n = 40000;
    std::vector<float> out(n);
    run(draws::NormalEmit<float>{out.data(), 1.5f, 2.0f}, n);
    for (std::int64_t i = 0; i < 400; i += 2) {
      const double u1 = static_cast<double>((word_of(i, 4, 1, 0) >> 8) + 1) / 16777216.0;
      const double u2 = static_cast<double>(word_of(i + 1, 4, 1, 0) >> 8) / 16777216.0;
      const double r = std::sqrt(-2 * std::log(u1)), theta = 2 * std::numbers::pi * u2;
      REQUIRE(out[i] == Approx(1.5 + 2 * r * std::cos(theta)).margin(1e-5));
      REQUIRE(out[i + 1] == Approx(1.5 + 2 * r * std::sin(theta)).margin(1e-5));
    }
    std::vector<double> v(out.begin(), out.end());
    CHECK(std::abs(mean_of(v) - 1.5) < 6 * 2 / std::sqrt(n));
    CHECK(std::abs(var_of(v) - 4.0) < 6 * 4 * std::sqrt(2.0 / n));
  }
  SECTION("double: one pair per block, (0, 1] for the logarithm") {
    const std::int64_t n = 20000;
    std::vector<double> out(n);
    run(draws::NormalEmit<double>{out.data(), 0.0, 1.0}, n);
    for (std::int64_t i = 0; i < n; i += 2) {
      const px::Block b = px::block(kSeed, 7 + static_cast<std::uint64_t>(i / 2));
      const double u1 = px::to_double01_open0(px::join64(b.w[0], b.w[1]));
      REQUIRE(u1 > 0.0);
      REQUIRE(u1 <= 1.0);
      // z0^2 + z1^2 = -2 log(u1): the radius of the pair.
      REQUIRE(out[i] * out[i] + out[i + 1] * out[i + 1] == Approx(-2 * std::log(u1)).epsilon(1e-12).margin(1e-12));
    }
    CHECK(std::abs(mean_of(out)) < 6 / std::sqrt(n));
    CHECK(std::abs(var_of(out) - 1.0) < 6 * std::sqrt(2.0 / n));
  }
}

TEST_CASE("randint: 128-bit reference, bounds of small and whole-int64 ranges") {
  const std::int64_t n = 5000;
  const auto reference = [](std::uint64_t bits, std::int64_t low, std::uint64_t range) {
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) +
                                     static_cast<std::uint64_t>((static_cast<u128>(bits) * range) >> 64));
  };
  SECTION("mulhi64 is the high half of the 128-bit product") {
    for (std::uint64_t c = 0; c < 2000; ++c) {
      const px::Block b = px::block(kSeed, c);
      const std::uint64_t x = px::join64(b.w[0], b.w[1]), m = px::join64(b.w[2], b.w[3]);
      REQUIRE(px::mulhi64(x, m) == static_cast<std::uint64_t>((static_cast<u128>(x) * m) >> 64));
    }
  }
  SECTION("extreme bits reach both ends of the range") {
    CHECK(draws::randint_value(0, -5, 10) == -5);
    CHECK(draws::randint_value(~0ULL, -5, 10) == 4);
    const std::int64_t lo = std::numeric_limits<std::int64_t>::min();
    CHECK(draws::randint_value(0, lo, ~0ULL) == lo);
    CHECK(draws::randint_value(~0ULL, lo, ~0ULL) == std::numeric_limits<std::int64_t>::max() - 1);
  }
  for (const auto& [low, range] : std::vector<std::pair<std::int64_t, std::uint64_t>>{
           {-3, 7}, {0, 1}, {1000, 1ULL << 40}, {std::numeric_limits<std::int64_t>::min(), ~0ULL}}) {
    INFO("low " << low << ", range " << range);
    std::vector<std::int64_t> out(n);
    run(draws::RandintEmit<std::int64_t>{out.data(), low, range}, n);
    std::vector<double> v;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t bits = (static_cast<std::uint64_t>(word_of(i, 2, 2, 1)) << 32) | word_of(i, 2, 2, 0);
      REQUIRE(out[i] == reference(bits, low, range));
      const std::uint64_t k = static_cast<std::uint64_t>(out[i]) - static_cast<std::uint64_t>(low);
      REQUIRE(k < range);
      v.push_back(static_cast<double>(k) / static_cast<double>(range));
    }
    if (range > 1) CHECK(std::abs(mean_of(v) - 0.5 * (1 - 1.0 / static_cast<double>(range))) < 6 / std::sqrt(12.0 * n));
  }
}

TEST_CASE("bernoulli: the word compared with p, scalar and per-element probabilities") {
  const std::int64_t n = 100000;
  CHECK(draws::word01(0) == 0.0);
  CHECK(draws::word01(~0u) == 1.0 - std::ldexp(1.0, -32));
  for (double p : {0.0, 0.3, 1.0}) {
    std::vector<std::uint8_t> out(n);
    run(draws::BernoulliEmit<std::uint8_t>{out.data(), p}, n);
    double ones = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      REQUIRE(out[i] == (static_cast<double>(word_of(i, 4, 1, 0)) / 4294967296.0 < p ? 1 : 0));
      ones += out[i];
    }
    CHECK(std::abs(ones / n - p) <= 6 * std::sqrt(p * (1 - p) / n));
  }
  std::vector<float> probs(n), out(n);
  for (std::int64_t i = 0; i < n; ++i) probs[i] = static_cast<float>(i % 11) / 10.0f;  // 0 .. 1, then 0 again
  run(draws::BernoulliEmit<float, float>{out.data(), 0.0, probs.data()}, n);
  for (std::int64_t i = 0; i < n; ++i) {
    if (probs[i] == 0.0f) REQUIRE(out[i] == 0.0f);
    if (probs[i] == 1.0f) REQUIRE(out[i] == 1.0f);
    REQUIRE(out[i] == (static_cast<double>(word_of(i, 4, 1, 0)) / 4294967296.0 < probs[i] ? 1.0f : 0.0f));
  }
}

TEST_CASE("dropout: survivors scaled, mask is the keep decision") {
  const std::int64_t n = 50003;
  const double p = 0.25;
  std::vector<double> x(n), out(n);
  for (std::int64_t i = 0; i < n; ++i) x[i] = 0.5 + static_cast<double>(i % 7);
  std::unique_ptr<bool[]> mask(new bool[n]);
  run(draws::DropoutEmit<double>{out.data(), mask.get(), x.data(), p, 1 / (1 - p)}, n);
  double kept = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const bool keep = static_cast<double>(word_of(i, 4, 1, 0)) / 4294967296.0 >= p;
    REQUIRE(mask[i] == keep);
    REQUIRE(out[i] == (keep ? x[i] * (1 / (1 - p)) : 0.0));
    kept += keep;
  }
  CHECK(std::abs(kept / n - (1 - p)) <= 6 * std::sqrt(p * (1 - p) / n));
  // Without a mask the values are the same.
  std::vector<double> out2(n);
  run(draws::DropoutEmit<double>{out2.data(), nullptr, x.data(), p, 1 / (1 - p)}, n);
  CHECK(out2 == out);
}

TEST_CASE("randperm's swap partners are uniform in [0, i]") {
  const std::int64_t n = 4001;
  std::vector<std::uint64_t> bits(n);
  run(draws::Bits64Emit{bits.data()}, n);
  for (std::int64_t i = 1; i < n; ++i) {
    const std::int64_t j = draws::swap_partner(bits[i], i);
    REQUIRE((j >= 0 && j <= i));
    REQUIRE(j == static_cast<std::int64_t>((static_cast<u128>(bits[i]) * static_cast<std::uint64_t>(i + 1)) >> 64));
  }
  CHECK(draws::swap_partner(~0ULL, 9) == 9);
  CHECK(draws::swap_partner(0, 9) == 0);
}
