// matmul & co. against float64 triple loops written here, for every shape rule, dtype and layout.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace tapeflow::detail {
std::int64_t linalg_operand_copies();  // internal hook in lib/ops/linalg.cpp
}

namespace {

using Dims = std::vector<std::int64_t>;

// Deterministic values: small integers (exact in every dtype) or fractions for floats.
Tensor make(const Dims& shape, DType dt, int seed = 1) {
  std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto r = static_cast<double>((i * 7 + static_cast<std::size_t>(seed) * 13) % 11) - 5.0;
    v[i] = is_floating_point(dt) ? r / 4.0 + 0.125 * static_cast<double>(seed % 3) : r;
  }
  return tensor(v, shape, dt);
}

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.contiguous().to(kFloat64);
  const double* p = c.data_ptr<double>();
  return {p, p + c.numel()};
}

Dims dims_of(const Tensor& t) { return t.shape().vec(); }

// PyTorch's matmul rules written out directly on contiguous values.
std::pair<Dims, std::vector<double>> ref_matmul(const Tensor& ta, const Tensor& tb) {
  Dims as = dims_of(ta), bs = dims_of(tb);
  const std::vector<double> av = values(ta), bv = values(tb);
  if (as.size() == 1 && bs.size() == 1) {
    double s = 0;
    for (std::size_t i = 0; i < av.size(); ++i) s += av[i] * bv[i];
    return {{}, {s}};
  }
  const bool a1 = as.size() == 1, b1 = bs.size() == 1;
  if (a1) as.insert(as.begin(), 1);
  if (b1) bs.push_back(1);
  const std::int64_t n = as[as.size() - 2], k = as.back(), m = bs.back();
  const std::size_t nd = std::max(as.size(), bs.size()) - 2;
  Dims ab(nd, 1), bb(nd, 1), batch(nd, 1);
  for (std::size_t i = 0; i < as.size() - 2; ++i) ab[nd - (as.size() - 2) + i] = as[i];
  for (std::size_t i = 0; i < bs.size() - 2; ++i) bb[nd - (bs.size() - 2) + i] = bs[i];
  for (std::size_t i = 0; i < nd; ++i) batch[i] = std::max(ab[i], bb[i]);
  const std::int64_t count = shape_numel(batch);
  std::vector<double> out(static_cast<std::size_t>(count * n * m), 0.0);
  for (std::int64_t bi = 0; bi < count; ++bi) {
    std::int64_t rem = bi, oa = 0, ob = 0, sa = 1, sb = 1;
    for (std::size_t d = nd; d-- > 0;) {
      const std::int64_t idx = rem % batch[d];
      rem /= batch[d];
      oa += (ab[d] == 1 ? 0 : idx) * sa;
      ob += (bb[d] == 1 ? 0 : idx) * sb;
      sa *= ab[d];
      sb *= bb[d];
    }
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < m; ++j) {
        double s = 0;
        for (std::int64_t p = 0; p < k; ++p)
          s += av[static_cast<std::size_t>(oa * n * k + i * k + p)] * bv[static_cast<std::size_t>(ob * k * m + p * m + j)];
        out[static_cast<std::size_t>(bi * n * m + i * m + j)] = s;
      }
  }
  Dims shape = batch;
  if (!a1) shape.push_back(n);
  if (!b1) shape.push_back(m);
  return {shape, out};
}

void require_close(const Tensor& got, const Dims& shape, const std::vector<double>& want, DType dt) {
  REQUIRE(got.dtype() == dt);
  REQUIRE(got.shape() == Shape(shape));
  const std::vector<double> g = values(got);
  REQUIRE(g.size() == want.size());
  const double tol = dt == kFloat32 ? 1e-4 : dt == kFloat64 ? 1e-12 : 0.0;
  for (std::size_t i = 0; i < g.size(); ++i) REQUIRE(std::abs(g[i] - want[i]) <= tol * (1.0 + std::abs(want[i])));
}

void check_matmul(const Tensor& a, const Tensor& b) {
  const auto [shape, want] = ref_matmul(a, b);
  require_close(matmul(a, b), shape, want, a.dtype());
}

const std::vector<DType> kDTypes{kFloat32, kFloat64, kInt32, kInt64};

}  // namespace

