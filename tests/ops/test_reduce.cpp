// Reductions against float64 loop references written here, over shapes, dims lists, dtypes and
// strided inputs; special values (NaN, inf, ties), zero-size inputs, thread-count independence,
// accuracy, and every error path.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

using Vec = std::vector<double>;
using Dims = std::vector<std::int64_t>;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Deterministic pseudo-random values in [lo, hi).
Vec random_values(std::size_t n, double lo, double hi, std::uint64_t seed = 1) {
  Vec v(n);
  std::uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = lo + (hi - lo) * static_cast<double>(s >> 11) / 9007199254740992.0;
  }
  return v;
}

// A tensor of dtype dt with the given values (rounded to integers for integer dtypes).
Tensor make(const Vec& v, const Dims& shape, DType dt) {
  Tensor t = tensor(v, shape);
  if (is_integral(dt)) {
    Vec r(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) r[i] = std::round(v[i]);
    t = tensor(r, shape);
  }
  return t.to(dt);
}

Vec values_of(const Tensor& t) {
  const Tensor c = t.to(kFloat64).contiguous();
  const double* p = c.data_ptr<double>();
  return Vec(p, p + c.numel());
}

// Elements of x grouped by output element (row-major over kept dims); each group lists its
// reduced elements in row-major order. Empty dims = all dims.
std::vector<Vec> groups_of(const Tensor& x, Dims dims) {
  const Vec v = values_of(x);
  const auto nd = static_cast<std::size_t>(x.dim());
  std::vector<bool> red(nd, dims.empty());
  for (auto d : dims)
    if (nd > 0) red[static_cast<std::size_t>(d < 0 ? d + static_cast<std::int64_t>(nd) : d)] = true;
  std::int64_t m = 1;
  for (std::size_t d = 0; d < nd; ++d)
    if (!red[d]) m *= x.size(static_cast<std::int64_t>(d));
  std::vector<Vec> g(static_cast<std::size_t>(m));
  std::vector<std::int64_t> idx(nd, 0);
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::int64_t o = 0;
    for (std::size_t d = 0; d < nd; ++d)
      if (!red[d]) o = o * x.size(static_cast<std::int64_t>(d)) + idx[d];
    g[static_cast<std::size_t>(o)].push_back(v[i]);
    for (std::size_t d = nd; d-- > 0;) {
      if (++idx[d] < x.size(static_cast<std::int64_t>(d))) break;
      idx[d] = 0;
    }
  }
  return g;
}

Shape expected_shape(const Tensor& x, Dims dims, bool keepdim) {
  Shape s;
  const auto nd = x.dim();
  for (std::int64_t d = 0; d < nd; ++d) {
    bool r = dims.empty();
    for (auto e : dims) r = r || e == d || e + nd == d;
    if (!r) s.push_back(x.size(d));
    else if (keepdim) s.push_back(1);
  }
  return s;
}

bool close(double got, double want, double rtol, double atol = 1e-12) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::abs(got - want) <= atol + rtol * std::abs(want);
}

void require_close(const Tensor& out, const Vec& want, double rtol) {
  const Vec got = values_of(out);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    REQUIRE(close(got[i], want[i], rtol));
  }
}

// Reference reductions of one group.
double ref_sum(const Vec& g) { double s = 0; for (double v : g) s += v; return s; }
double ref_prod(const Vec& g) { double s = 1; for (double v : g) s *= v; return s; }
double ref_mean(const Vec& g) { return ref_sum(g) / static_cast<double>(g.size()); }
double ref_max(const Vec& g) {
  double m = -kInf;
  for (double v : g) if (std::isnan(v) || v > m) { m = v; if (std::isnan(v)) break; }
  return m;
}
double ref_min(const Vec& g) {
  double m = kInf;
  for (double v : g) if (std::isnan(v) || v < m) { m = v; if (std::isnan(v)) break; }
  return m;
}
double ref_var(const Vec& g, std::int64_t correction) {
  const double mu = ref_mean(g);
  double s = 0;
  for (double v : g) s += (v - mu) * (v - mu);
  return s / std::max(0.0, static_cast<double>(g.size()) - static_cast<double>(correction));
}
double ref_lse(const Vec& g) {
  double s = 0;
  for (double v : g) s += std::exp(v);
  return std::log(s);
}
double ref_norm(const Vec& g, double p) {
  if (std::isinf(p)) { double m = 0; for (double v : g) m = std::max(m, std::abs(v)); return m; }
  double s = 0;
  for (double v : g) s += p == 0 ? (v != 0) : std::pow(std::abs(v), p);
  return p == 0 ? s : std::pow(s, 1 / p);
}

