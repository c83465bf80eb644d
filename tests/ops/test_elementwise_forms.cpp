// Elementwise ops, continued: in-place and out= forms, errors, allclose/equal, threading and
// broadcast operands inside long rows.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <string>

#include "elementwise_test_util.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using namespace tapeflow::test_elementwise;

TEST_CASE("in-place ops: values, dtype rules, shapes, version counter") {
  const Tensor a = tensor({1.0, -2.0, 3.0, -4.0, 5.0, -6.0}).reshape({2, 3});
  const Tensor b = tensor({0.5, 0.25, 2.0});
  struct InplaceRow {
    std::string name;
    std::function<void(Tensor&)> op;
    std::vector<double> want;
  };
  const std::vector<InplaceRow> rows = {
      {"add_", [&](Tensor& x) { x.add_(b); }, {1.5, -1.75, 5, -3.5, 5.25, -4}},
      {"add_ alpha", [&](Tensor& x) { x.add_(b, -2); }, {0, -2.5, -1, -5, 4.5, -10}},
      {"add_ scalar", [](Tensor& x) { x.add_(1); }, {2, -1, 4, -3, 6, -5}},
      {"+=", [&](Tensor& x) { x += b; }, {1.5, -1.75, 5, -3.5, 5.25, -4}},
      {"+= scalar", [](Tensor& x) { x += 0.5; }, {1.5, -1.5, 3.5, -3.5, 5.5, -5.5}},
      {"sub_", [&](Tensor& x) { x.sub_(b); }, {0.5, -2.25, 1, -4.5, 4.75, -8}},
      {"sub_ alpha", [&](Tensor& x) { x.sub_(b, 2); }, {0, -2.5, -1, -5, 4.5, -10}},
      {"sub_ scalar", [](Tensor& x) { x.sub_(1); }, {0, -3, 2, -5, 4, -7}},
      {"-=", [&](Tensor& x) { x -= b; }, {0.5, -2.25, 1, -4.5, 4.75, -8}},
      {"-= scalar", [](Tensor& x) { x -= 2; }, {-1, -4, 1, -6, 3, -8}},
      {"mul_", [&](Tensor& x) { x.mul_(b); }, {0.5, -0.5, 6, -2, 1.25, -12}},
      {"*= scalar", [](Tensor& x) { x *= 2; }, {2, -4, 6, -8, 10, -12}},
      {"*=", [&](Tensor& x) { x *= b; }, {0.5, -0.5, 6, -2, 1.25, -12}},
      {"mul_ scalar", [](Tensor& x) { x.mul_(-1); }, {-1, 2, -3, 4, -5, 6}},
      {"div_", [&](Tensor& x) { x.div_(b); }, {2, -8, 1.5, -8, 20, -3}},
      {"/=", [&](Tensor& x) { x /= b; }, {2, -8, 1.5, -8, 20, -3}},
      {"div_ scalar", [](Tensor& x) { x.div_(2); }, {0.5, -1, 1.5, -2, 2.5, -3}},
      {"/= scalar", [](Tensor& x) { x /= 4; }, {0.25, -0.5, 0.75, -1, 1.25, -1.5}},
      {"clamp_", [](Tensor& x) { x.clamp_(-3, 2); }, {1, -2, 2, -3, 2, -3}},
      {"relu_", [](Tensor& x) { x.relu_(); }, {1, 0, 3, 0, 5, 0}},
      {"neg_", [](Tensor& x) { x.neg_(); }, {-1, 2, -3, 4, -5, 6}},
      {"exp_", [](Tensor& x) { x.exp_(); }, {std::exp(1.0), std::exp(-2.0), std::exp(3.0), std::exp(-4.0), std::exp(5.0), std::exp(-6.0)}},
      {"abs then sqrt_", [](Tensor& x) { x = x.abs(); x.sqrt_(); }, {1, std::sqrt(2.0), std::sqrt(3.0), 2, std::sqrt(5.0), std::sqrt(6.0)}},
  };
  for (const auto& row : rows)
    for (DType dt : kFloating)
      for (bool transposed : {false, true}) {
        // The same logical values in a transposed (non-contiguous) buffer exercise strided writes.
        Tensor x = transposed ? a.t().contiguous().to(dt).t() : a.to(dt, true);
        REQUIRE(x.is_contiguous() == !transposed);
        const void* data = x.data_ptr();
        const std::uint64_t v0 = x.impl()->storage->version();
        row.op(x);
        INFO(row.name << " on " << dtype_name(dt) << (transposed ? ", transposed" : ""));
        REQUIRE(x.dtype() == dt);
        if (row.name != "abs then sqrt_") {
          REQUIRE(x.data_ptr() == data);
          REQUIRE(x.impl()->storage->version() > v0);
        }
        check_values(x, row.want, tol_for(dt), row.name);
      }
  // Results of a wider dtype are cast back into self; integers stay integers.
  Tensor f = tensor({1.0, 2.0});
  f.add_(tensor(std::vector<double>{0.25, 0.5}));
  REQUIRE(f.dtype() == kFloat32);
  check_values(f, {1.25, 2.5}, 0, "float64 into float32");
  Tensor i = tensor(std::vector<std::int32_t>{1, 2, 3});
  i.add_(tensor(std::vector<std::int64_t>{10, 20, 30}));
  i *= 2;
  i.sub_(tensor(std::vector<bool>{true, false, true}).to(kInt32));
  check_values(i, {21, 44, 65}, 0, "int in place");
  i.clamp_(30, 50);
  check_values(i, {30, 44, 50}, 0, "int clamp_");
  Tensor bl = tensor(std::vector<bool>{true, false, false});
  bl.add_(tensor(std::vector<bool>{false, false, true}));
  check_values(bl, {1, 0, 1}, 0, "bool add_ is or");
  bl.mul_(tensor(std::vector<bool>{true, true, false}));
  check_values(bl, {1, 0, 0}, 0, "bool mul_ is and");
  // Broadcast of the other operand, and self of a slice writes through to the base.
  Tensor m = zeros({3, 4});
  Tensor col = m.index({Slice(), Slice(1, 2)});
  col.add_(tensor({1.0, 2.0, 3.0}).unsqueeze(1));
  check_values(m, {0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0}, 0, "slice add_ writes through");
  // errors
  Tensor ii = tensor(std::vector<std::int64_t>{1, 2});
  REQUIRE_THROWS_AS(ii.add_(tensor({0.5, 0.5})), DTypeError);
  REQUIRE_THROWS_AS(ii += 0.5, DTypeError);
  REQUIRE_THROWS_AS(ii.div_(2), DTypeError);
  REQUIRE_THROWS_AS(ii /= ii, DTypeError);
  REQUIRE_THROWS_AS(ii.exp_(), DTypeError);
  REQUIRE_THROWS_AS(ii.sqrt_(), DTypeError);
  REQUIRE_THROWS_AS(ii.clamp_(0.5, std::nullopt), DTypeError);
  REQUIRE_THROWS_AS(bl.add_(tensor(std::vector<std::int64_t>{1, 2, 3})), DTypeError);
  REQUIRE_THROWS_AS(bl.add_(1), DTypeError);
  REQUIRE_THROWS_AS(bl.sub_(bl), DTypeError);
  REQUIRE_THROWS_AS(bl.neg_(), DTypeError);
  REQUIRE_THROWS_AS(bl.relu_(), DTypeError);
  Tensor small = zeros({3});
  REQUIRE_THROWS_AS(small.add_(zeros({2, 3})), ShapeError);
  REQUIRE_THROWS_AS(small.mul_(zeros({2})), ShapeError);
  Tensor expanded = zeros({1, 3}).expand({2, 3});
  REQUIRE_THROWS_AS(expanded.add_(1), ValueError);
  REQUIRE_THROWS_AS(expanded.relu_(), ValueError);
  REQUIRE_THROWS_AS(small.add_(Tensor()), ValueError);
  Tensor undefined;
  REQUIRE_THROWS_AS(undefined.add_(1), ValueError);
  REQUIRE_THROWS_AS(undefined.exp_(), ValueError);
}