TEST_CASE("matmul follows PyTorch's shape rules for every dtype") {
  const std::vector<std::pair<Dims, Dims>> cases{
      {{3}, {3}},          {{2, 3}, {3}},          {{3}, {3, 4}},           {{2, 3}, {3, 4}},
      {{5, 2, 3}, {3, 4}}, {{2, 3}, {5, 3, 4}},    {{5, 2, 3}, {5, 3, 4}},  {{1, 2, 3}, {4, 3, 5}},
      {{3}, {2, 3, 4}},    {{2, 3, 4}, {4}},       {{4, 1, 2, 3}, {3}},     {{2, 1, 3, 4}, {1, 5, 4, 2}},
      {{3, 1, 1, 4}, {2, 4, 3}}, {{1, 1}, {1, 1}}, {{7, 1}, {1, 6}}};
  for (DType dt : kDTypes)
    for (const auto& [as, bs] : cases) {
      INFO(dt << " " << IntArrayRef(as) << " @ " << IntArrayRef(bs));
      check_matmul(make(as, dt, 1), make(bs, dt, 2));
    }
}

TEST_CASE("mm, bmm, dot, outer and the Tensor methods") {
  for (DType dt : kDTypes) {
    INFO(dt);
    const Tensor a = make({4, 3}, dt, 1), b = make({3, 5}, dt, 2);
    auto [s, w] = ref_matmul(a, b);
    require_close(mm(a, b), s, w, dt);
    require_close(a.mm(b), s, w, dt);
    require_close(a.matmul(b), s, w, dt);
    const Tensor ba = make({3, 4, 2}, dt, 3), bb = make({3, 2, 6}, dt, 4);
    auto [s3, w3] = ref_matmul(ba, bb);
    require_close(bmm(ba, bb), s3, w3, dt);
    require_close(ba.bmm(bb), s3, w3, dt);
    const Tensor x = make({7}, dt, 5), y = make({7}, dt, 6);
    auto [sd, wd] = ref_matmul(x, y);
    require_close(dot(x, y), sd, wd, dt);
    require_close(x.dot(y), sd, wd, dt);
    const Tensor u = make({3}, dt, 7), v = make({4}, dt, 8);
    const Tensor o = outer(u, v);
    const auto uv = values(u), vv = values(v);
    std::vector<double> wo;
    for (double p : uv)
      for (double q : vv) wo.push_back(p * q);
    require_close(o, {3, 4}, wo, dt);
  }
  // outer promotes mixed dtypes like PyTorch's broadcast multiply
  const Tensor o = outer(make({2}, kInt64), make({3}, kFloat32));
  REQUIRE(o.dtype() == kFloat32);
  REQUIRE(o.shape() == Shape{2, 3});
}

TEST_CASE("transposed and row-sliced operands go to BLAS without copies") {
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dt);
    const Tensor base_a = make({4, 3}, dt, 1), base_b = make({5, 4}, dt, 2);
    const std::int64_t before = detail::linalg_operand_copies();
    check_matmul(base_a.t(), base_b.t());                       // (3,4) @ (4,5), both column-major
    check_matmul(base_b, base_a);                               // plain
    const Tensor wide = make({6, 8}, dt, 3);
    check_matmul(wide.index({Slice(0, 6, 2)}), make({8, 2}, dt, 4));  // row step: ld = 16
    check_matmul(wide.narrow(1, 1, 5), make({5, 3}, dt, 5));          // narrowed columns: ld = 8
    check_matmul(make({2, 6}, dt, 6), wide.narrow(1, 2, 4));          // narrowed B
    check_matmul(wide.narrow(1, 1, 5).t(), make({6, 2}, dt, 7));      // transposed narrow
    // batched transposes and a permuted batch dim (constant batch stride)
    const Tensor bt = make({3, 4, 2}, dt, 8);
    check_matmul(bt.transpose(1, 2), make({3, 4, 5}, dt, 9));
    const Tensor perm = make({2, 3, 4}, dt, 10).permute({1, 0, 2});  // (3,2,4), batch stride 4
    check_matmul(perm, make({3, 4, 2}, dt, 11).transpose(1, 2).contiguous().transpose(1, 2));
    // a batch that no single stride describes
    const Tensor odd = make({3, 2, 2, 3}, dt, 12).permute({1, 0, 2, 3});
    check_matmul(odd, make({3, 4}, dt, 13));
    // a tall fold: (B, n, k) @ (k, m) and a 1-D left operand inside a batch
    check_matmul(make({4, 5, 3}, dt, 14), make({3, 2}, dt, 15).t().contiguous().t());
    check_matmul(make({3}, dt, 16), make({2, 3, 4}, dt, 17).transpose(1, 2).transpose(1, 2));
    check_matmul(make({5}, dt, 18).expand({2, 5}).contiguous(), make({5}, dt, 19));
    REQUIRE(detail::linalg_operand_copies() == before);
    // layouts BLAS cannot read are copied once, with the right result
    check_matmul(wide.index({Slice(), Slice(0, 8, 2)}), make({4, 3}, dt, 20));  // column step
    REQUIRE(detail::linalg_operand_copies() == before + 1);
    check_matmul(make({3}, dt, 21).expand({4, 3}), make({3, 2}, dt, 22));      // stride-0 rows
    REQUIRE(detail::linalg_operand_copies() == before + 2);
    check_matmul(make({4, 3}, dt, 23), make({3, 1}, dt, 24).expand({3, 2}));  // stride-0 columns
    REQUIRE(detail::linalg_operand_copies() == before + 3);
  }
}