Vec map_groups(const std::vector<Vec>& groups, const std::function<double(const Vec&)>& f) {
  Vec out;
  for (const auto& g : groups) out.push_back(f(g));
  return out;
}

// The same data as a contiguous tensor, a transposed view, a step-2 slice and an expanded view.
std::vector<Tensor> layouts(const Vec& v, const Dims& shape, DType dt) {
  std::vector<Tensor> out{make(v, shape, dt)};
  if (shape.size() >= 2) {
    Dims ts = shape;
    std::swap(ts.front(), ts.back());
    out.push_back(make(v, ts, dt).transpose(0, static_cast<std::int64_t>(ts.size()) - 1));
  }
  if (!shape.empty()) {
    Dims big = shape;
    big.back() *= 2;
    Vec w = random_values(static_cast<std::size_t>(shape_numel(big)), -2, 2, 7);
    out.push_back(make(w, big, dt).slice(-1, 0, std::nullopt, 2));
    Dims one = shape;
    one.front() = 1;
    Dims target = shape;
    out.push_back(make(Vec(v.begin(), v.begin() + shape_numel(one)), one, dt).expand(target));
  }
  return out;
}

const std::vector<Dims> kShapes = {{}, {7}, {3, 4}, {2, 3, 5}, {4, 1, 6, 3}, {33, 17}};

std::vector<Dims> dims_lists(std::size_t nd) {
  std::vector<Dims> out{{}};
  if (nd == 0) return {{}, {0}, {-1}};
  out.push_back({0});
  out.push_back({-1});
  if (nd >= 2) out.push_back({0, -1});
  if (nd >= 3) {
    out.push_back({-1, 1});
    out.push_back({0, 2});
  }
  if (nd >= 4) out.push_back({1, 3, 0});
  return out;
}

double rtol_for(DType dt) { return dt == kFloat32 ? 2e-5 : 1e-12; }

// Runs check(x, dims, keepdim) over every shape, layout and dims list for the given dtypes.
void for_each_case(const std::vector<DType>& dtypes, double lo, double hi,
                   const std::function<void(const Tensor&, const Dims&, bool, DType)>& check) {
  for (DType dt : dtypes)
    for (const auto& shape : kShapes) {
      const Vec v = random_values(static_cast<std::size_t>(shape_numel(shape)), lo, hi, shape.size() + 3);
      for (const Tensor& x : layouts(v, shape, dt))
        for (const auto& dims : dims_lists(shape.size()))
          for (bool keepdim : {false, true}) {
            INFO("dtype " << dt << " shape " << x.shape() << " strides " << x.strides() << " dims " << IntArrayRef(dims)
                          << " keepdim " << keepdim);
            check(x, dims, keepdim, dt);
          }
    }
}

const std::vector<DType> kAll = {kFloat32, kFloat64, kInt32, kInt64, kBool};
const std::vector<DType> kFloats = {kFloat32, kFloat64};

}  // namespace

TEST_CASE("sum over dims lists, dtypes and layouts") {
  for_each_case(kAll, -3, 3, [](const Tensor& x, const Dims& dims, bool keepdim, DType dt) {
    const Tensor s = sum(x, dims, keepdim);
    REQUIRE(s.shape() == expected_shape(x, dims, keepdim));
    REQUIRE(s.dtype() == (is_floating_point(dt) ? dt : kInt64));
    require_close(s, map_groups(groups_of(x, dims), ref_sum), rtol_for(dt));
  });
}

TEST_CASE("sum of everything, dtype argument and methods") {
  Tensor i = tensor({{1, 2, 3}, {4, 5, 6}}).to(kInt32);
  REQUIRE(sum(i).dtype() == kInt64);
  REQUIRE(sum(i).item<std::int64_t>() == 21);
  REQUIRE(i.sum().dim() == 0);
  REQUIRE(sum(i, kFloat64).dtype() == kFloat64);
  REQUIRE(sum(i, kFloat64).item<double>() == 21.0);
  REQUIRE(sum(i, kInt32).dtype() == kInt32);
  REQUIRE(i.sum({0}, false, kInt64).dtype() == kInt64);
  Tensor f = tensor({1.6, 2.7, -0.5}, kFloat64);
  REQUIRE(sum(f, kInt64).item<std::int64_t>() == 1 + 2 + 0);  // cast first, then sum
  REQUIRE(sum(f, kFloat32).dtype() == kFloat32);
  Tensor b = tensor({true, false, true, true});
  REQUIRE(sum(b).item<std::int64_t>() == 3);
  REQUIRE(sum(b, kBool).item<bool>());
  // int64 wraps around like PyTorch.
  Tensor big = tensor(std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::max(), 1});
  REQUIRE(sum(big).item<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
  Tensor cols = i.sum({1}, true);
  REQUIRE(cols.shape() == Shape{2, 1});
  REQUIRE(cols.data_ptr<std::int64_t>()[1] == 15);
}

