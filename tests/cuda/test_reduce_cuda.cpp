// Reductions on cuda:0 against the same ops on the CPU: every reduce op, float and integer
// dtypes, several masks, contiguous / permuted / stepped-slice / broadcast inputs, the layouts the
// engine distinguishes (rows, columns, a whole-tensor reduction split across blocks), NaN, ties
// and empty reductions. Tolerances: both backends accumulate floats in double, so only the order
// of additions differs (rtol 1e-5 for float32, 1e-10 for float64); indices and integers exactly.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::require_close;

namespace {

using Op = std::function<Tensor(const Tensor&)>;
using DimList = std::vector<std::int64_t>;

struct Layout {
  std::string name;
  std::function<Tensor(const Tensor&)> view;  // applied to a (17, 33, 40) tensor on either device
};

std::vector<Layout> layouts() {
  return {{"contiguous", [](const Tensor& t) { return t; }},
          {"permuted",
           [](const Tensor& t) {
             return t.permute({2, 0, 1});
           }},
          {"stepped slice", [](const Tensor& t) { return t.slice(2, 1, 40, 3); }},
          {"broadcast", [](const Tensor& t) {
             return t.slice(1, 0, 1).expand({17, 9, 40});
           }}};
}

const std::vector<DimList> kMasks = {{}, {0}, {1}, {2}, {0, 2}, {-1, -2}};

double rtol_for(DType dt) { return dt == kFloat32 ? 1e-5 : 1e-10; }

Tensor sample(DType dtype, double lo, double hi, Shape shape = {17, 33, 40}) {
  Tensor t = rand(shape, kFloat64) * (hi - lo) + lo;
  if (dtype == kBool) return t > (lo + hi) / 2;
  if (dtype == kInt32 || dtype == kInt64) return t.round().to(dtype);
  return t.to(dtype);
}

void check(const std::string& name, const Op& op, const Tensor& x, double rtol, double atol = 1e-6) {
  const Tensor gx = x.to(kGpu);
  for (const Layout& l : layouts()) {
    INFO(name << " on " << x.dtype() << ", " << l.name);
    require_close(op(l.view(x)), op(l.view(gx)), rtol, atol);
  }
}

// op over every mask, every layout.
void check_masks(const std::string& name, const std::function<Tensor(const Tensor&, const DimList&)>& op,
                 const Tensor& x, double rtol, double atol = 1e-6) {
  for (const DimList& dims : kMasks) {
    INFO("dims " << IntArrayRef(dims));
    check(
        name, [&](const Tensor& t) { return op(t, dims); }, x, rtol, atol);
  }
}

}  // namespace

TEST_CASE("floating reductions match the CPU over masks and layouts", "[cuda][reduce]") {
  manual_seed(1);
  for (DType dt : {kFloat32, kFloat64}) {
    const double rtol = rtol_for(dt);
    const Tensor x = sample(dt, -3, 3), near_one = sample(dt, 0.97, 1.03);
    check_masks(
        "sum", [](const Tensor& t, const DimList& d) { return sum(t, d); }, x, rtol);
    check_masks(
        "sum keepdim", [](const Tensor& t, const DimList& d) { return sum(t, d, true); }, x, rtol);
    check_masks(
        "mean", [](const Tensor& t, const DimList& d) { return mean(t, d); }, x, rtol);
    check_masks(
        "prod", [](const Tensor& t, const DimList& d) { return d.size() == 1 ? prod(t, d[0]) : prod(t); }, near_one,
        rtol);
    for (std::int64_t corr : {0, 1}) {
      check_masks(
          "var", [corr](const Tensor& t, const DimList& d) { return var(t, d, corr); }, x, rtol);
      check_masks(
          "std", [corr](const Tensor& t, const DimList& d) { return tapeflow::std(t, d, corr); }, x, rtol);
    }
    check_masks(
        "logsumexp", [](const Tensor& t, const DimList& d) { return logsumexp(t, d); }, x, rtol);
    for (double p : {0.0, 1.0, 2.0, 3.0, 0.5, std::numeric_limits<double>::infinity()})
      check_masks(
          "norm", [p](const Tensor& t, const DimList& d) { return norm(t, p, d); }, x, rtol);
    check_masks(
        "amax", [](const Tensor& t, const DimList& d) { return amax(t, d); }, x, 0);
    check_masks(
        "amin", [](const Tensor& t, const DimList& d) { return amin(t, d); }, x, 0);
  }
}