TEST_CASE("out= variants write into an existing tensor") {
  const Tensor a = tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}).reshape({2, 3});
  const Tensor b = tensor({1.0, 2.0, 4.0});
  Tensor out = empty({2, 3});
  const void* data = out.data_ptr();
  const std::uint64_t v0 = out.impl()->storage->version();
  REQUIRE(&add_out(out, a, b) == &out);
  REQUIRE(out.data_ptr() == data);
  REQUIRE(out.impl()->storage->version() > v0);
  check_values(out, {2, 4, 7, 5, 7, 10}, 0, "add_out");
  add_out(out, a, b, 0.5);
  check_values(out, {1.5, 3, 5, 4.5, 6, 8}, 0, "add_out alpha");
  sub_out(out, a, b);
  check_values(out, {0, 0, -1, 3, 3, 2}, 0, "sub_out");
  sub_out(out, a, b, 2);
  check_values(out, {-1, -2, -5, 2, 1, -2}, 0, "sub_out alpha");
  mul_out(out, a, b);
  check_values(out, {1, 4, 12, 4, 10, 24}, 0, "mul_out");
  div_out(out, a, b);
  check_values(out, {1, 1, 0.75, 4, 2.5, 1.5}, 0, "div_out");
  add_out(out, out, out);  // aliasing inputs is fine for elementwise ops
  check_values(out, {2, 2, 1.5, 8, 5, 3}, 0, "add_out aliasing");
  Tensor out_t = empty({3, 2}).t();  // a strided destination
  add_out(out_t, a, b);
  check_values(out_t, {2, 4, 7, 5, 7, 10}, 0, "add_out strided");
  Tensor out64 = empty({2, 3}, kFloat64);  // wider out: computed in float32, then cast
  mul_out(out64, a, b);
  check_values(out64, {1, 4, 12, 4, 10, 24}, 0, "mul_out into float64");
  Tensor outf = empty({2}, kFloat32);  // int inputs: true division
  div_out(outf, tensor(std::vector<std::int32_t>{1, 3}), tensor(std::vector<std::int32_t>{2, 2}));
  check_values(outf, {0.5, 1.5}, 0, "div_out ints");
  // errors
  Tensor wrong_shape = empty({3});
  REQUIRE_THROWS_AS(add_out(wrong_shape, a, b), ShapeError);
  Tensor int_out = empty({2, 3}, kInt32);
  REQUIRE_THROWS_AS(add_out(int_out, a, b), DTypeError);
  Tensor int_out2 = empty({2}, kInt32);
  REQUIRE_THROWS_AS(div_out(int_out2, tensor(std::vector<std::int32_t>{1, 3}), tensor(std::vector<std::int32_t>{2, 2})),
                    DTypeError);
  Tensor bool_out = empty({2, 3}, kBool);
  REQUIRE_THROWS_AS(sub_out(bool_out, bool_out, bool_out), DTypeError);
  Tensor undefined;
  REQUIRE_THROWS_AS(mul_out(undefined, a, b), ValueError);
  Tensor expanded = empty({1, 3}).expand({2, 3});
  REQUIRE_THROWS_AS(add_out(expanded, a, b), ValueError);
  REQUIRE_THROWS_AS(add_out(out, a, tensor({1.0, 2.0})), ShapeError);
}

