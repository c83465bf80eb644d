// softmax / log_softmax and embedding against float64 loop references.
#include <limits>

#include "ops/nn_test_util.hpp"

using namespace tapeflow;
using namespace nn_test;

namespace {

// softmax (or log_softmax) of x along dim, computed directly with long double sums.
std::vector<double> ref_softmax(const Tensor& x, std::int64_t dim, bool log) {
  const auto xv = values(x);
  std::vector<double> out(xv.size());
  const std::int64_t d = dim < 0 ? dim + x.dim() : dim;
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t i = 0; i < x.dim(); ++i) {
    if (i < d) outer *= x.size(i);
    if (i > d) inner *= x.size(i);
  }
  const std::int64_t n = x.size(d);
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t j = 0; j < inner; ++j) {
      auto at = [&](std::int64_t k) { return static_cast<std::size_t>((o * n + k) * inner + j); };
      double mx = -std::numeric_limits<double>::infinity();
      for (std::int64_t k = 0; k < n; ++k) mx = std::max(mx, xv[at(k)]);
      long double sum = 0;
      for (std::int64_t k = 0; k < n; ++k) sum += std::exp(static_cast<long double>(xv[at(k)] - mx));
      for (std::int64_t k = 0; k < n; ++k)
        out[at(k)] = log ? static_cast<double>(xv[at(k)] - mx - std::log(sum))
                         : static_cast<double>(std::exp(static_cast<long double>(xv[at(k)] - mx)) / sum);
    }
  return out;
}

}  // namespace

TEST_CASE("softmax and log_softmax along every dim") {
  const std::vector<std::vector<std::int64_t>> shapes = {{7}, {3, 5}, {2, 3, 4}, {4, 1, 6, 3}, {64, 1000}, {3, 300, 70}};
  std::uint64_t seed = 1;
  for (const auto& shape : shapes)
    for (DType dt : {kFloat32, kFloat64})
      for (std::int64_t dim = -1; dim < static_cast<std::int64_t>(shape.size()); ++dim) {
        INFO("shape " << IntArrayRef(shape) << " dim " << dim << " " << dt);
        Tensor x = nn_test::data(shape, dt, seed++, -10, 10);
        const auto want = ref_softmax(x, dim, false), want_log = ref_softmax(x, dim, true);
        const double tol = dt == kFloat32 ? 2e-6 : 1e-13;
        for (const Tensor& in : {x, strided(x)}) {
          Tensor s = softmax(in, dim), l = log_softmax(in, dim);
          REQUIRE(s.shape() == x.shape());
          REQUIRE(s.dtype() == dt);
          require_close(s, want, tol);
          require_close(l, want_log, tol);
          require_close(in.softmax(dim), want, tol);
          require_close(in.log_softmax(dim), want_log, tol);
        }
        if (shape.size() >= 2) require_close(softmax(transposed(x, 0, -1), dim), want, tol);
      }
}

TEST_CASE("softmax: stability, special values, broadcast input, scalars, empty") {
  // Huge logits do not overflow; log_softmax stays finite far below exp's range.
  Tensor big = tensor(std::vector<double>{1000, 1001, 1002}).to(kFloat32);
  const double z = std::log(1 + std::exp(-1.0) + std::exp(-2.0));
  require_close(log_softmax(big, 0), {-2 - z, -1 - z, -z}, 1e-6);
  require_close(softmax(big, 0), {std::exp(-2 - z), std::exp(-1 - z), std::exp(-z)}, 1e-6);
  Tensor tiny = tensor(std::vector<double>{-1000, 0});
  require_close(log_softmax(tiny, 0), {-1000, 0}, 1e-12);
  // -inf gets probability 0; a NaN poisons its row only.
  const double inf = std::numeric_limits<double>::infinity();
  require_close(softmax(tensor(std::vector<double>{-inf, 0, 0}), 0), {0, 0.5, 0.5}, 1e-15);
  Tensor with_nan = tensor(std::vector<double>{1, NAN, 2, 1, 2, 3}, {2, 3});
  const auto s = values(softmax(with_nan, 1));
  for (int i = 0; i < 3; ++i) REQUIRE(std::isnan(s[static_cast<std::size_t>(i)]));
  require_close(softmax(with_nan, 1).select(0, 1), ref_softmax(with_nan.select(0, 1), 0, false), 1e-13);
  // A broadcast (stride 0) input.
  Tensor row = nn_test::data({1, 5}, kFloat64, 3);
  Tensor expanded = row.expand({4, 5});
  std::vector<double> want;
  for (int i = 0; i < 4; ++i) {
    const auto r = ref_softmax(row, 1, false);
    want.insert(want.end(), r.begin(), r.end());
  }
  require_close(softmax(expanded, 1), want, 1e-13);
  require_close(softmax(expanded, 0), std::vector<double>(20, 0.25), 1e-15);
  // 0-d: one element.
  REQUIRE(softmax(scalar_tensor(3.0), 0).item<double>() == 1.0);
  REQUIRE(log_softmax(scalar_tensor(3.0, kFloat64), -1).item<double>() == 0.0);
  REQUIRE(softmax(zeros({0, 4}), 1).shape() == Shape{0, 4});
  REQUIRE(log_softmax(zeros({3, 0}), 1).shape() == Shape{3, 0});
}