TEST_CASE("mean, var and std against loops") {
  for_each_case(kFloats, -3, 3, [](const Tensor& x, const Dims& dims, bool keepdim, DType dt) {
    const auto groups = groups_of(x, dims);
    const Tensor m = mean(x, dims, keepdim);
    REQUIRE(m.shape() == expected_shape(x, dims, keepdim));
    REQUIRE(m.dtype() == dt);
    require_close(m, map_groups(groups, ref_mean), rtol_for(dt));
    for (std::int64_t c : {0, 1, 2}) {
      require_close(var(x, dims, c, keepdim), map_groups(groups, [c](const Vec& g) { return ref_var(g, c); }),
                    rtol_for(dt) * 10);
      require_close(tapeflow::std(x, dims, c, keepdim),
                    map_groups(groups, [c](const Vec& g) { return std::sqrt(ref_var(g, c)); }), rtol_for(dt) * 10);
    }
  });
  Tensor x = tensor({{1.0, 2.0}, {3.0, 5.0}}, kFloat64);
  REQUIRE(x.mean().item<double>() == 2.75);
  REQUIRE(x.mean({0}).data_ptr<double>()[1] == 3.5);
  REQUIRE(x.var().item<double>() == Approx(ref_var({1, 2, 3, 5}, 1)));
  REQUIRE(x.var({}, 0).item<double>() == Approx(ref_var({1, 2, 3, 5}, 0)));  // all dims, correction 0
  REQUIRE(x.std({1}, 0, true).shape() == Shape{2, 1});
  REQUIRE(x.std({1}, 0, true).data_ptr<double>()[1] == 1.0);
  REQUIRE(x.std().item<double>() == Approx(std::sqrt(ref_var({1, 2, 3, 5}, 1))));
}

TEST_CASE("var: correction beyond the count, single elements, empty") {
  Tensor x = tensor({1.0, 2.0});
  REQUIRE(std::isinf(var(x, {}, 3).item<float>()));
  REQUIRE(std::isinf(var(x, {}, 2).item<float>()));
  REQUIRE(std::isnan(var(tensor({4.0}), {}, 1).item<float>()));
  REQUIRE(var(tensor({4.0}), {}, 0).item<float>() == 0.0f);
  REQUIRE(std::isnan(var(zeros({0})).item<float>()));
  // Negative correction divides by more than n.
  REQUIRE(var(x, {}, -2).item<float>() == Approx(0.5 / 4.0));
}

TEST_CASE("var is stable for a large offset") {
  Vec v = random_values(100001, -1, 1, 11);
  for (auto& e : v) e += 1e6;
  Tensor x = tensor(v, kFloat64);
  const double want = ref_var(v, 1);
  REQUIRE(std::abs(var(x).item<double>() - want) < 1e-10 * want);
  REQUIRE(std::abs(var(x.to(kFloat32)).item<double>() - ref_var(values_of(x.to(kFloat32)), 1)) < 1e-4 * want);
  // Strided (Welford) path too.
  Tensor t = x.reshape({1, 100001}).expand({3, 100001}).transpose(0, 1);
  REQUIRE(std::abs(var(t, {0}).data_ptr<double>()[2] - want) < 1e-9 * want);
}

TEST_CASE("prod against loops; integer prod gives int64") {
  for_each_case(kAll, 0.5, 1.6, [](const Tensor& x, const Dims& dims, bool keepdim, DType dt) {
    if (dims.size() > 1) return;
    const Tensor p = dims.empty() ? prod(x) : prod(x, dims[0], keepdim);
    REQUIRE(p.shape() == expected_shape(x, dims, dims.empty() ? false : keepdim));
    REQUIRE(p.dtype() == (is_floating_point(dt) ? dt : kInt64));
    Vec want = map_groups(groups_of(x, dims), ref_prod);
    if (!is_floating_point(dt))
      for (double w : want)
        if (std::abs(w) > 1e18) return;  // would wrap around in int64
    require_close(p, want, rtol_for(dt));
  });
  Tensor i = tensor({{2, 3}, {4, -5}}).to(kInt32);
  REQUIRE(i.prod().item<std::int64_t>() == -120);
  REQUIRE(i.prod(1).data_ptr<std::int64_t>()[1] == -20);
  REQUIRE(i.prod(0, true).shape() == Shape{1, 2});
  REQUIRE(prod(tensor({true, true, false})).item<std::int64_t>() == 0);
}

