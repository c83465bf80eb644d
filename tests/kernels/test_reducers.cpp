// The reduction combiners shared with the CUDA kernels (kernels/reducers.hpp), run on the CPU.
// A GPU folds interleaved positions per thread and merges the partial results in whatever order
// the shuffles give, so for random data and random splits (positions dealt to random groups,
// groups merged in random order) the result must equal the sequential fold; and the sequential
// fold must equal independent float64 references and the CPU backend's ops (same NaN, tie and
// empty-input rules).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/reducers.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using namespace tapeflow::kernels;

namespace {

template <class R>
typename R::acc_t fold(const R& r, const std::vector<typename R::in_t>& v) {
  auto acc = r.init();
  for (std::size_t i = 0; i < v.size(); ++i) acc = r.combine(acc, v[i], static_cast<std::int64_t>(i));
  return acc;
}

// Positions dealt to `groups` random groups, each folded in increasing position order, merged in a
// random order.
template <class R>
typename R::acc_t split_fold(const R& r, const std::vector<typename R::in_t>& v, int groups, std::mt19937& rng) {
  struct Slot {  // not vector<bool>: bool accumulators need real references
    typename R::acc_t acc;
  };
  std::vector<Slot> part(static_cast<std::size_t>(groups), Slot{r.init()});
  std::uniform_int_distribution<int> pick(0, groups - 1);
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto& p = part[static_cast<std::size_t>(pick(rng))].acc;
    p = r.combine(p, v[i], static_cast<std::int64_t>(i));
  }
  std::shuffle(part.begin(), part.end(), rng);
  // Merge as a random binary tree: repeatedly join two random neighbours, in either order.
  while (part.size() > 1) {
    std::uniform_int_distribution<std::size_t> at(0, part.size() - 2);
    const std::size_t i = at(rng);
    const bool swap = rng() % 2 == 0;
    part[i].acc = swap ? r.merge(part[i + 1].acc, part[i].acc) : r.merge(part[i].acc, part[i + 1].acc);
    part.erase(part.begin() + static_cast<std::ptrdiff_t>(i) + 1);
  }
  return part[0].acc;
}

template <class R>
auto project(const R& r, const std::vector<typename R::in_t>& v) {
  return r.project(fold(r, v));
}

// Values with ties (rounded to a small grid), and NaN/inf where asked.
std::vector<double> sample(std::mt19937& rng, std::size_t n, bool specials) {
  std::uniform_real_distribution<double> u(-4, 4);
  std::vector<double> v(n);
  for (auto& x : v) x = std::round(u(rng) * 4) / 4;
  if (specials && n > 3) {
    v[rng() % n] = std::numeric_limits<double>::quiet_NaN();
    v[rng() % n] = std::numeric_limits<double>::infinity();
  }
  return v;
}

Tensor as_tensor(const std::vector<double>& v) {
  Tensor t = empty({static_cast<std::int64_t>(v.size())}, kFloat64);
  std::copy(v.begin(), v.end(), t.data_ptr<double>());
  return t;
}

bool same(double a, double b, double rel) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::abs(a - b) <= rel * (1 + std::abs(b));
}

}  // namespace