TEST_CASE("integer operands of any layout, and integer wrap-around") {
  for (DType dt : {kInt32, kInt64}) {
    const Tensor wide = make({6, 8}, dt, 3);
    check_matmul(wide.index({Slice(), Slice(0, 8, 2)}), make({4, 3}, dt, 20));
    check_matmul(make({3}, dt, 21).expand({4, 3}), make({3, 2}, dt, 22).t().contiguous().t());
    check_matmul(make({2, 3, 4}, dt, 1).permute({2, 0, 1}), make({3, 5}, dt, 2));
  }
  // (2^20)^2 * 3 overflows int32 and wraps like two's complement (PyTorch's behaviour).
  const Tensor a = full({2, 3}, 1 << 20, kInt32), b = full({3, 2}, 1 << 20, kInt32);
  const Tensor c = matmul(a, b);
  const std::int64_t exact = 3LL << 40;
  REQUIRE(c.contiguous().data_ptr<std::int32_t>()[0] == static_cast<std::int32_t>(exact));
}

TEST_CASE("large GEMMs: blocked integer kernel, threads, batch parallelism") {
  const int saved = get_num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    INFO("threads " << threads);
    check_matmul(make({70, 300}, kInt64, 1), make({300, 270}, kInt64, 2));   // several K and N blocks
    check_matmul(make({33, 129}, kInt32, 3).t(), make({33, 260}, kInt32, 4));
    check_matmul(make({150, 130}, kFloat32, 5), make({130, 140}, kFloat32, 6));  // one threaded sgemm
    check_matmul(make({64, 8, 9}, kFloat64, 7), make({64, 9, 7}, kFloat64, 8)); // many small ones
    check_matmul(make({64, 8, 9}, kInt32, 7), make({9, 7}, kInt32, 8));
    check_matmul(make({2, 130, 120}, kFloat32, 9), make({2, 120, 140}, kFloat32, 10));
    check_matmul(make({16, 3, 5}, kFloat32, 11).transpose(1, 2), make({3, 1, 4}, kFloat32, 12).expand({3, 16, 4}).permute({1, 0, 2}));
  }
  set_num_threads(saved);
}