TEST_CASE("amax/amin/max/min against loops, all dtypes") {
  for_each_case(kAll, -5, 5, [](const Tensor& x, const Dims& dims, bool keepdim, DType dt) {
    const auto groups = groups_of(x, dims);
    const Tensor a = amax(x, dims, keepdim), b = amin(x, dims, keepdim);
    REQUIRE(a.shape() == expected_shape(x, dims, keepdim));
    REQUIRE(a.dtype() == dt);
    require_close(a, map_groups(groups, ref_max), 0);
    require_close(b, map_groups(groups, ref_min), 0);
    if (dims.empty()) {
      require_close(max(x), map_groups(groups, ref_max), 0);
      require_close(x.min(), map_groups(groups, ref_min), 0);
    }
  });
}

TEST_CASE("max/min with dim return values and first indices; argmax/argmin") {
  for_each_case({kFloat32, kFloat64, kInt32, kInt64}, -3, 3, [](const Tensor& x, const Dims& dims, bool keepdim, DType) {
    if (dims.size() != 1) return;
    const auto groups = groups_of(x, dims);
    auto first_index = [](const Vec& g, bool is_max) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < g.size(); ++i)
        if (is_max ? g[i] > g[best] : g[i] < g[best]) best = i;
      return static_cast<double>(best);
    };
    for (bool is_max : {true, false}) {
      auto [v, i] = is_max ? max(x, dims[0], keepdim) : min(x, dims[0], keepdim);
      REQUIRE(i.dtype() == kInt64);
      REQUIRE(v.shape() == expected_shape(x, dims, keepdim));
      require_close(v, map_groups(groups, is_max ? ref_max : ref_min), 0);
      require_close(i, map_groups(groups, [&](const Vec& g) { return first_index(g, is_max); }), 0);
      const Tensor a = is_max ? argmax(x, dims[0], keepdim) : x.argmin(dims[0], keepdim);
      require_close(a, values_of(i), 0);
    }
    // Over everything: the flat row-major index.
    const auto all_groups = groups_of(x, {});
    require_close(argmax(x), {first_index(all_groups[0], true)}, 0);
    require_close(x.argmin(), {first_index(all_groups[0], false)}, 0);
  });
  Tensor t = tensor({{1, 3, 3}, {2, 2, 0}});  // ties: the first wins
  auto [v, i] = t.max(1);
  REQUIRE(i.data_ptr<std::int64_t>()[0] == 1);
  REQUIRE(i.data_ptr<std::int64_t>()[1] == 0);
  REQUIRE(v.data_ptr<std::int64_t>()[0] == 3);
  REQUIRE(argmax(t).item<std::int64_t>() == 1);
  REQUIRE(argmin(t).item<std::int64_t>() == 5);
  REQUIRE(argmax(t, std::nullopt, true).shape() == Shape{1, 1});
  REQUIRE(t.min(0, true).second.shape() == Shape{1, 3});
  REQUIRE(t.transpose(0, 1).argmax().item<std::int64_t>() == 2);  // logical order of the view
  // bool max/min work; 0-d tensors reduce over their single element.
  Tensor b = tensor({false, true, true});
  REQUIRE(max(b).item<bool>());
  REQUIRE(max(b, 0).second.item<std::int64_t>() == 1);
  REQUIRE_FALSE(min(b).item<bool>());
  Tensor s = scalar_tensor(4.5);
  REQUIRE(max(s, 0).first.item<float>() == 4.5f);
  REQUIRE(argmax(s).item<std::int64_t>() == 0);
  REQUIRE(amax(s, {-1}).dim() == 0);
}