TEST_CASE("merging random splits equals the sequential fold", "[kernels][reduce]") {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = rng() % 70;
    const auto v = sample(rng, n, trial % 3 == 0);
    const int groups = 1 + static_cast<int>(rng() % 9);
    INFO("trial " << trial << ", n " << n << ", groups " << groups);
    for (bool is_max : {true, false}) {
      const auto a = is_max ? fold(ArgReducer<double, true>{}, v) : fold(ArgReducer<double, false>{}, v);
      const auto b = is_max ? split_fold(ArgReducer<double, true>{}, v, groups, rng)
                            : split_fold(ArgReducer<double, false>{}, v, groups, rng);
      REQUIRE(a.index == b.index);  // ties and NaN: the first position, whatever the split
      const double e1 = is_max ? fold(ExtremumReducer<double, true>{}, v) : fold(ExtremumReducer<double, false>{}, v);
      const double e2 = is_max ? split_fold(ExtremumReducer<double, true>{}, v, groups, rng)
                               : split_fold(ExtremumReducer<double, false>{}, v, groups, rng);
      REQUIRE(same(e1, e2, 0));
    }
    REQUIRE(same(fold(SumReducer<double>{}, v), split_fold(SumReducer<double>{}, v, groups, rng), 1e-12));
    const VarReducer<double> var{1, false};
    REQUIRE(same(var.project(fold(var, v)), var.project(split_fold(var, v, groups, rng)), 1e-10));
    const LogSumExpReducer<double> lse;
    REQUIRE(same(lse.project(fold(lse, v)), lse.project(split_fold(lse, v, groups, rng)), 1e-12));
    const NormReducer<double, NormKind::Inf> ninf;
    REQUIRE(same(fold(ninf, v), split_fold(ninf, v, groups, rng), 0));
    const NormReducer<double, NormKind::P> n3{3.0};
    REQUIRE(same(n3.project(fold(n3, v)), n3.project(split_fold(n3, v, groups, rng)), 1e-12));
    std::vector<int> iv(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) iv[i] = std::isfinite(v[i]) ? static_cast<int>(v[i] * 4) : 7;
    REQUIRE(fold(SumReducer<int>{}, iv) == split_fold(SumReducer<int>{}, iv, groups, rng));
    REQUIRE(fold(LogicalReducer<int, true>{}, iv) == split_fold(LogicalReducer<int, true>{}, iv, groups, rng));
    REQUIRE(fold(LogicalReducer<int, false>{}, iv) == split_fold(LogicalReducer<int, false>{}, iv, groups, rng));
    const auto ia = fold(ArgReducer<int, true>{}, iv), ib = split_fold(ArgReducer<int, true>{}, iv, groups, rng);
    REQUIRE(ia.index == ib.index);
  }
}

TEST_CASE("reducers match float64 references and the CPU backend", "[kernels][reduce]") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 100; ++trial) {
    const std::size_t n = 1 + rng() % 50;
    const bool specials = trial % 4 == 0;
    const auto v = sample(rng, n, specials);
    const Tensor t = as_tensor(v);
    INFO("trial " << trial << ", n " << n << ", specials " << specials);
    // Independent float64 references.
    double sum = 0, mx = -INFINITY;
    std::int64_t first_max = -1;
    for (std::size_t i = 0; i < n; ++i) {
      sum += v[i];
      const bool nan_seen = first_max >= 0 && std::isnan(v[static_cast<std::size_t>(first_max)]);
      if (!nan_seen && (first_max < 0 || std::isnan(v[i]) || v[i] > mx)) {
        mx = v[i];
        first_max = static_cast<std::int64_t>(i);
      }
    }
    CHECK(same(project(SumReducer<double>{}, v), sum, 1e-12));
    CHECK(project(ArgReducer<double, true>{}, v).index == first_max);
    CHECK(same(project(ExtremumReducer<double, true>{}, v), mx, 0));
    // The CPU backend, for the same semantics.
    CHECK(project(ArgReducer<double, true>{}, v).index == t.argmax().item<std::int64_t>());
    CHECK(project(ArgReducer<double, false>{}, v).index == t.argmin().item<std::int64_t>());
    CHECK(same(project(ExtremumReducer<double, false>{}, v), t.min().item<double>(), 0));
    CHECK(same(project(LogSumExpReducer<double>{}, v), t.logsumexp({0}).item<double>(), 1e-12));
    for (std::int64_t corr : {0, 1}) {
      const VarReducer<double> var{corr, corr == 1};
      const Tensor cpu = corr == 1 ? t.std({0}, corr) : t.var({0}, corr);
      CHECK(same(project(var, v), cpu.item<double>(), 1e-10));
    }
    MeanReducer<double> mean;
    mean.count = static_cast<double>(n);
    CHECK(same(project(mean, v), t.mean().item<double>(), 1e-12));
    CHECK(same(project(NormReducer<double, NormKind::Zero>{0}, v), t.norm(0).item<double>(), 0));
    CHECK(same(project(NormReducer<double, NormKind::One>{1}, v), t.norm(1).item<double>(), 1e-12));
    CHECK(same(project(NormReducer<double, NormKind::Two>{2}, v), t.norm(2).item<double>(), 1e-12));
    CHECK(same(project(NormReducer<double, NormKind::Inf>{INFINITY}, v), t.norm(INFINITY).item<double>(), 0));
    CHECK(same(project(NormReducer<double, NormKind::P>{1.5}, v), t.norm(1.5).item<double>(), 1e-12));
    if (!specials) CHECK(same(project(ProdReducer<double>{}, v), t.prod().item<double>(), 1e-12));
  }
}