TEST_CASE("exp_out writes exp(x) into an existing tensor") {
  const Tensor x = tensor({-1.0, 0.0, 0.5, 2.0, -3.0, 1.0}).reshape({2, 3});
  Tensor out = empty({2, 3});
  const void* data = out.data_ptr();
  REQUIRE(&exp_out(out, x) == &out);
  REQUIRE(out.data_ptr() == data);
  std::vector<double> expected;
  for (double v : {-1.0, 0.0, 0.5, 2.0, -3.0, 1.0}) expected.push_back(std::exp(v));
  check_values(out, expected, 1e-6, "exp_out");
  Tensor out_t = empty({3, 2}).t();  // a strided destination
  exp_out(out_t, x);
  check_values(out_t, expected, 1e-6, "exp_out strided");
  Tensor outf = empty({2});  // integer input: a float result, as exp gives
  exp_out(outf, tensor(std::vector<std::int32_t>{0, 1}));
  check_values(outf, {1.0, std::exp(1.0)}, 1e-6, "exp_out ints");
  Tensor same = x.clone();
  exp_out(same, same);  // in place through out=
  check_values(same, expected, 1e-6, "exp_out aliasing");
  // errors
  Tensor wrong_shape = empty({3});
  REQUIRE_THROWS_AS(exp_out(wrong_shape, x), ShapeError);
  Tensor int_out = empty({2, 3}, kInt32);
  REQUIRE_THROWS_AS(exp_out(int_out, x), DTypeError);
  Tensor undefined;
  REQUIRE_THROWS_AS(exp_out(undefined, x), ValueError);
  const Tensor tracked = x.clone().requires_grad_();
  REQUIRE_THROWS_WITH(exp_out(out, tracked), Catch::Contains("exp_out") && Catch::Contains("out= arguments"));
}

