// Philox known-answer vectors, stream layout, determinism across seeds and thread counts, and
// distribution statistics with fixed seeds (bounds of six standard errors: deterministic, and
// far from the observed values, so they cannot flake yet catch a wrong distribution).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "../../lib/core/philox.hpp"  // header-only counter math, no library internals
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
namespace px = tapeflow::detail::philox;

namespace {

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.contiguous();
  std::vector<double> v(static_cast<std::size_t>(c.numel()));
  dispatch(c.dtype(), [&]<typename T>() {
    const T* p = c.data_ptr<T>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  const Tensor x = a.contiguous(), y = b.contiguous();
  return x.dtype() == y.dtype() && x.shape() == y.shape() &&
         std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

struct Moments {
  double mean = 0, var = 0;
};
Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= static_cast<double>(v.size());
  return m;
}

// Restores the thread count when a test ends (even by exception).
struct ThreadGuard {
  int saved = get_num_threads();
  ~ThreadGuard() { set_num_threads(saved); }
};

constexpr double kSigmas = 6.0;
const std::int64_t kMillion = 1000000;

}  // namespace

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors") {
  auto check = [](px::Block ctr, px::Key key, std::array<std::uint32_t, 4> expect) {
    const px::Block out = px::philox4x32_10(ctr, key);
    for (int i = 0; i < 4; ++i) REQUIRE(out.w[i] == expect[static_cast<std::size_t>(i)]);
  };
  check({{0, 0, 0, 0}}, {{0, 0}}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  check({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, {{0xffffffffu, 0xffffffffu}},
        {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  check({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, {{0xa4093822u, 0x299f31d0u}},
        {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
  // Usable at compile time (and hence in device code without a runtime table).
  static_assert(px::philox4x32_10({{0, 0, 0, 0}}, {{0, 0}}).w[0] == 0x6627e8d5u);
  // Seed 0, counter 0 is the first vector under the documented stream layout.
  REQUIRE(px::block(0, 0).w[3] == 0x9b00dbd8u);
}

TEST_CASE("mulhi64 maps 64 random bits onto [0, n)") {
  REQUIRE(px::mulhi64(0, 10) == 0);
  REQUIRE(px::mulhi64(~std::uint64_t{0}, 10) == 9);
  REQUIRE(px::mulhi64(std::uint64_t{1} << 63, 10) == 5);
  REQUIRE(px::mulhi64(~std::uint64_t{0}, ~std::uint64_t{0}) == ~std::uint64_t{0} - 1);
  REQUIRE(px::mulhi64(0x123456789abcdef0ull, std::uint64_t{1} << 32) == 0x12345678ull);
}

TEST_CASE("rand follows the documented stream layout") {
  Generator g(0x1234567890abcdefull);
  const std::uint64_t seed = g.seed();
  g.advance(5);  // start from a non-zero counter
  Tensor f = rand({10}, kFloat32, &g);
  const float* fp = f.data_ptr<float>();
  for (std::uint64_t i = 0; i < 10; ++i) {
    const std::uint32_t w = px::block(seed, 5 + i / 4).w[i % 4];
    REQUIRE(fp[i] == static_cast<float>(w >> 8) * 0x1.0p-24f);
  }
  REQUIRE(g.offset() == 5 + 3);  // ceil(10 / 4) counters
  Tensor d = rand({3}, kFloat64, &g);
  const double* dp = d.data_ptr<double>();
  for (std::uint64_t i = 0; i < 3; ++i) {
    const px::Block b = px::block(seed, 8 + i / 2);
    const std::uint64_t x = (std::uint64_t{b.w[2 * (i % 2) + 1]} << 32) | b.w[2 * (i % 2)];
    REQUIRE(dp[i] == static_cast<double>(x >> 11) * 0x1.0p-53);
  }
  REQUIRE(g.offset() == 8 + 2);
}

TEST_CASE("same seed repeats, different seeds and consecutive draws differ") {
  manual_seed(42);
  Tensor a = rand({1000});
  Tensor a2 = rand({1000});
  manual_seed(42);
  Tensor b = rand({1000});
  REQUIRE(bit_equal(a, b));
  REQUIRE_FALSE(bit_equal(a, a2));
  manual_seed(43);
  REQUIRE_FALSE(bit_equal(a, rand({1000})));
  REQUIRE(default_generator().seed() == 43);

  // A private generator does not touch the default one.
  const std::uint64_t before = default_generator().offset();
  Generator g1(7), g2(7);
  REQUIRE(bit_equal(randn({100}, kFloat64, &g1), randn({100}, kFloat64, &g2)));
  REQUIRE(default_generator().offset() == before);
  g1.manual_seed(7);
  REQUIRE(g1.offset() == 0);
  // Copies share state: a draw through one advances the other.
  Generator g3 = g1;
  rand({4}, {}, &g3);
  REQUIRE(g1.offset() == 1);

  // Every factory repeats under the same seed.
  auto all = [](std::uint64_t s) {
    Generator g(s);
    return std::vector<Tensor>{randint(0, 100, {50}, kInt64, &g), bernoulli({50}, 0.5, {}, &g),
                               randperm(50, kInt64, &g), randn({50}, {}, &g)};
  };
  const auto x = all(11), y = all(11), z = all(12);
  for (std::size_t i = 0; i < x.size(); ++i) {
    REQUIRE(bit_equal(x[i], y[i]));
    REQUIRE_FALSE(bit_equal(x[i], z[i]));
  }
}

TEST_CASE("draws are bit-identical with 1 and 2 threads") {
  ThreadGuard guard;
  const std::int64_t n = (1 << 20) + 3;  // enough counters to split, and a ragged tail
  auto draw = [&](int threads) {
    set_num_threads(threads);
    Generator g(2024);
    manual_seed(99);
    std::vector<Tensor> out{rand({n}, kFloat32, &g), rand({n}, kFloat64, &g), randn({n}, kFloat32, &g),
                            randn({n}, kFloat64, &g), randint(-5, 1000, {n}, kInt32, &g),
                            bernoulli({n}, 0.25, kBool, &g), bernoulli(full({n}, 0.5, kFloat64), &g),
                            randperm(n, kInt64, &g), dropout(ones({n}), 0.4)};
    Tensor u = empty({n / 2, 2}).t();  // non-contiguous in-place target
    uniform_(u, -1, 1, &g);
    out.push_back(u);
    Tensor w = empty({n}, kFloat64);
    normal_(w, 2, 3, &g);
    out.push_back(w);
    return out;
  };
  const auto one = draw(1);
  const auto two = draw(2);
  REQUIRE(get_num_threads() == 2);
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO("draw " << i);
    REQUIRE(bit_equal(one[i], two[i]));
  }
}

TEST_CASE("rand and uniform_ are uniform on [from, to)") {
  Generator g(1);
  for (DType dt : {kFloat32, kFloat64}) {
    const auto v = values(rand({kMillion}, dt, &g));
    REQUIRE(*std::min_element(v.begin(), v.end()) >= 0.0);
    REQUIRE(*std::max_element(v.begin(), v.end()) < 1.0);
    const Moments m = moments(v);
    const double n = static_cast<double>(v.size());
    REQUIRE(std::abs(m.mean - 0.5) < kSigmas * std::sqrt(1.0 / 12 / n));
    REQUIRE(std::abs(m.var - 1.0 / 12) < kSigmas * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
    // Each tenth of the interval gets its share.
    std::vector<double> bins(10, 0);
    for (double x : v) bins[static_cast<std::size_t>(x * 10)] += 1;
    for (double c : bins) REQUIRE(std::abs(c / n - 0.1) < kSigmas * std::sqrt(0.09 / n));
  }
  Tensor t = empty({1000, 1000}, kFloat64);
  const std::uint64_t version = t.impl()->storage->version();
  uniform_(t, -2, 3, &g);
  REQUIRE(t.impl()->storage->version() == version + 1);
  const auto v = values(t);
  REQUIRE(*std::min_element(v.begin(), v.end()) >= -2.0);
  REQUIRE(*std::max_element(v.begin(), v.end()) < 3.0);
  REQUIRE(std::abs(moments(v).mean - 0.5) < kSigmas * 5 * std::sqrt(1.0 / 12 / 1e6));
  // A degenerate interval gives its one value; a float32 interval never reaches `to`.
  Tensor c = empty({100});
  uniform_(c, 1.5, 1.5, &g);
  for (double x : values(c)) REQUIRE(x == 1.5);
  Tensor narrow = empty({100000});
  uniform_(narrow, 1.0, 1.0000001, &g);
  for (double x : values(narrow)) REQUIRE((x >= 1.0 && x < static_cast<double>(1.0000001f)));
  // 0-d and zero-size tensors; an empty draw reserves nothing.
  Tensor s = rand({}, kFloat32, &g);
  REQUIRE(s.dim() == 0);
  REQUIRE((s.item<double>() >= 0 && s.item<double>() < 1));
  const std::uint64_t off = g.offset();
  REQUIRE(rand({0, 3}, kFloat32, &g).numel() == 0);
  REQUIRE(g.offset() == off);
  REQUIRE(rand({2}, TensorOptions(kFloat64).requires_grad(true), &g).requires_grad());
}

TEST_CASE("randn and normal_ are normal") {
  Generator g(3);
  for (DType dt : {kFloat32, kFloat64}) {
    const auto v = values(randn({kMillion}, dt, &g));
    const double n = static_cast<double>(v.size());
    const Moments m = moments(v);
    REQUIRE(std::abs(m.mean) < kSigmas / std::sqrt(n));
    REQUIRE(std::abs(m.var - 1.0) < kSigmas * std::sqrt(2.0 / n));
    double within1 = 0, fourth = 0;
    for (double x : v) {
      REQUIRE(std::isfinite(x));
      within1 += std::abs(x) < 1.0;
      fourth += x * x * x * x;
    }
    const double p1 = std::erf(1.0 / std::sqrt(2.0));  // 0.6827
    REQUIRE(std::abs(within1 / n - p1) < kSigmas * std::sqrt(p1 * (1 - p1) / n));
    REQUIRE(std::abs(fourth / n - 3.0) < kSigmas * std::sqrt(96.0 / n));  // E z^4 = 3, Var z^4 = 96
    // Neighbouring values (the two halves of a Box-Muller pair) are uncorrelated.
    double cross = 0;
    for (std::size_t i = 0; i + 1 < v.size(); i += 2) cross += v[i] * v[i + 1];
    REQUIRE(std::abs(cross / (n / 2)) < kSigmas / std::sqrt(n / 2));
  }
  Tensor t = empty({kMillion}, kFloat32);
  normal_(t, 3.0, 2.0, &g);
  const Moments m = moments(values(t));
  REQUIRE(std::abs(m.mean - 3.0) < kSigmas * 2.0 / 1000);
  REQUIRE(std::abs(std::sqrt(m.var) - 2.0) < 0.02);
  Tensor z = empty({10}, kFloat64);
  normal_(z, -1.0, 0.0, &g);
  for (double x : values(z)) REQUIRE(x == -1.0);
}

TEST_CASE("randint stays in [low, high) and covers it evenly") {
  Generator g(5);
  const auto v = values(randint(-3, 5, {kMillion}, kInt64, &g));
  std::map<double, double> counts;
  for (double x : v) counts[x] += 1;
  REQUIRE(counts.size() == 8);
  REQUIRE(counts.begin()->first == -3);
  REQUIRE(counts.rbegin()->first == 4);
  const double n = static_cast<double>(v.size());
  for (const auto& [value, c] : counts) REQUIRE(std::abs(c / n - 0.125) < kSigmas * std::sqrt(0.125 * 0.875 / n));

  // Other dtypes, the one-bound form, a range of one value and the full int64 range.
  for (DType dt : {kInt32, kFloat32, kFloat64}) {
    Tensor t = randint(10, {1000}, dt, &g);
    REQUIRE(t.dtype() == dt);
    for (double x : values(t)) REQUIRE((x >= 0 && x < 10 && x == std::floor(x)));
  }
  for (double x : values(randint(7, 8, {100}, kInt64, &g))) REQUIRE(x == 7);
  const auto lim = std::numeric_limits<std::int64_t>::max();
  Tensor big = randint(-lim - 1, lim, {10000}, kInt64, &g);
  const std::int64_t* bp = big.data_ptr<std::int64_t>();
  bool negative = false, positive = false;
  for (std::int64_t i = 0; i < big.numel(); ++i) {
    REQUIRE(bp[i] != lim);
    negative |= bp[i] < 0;
    positive |= bp[i] > 0;
  }
  REQUIRE((negative && positive));
  Tensor i32 = randint(-2147483648LL, 2147483648LL, {1000}, kInt32, &g);
  REQUIRE(i32.dtype() == kInt32);
}

TEST_CASE("bernoulli with scalar and tensor probabilities") {
  Generator g(8);
  const auto v = values(bernoulli({kMillion}, 0.3, kFloat32, &g));
  const double n = static_cast<double>(v.size());
  double ones_ = 0;
  for (double x : v) {
    REQUIRE((x == 0.0 || x == 1.0));
    ones_ += x;
  }
  REQUIRE(std::abs(ones_ / n - 0.3) < kSigmas * std::sqrt(0.21 / n));
  for (double x : values(bernoulli({1000}, 0.0, kInt32, &g))) REQUIRE(x == 0);
  for (double x : values(bernoulli({1000}, 1.0, kBool, &g))) REQUIRE(x == 1);

  // Per-element probabilities: two halves with different p.
  Tensor p = empty({2, kMillion / 2}, kFloat64);
  p.select(0, 0).fill_(0.2);
  p.select(0, 1).fill_(0.9);
  Tensor b = bernoulli(p, &g);
  REQUIRE(b.dtype() == kFloat64);
  REQUIRE(b.shape() == p.shape());
  const auto bv = values(b);
  const double half = n / 2;
  double s0 = 0, s1 = 0;
  for (std::size_t i = 0; i < bv.size(); ++i) (i < bv.size() / 2 ? s0 : s1) += bv[i];
  REQUIRE(std::abs(s0 / half - 0.2) < kSigmas * std::sqrt(0.16 / half));
  REQUIRE(std::abs(s1 / half - 0.9) < kSigmas * std::sqrt(0.09 / half));

  // Probabilities of exactly 0 and 1 through a transposed, float32 p: output follows p exactly.
  Tensor q01 = tensor(std::vector<float>{0, 1, 1, 0, 1, 0}, {2, 3}).t();
  Tensor bq = bernoulli(q01, &g);
  REQUIRE(bq.shape() == Shape{3, 2});
  REQUIRE(values(bq) == values(q01));
  // Broadcast p (stride 0).
  Tensor qb = tensor(std::vector<double>{0.0, 1.0}, {2, 1}).expand({2, 4});
  REQUIRE(values(bernoulli(qb, &g)) == values(qb));
}

TEST_CASE("randperm is a deterministic uniform permutation") {
  Generator g(9);
  Tensor p = randperm(1000, kInt64, &g);
  REQUIRE(p.dtype() == kInt64);
  auto v = values(p);
  bool moved = false;
  for (std::size_t i = 0; i < v.size(); ++i) moved |= v[i] != static_cast<double>(i);
  REQUIRE(moved);
  std::sort(v.begin(), v.end());
  for (std::size_t i = 0; i < v.size(); ++i) REQUIRE(v[i] == static_cast<double>(i));
  Generator h(9);
  REQUIRE(bit_equal(randperm(1000, kInt64, &h), p));
  REQUIRE(randperm(0, kInt64, &g).numel() == 0);
  REQUIRE(values(randperm(1, kInt64, &g)) == std::vector<double>{0});
  REQUIRE(randperm(10, kInt32, &g).dtype() == kInt32);
  auto f = values(randperm(100, kFloat32, &g));
  std::sort(f.begin(), f.end());
  for (std::size_t i = 0; i < f.size(); ++i) REQUIRE(f[i] == static_cast<double>(i));

  // All 6 permutations of 3 elements are equally likely.
  std::map<std::vector<double>, double> counts;
  const int draws = 30000;
  for (int i = 0; i < draws; ++i) counts[values(randperm(3, kInt64, &g))] += 1;
  REQUIRE(counts.size() == 6);
  for (const auto& [perm, c] : counts)
    REQUIRE(std::abs(c / draws - 1.0 / 6) < kSigmas * std::sqrt(5.0 / 36 / draws));
}

TEST_CASE("in-place draws on views") {
  // A non-contiguous target receives what a fresh draw of its shape would hold.
  Generator g1(21), g2(21);
  Tensor fresh = rand({3, 4}, kFloat32, &g1);
  Tensor target = zeros({4, 3}).t();
  uniform_(target, 0, 1, &g2);
  REQUIRE(bit_equal(target, fresh));
  // A strided slice writes only its own elements.
  Tensor base = zeros({10}, kFloat64);
  Tensor every_other = base.slice(0, 0, 10, 2);
  normal_(every_other, 5, 1, &g1);
  const auto bv = values(base);
  for (std::size_t i = 0; i < bv.size(); ++i) {
    if (i % 2) REQUIRE(bv[i] == 0.0);
    else REQUIRE(bv[i] != 0.0);
  }
  REQUIRE(base.impl()->storage->version() == 1);
}

TEST_CASE("generator reservations are thread-safe") {
  Generator g(1);
  std::vector<std::uint64_t> a, b;
  auto worker = [&g](std::vector<std::uint64_t>& out) {
    for (int i = 0; i < 20000; ++i) out.push_back(g.advance(3));
  };
  std::thread t1(worker, std::ref(a)), t2(worker, std::ref(b));
  t1.join();
  t2.join();
  std::set<std::uint64_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  REQUIRE(all.size() == 40000);
  REQUIRE(g.offset() == 120000);
  for (std::uint64_t x : all) REQUIRE(x % 3 == 0);
}

TEST_CASE("dropout") {
  manual_seed(123);
  Tensor x = ones({kMillion});
  Tensor y = dropout(x, 0.3);
  REQUIRE(y.shape() == x.shape());
  const float scale = static_cast<float>(1.0 / 0.7);
  const float* yp = y.data_ptr<float>();
  double kept = 0;
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    REQUIRE((yp[i] == 0.0f || yp[i] == scale));
    kept += yp[i] != 0.0f;
  }
  REQUIRE(std::abs(kept / 1e6 - 0.7) < kSigmas * std::sqrt(0.21 / 1e6));
  // Consecutive calls draw different masks; reseeding repeats them.
  REQUIRE_FALSE(bit_equal(dropout(x, 0.3), y));
  manual_seed(123);
  REQUIRE(bit_equal(dropout(x, 0.3), y));

  // Non-contiguous float64 input: each output is 0 or the matching input scaled.
  Tensor a = arange(1.0, 13.0, 1.0, kFloat64).reshape({3, 4}).t();
  Tensor d = dropout(a, 0.5);
  REQUIRE(d.shape() == Shape{4, 3});
  const auto av = values(a), dv = values(d);
  for (std::size_t i = 0; i < av.size(); ++i) REQUIRE((dv[i] == 0.0 || dv[i] == av[i] * 2.0));

  // A dropped element is 0 whatever its value (inf and NaN too); a kept one is scaled.
  std::vector<float> pattern;
  for (int i = 0; i < 250; ++i) pattern.insert(pattern.end(), {INFINITY, -INFINITY, NAN, 1.0f});
  const Tensor special = tensor(pattern);
  const Tensor ds = dropout(special, 0.5);
  const auto sv = values(special), dsv = values(ds);
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < sv.size(); ++i) {
    if (dsv[i] == 0.0 && std::signbit(dsv[i]) == false) {
      ++dropped;
      continue;
    }
    if (std::isnan(sv[i])) REQUIRE(std::isnan(dsv[i]));
    else REQUIRE(dsv[i] == sv[i] * 2.0);
  }
  REQUIRE(dropped > 400);
  REQUIRE(dropped < 600);
  REQUIRE(values(dropout(a, 1.0)) == std::vector<double>(12, 0.0));
  REQUIRE(values(dropout(a, 0.0)) == av);
  REQUIRE(dropout(a, 0.5, /*training=*/false).is_same(a));
  REQUIRE(dropout(zeros({0, 5}), 0.5).numel() == 0);
  REQUIRE_THROWS_AS(dropout(a, -0.1), ValueError);
  REQUIRE_THROWS_AS(dropout(a, 1.5), ValueError);
  REQUIRE_THROWS_AS(dropout(a, std::nan("")), ValueError);
  REQUIRE_THROWS_AS(dropout(ones({3}, kInt64), 0.5), DTypeError);
  REQUIRE_THROWS_AS(dropout(Tensor(), 0.5), ValueError);
}

TEST_CASE("random errors") {
  REQUIRE_THROWS_AS(rand({2}, kInt64), DTypeError);
  REQUIRE_THROWS_AS(randn({2}, kBool), DTypeError);
  REQUIRE_THROWS_AS(rand({-1}), ShapeError);
  if (!cuda::is_available()) REQUIRE_THROWS_AS(rand({2}, Device::cuda()), DeviceError);  // no such device
  REQUIRE_THROWS_AS(randint(5, 5, {2}), ValueError);
  REQUIRE_THROWS_AS(randint(0, {2}), ValueError);
  REQUIRE_THROWS_AS(randint(0, 2, {2}, kBool), DTypeError);
  REQUIRE_THROWS_AS(randint(0, 1LL << 40, {2}, kInt32), ValueError);
  REQUIRE_THROWS_AS(bernoulli({2}, 1.5), ValueError);
  REQUIRE_THROWS_AS(bernoulli({2}, -0.5), ValueError);
  REQUIRE_THROWS_AS(bernoulli(tensor(std::vector<double>{0.5, 1.5})), ValueError);
  REQUIRE_THROWS_AS(bernoulli(tensor(std::vector<double>{0.5, std::nan("")})), ValueError);
  REQUIRE_THROWS_AS(bernoulli(ones({2}, kInt64)), DTypeError);
  REQUIRE_THROWS_AS(bernoulli(Tensor()), ValueError);
  REQUIRE_THROWS_AS(randperm(-1), ValueError);
  REQUIRE_THROWS_AS(randperm(3, kBool), DTypeError);
  REQUIRE_THROWS_AS(randperm((1 << 24) + 2, kFloat32), ValueError);
  Tensor f = zeros({3});
  REQUIRE_THROWS_AS(uniform_(f, 1, 0), ValueError);
  REQUIRE_THROWS_AS(uniform_(f, 0, std::numeric_limits<double>::infinity()), ValueError);
  REQUIRE_THROWS_AS(normal_(f, 0, -1), ValueError);
  REQUIRE_THROWS_AS(normal_(f, std::nan(""), 1), ValueError);
  Tensor i = zeros({3}, kInt32);
  REQUIRE_THROWS_AS(uniform_(i), DTypeError);
  REQUIRE_THROWS_AS(normal_(i), DTypeError);
  Tensor e = zeros({1}).expand({4});
  REQUIRE_THROWS_AS(uniform_(e), ValueError);
  Tensor u;
  REQUIRE_THROWS_AS(uniform_(u), ValueError);
  // A failed call leaves the target untouched.
  REQUIRE(values(f) == std::vector<double>(3, 0.0));
}