TEST_CASE("softmax errors") {
  REQUIRE_THROWS_AS(softmax(zeros({2, 3}), 2), IndexError);
  REQUIRE_THROWS_AS(log_softmax(zeros({2, 3}), -3), IndexError);
  REQUIRE_THROWS_AS(softmax(zeros({2, 3}, kInt64), 1), DTypeError);
  REQUIRE_THROWS_AS(log_softmax(zeros({2, 3}, kBool), 1), DTypeError);
  REQUIRE_THROWS_AS(zeros({2}, kInt32).softmax(0), DTypeError);
  REQUIRE_THROWS_AS(softmax(Tensor(), 0), ValueError);
}

TEST_CASE("embedding picks rows by indices of any shape") {
  for (DType dt : {kFloat32, kFloat64})
    for (DType it : {kInt64, kInt32}) {
      Tensor w = nn_test::data({10, 6}, dt, 42);
      const auto wv = values(w);
      std::vector<std::int64_t> ids = {3, 0, 9, 3, 7, 1};
      Tensor idx = tensor(ids, {2, 3}).to(it);
      auto want_for = [&](const std::vector<std::int64_t>& rows) {
        std::vector<double> want;
        for (std::int64_t r : rows)
          want.insert(want.end(), wv.begin() + r * 6, wv.begin() + (r + 1) * 6);
        return want;
      };
      Tensor out = embedding(w, idx);
      REQUIRE(out.shape() == Shape{2, 3, 6});
      REQUIRE(out.dtype() == dt);
      require_close(out, want_for(ids), 0);
      // Non-contiguous weight (rows or columns strided) and indices.
      require_close(embedding(strided(w), idx), want_for(ids), 0);
      require_close(embedding(transposed(w, 0, 1), idx), want_for(ids), 0);
      require_close(embedding(w, idx.t()), want_for({3, 3, 0, 7, 9, 1}), 0);
      // 0-d and empty indices.
      REQUIRE(embedding(w, scalar_tensor(4, it)).shape() == Shape{6});
      require_close(embedding(w, scalar_tensor(4, it)), want_for({4}), 0);
      REQUIRE(embedding(w, zeros({0, 2}, it)).shape() == Shape{0, 2, 6});
    }
  Tensor big = nn_test::data({5000, 33}, kFloat32, 5);
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < 4000; ++i) ids.push_back((i * 7919) % 5000);
  const auto bv = values(big);
  std::vector<double> want;
  for (std::int64_t r : ids) want.insert(want.end(), bv.begin() + r * 33, bv.begin() + (r + 1) * 33);
  require_close(embedding(big, tensor(ids)), want, 0);
}

TEST_CASE("embedding errors") {
  Tensor w = zeros({10, 4});
  REQUIRE_THROWS_AS(embedding(w, tensor(std::vector<std::int64_t>{1, 10})), IndexError);
  REQUIRE_THROWS_AS(embedding(w, tensor(std::vector<std::int64_t>{-1})), IndexError);
  REQUIRE_THROWS_AS(embedding(w, tensor(std::vector<std::int32_t>{11})), IndexError);
  REQUIRE_THROWS_AS(embedding(w, zeros({2})), DTypeError);
  REQUIRE_THROWS_AS(embedding(w, zeros({2}, kBool)), DTypeError);
  REQUIRE_THROWS_AS(embedding(w.to(kInt64), zeros({2}, kInt64)), DTypeError);
  REQUIRE_THROWS_AS(embedding(zeros({10}), zeros({2}, kInt64)), ShapeError);
  REQUIRE_THROWS_AS(embedding(zeros({2, 3, 4}), zeros({2}, kInt64)), ShapeError);
  REQUIRE_THROWS_AS(embedding(Tensor(), zeros({2}, kInt64)), ValueError);
  REQUIRE_THROWS_AS(embedding(w, Tensor()), ValueError);
}