TEST_CASE("binary errors") {
  const Tensor f = tensor({1.0, 2.0, 3.0});
  const Tensor i = tensor(std::vector<std::int64_t>{1, 2, 3});
  const Tensor b = tensor(std::vector<bool>{true, false, true});
  REQUIRE_THROWS_AS(f + tensor({1.0, 2.0}), ShapeError);
  REQUIRE_THROWS_AS(maximum(f, zeros({2, 2})), ShapeError);
  REQUIRE_THROWS_AS(f < zeros({4}), ShapeError);
  REQUIRE_THROWS_AS(f + Tensor(), ValueError);
  REQUIRE_THROWS_AS(Tensor() * f, ValueError);
  REQUIRE_THROWS_AS(Tensor() + 1, ValueError);
  REQUIRE_THROWS_AS(b - b, DTypeError);
  REQUIRE_THROWS_AS(b - i, DTypeError);
  REQUIRE_THROWS_AS(f - b, DTypeError);
  REQUIRE_THROWS_AS(b - 1, DTypeError);
  REQUIRE_THROWS_AS(f - true, DTypeError);
  REQUIRE_THROWS_AS(1 - b, DTypeError);
  REQUIRE_THROWS_AS(add(i, i, 0.5), DTypeError);
  REQUIRE_THROWS_AS(add(f, f, true), DTypeError);
  REQUIRE_THROWS_AS(sub(i, 1, 1.5), DTypeError);
  REQUIRE_THROWS_AS(pow(i, -1), ValueError);
  REQUIRE_THROWS_AS(pow(b, b), DTypeError);
  REQUIRE_THROWS_AS(pow(b, true), DTypeError);
  REQUIRE_THROWS_AS(pow(true, b), DTypeError);
  // alpha on bool results: true/1 keep the or, false/0 leave a unchanged.
  check_values(add(b, tensor(std::vector<bool>{false, true, false}), false), {1, 0, 1}, 0, "bool alpha false");
  check_values(add(i, i, -2), {-1, -2, -3}, 0, "int alpha");
  check_values(add(f, 2, 0.5), {2, 3, 4}, 0, "scalar with alpha");
}

TEST_CASE("allclose and equal") {
  const Tensor a = tensor({1.0, 2.0, kNaN, kInf});
  REQUIRE_FALSE(allclose(a, a));
  REQUIRE(allclose(a, a, 1e-5, 1e-8, true));
  const Tensor x = tensor({1.0, 2.0, 3.0});
  REQUIRE(allclose(x, x + 1e-6));
  REQUIRE_FALSE(allclose(x, x + 1e-3));
  REQUIRE(allclose(x, x + 1e-3, 1e-3, 0));
  REQUIRE(allclose(x, x + 1e-3, 0, 1.01e-3));
  REQUIRE_FALSE(allclose(x, x + 1e-3, 0, 0.99e-3));
  REQUIRE_FALSE(allclose(x, zeros({2})));
  REQUIRE_FALSE(allclose(tensor({kInf}), tensor({-kInf})));
  REQUIRE(allclose(tensor({kInf}), tensor({kInf})));
  REQUIRE(allclose(tensor(std::vector<std::int32_t>{1, 2, 3}), x));
  REQUIRE(allclose(x.t(), x.expand({1, 3}).reshape({3})));
  REQUIRE(allclose(zeros({0, 3}), zeros({0, 3})));
  const Tensor big = arange(0, 100000).to(kFloat32);
  Tensor big2 = big.clone();
  REQUIRE(allclose(big, big2));
  big2.index({99999}).fill_(-1);
  REQUIRE_FALSE(allclose(big, big2));
  REQUIRE_THROWS_AS(allclose(x, x, -1.0), ValueError);
  REQUIRE_THROWS_AS(allclose(x, Tensor()), ValueError);

  REQUIRE(equal(x, x.clone()));
  REQUIRE(equal(x, tensor(std::vector<std::int64_t>{1, 2, 3})));
  REQUIRE_FALSE(equal(x, x + 1e-6));
  REQUIRE_FALSE(equal(x, x.reshape({1, 3})));
  REQUIRE_FALSE(equal(a, a));  // NaN != NaN
  const Tensor m = tensor({1.0, 2.0, 3.0, 4.0}).reshape({2, 2});
  REQUIRE(equal(m.t(), m.t().contiguous()));
  REQUIRE_FALSE(equal(m.t(), m));
  REQUIRE(equal(big, big.clone()));
  REQUIRE_FALSE(equal(big, big2));
}