TEST_CASE("zero-size dims") {
  for (DType dt : kDTypes) {
    INFO(dt);
    Tensor r = matmul(make({0, 3}, dt), make({3, 4}, dt));
    REQUIRE(r.shape() == Shape{0, 4});
    r = matmul(make({2, 3}, dt), make({3, 0}, dt));
    REQUIRE(r.shape() == Shape{2, 0});
    r = matmul(make({2, 0}, dt), make({0, 3}, dt));
    require_close(r, {2, 3}, std::vector<double>(6, 0.0), dt);
    r = matmul(make({0, 2, 3}, dt), make({3, 4}, dt));
    REQUIRE(r.shape() == Shape{0, 2, 4});
    r = matmul(make({4, 2, 0}, dt), make({4, 0, 3}, dt).transpose(1, 2).transpose(1, 2));
    require_close(r, {4, 2, 3}, std::vector<double>(24, 0.0), dt);
    require_close(dot(make({0}, dt), make({0}, dt)), {}, {0.0}, dt);
    require_close(outer(make({0}, dt), make({3}, dt)), {0, 3}, {}, dt);
    // k = 0 in addmm leaves beta * bias
    const Tensor s = addmm(make({2, 3}, dt, 5), make({2, 0}, dt), make({0, 3}, dt), 2, 1);
    std::vector<double> w = values(make({2, 3}, dt, 5));
    for (double& x : w) x *= 2;
    require_close(s, {2, 3}, w, dt);
    if (is_floating_point(dt)) {  // ... even with an infinite alpha (not inf * 0 = NaN), as BLAS
      const double inf = std::numeric_limits<double>::infinity();
      require_close(addmm(make({2, 3}, dt, 5), make({2, 0}, dt), make({0, 3}, dt), 2, inf), {2, 3}, w, dt);
    }
  }
}

TEST_CASE("addmm: beta * bias + alpha * a @ b with a broadcast bias") {
  for (DType dt : kDTypes) {
    INFO(dt);
    const Tensor a = make({4, 3}, dt, 1), b = make({3, 5}, dt, 2);
    const auto [s, prod] = ref_matmul(a, b);
    const bool fl = is_floating_point(dt);
    const Scalar beta = fl ? Scalar(0.5) : Scalar(3), alpha = fl ? Scalar(-1.5) : Scalar(-2);
    for (const Dims& bs : {Dims{4, 5}, Dims{5}, Dims{4, 1}, Dims{}, Dims{1, 5}}) {
      INFO(IntArrayRef(bs));
      const Tensor bias = bs.empty() ? make({1}, dt, 3).reshape(IntArrayRef{}) : make(bs, dt, 3);
      const Tensor full_bias = bias.expand({4, 5}).contiguous();
      const auto bv = values(full_bias);
      std::vector<double> want(prod.size());
      for (std::size_t i = 0; i < want.size(); ++i) want[i] = beta.to_double() * bv[i] + alpha.to_double() * prod[i];
      require_close(addmm(bias, a, b, beta, alpha), s, want, dt);
      require_close(addmm(bias, a.t().contiguous().t(), b, beta, alpha), s, want, dt);
    }
    // defaults: bias + a @ b
    const Tensor bias = make({5}, dt, 4);
    const auto bv = values(bias.expand({4, 5}));
    std::vector<double> want(prod.size());
    for (std::size_t i = 0; i < want.size(); ++i) want[i] = bv[i] + prod[i];
    require_close(addmm(bias, a, b), s, want, dt);
  }
  // beta = 0 ignores NaN in the bias
  const Tensor nan_bias = full({2, 2}, std::numeric_limits<double>::quiet_NaN(), kFloat64);
  const Tensor r = addmm(nan_bias, make({2, 3}, kFloat64), make({3, 2}, kFloat64, 2), 0, 1);
  const auto [s2, w2] = ref_matmul(make({2, 3}, kFloat64), make({3, 2}, kFloat64, 2));
  require_close(r, s2, w2, kFloat64);
}

TEST_CASE("mm_out writes into out of any layout") {
  for (DType dt : kDTypes) {
    INFO(dt);
    const Tensor a = make({3, 4}, dt, 1), b = make({4, 5}, dt, 2);
    const auto [s, w] = ref_matmul(a, b);
    Tensor out = zeros({3, 5}, dt);
    const void* p = out.data_ptr();
    const auto v0 = out.impl()->storage->version();
    Tensor& ret = mm_out(out, a, b);
    REQUIRE(&ret == &out);
    REQUIRE(out.data_ptr() == p);
    REQUIRE(out.impl()->storage->version() > v0);
    require_close(out, s, w, dt);
    Tensor outt = zeros({5, 3}, dt).t();  // column-major out
    mm_out(outt, a, b);
    require_close(outt, s, w, dt);
    Tensor big = zeros({3, 10}, dt);
    Tensor strided = big.index({Slice(), Slice(0, 10, 2)});  // not writable by BLAS directly
    mm_out(strided, a, b);
    require_close(strided, s, w, dt);
    const auto bigv = values(big);
    for (std::size_t i = 0; i < bigv.size(); ++i)
      if (i % 2 == 1) REQUIRE(bigv[i] == 0.0);
    // out aliasing an input
    Tensor sq = make({4, 4}, dt, 3);
    const auto [s4, w4] = ref_matmul(sq, make({4, 4}, dt, 4));
    mm_out(sq, sq.clone(), make({4, 4}, dt, 4));
    require_close(sq, s4, w4, dt);
    Tensor sq2 = make({4, 4}, dt, 3);
    const auto [s5, w5] = ref_matmul(sq2, sq2);
    mm_out(sq2, sq2, sq2);
    require_close(sq2, s5, w5, dt);
  }
}