TEST_CASE("max/min with indices and argmax/argmin match the CPU, ties included", "[cuda][reduce]") {
  manual_seed(2);
  for (DType dt : {kFloat32, kFloat64, kInt32, kInt64}) {
    const Tensor x = sample(dt, -3, 3);  // integers: many ties, so first-position rules are exercised
    for (std::int64_t d : {0, 1, 2, -1}) {
      INFO("dim " << d);
      check(
          "max values", [d](const Tensor& t) { return max(t, d).first; }, x, 0);
      check(
          "max indices", [d](const Tensor& t) { return max(t, d).second; }, x, 0);
      check(
          "min indices", [d](const Tensor& t) { return min(t, d, true).second; }, x, 0);
      check(
          "argmax", [d](const Tensor& t) { return argmax(t, d); }, x, 0);
      check(
          "argmin", [d](const Tensor& t) { return argmin(t, d); }, x, 0);
    }
    check(
        "argmax of all", [](const Tensor& t) { return argmax(t); }, x, 0);
    check(
        "argmin of all", [](const Tensor& t) { return argmin(t); }, x, 0);
  }
}

TEST_CASE("integer and bool reductions match the CPU", "[cuda][reduce]") {
  manual_seed(3);
  for (DType dt : {kInt32, kInt64, kBool}) {
    const Tensor x = sample(dt, -3, 3);
    check_masks(
        "sum", [](const Tensor& t, const DimList& d) { return sum(t, d); }, x, 0);
    check_masks(
        "amax", [](const Tensor& t, const DimList& d) { return amax(t, d); }, x, 0);
    check_masks(
        "amin", [](const Tensor& t, const DimList& d) { return amin(t, d); }, x, 0);
    check(
        "prod", [](const Tensor& t) { return prod(t, 0); }, sample(dt, -1.4, 1.4), 0);
    check(
        "all", [](const Tensor& t) { return all(t); }, x, 0);
    check(
        "any", [](const Tensor& t) { return any(t); }, x, 0);
    check(
        "all of ones", [](const Tensor& t) { return all(t); }, sample(dt, 1, 1.4), 0);
    check(
        "any of zeros", [](const Tensor& t) { return any(t); }, sample(dt, 0, 0.4), 0);
    for (std::int64_t d : {0, 1, 2})
      check(
          "cumsum", [d](const Tensor& t) { return cumsum(t, d); }, x, 0);
  }
}

TEST_CASE("cumsum of floats matches the CPU along every dim", "[cuda][reduce]") {
  manual_seed(4);
  for (DType dt : {kFloat32, kFloat64}) {
    const Tensor x = sample(dt, -3, 3);
    for (std::int64_t d : {0, 1, 2})
      check(
          "cumsum", [d](const Tensor& t) { return cumsum(t, d); }, x, rtol_for(dt));
  }
}

TEST_CASE("large reductions: rows, columns and one output split across blocks", "[cuda][reduce]") {
  manual_seed(5);
  for (DType dt : {kFloat32, kFloat64}) {
    const double rtol = dt == kFloat32 ? 1e-5 : 1e-9;
    const Tensor big = sample(dt, -1, 1, {1 << 21}), tall = sample(dt, -1, 1, {50000, 3});
    const Tensor gbig = big.to(kGpu), gtall = tall.to(kGpu);
    require_close(sum(big), sum(gbig), rtol);
    require_close(mean(big), mean(gbig), rtol, 1e-9);
    require_close(var(big), var(gbig), rtol);
    require_close(logsumexp(big, {0}), logsumexp(gbig, {0}), rtol);
    require_close(norm(big), norm(gbig), rtol);
    require_close(argmax(big), argmax(gbig), 0);
    require_close(amin(big), amin(gbig), 0);
    require_close(sum(tall, {0}), sum(gtall, {0}), rtol);  // columns: few outputs, split rows
    require_close(var(tall, {0}), var(gtall, {0}), rtol);
    require_close(argmin(tall, 0), argmin(gtall, 0), 0);
    require_close(sum(tall, {1}), sum(gtall, {1}), rtol);  // many short rows
    require_close(cumsum(tall, 0), cumsum(gtall, 0), rtol, 1e-4);
    require_close(cumsum(big, 0), cumsum(gbig, 0), rtol, 1e-3);
  }
}