TEST_CASE("large tensors split across threads give the same result as one thread") {
  const std::int64_t n = 7 * 42858;
  const Tensor a = make(sample(static_cast<std::size_t>(n), -3, 3, kFloat32, 23), {n}, kFloat32);
  const Tensor b = make(sample(static_cast<std::size_t>(n), -3, 3, kFloat32, 29), {n}, kFloat32);
  const int threads = get_num_threads();
  set_num_threads(1);
  const Tensor one = a * b + a.exp();
  const Tensor strided_one = a.reshape({n / 7, 7}).t().contiguous().t() * 2;
  set_num_threads(2);
  const Tensor two = a * b + a.exp();
  const Tensor strided_two = a.reshape({n / 7, 7}).t().contiguous().t() * 2;
  set_num_threads(threads);
  REQUIRE(equal(one, two));
  REQUIRE(equal(strided_one, strided_two));
  check_values(strided_two.reshape({-1}), [&] {
    std::vector<double> w;
    for (double v : values(a)) w.push_back(2 * v);
    return w;
  }(), 0, "strided large");
}

TEST_CASE("broadcast operands inside long rows (0-d tensors, columns)") {
  for (DType dt : kFloating) {
    const std::int64_t n = 1037;
    const Tensor x = make(sample(static_cast<std::size_t>(3 * n), -3, 3, dt, 31), {3, n}, dt);
    const Tensor col = make({0.5, -2.0, 4.0}, {3, 1}, dt);
    const Tensor s0 = make({1.5}, {}, dt);
    const std::vector<double> xv = values(x);
    std::vector<double> want_col, want_rsub, want_pow;
    for (std::size_t i = 0; i < xv.size(); ++i) {
      const double c = i / static_cast<std::size_t>(n) == 0 ? 0.5 : i / static_cast<std::size_t>(n) == 1 ? -2.0 : 4.0;
      want_col.push_back(xv[i] * c);
      want_rsub.push_back(1.5 - xv[i]);
      want_pow.push_back(std::pow(1.5, xv[i]));
    }
    INFO(dtype_name(dt));
    check_values(x * col, want_col, tol_for(dt), "x * column");
    check_values(col * x, want_col, tol_for(dt), "column * x");
    check_values(s0 - x, want_rsub, tol_for(dt), "0-d - x");
    check_values(pow(s0, x), want_pow, 4 * tol_for(dt), "pow(0-d, x)");
    Tensor out_t = empty({n, 3}, dt).t();  // strided destination: results scattered back
    mul_out(out_t, x, col);
    check_values(out_t, want_col, tol_for(dt), "mul_out into transposed out");
    Tensor self_t = x.t().contiguous().t();
    self_t.mul_(col);
    check_values(self_t, want_col, tol_for(dt), "mul_ on transposed self");
    check_values(maximum(x, s0.expand({1, 1})), [&] {
      std::vector<double> w;
      for (double v : xv) w.push_back(std::max(v, 1.5));
      return w;
    }(), 0, "maximum with broadcast 0-d");
  }
}