TEST_CASE("NaN propagates in max/min/amax and their indices point at it") {
  Tensor x = tensor({{1.0, kNan, 5.0, kNan}, {2.0, 7.0, -1.0, 0.0}}, kFloat64);
  REQUIRE(std::isnan(max(x).item<double>()));
  REQUIRE(std::isnan(min(x).item<double>()));
  REQUIRE(std::isnan(amax(x, {1}).data_ptr<double>()[0]));
  REQUIRE(amax(x, {1}).data_ptr<double>()[1] == 7.0);
  REQUIRE(amin(x, {1}).data_ptr<double>()[1] == -1.0);
  auto [v, i] = max(x, 1);
  REQUIRE(std::isnan(v.data_ptr<double>()[0]));
  REQUIRE(i.data_ptr<std::int64_t>()[0] == 1);
  REQUIRE(i.data_ptr<std::int64_t>()[1] == 1);
  REQUIRE(argmin(x).item<std::int64_t>() == 1);
  REQUIRE(argmax(x, 0).data_ptr<std::int64_t>()[1] == 0);
  REQUIRE(std::isnan(sum(x).item<double>()));
  // A NaN deep inside a long contiguous run (lane-split loop).
  Tensor big = zeros({5000});
  big.narrow(0, 4097, 1).fill_(kNan);
  REQUIRE(std::isnan(amax(big).item<float>()));
  REQUIRE(argmax(big).item<std::int64_t>() == 4097);
}

TEST_CASE("logsumexp against loops and with infinities") {
  for_each_case(kFloats, -4, 4, [](const Tensor& x, const Dims& dims, bool keepdim, DType dt) {
    const Tensor l = logsumexp(x, dims, keepdim);
    REQUIRE(l.shape() == expected_shape(x, dims, keepdim));
    require_close(l, map_groups(groups_of(x, dims), ref_lse), rtol_for(dt));
  });
  REQUIRE(logsumexp(tensor({1000.0, 1000.0}, kFloat64), {0}).item<double>() == Approx(1000.0 + std::log(2.0)));
  REQUIRE(logsumexp(tensor({-kInf, -kInf}), {0}).item<float>() == -kInf);
  REQUIRE(logsumexp(tensor({-kInf, 0.0}), {0}).item<float>() == 0.0f);
  REQUIRE(logsumexp(tensor({kInf, 1.0, kInf}), {0}).item<float>() == kInf);
  REQUIRE(std::isnan(logsumexp(tensor({1.0, kNan}), {0}).item<float>()));
  REQUIRE(logsumexp(zeros({0, 2}), {0}).data_ptr<float>()[1] == -kInf);
  // Long contiguous runs with infinities take the fallback path.
  Tensor big = full({9000}, -kInf, kFloat64);
  REQUIRE(logsumexp(big, {0}).item<double>() == -kInf);
  big.narrow(0, 5000, 1).fill_(3.0);
  REQUIRE(logsumexp(big, {0}).item<double>() == 3.0);
  big.narrow(0, 8000, 1).fill_(kInf);
  REQUIRE(big.logsumexp({0}).item<double>() == kInf);
}

TEST_CASE("norm for p = 0, 1, 2, 3, 0.5 and infinity") {
  for (double p : {0.0, 1.0, 2.0, 3.0, 0.5, kInf})
    for_each_case(kFloats, -3, 3, [p](const Tensor& x, const Dims& dims, bool keepdim, DType dt) {
      INFO("p = " << p);
      const Tensor n = norm(x, p, dims, keepdim);
      REQUIRE(n.shape() == expected_shape(x, dims, keepdim));
      REQUIRE(n.dtype() == dt);
      require_close(n, map_groups(groups_of(x, dims), [p](const Vec& g) { return ref_norm(g, p); }), rtol_for(dt) * 5);
    });
  Tensor x = tensor({3.0, -4.0});
  REQUIRE(x.norm().item<float>() == 5.0f);
  REQUIRE(x.norm(1).item<float>() == 7.0f);
  REQUIRE(x.norm(kInf).item<float>() == 4.0f);
  REQUIRE(x.norm(2, {0}, true).shape() == Shape{1});
  REQUIRE(std::isnan(norm(tensor({1.0, kNan}), kInf).item<float>()));
  REQUIRE(norm(zeros({0})).item<float>() == 0.0f);
}