TEST_CASE("reducers: NaN, ties and empty inputs", "[kernels][reduce]") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  SECTION("argmax takes the first NaN, else the first maximum") {
    CHECK(project(ArgReducer<double, true>{}, std::vector<double>{1, 3, 3, 2}).index == 1);
    CHECK(project(ArgReducer<double, true>{}, std::vector<double>{1, nan, 5, nan}).index == 1);
    CHECK(project(ArgReducer<double, false>{}, std::vector<double>{2, 1, 1, nan}).index == 3);
    const ArgReducer<double, true> r;
    // merge is order-independent on ties: the lower position wins either way.
    CHECK(r.merge({3, 5}, {3, 2}).index == 2);
    CHECK(r.merge({3, 2}, {3, 5}).index == 2);
    CHECK(r.merge({nan, 7}, {nan, 4}).index == 4);
    CHECK(r.merge({nan, 7}, {9, 1}).index == 7);
  }
  SECTION("amax/amin and the inf-norm propagate NaN") {
    CHECK(std::isnan(project(ExtremumReducer<double, true>{}, std::vector<double>{1, nan, 2})));
    CHECK(std::isnan(project(ExtremumReducer<double, false>{}, std::vector<double>{nan, 1})));
    CHECK(std::isnan(project(NormReducer<double, NormKind::Inf>{inf}, std::vector<double>{1, nan})));
  }
  SECTION("logsumexp with infinities and NaN") {
    const LogSumExpReducer<double> r;
    CHECK(project(r, std::vector<double>{-inf, -inf}) == -inf);
    CHECK(project(r, std::vector<double>{1, inf}) == inf);
    CHECK(project(r, std::vector<double>{-inf, 0}) == 0);
    CHECK(std::isnan(project(r, std::vector<double>{1, nan})));
    CHECK(project(r, std::vector<double>{1000, 1000}) == Approx(1000 + std::log(2.0)));
  }
  SECTION("empty reductions project the identity like the CPU") {
    const std::vector<double> none;
    CHECK(project(SumReducer<double>{}, none) == 0);
    CHECK(project(ProdReducer<double>{}, none) == 1);
    CHECK(project(LogSumExpReducer<double>{}, none) == -inf);
    CHECK(std::isnan(project(VarReducer<double>{1, false}, none)));
    CHECK(project(LogicalReducer<double, true>{}, none));
    CHECK_FALSE(project(LogicalReducer<double, false>{}, none));
    CHECK(project(ArgReducer<double, true>{}, none).index == -1);
  }
  SECTION("integer sums wrap like int64 and bool sums count") {
    const std::vector<std::int64_t> big{std::numeric_limits<std::int64_t>::max(), 1};
    CHECK(project(SumReducer<std::int64_t>{}, big) == std::numeric_limits<std::int64_t>::min());
    CHECK(project(SumReducer<bool>{}, std::vector<bool>{true, false, true}) == 2);
  }
}