TEST_CASE("linalg errors are typed and name the op, shapes and dtypes") {
  const Tensor a = make({2, 3}, kFloat32), b = make({4, 5}, kFloat32);
  try {
    matmul(a, b);
    FAIL("no throw");
  } catch (const ShapeError& e) {
    REQUIRE(std::string(e.what()) == "[matmul] (2, 3) @ (4, 5): inner dimensions differ");
  }
  try {
    matmul(a, make({3, 2}, kFloat64));
    FAIL("no throw");
  } catch (const DTypeError& e) {
    const std::string msg = e.what();
    REQUIRE(msg.find("[matmul]") == 0);
    REQUIRE(msg.find("float32") != std::string::npos);
    REQUIRE(msg.find("float64") != std::string::npos);
  }
  REQUIRE_THROWS_AS(matmul(make({3}, kFloat32), make({4}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(matmul(make({3}, kFloat32), make({4, 2}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(matmul(make({2, 3}, kFloat32), make({4}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(matmul(scalar_tensor(1.0), make({2}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(matmul(make({2, 2, 3}, kFloat32), make({3, 3, 4}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(matmul(full({2, 2}, true, kBool), full({2, 2}, true, kBool)), DTypeError);
  REQUIRE_THROWS_AS(matmul(Tensor(), a), ValueError);
  REQUIRE_THROWS_AS(mm(make({2, 3, 1}, kFloat32), a), ShapeError);
  REQUIRE_THROWS_AS(mm(a, b), ShapeError);
  REQUIRE_THROWS_AS(mm(a, make({3, 2}, kInt64)), DTypeError);
  REQUIRE_THROWS_AS(bmm(a, b), ShapeError);
  REQUIRE_THROWS_AS(bmm(make({2, 2, 3}, kFloat32), make({3, 3, 4}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(bmm(make({2, 2, 3}, kFloat32), make({2, 4, 4}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(dot(a, a), ShapeError);
  REQUIRE_THROWS_AS(dot(make({3}, kFloat32), make({4}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(dot(make({3}, kFloat32), make({3}, kInt32)), DTypeError);
  REQUIRE_THROWS_AS(outer(a, make({3}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(outer(full({2}, true, kBool), full({2}, true, kBool)), DTypeError);
  // addmm
  const Tensor c = make({3, 5}, kFloat32);
  REQUIRE_THROWS_AS(addmm(make({2, 4}, kFloat32), a, c), ShapeError);
  REQUIRE_THROWS_AS(addmm(make({3, 2, 5}, kFloat32), a, c), ShapeError);
  REQUIRE_THROWS_AS(addmm(make({2, 5}, kFloat64), a, c), DTypeError);
  REQUIRE_THROWS_AS(addmm(make({2, 5}, kFloat32), a, b), ShapeError);
  REQUIRE_THROWS_AS(addmm(Tensor(), a, c), ValueError);
  REQUIRE_THROWS_AS(addmm(make({2, 5}, kInt64), make({2, 3}, kInt64), make({3, 5}, kInt64), 0.5, 1), ValueError);
  // mm_out
  Tensor wrong_shape = zeros({2, 4});
  REQUIRE_THROWS_AS(mm_out(wrong_shape, a, c), ShapeError);
  Tensor wrong_dtype = zeros({2, 5}, kFloat64);
  REQUIRE_THROWS_AS(mm_out(wrong_dtype, a, c), DTypeError);
  Tensor undefined;
  REQUIRE_THROWS_AS(mm_out(undefined, a, c), ValueError);
  Tensor ok = zeros({2, 5});
  REQUIRE_THROWS_AS(mm_out(ok, a, b), ShapeError);
}