TEST_CASE("NaN propagation and infinities match the CPU", "[cuda][reduce]") {
  manual_seed(6);
  for (DType dt : {kFloat32, kFloat64}) {
    Tensor x = sample(dt, -3, 3, {6, 50});
    x.select(0, 2).select(0, 7).fill_(std::numeric_limits<double>::quiet_NaN());
    x.select(0, 2).select(0, 30).fill_(std::numeric_limits<double>::quiet_NaN());
    x.select(0, 4).select(0, 3).fill_(std::numeric_limits<double>::infinity());
    x.select(0, 5).select(0, 9).fill_(-std::numeric_limits<double>::infinity());
    const Tensor gx = x.to(kGpu);
    for (std::int64_t d : {0, 1}) {
      INFO(dt << " dim " << d);
      require_close(amax(x, {d}), amax(gx, {d}), 0);
      require_close(amin(x, {d}), amin(gx, {d}), 0);
      require_close(argmax(x, d), argmax(gx, d), 0);
      require_close(argmin(x, d), argmin(gx, d), 0);
      require_close(logsumexp(x, {d}), logsumexp(gx, {d}), rtol_for(dt));
      require_close(norm(x, std::numeric_limits<double>::infinity(), {d}),
                    norm(gx, std::numeric_limits<double>::infinity(), {d}), 0);
      require_close(sum(x, {d}), sum(gx, {d}), rtol_for(dt));
    }
  }
}

TEST_CASE("empty reductions give the identity like the CPU", "[cuda][reduce]") {
  for (DType dt : {kFloat32, kFloat64}) {
    const Tensor x = zeros({0, 5}, dt), gx = x.to(kGpu);
    require_close(sum(x, {0}), sum(gx, {0}));
    require_close(sum(x, {1}), sum(gx, {1}));
    require_close(prod(x, 0), prod(gx, 0));
    require_close(mean(x, {0}), mean(gx, {0}));  // NaN
    require_close(var(x, {0}), var(gx, {0}));
    require_close(logsumexp(x, {0}), logsumexp(gx, {0}));  // -inf
    require_close(norm(x, 2, {0}), norm(gx, 2, {0}));
    require_close(all(x), all(gx));
    require_close(any(x), any(gx));
    require_close(cumsum(x, 0), cumsum(gx, 0));
  }
  const Tensor s = full({}, 2.5), gs = s.to(kGpu);  // a 0-dim tensor
  require_close(sum(s), sum(gs));
  require_close(cumsum(s, 0), cumsum(gs, 0));
  require_close(argmax(s), argmax(gs));
}

TEST_CASE("reduction gradients on the GPU match the CPU", "[cuda][reduce]") {
  manual_seed(7);
  const Tensor x = sample(kFloat64, -2, 2, {5, 8});
  const Tensor gx = x.to(kGpu);
  const std::vector<std::pair<std::string, Op>> ops = {{"sum", [](const Tensor& t) { return sum(t, {1}); }},
                                                       {"mean", [](const Tensor& t) { return mean(t, {0}); }},
                                                       {"std", [](const Tensor& t) { return tapeflow::std(t, {1}); }},
                                                       {"logsumexp", [](const Tensor& t) { return logsumexp(t, {1}); }},
                                                       {"norm", [](const Tensor& t) { return norm(t, 3, {0}); }},
                                                       {"amax", [](const Tensor& t) { return amax(t, {1}); }},
                                                       {"max", [](const Tensor& t) { return max(t, 0).first; }},
                                                       {"prod", [](const Tensor& t) { return prod(t, 1); }},
                                                       {"cumsum", [](const Tensor& t) { return cumsum(t, 1); }}};
  for (const auto& [name, op] : ops) {
    INFO(name);
    const Tensor a = x.detach().requires_grad_(), b = gx.detach().requires_grad_();
    (op(a) * op(a)).sum().backward();
    (op(b) * op(b)).sum().backward();
    require_close(a.grad(), b.grad(), 1e-9, 1e-9);
  }
}