TEST_CASE("cumsum along every dim, dtypes and layouts") {
  for (DType dt : kAll)
    for (const auto& shape : kShapes) {
      const Vec v = random_values(static_cast<std::size_t>(shape_numel(shape)), -3, 3, 5);
      for (const Tensor& x : layouts(v, shape, dt))
        for (std::int64_t d = -std::max<std::int64_t>(1, x.dim()); d < std::max<std::int64_t>(1, x.dim()); ++d) {
          INFO("dtype " << dt << " shape " << x.shape() << " strides " << x.strides() << " dim " << d);
          const Tensor c = cumsum(x, d);
          REQUIRE(c.shape() == x.shape());
          REQUIRE(c.dtype() == (is_floating_point(dt) ? dt : kInt64));
          // Reference: walk x's elements, accumulating along d.
          const Vec xv = values_of(x);
          Vec want(xv.size());
          const std::int64_t nd = x.dim();
          if (nd == 0) {
            want = xv;
          } else {
            const std::int64_t dd = d < 0 ? d + nd : d;
            std::int64_t inner = 1;
            for (std::int64_t k = dd + 1; k < nd; ++k) inner *= x.size(k);
            const std::int64_t n = x.size(dd);
            for (std::size_t i = 0; i < xv.size(); ++i) {
              const auto pos = (static_cast<std::int64_t>(i) / inner) % n;
              want[i] = xv[i] + (pos > 0 ? want[i - static_cast<std::size_t>(inner)] : 0.0);
            }
          }
          require_close(c, want, rtol_for(dt) * 5);
        }
    }
  Tensor i = tensor({1, 2, 3}).to(kInt32);
  REQUIRE(i.cumsum(0).dtype() == kInt64);
  REQUIRE(cumsum(i, 0, kFloat64).dtype() == kFloat64);
  REQUIRE(cumsum(i, 0, kInt32).dtype() == kInt32);
  REQUIRE(cumsum(i, 0, kInt32).data_ptr<std::int32_t>()[2] == 6);
  REQUIRE(cumsum(zeros({0, 3}), 1).shape() == Shape{0, 3});
}

TEST_CASE("all and any") {
  REQUIRE(all(tensor({1, 2, 3})).item<bool>());
  REQUIRE_FALSE(all(tensor({1, 0, 3})).item<bool>());
  REQUIRE(any(tensor({0.0, 0.0, -0.5})).item<bool>());
  REQUIRE_FALSE(any(zeros({4, 5})).item<bool>());
  REQUIRE(all(zeros({0})).item<bool>());
  REQUIRE_FALSE(any(zeros({0})).item<bool>());
  REQUIRE(all(tensor({kNan})).item<bool>());
  REQUIRE(all(tensor({true, true})).dtype() == kBool);
  REQUIRE_FALSE(tensor({true, false}).all().item<bool>());
  REQUIRE(tensor({false, true}).any().item<bool>());
  // Large enough to be cut into chunks whose bool partials are written by several threads.
  Tensor big = zeros({1 << 20}, kBool);
  REQUIRE_FALSE(big.any().item<bool>());
  REQUIRE_FALSE(amax(big).item<bool>());
  big.narrow(0, 999999, 1).fill_(true);
  REQUIRE(big.any().item<bool>());
  REQUIRE(amax(big).item<bool>());
  REQUIRE_FALSE(big.all().item<bool>());
  REQUIRE(values_of(any(big.reshape({4, 262144}).t().contiguous().t())) == Vec{1});
  for (DType dt : kAll) {
    Tensor x = ones({300, 200}, dt).transpose(0, 1);
    REQUIRE(x.all().item<bool>());
    x.select(1, 250).select(0, 199).fill_(0);
    REQUIRE_FALSE(x.all().item<bool>());
    REQUIRE(x.any().item<bool>());
  }
}

TEST_CASE("zero-size reductions") {
  Tensor e = zeros({0, 3});
  REQUIRE(sum(e, {0}).shape() == Shape{3});
  REQUIRE(values_of(sum(e, {0})) == Vec{0, 0, 0});
  REQUIRE(sum(e, {1}).shape() == Shape{0});
  REQUIRE(sum(e).item<float>() == 0.0f);
  REQUIRE(sum(zeros({0}, kInt32)).item<std::int64_t>() == 0);
  REQUIRE(prod(e, 0).data_ptr<float>()[2] == 1.0f);
  REQUIRE(prod(zeros({0}, kInt64)).item<std::int64_t>() == 1);
  REQUIRE(std::isnan(mean(e).item<float>()));
  REQUIRE(std::isnan(mean(e, {0}).data_ptr<float>()[0]));
  REQUIRE(amax(e, {1}).shape() == Shape{0});
  REQUIRE(max(e, 1).second.shape() == Shape{0});
  REQUIRE_THROWS_AS(max(e), IndexError);
  REQUIRE_THROWS_AS(min(e), IndexError);
  REQUIRE_THROWS_AS(amax(e), IndexError);
  REQUIRE_THROWS_AS(amin(e, {0}), IndexError);
  REQUIRE_THROWS_AS(max(e, 0), IndexError);
  REQUIRE_THROWS_AS(min(e, 0, true), IndexError);
  REQUIRE_THROWS_AS(argmax(e), IndexError);
  REQUIRE_THROWS_AS(argmin(e, 0), IndexError);
  REQUIRE_THROWS_AS(norm(e, kInf), IndexError);
  REQUIRE(norm(e, kInf, {1}).shape() == Shape{0});
}

TEST_CASE("large inputs: chunked full and outer reductions match loops") {
  // Few outputs and much work: the reduced space is cut into chunks combined in order.
  const Vec v = random_values(300000 * 5, -1, 1, 21);
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    Tensor x = make(v, {300000, 5}, dt);
    require_close(sum(x, {0}), map_groups(groups_of(x, {0}), ref_sum), dt == kFloat32 ? 1e-5 : 1e-10);
    require_close(sum(x.t(), {1}), map_groups(groups_of(x, {0}), ref_sum), dt == kFloat32 ? 1e-5 : 1e-10);
    require_close(sum(x), {ref_sum(values_of(x))}, dt == kFloat32 ? 1e-6 : 1e-9);
    require_close(amax(x, {0}), map_groups(groups_of(x, {0}), ref_max), 0);
  }
  for (DType dt : {kFloat32, kInt32}) {
    // Few contiguous rows (chunked per output) and strided rows (general walk, chunked).
    Tensor r = make(v, {5, 300000}, dt);
    require_close(sum(r, {1}), map_groups(groups_of(r, {1}), ref_sum), dt == kFloat32 ? 1e-6 : 0);
    Tensor s = r.slice(1, 1, std::nullopt, 3);
    require_close(sum(s, {-1}), map_groups(groups_of(s, {1}), ref_sum), dt == kFloat32 ? 1e-6 : 0);
    require_close(amin(s, {1}), map_groups(groups_of(s, {1}), ref_min), 0);
  }
  Tensor x = make(v, {300000, 5}, kFloat64);
  require_close(var(x, {0}), map_groups(groups_of(x, {0}), [](const Vec& g) { return ref_var(g, 1); }), 1e-10);
  require_close(logsumexp(x, {0}), map_groups(groups_of(x, {0}), ref_lse), 1e-10);
  require_close(norm(x.t(), 2, {1}), map_groups(groups_of(x, {0}), [](const Vec& g) { return ref_norm(g, 2); }), 1e-10);
  // Indexed reductions across chunk boundaries: ties in different chunks keep the first.
  Tensor y = zeros({1000000});
  y.narrow(0, 70000, 1).fill_(5);
  y.narrow(0, 900000, 1).fill_(5);
  REQUIRE(argmax(y).item<std::int64_t>() == 70000);
  Tensor m = zeros({200000, 6}, kInt32);
  m.select(0, 150000).fill_(-3);
  m.select(0, 190000).fill_(-3);
  auto [mv, mi] = min(m, 0);
  REQUIRE(mi.data_ptr<std::int64_t>()[4] == 150000);
  REQUIRE(mv.data_ptr<std::int32_t>()[4] == -3);
  auto [tv, ti] = min(m.t(), 1);
  REQUIRE(ti.data_ptr<std::int64_t>()[5] == 150000);
}

TEST_CASE("float32 sums are accurate") {
  REQUIRE(sum(ones({10000000})).item<float>() == 1e7f);
  const Vec v = random_values(3000000, 0, 1, 31);
  Tensor x = tensor(v).to(kFloat32);
  const double want = ref_sum(values_of(x));
  REQUIRE(std::abs(sum(x).item<double>() - want) <= 1e-6 * want);
  REQUIRE(std::abs(mean(x).item<double>() - want / 3e6) <= 1e-6 * want / 3e6);
  Tensor tenths = full({4000000}, 0.1f);
  REQUIRE(std::abs(sum(tenths).item<double>() - 4e6 * static_cast<double>(0.1f)) <= 1e-7 * 4e6);
}

TEST_CASE("results do not depend on the thread count") {
  const int saved = get_num_threads();
  const Vec v = random_values(1 << 22, -1, 1, 41);
  Tensor x = tensor(v, {2048, 2048}).to(kFloat32);
  auto bits = [](const Tensor& t) {
    const Tensor c = t.contiguous();
    return std::vector<unsigned char>(static_cast<const unsigned char*>(c.data_ptr()),
                                      static_cast<const unsigned char*>(c.data_ptr()) + c.nbytes());
  };
  auto run = [&] {
    return std::vector<std::vector<unsigned char>>{
        bits(sum(x)), bits(sum(x, {0})), bits(sum(x, {1})), bits(sum(x.t(), {1})), bits(var(x)),
        bits(logsumexp(x, {0})), bits(norm(x)), bits(argmax(x)), bits(sum(x.to(kFloat64))),
        bits(cumsum(x, 0)), bits(mean(x.narrow(0, 0, 3), {0}))};
  };
  set_num_threads(1);
  const auto one = run();
  set_num_threads(2);
  const auto two = run();
  set_num_threads(saved);
  REQUIRE(one.size() == two.size());
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO("result " << i);
    REQUIRE(one[i] == two[i]);
  }
}

TEST_CASE("error paths") {
  Tensor f = ones({2, 3});
  Tensor i = ones({2, 3}, kInt64);
  Tensor b = ones({2, 3}, kBool);
  // Floating-only ops.
  REQUIRE_THROWS_AS(mean(i), DTypeError);
  REQUIRE_THROWS_AS(mean(b, {0}), DTypeError);
  REQUIRE_THROWS_AS(var(i), DTypeError);
  REQUIRE_THROWS_AS(tapeflow::std(i), DTypeError);
  REQUIRE_THROWS_AS(logsumexp(i, {0}), DTypeError);
  REQUIRE_THROWS_AS(norm(i), DTypeError);
  REQUIRE_THROWS_AS(argmax(b), DTypeError);
  REQUIRE_THROWS_AS(argmin(b, 0), DTypeError);
  // Dims out of range or repeated.
  REQUIRE_THROWS_AS(sum(f, {2}), IndexError);
  REQUIRE_THROWS_AS(sum(f, {-3}), IndexError);
  REQUIRE_THROWS_AS(sum(f, {0, 0}), ShapeError);
  REQUIRE_THROWS_AS(sum(f, {1, -1}), ShapeError);
  REQUIRE_THROWS_AS(mean(f, {0, -2}), ShapeError);
  REQUIRE_THROWS_AS(amax(f, {5}), IndexError);
  REQUIRE_THROWS_AS(amin(f, {1, 1}), ShapeError);
  REQUIRE_THROWS_AS(var(f, {0, 0}), ShapeError);
  REQUIRE_THROWS_AS(logsumexp(f, {3}), IndexError);
  REQUIRE_THROWS_AS(norm(f, 2, {-1, 1}), ShapeError);
  REQUIRE_THROWS_AS(prod(f, 2), IndexError);
  REQUIRE_THROWS_AS(max(f, -3), IndexError);
  REQUIRE_THROWS_AS(argmin(f, 2), IndexError);
  REQUIRE_THROWS_AS(cumsum(f, 2), IndexError);
  REQUIRE_THROWS_AS(sum(scalar_tensor(1.0), {1}), IndexError);
  // Bad p.
  REQUIRE_THROWS_AS(norm(f, -1), ValueError);
  REQUIRE_THROWS_AS(norm(f, -kInf), ValueError);
  REQUIRE_THROWS_AS(norm(f, kNan), ValueError);
  // Undefined input.
  REQUIRE_THROWS_AS(sum(Tensor()), ValueError);
  REQUIRE_THROWS_AS(max(Tensor(), 0), ValueError);
  REQUIRE_THROWS_AS(cumsum(Tensor(), 0), ValueError);
  // Messages name the op.
  try {
    sum(f, {0, 0});
    FAIL("no throw");
  } catch (const ShapeError& e) {
    REQUIRE(std::string(e.what()).find("[sum]") == 0);
  }
}

TEST_CASE("float sums of every length around the vector widths match a float64 loop") {
  // The vectorised float sum reads 4 batches per step and finishes with a scalar tail: lengths
  // 0..130 cover every tail for SSE2/AVX2/AVX-512; a long one covers the threaded split.
  // (Run with TAPEFLOW_ELEMENTWISE_ISA=sse2|avx2|scalar to check the other kernels.)
  for (std::int64_t n : {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 130, 1000003}) {
    const Tensor x = randn({n});
    const float* p = x.data_ptr<float>();
    double expected = 0, magnitude = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      expected += static_cast<double>(p[i]);
      magnitude += std::fabs(static_cast<double>(p[i]));
    }
    const double got = x.sum().item<double>();
    INFO("n = " << n);
    // Accumulated in double, the only error is the final rounding to float.
    CHECK(std::fabs(got - expected) <= 1e-7 * std::fabs(expected) + 1e-12 * magnitude + 1e-30);
    // A strided view (every other element) goes through the same kernel per run.
    if (n >= 2) {
      const Tensor s = x.slice(0, 0, n, 2);
      double e2 = 0;
      for (std::int64_t i = 0; i < n; i += 2) e2 += static_cast<double>(p[i]);
      CHECK(std::fabs(s.sum().item<double>() - e2) <= 1e-7 * std::fabs(e2) + 1e-12 * magnitude + 1e-30);
    }
  }
}
