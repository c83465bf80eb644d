// Elementwise ops against float64 references computed here with std:: math, for every dtype an
// op accepts, on contiguous, transposed, stepped, broadcast, 0-d and empty operands; type
// promotion; tensor-scalar forms and where/masked_fill (in-place, out= and errors of binary ops:
// test_elementwise_forms.cpp).
// Run with TAPEFLOW_ELEMENTWISE_ISA=sse2|avx2|scalar to check the other instruction sets' kernels.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <thread>

#include "elementwise_test_util.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using namespace tapeflow::test_elementwise;

namespace {

// The operand layouts every op is run on: the same logical values, different strides.
struct Layout {
  std::string name;
  std::function<Tensor(const Tensor& base)> view;  // from a contiguous (6, 10) base
};
std::vector<Layout> layouts() {
  return {
      {"contiguous", [](const Tensor& b) { return b; }},
      {"transposed", [](const Tensor& b) { return b.t(); }},
      {"stepped", [](const Tensor& b) { return b.index({Slice(1, std::nullopt, 2), Slice(0, std::nullopt, 3)}); }},
      {"broadcast", [](const Tensor& b) { return b.index({Slice(2, 3)}).expand({4, 10}); }},
      {"row", [](const Tensor& b) { return b.select(0, 3); }},
      {"0-d", [](const Tensor& b) { return b.select(0, 1).select(0, 2); }},
      {"empty", [](const Tensor& b) { return b.index({Slice(0, 0)}); }},
  };
}


// ---- unary table ----
enum class Result { Same, Float, Bool };  // result dtype: as input, float32 for integers, bool
struct UnaryRow {
  std::string name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> ref;
  double lo, hi;
  std::vector<DType> dtypes;
  Result result;
};

DType unary_result(Result r, DType in) {
  if (r == Result::Bool) return kBool;
  if (r == Result::Float) return is_floating_point(in) ? in : kFloat32;
  return in;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double gelu_ref(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double gelu_tanh_ref(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}
double softplus_ref(double x, double beta, double threshold) {
  return x * beta > threshold ? x : std::log1p(std::exp(x * beta)) / beta;
}

std::vector<UnaryRow> unary_rows() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, [](double x) { return -x; }, -50, 50, kNumeric, Result::Same},
      {"operator-", [](const Tensor& x) { return -x; }, [](double x) { return -x; }, -50, 50, kNumeric, Result::Same},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double x) { return std::abs(x); }, -50, 50, kNumeric, Result::Same},
      {"sign", [](const Tensor& x) { return sign(x); }, [](double x) { return double((x > 0) - (x < 0)); }, -3, 3, kAll, Result::Same},
      {"square", [](const Tensor& x) { return square(x); }, [](double x) { return x * x; }, -50, 50, kNumeric, Result::Same},
      {"exp", [](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); }, -20, 20, kAll, Result::Float},
      {"log", [](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); }, 0.001, 100, kAll, Result::Float},
      {"log1p", [](const Tensor& x) { return log1p(x); }, [](double x) { return std::log1p(x); }, -0.9, 10, kAll, Result::Float},
      {"expm1", [](const Tensor& x) { return expm1(x); }, [](double x) { return std::expm1(x); }, -5, 5, kAll, Result::Float},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, 0, 100, kAll, Result::Float},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double x) { return 1 / std::sqrt(x); }, 0.01, 100, kFloating, Result::Float},
      {"sin", [](const Tensor& x) { return sin(x); }, [](double x) { return std::sin(x); }, -10, 10, kAll, Result::Float},
      {"cos", [](const Tensor& x) { return cos(x); }, [](double x) { return std::cos(x); }, -10, 10, kAll, Result::Float},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double x) { return std::tanh(x); }, -10, 10, kAll, Result::Float},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, sigmoid_ref, -30, 30, kAll, Result::Float},
      {"relu", [](const Tensor& x) { return relu(x); }, [](double x) { return x < 0 ? 0.0 : x; }, -5, 5, kNumeric, Result::Same},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }, [](double x) { return x > 0 ? x : 0.2 * x; }, -5, 5, kFloating, Result::Same},
      {"elu", [](const Tensor& x) { return elu(x, 1.5); }, [](double x) { return x > 0 ? x : 1.5 * std::expm1(x); }, -5, 5, kFloating, Result::Same},
      {"gelu", [](const Tensor& x) { return gelu(x); }, gelu_ref, -6, 6, kFloating, Result::Same},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, true); }, gelu_tanh_ref, -6, 6, kFloating, Result::Same},
      {"silu", [](const Tensor& x) { return silu(x); }, [](double x) { return x * sigmoid_ref(x); }, -20, 20, kFloating, Result::Same},
      {"softplus", [](const Tensor& x) { return softplus(x, 2.0, 10.0); }, [](double x) { return softplus_ref(x, 2.0, 10.0); }, -10, 10, kFloating, Result::Same},
      {"floor", [](const Tensor& x) { return floor(x); }, [](double x) { return std::floor(x); }, -10, 10, kNumeric, Result::Same},
      {"ceil", [](const Tensor& x) { return ceil(x); }, [](double x) { return std::ceil(x); }, -10, 10, kNumeric, Result::Same},
      {"round", [](const Tensor& x) { return round(x); }, [](double x) { return std::nearbyint(x); }, -10, 10, kNumeric, Result::Same},
      {"clamp", [](const Tensor& x) { return clamp(x, -2, 3); }, [](double x) { return std::min(std::max(x, -2.0), 3.0); }, -5, 5, kNumeric, Result::Same},
      {"clamp_min", [](const Tensor& x) { return clamp(x, 1, std::nullopt); }, [](double x) { return std::max(x, 1.0); }, -5, 5, kNumeric, Result::Same},
      {"clamp_max", [](const Tensor& x) { return x.clamp(std::nullopt, 1); }, [](double x) { return std::min(x, 1.0); }, -5, 5, kNumeric, Result::Same},
      {"logical_not", [](const Tensor& x) { return logical_not(x); }, [](double x) { return double(x == 0); }, -2, 2, kAll, Result::Bool},
      {"isnan", [](const Tensor& x) { return isnan(x); }, [](double x) { return double(std::isnan(x)); }, -2, 2, kAll, Result::Bool},
      {"isinf", [](const Tensor& x) { return isinf(x); }, [](double x) { return double(std::isinf(x)); }, -2, 2, kAll, Result::Bool},
      {"isfinite", [](const Tensor& x) { return isfinite(x); }, [](double x) { return double(std::isfinite(x)); }, -2, 2, kAll, Result::Bool},
  };
}

}  // namespace

TEST_CASE("unary ops match float64 references on every dtype and layout") {
  for (const UnaryRow& row : unary_rows()) {
    for (DType dt : row.dtypes) {
      const DType rt = unary_result(row.result, dt);
      const Tensor base = make(sample(60, row.lo, row.hi, dt, 7), {6, 10}, dt);
      for (const Layout& layout : layouts()) {
        const Tensor x = layout.view(base);
        const Tensor y = row.op(x);
        INFO(row.name << " on " << dtype_name(dt) << ", " << layout.name);
        REQUIRE(y.dtype() == rt);
        REQUIRE(y.shape() == x.shape());
        std::vector<double> want;
        for (double v : values(x)) want.push_back(row.ref(v));
        check_values(y, want, tol_for(rt), row.name);
      }
      // Long strided rows (gathered into buffers for the vector kernels).
      const Tensor big = make(sample(40 * 51, row.lo, row.hi, dt, 9), {40, 51}, dt);
      for (const Tensor& x : {big.t(), big.index({Slice(), Slice(1, std::nullopt, 3)}), big.t().index({Slice(2, 3)}).expand({5, 40})}) {
        std::vector<double> want;
        for (double v : values(x)) want.push_back(row.ref(v));
        INFO(row.name << " on " << dtype_name(dt) << ", long strided rows " << x.shape());
        check_values(row.op(x), want, tol_for(rt), row.name);
      }
      // Long contiguous runs: every vector tail length, and work split across threads.
      for (std::int64_t n : {1, 3, 15, 16, 17, 31, 33, 100, 70001}) {
        if (n > 100 && dt != kFloat32) continue;
        const Tensor x = make(sample(static_cast<std::size_t>(n), row.lo, row.hi, dt, 11), {n}, dt);
        std::vector<double> want;
        for (double v : values(x)) want.push_back(row.ref(v));
        INFO(row.name << " on " << dtype_name(dt) << ", n=" << n);
        check_values(row.op(x), want, tol_for(rt), row.name);
      }
    }
  }
}

TEST_CASE("unary special values: NaN, infinities, zeros, halves") {
  const Tensor x = tensor(std::vector<double>{kNaN, kInf, -kInf, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1e-30});
  for (DType dt : kFloating) {
    const Tensor xd = x.to(dt);
    INFO(dtype_name(dt));
    check_values(round(xd), {kNaN, kInf, -kInf, 0, 0, 0, 2, 2, 0, -2, -2, 0}, 0, "round half to even");
    check_values(relu(xd), {kNaN, kInf, 0, 0, 0, 0.5, 1.5, 2.5, 0, 0, 0, 1e-30}, 1e-6, "relu keeps NaN");
    check_values(sign(xd), {0, 1, -1, 0, 0, 1, 1, 1, -1, -1, -1, 1}, 0, "sign");
    check_values(exp(xd), {kNaN, kInf, 0, 1, 1, std::exp(0.5), std::exp(1.5), std::exp(2.5), std::exp(-0.5),
                           std::exp(-1.5), std::exp(-2.5), 1},
                 1e-6, "exp");
    check_values(sigmoid(xd), {kNaN, 1, 0, 0.5, 0.5, sigmoid_ref(0.5), sigmoid_ref(1.5), sigmoid_ref(2.5),
                               sigmoid_ref(-0.5), sigmoid_ref(-1.5), sigmoid_ref(-2.5), 0.5},
                 1e-6, "sigmoid");
    check_values(isnan(xd), {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, "isnan");
    check_values(isinf(xd), {0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, "isinf");
    check_values(isfinite(xd), {0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, "isfinite");
    check_values(clamp(xd, -1, 1), {kNaN, 1, -1, 0, 0, 0.5, 1, 1, -0.5, -1, -1, 1e-30}, 1e-6, "clamp keeps NaN");
    check_values(log(xd), {kNaN, kInf, kNaN, -kInf, -kInf, std::log(0.5), std::log(1.5), std::log(2.5), kNaN, kNaN,
                           kNaN, dt == kFloat32 ? std::log(1e-30f) : std::log(1e-30)},
                 1e-6, "log");
  }
  // min > max gives max everywhere (min is applied first, then max).
  check_values(clamp(tensor({-1.0, 0.5, 7.0}), 3, 1), {1, 1, 1}, 0, "clamp min>max");
  check_values(clamp(tensor(std::vector<std::int32_t>{-5, 0, 5}), 3, 1), {1, 1, 1}, 0, "int clamp min>max");
  // Sine of large arguments goes through the long range reduction.
  const Tensor big = tensor(std::vector<double>{1e4, -3e4, 123456.7, 1e6});
  for (DType dt : kFloating) {
    const Tensor b = big.to(dt);
    std::vector<double> want;
    for (double v : values(b)) want.push_back(std::sin(v));
    check_values(sin(b), want, dt == kFloat32 ? 1e-5 : 1e-12, "sin of large arguments");
  }
}

TEST_CASE("unary result dtypes and integer inputs of floating functions") {
  REQUIRE(exp(tensor(std::vector<std::int64_t>{0, 1, 2})).dtype() == kFloat32);
  REQUIRE(sqrt(tensor(std::vector<bool>{true, false})).dtype() == kFloat32);
  REQUIRE(sigmoid(zeros({2}, kFloat64)).dtype() == kFloat64);
  REQUIRE(square(tensor(std::vector<bool>{true, false})).dtype() == kInt64);
  check_values(square(tensor(std::vector<bool>{true, false})), {1, 0}, 0, "square bool");
  REQUIRE(sign(tensor(std::vector<bool>{true, false})).dtype() == kBool);
  REQUIRE(floor(tensor(std::vector<std::int32_t>{3, -4})).dtype() == kInt32);
  check_values(floor(tensor(std::vector<std::int32_t>{3, -4})), {3, -4}, 0, "floor int is identity");
  REQUIRE(clamp(tensor(std::vector<std::int32_t>{1, 5}), 0.5, std::nullopt).dtype() == kFloat32);
  check_values(clamp(tensor(std::vector<std::int32_t>{0, 5}), 0.5, 2), {0.5, 2}, 0, "clamp int with float bound");
  REQUIRE(clamp(tensor(std::vector<std::int32_t>{1, 5}), 0, 2).dtype() == kInt32);
  // Methods forward to the free functions.
  const Tensor x = tensor({0.25, 4.0});
  check_values(x.sqrt(), {0.5, 2.0}, 1e-7, "method sqrt");
  check_values(x.rsqrt(), {2.0, 0.5}, 1e-7, "method rsqrt");
  check_values(x.log().exp(), {0.25, 4.0}, 1e-6, "method log/exp");
  check_values(x.neg().abs().square().sign(), {1, 1}, 0, "methods");
  check_values(x.log1p().expm1(), {0.25, 4.0}, 1e-6, "log1p/expm1");
  check_values(x.sin().cos(), {std::cos(std::sin(0.25)), std::cos(std::sin(4.0))}, 1e-6, "sin/cos");
  check_values(x.tanh().sigmoid().relu().ceil().floor().round(), {1, 1}, 0, "chain");
  check_values(x.isnan().logical_not(), {1, 1}, 0, "isnan/logical_not");
  check_values(x.isinf(), {0, 0}, 0, "isinf");
  check_values(x.clamp(1, std::nullopt), {1, 4}, 0, "method clamp");
}

TEST_CASE("unary errors") {
  const Tensor b = tensor(std::vector<bool>{true, false});
  const Tensor i = tensor(std::vector<std::int32_t>{1, 2});
  REQUIRE_THROWS_AS(neg(b), DTypeError);
  REQUIRE_THROWS_AS(-b, DTypeError);
  REQUIRE_THROWS_AS(abs(b), DTypeError);
  REQUIRE_THROWS_AS(relu(b), DTypeError);
  REQUIRE_THROWS_AS(floor(b), DTypeError);
  REQUIRE_THROWS_AS(round(b), DTypeError);
  REQUIRE_THROWS_AS(clamp(b, true, std::nullopt), DTypeError);
  REQUIRE(clamp(b, 0, 1).dtype() == kInt64);  // int bounds promote bool to int64
  REQUIRE_THROWS_AS(clamp(i, std::nullopt, std::nullopt), ValueError);
  REQUIRE_THROWS_AS(leaky_relu(i), DTypeError);
  REQUIRE_THROWS_AS(elu(i), DTypeError);
  REQUIRE_THROWS_AS(gelu(i), DTypeError);
  REQUIRE_THROWS_AS(silu(b), DTypeError);
  REQUIRE_THROWS_AS(softplus(i), DTypeError);
  REQUIRE_THROWS_AS(softplus(tensor({1.0}), 0.0), ValueError);
  REQUIRE_THROWS_AS(exp(Tensor()), ValueError);
  REQUIRE_THROWS_AS(isnan(Tensor()), ValueError);
}

// ---- binary table ----
namespace {

struct BinaryRow {
  std::string name;
  std::function<Tensor(const Tensor&, const Tensor&)> op;
  std::function<double(double, double)> ref;
  double alo, ahi, blo, bhi;
  std::vector<DType> dtypes;
  Result result;
};

double int_pow(double a, double b) {  // PyTorch's integer pow
  if (b < 0) return a == 1 ? 1 : a == -1 ? (std::fmod(-b, 2) != 0 ? -1 : 1) : 0;
  return std::pow(a, b);
}

std::vector<BinaryRow> binary_rows() {
  return {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, [](double a, double b) { return a + b; }, -50, 50, -50, 50, kNumeric, Result::Same},
      {"operator+", [](const Tensor& a, const Tensor& b) { return a + b; }, [](double a, double b) { return a + b; }, -50, 50, -50, 50, kNumeric, Result::Same},
      {"add alpha", [](const Tensor& a, const Tensor& b) { return add(a, b, 3); }, [](double a, double b) { return a + 3 * b; }, -50, 50, -50, 50, kNumeric, Result::Same},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }, [](double a, double b) { return a - b; }, -50, 50, -50, 50, kNumeric, Result::Same},
      {"sub alpha", [](const Tensor& a, const Tensor& b) { return sub(a, b, 2); }, [](double a, double b) { return a - 2 * b; }, -50, 50, -50, 50, kNumeric, Result::Same},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }, [](double a, double b) { return a * b; }, -50, 50, -50, 50, kNumeric, Result::Same},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }, [](double a, double b) { return a / b; }, -50, 50, 1, 9, kAll, Result::Float},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, [](double a, double b) { return std::pow(a, b); }, 0.1, 5, -3, 3, kFloating, Result::Same},
      {"int pow", [](const Tensor& a, const Tensor& b) { return a.pow(b); }, int_pow, -4, 4, -2, 6, {kInt32, kInt64}, Result::Same},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, [](double a, double b) { return std::max(a, b); }, -9, 9, -9, 9, kAll, Result::Same},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, [](double a, double b) { return std::min(a, b); }, -9, 9, -9, 9, kAll, Result::Same},
      {"eq", [](const Tensor& a, const Tensor& b) { return a == b; }, [](double a, double b) { return double(a == b); }, -2, 2, -2, 2, kAll, Result::Bool},
      {"ne", [](const Tensor& a, const Tensor& b) { return a != b; }, [](double a, double b) { return double(a != b); }, -2, 2, -2, 2, kAll, Result::Bool},
      {"lt", [](const Tensor& a, const Tensor& b) { return a < b; }, [](double a, double b) { return double(a < b); }, -2, 2, -2, 2, kAll, Result::Bool},
      {"le", [](const Tensor& a, const Tensor& b) { return a <= b; }, [](double a, double b) { return double(a <= b); }, -2, 2, -2, 2, kAll, Result::Bool},
      {"gt", [](const Tensor& a, const Tensor& b) { return a.gt(b); }, [](double a, double b) { return double(a > b); }, -2, 2, -2, 2, kAll, Result::Bool},
      {"ge", [](const Tensor& a, const Tensor& b) { return a >= b; }, [](double a, double b) { return double(a >= b); }, -2, 2, -2, 2, kAll, Result::Bool},
      {"logical_and", [](const Tensor& a, const Tensor& b) { return a && b; }, [](double a, double b) { return double(a != 0 && b != 0); }, -1, 1, -1, 1, kAll, Result::Bool},
      {"logical_or", [](const Tensor& a, const Tensor& b) { return a || b; }, [](double a, double b) { return double(a != 0 || b != 0); }, -1, 1, -1, 1, kAll, Result::Bool},
      {"bool add is or", [](const Tensor& a, const Tensor& b) { return a + b; }, [](double a, double b) { return double(a != 0 || b != 0); }, 0, 1, 0, 1, {kBool}, Result::Same},
      {"bool mul is and", [](const Tensor& a, const Tensor& b) { return a * b; }, [](double a, double b) { return double(a != 0 && b != 0); }, 0, 1, 0, 1, {kBool}, Result::Same},
  };
}

// Pairs of operand views (a, b) that broadcast together, from (6, 10) bases.
struct PairLayout {
  std::string name;
  std::function<std::pair<Tensor, Tensor>(const Tensor&, const Tensor&)> views;
};
std::vector<PairLayout> pair_layouts() {
  return {
      {"same shape", [](const Tensor& a, const Tensor& b) { return std::pair{a, b}; }},
      {"transposed", [](const Tensor& a, const Tensor& b) { return std::pair{a.t(), b.t()}; }},
      {"mixed strides", [](const Tensor& a, const Tensor& b) { return std::pair{a.t().contiguous(), b.t()}; }},
      {"stepped", [](const Tensor& a, const Tensor& b) {
         return std::pair{a.index({Slice(0, std::nullopt, 2)}), b.index({Slice(1, std::nullopt, 2)})};
       }},
      {"row broadcast", [](const Tensor& a, const Tensor& b) { return std::pair{a, b.select(0, 2)}; }},
      {"column broadcast", [](const Tensor& a, const Tensor& b) {
         return std::pair{a, b.index({Slice(), Slice(3, 4)})};
       }},
      {"outer", [](const Tensor& a, const Tensor& b) {
         return std::pair{a.select(1, 0).unsqueeze(1), b.select(0, 0).unsqueeze(0)};
       }},
      {"3-d broadcast", [](const Tensor& a, const Tensor& b) {
         return std::pair{a.reshape({2, 3, 10}).index({Slice(), Slice(0, 1)}), b.index({Slice(0, 3)})};
       }},
      {"0-d with tensor", [](const Tensor& a, const Tensor& b) { return std::pair{a.select(0, 0).select(0, 0), b}; }},
      {"empty", [](const Tensor& a, const Tensor& b) {
         return std::pair{a.index({Slice(0, 0)}), b.index({Slice(0, 1)})};
       }},
  };
}

// Reference of a broadcast binary op over the views' values.
std::vector<double> binary_ref(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f,
                               Shape& shape) {
  shape = broadcast_shapes("test", a.shape(), b.shape());
  const std::vector<double> av = values(a.expand(shape)), bv = values(b.expand(shape));
  std::vector<double> out(av.size());
  for (std::size_t i = 0; i < av.size(); ++i) out[i] = f(av[i], bv[i]);
  return out;
}

}  // namespace

TEST_CASE("binary ops match float64 references on every dtype and layout") {
  for (const BinaryRow& row : binary_rows()) {
    for (DType dt : row.dtypes) {
      const DType rt = unary_result(row.result, dt);
      const Tensor a = make(sample(60, row.alo, row.ahi, dt, 3), {6, 10}, dt);
      const Tensor b = make(sample(60, row.blo, row.bhi, dt, 5), {6, 10}, dt);
      for (const PairLayout& layout : pair_layouts()) {
        const auto [av, bv] = layout.views(a, b);
        Shape shape;
        const std::vector<double> want = binary_ref(av, bv, row.ref, shape);
        INFO(row.name << " on " << dtype_name(dt) << ", " << layout.name);
        const Tensor y = row.op(av, bv);
        REQUIRE(y.dtype() == rt);
        REQUIRE(y.shape() == shape);
        check_values(y, want, tol_for(rt), row.name);
      }
      {  // long strided rows on both sides
        const Tensor a2 = make(sample(40 * 51, row.alo, row.ahi, dt, 21), {40, 51}, dt);
        const Tensor b2 = make(sample(51 * 80, row.blo, row.bhi, dt, 22), {51, 80}, dt);
        const Tensor av = a2.t(), bv = b2.index({Slice(), Slice(0, std::nullopt, 2)});
        Shape shape;
        INFO(row.name << " on " << dtype_name(dt) << ", long strided rows");
        check_values(row.op(av, bv), binary_ref(av, bv, row.ref, shape), tol_for(rt), row.name);
      }
      for (std::int64_t n : {1, 5, 16, 33, 70001}) {
        if (n > 100 && dt != kFloat32) continue;
        const Tensor x = make(sample(static_cast<std::size_t>(n), row.alo, row.ahi, dt, 13), {n}, dt);
        const Tensor z = make(sample(static_cast<std::size_t>(n), row.blo, row.bhi, dt, 17), {n}, dt);
        Shape shape;
        INFO(row.name << " on " << dtype_name(dt) << ", n=" << n);
        check_values(row.op(x, z), binary_ref(x, z, row.ref, shape), tol_for(rt), row.name);
      }
    }
  }
}

TEST_CASE("tensor-scalar ops match references") {
  struct ScalarRow {
    std::string name;
    std::function<Tensor(const Tensor&)> op;
    std::function<double(double)> ref;
    double lo, hi;
  };
  const std::vector<ScalarRow> rows = {
      {"x + 2.5", [](const Tensor& x) { return x + 2.5; }, [](double x) { return x + 2.5; }, -9, 9},
      {"2.5 + x", [](const Tensor& x) { return 2.5 + x; }, [](double x) { return x + 2.5; }, -9, 9},
      {"add(x, 2, alpha 3)", [](const Tensor& x) { return add(x, 2, 3); }, [](double x) { return x + 6; }, -9, 9},
      {"x - 1.5", [](const Tensor& x) { return x - 1.5; }, [](double x) { return x - 1.5; }, -9, 9},
      {"sub(x, 2, alpha 2)", [](const Tensor& x) { return sub(x, 2, 2); }, [](double x) { return x - 4; }, -9, 9},
      {"1 - x", [](const Tensor& x) { return 1 - x; }, [](double x) { return 1 - x; }, -9, 9},
      {"x * 3", [](const Tensor& x) { return x * 3; }, [](double x) { return x * 3; }, -9, 9},
      {"2 * x", [](const Tensor& x) { return 2 * x; }, [](double x) { return 2 * x; }, -9, 9},
      {"x / 4", [](const Tensor& x) { return x / 4; }, [](double x) { return x / 4; }, -9, 9},
      {"3 / x", [](const Tensor& x) { return 3.0 / x; }, [](double x) { return 3 / x; }, 1, 9},
      {"pow(x, 3)", [](const Tensor& x) { return pow(x, 3); }, [](double x) { return x * x * x; }, -5, 5},
      {"pow(x, 2)", [](const Tensor& x) { return x.pow(2.0); }, [](double x) { return x * x; }, -5, 5},
      {"pow(x, 0.5)", [](const Tensor& x) { return pow(x, 0.5); }, [](double x) { return std::sqrt(x); }, 0, 9},
      {"pow(x, -1.5)", [](const Tensor& x) { return pow(x, -1.5); }, [](double x) { return std::pow(x, -1.5); }, 0.5, 9},
      {"pow(2, x)", [](const Tensor& x) { return pow(2, x); }, [](double x) { return std::pow(2, x); }, 0, 5},
      {"pow(1.5, x)", [](const Tensor& x) { return pow(1.5, x); }, [](double x) { return std::pow(1.5, x); }, -5, 5},
  };
  for (const auto& row : rows) {
    for (DType dt : kNumeric) {
      for (std::int64_t n : {7, 40}) {
        const Tensor base = make(sample(static_cast<std::size_t>(n * 2), row.lo, row.hi, dt, 19), {n, 2}, dt);
        for (const Tensor& x : {base, base.t(), base.select(1, 1)}) {
          INFO(row.name << " on " << dtype_name(dt) << " shape " << x.shape());
          const Tensor y = row.op(x);
          std::vector<double> want;
          for (double v : values(x)) want.push_back(row.ref(v));
          check_values(y, want, tol_for(y.dtype()) * 4, row.name);
        }
      }
    }
  }
  // Comparisons with scalars are done in the promoted dtype: int 2 < 2.5.
  const Tensor i = tensor(std::vector<std::int32_t>{1, 2, 3});
  check_values(i < 2.5, {1, 1, 0}, 0, "int < float scalar");
  check_values(i <= 2, {1, 1, 0}, 0, "le");
  check_values(i > 2, {0, 0, 1}, 0, "gt");
  check_values(i >= 2, {0, 1, 1}, 0, "ge");
  check_values(i == 2, {0, 1, 0}, 0, "eq");
  check_values(i != 2, {1, 0, 1}, 0, "ne");
  check_values(eq(tensor({0.5, 1.0}), 0.5), {1, 0}, 0, "float eq");
  check_values(tensor(std::vector<bool>{true, false}) == true, {1, 0}, 0, "bool eq");
  // Integer pow with negative integer exponent tensors (PyTorch: 0 except for bases 1 and -1).
  check_values(pow(2, tensor(std::vector<std::int64_t>{-1, 0, 3})), {0, 1, 8}, 0, "int scalar base");
  check_values(pow(tensor(std::vector<std::int64_t>{-1, 1, -1, 5}), tensor(std::vector<std::int64_t>{-3, -2, -2, 0})),
               {-1, 1, 1, 1}, 0, "int pow negative exponents");
  check_values(pow(tensor(std::vector<std::int32_t>{3, -2}), 3), {27, -8}, 0, "int pow scalar");
  // Division of integers is true division; by zero gives infinities, not a crash.
  check_values(tensor(std::vector<std::int64_t>{1, -1, 0, 7}) / tensor(std::vector<std::int64_t>{0, 0, 0, 2}),
               {kInf, -kInf, kNaN, 3.5}, 0, "int division by zero");
}

TEST_CASE("type promotion: tensor-tensor and tensor-scalar") {
  // Expected result dtypes of add for every pair (rows: a, columns: b) in the order bool, i32, i64, f32, f64.
  const std::vector<std::vector<DType>> add_table = {
      {kBool, kInt32, kInt64, kFloat32, kFloat64},
      {kInt32, kInt32, kInt64, kFloat32, kFloat64},
      {kInt64, kInt64, kInt64, kFloat32, kFloat64},
      {kFloat32, kFloat32, kFloat32, kFloat32, kFloat64},
      {kFloat64, kFloat64, kFloat64, kFloat64, kFloat64},
  };
  for (std::size_t i = 0; i < kAll.size(); ++i)
    for (std::size_t j = 0; j < kAll.size(); ++j) {
      const Tensor a = make({1, 0, 1}, {3}, kAll[i]), b = make({1, 1, 0}, {3}, kAll[j]);
      INFO(dtype_name(kAll[i]) << " and " << dtype_name(kAll[j]));
      const Tensor s = a + b;
      REQUIRE(s.dtype() == add_table[i][j]);
      check_values(s, kAll[i] == kBool && kAll[j] == kBool ? std::vector<double>{1, 1, 1} : std::vector<double>{2, 1, 1},
                   0, "mixed add");
      const DType dt = add_table[i][j];
      REQUIRE((a / b).dtype() == (is_floating_point(dt) ? dt : kFloat32));
      REQUIRE(maximum(a, b).dtype() == dt);
      REQUIRE((a < b).dtype() == kBool);
      REQUIRE(where(a > 0, a, b).dtype() == dt);
      check_values(where(a > 0, a, b), {1, 1, 1}, 0, "where");
      if (kAll[i] != kBool && kAll[j] != kBool) {
        REQUIRE((a * b).dtype() == dt);
        REQUIRE((a - b).dtype() == dt);
        check_values(a - b, {0, -1, 1}, 0, "mixed sub");
      }
    }
  // Tensor-scalar: the tensor's dtype wins unless the scalar is of a higher category.
  const Tensor i32 = tensor(std::vector<std::int32_t>{1, 2});
  const Tensor bl = tensor(std::vector<bool>{true, false});
  const Tensor f64 = tensor(std::vector<double>{1, 2});
  const Tensor f32 = tensor({1.0, 2.0});
  REQUIRE((i32 + 1).dtype() == kInt32);
  REQUIRE((i32 + 1.5).dtype() == kFloat32);
  check_values(i32 + 1.5, {2.5, 3.5}, 0, "int + float scalar");
  REQUIRE((i32 * true).dtype() == kInt32);
  REQUIRE((bl + 1).dtype() == kInt64);
  REQUIRE((bl + true).dtype() == kBool);
  REQUIRE((bl * 2.0).dtype() == kFloat32);
  REQUIRE((f64 + 1.5).dtype() == kFloat64);
  REQUIRE((f32 + 1).dtype() == kFloat32);
  REQUIRE((f32 * std::int64_t{3}).dtype() == kFloat32);
  REQUIRE((i32 / 2).dtype() == kFloat32);
  check_values(i32 / 2, {0.5, 1}, 0, "int / int scalar");
  REQUIRE((2 / i32).dtype() == kFloat32);
  REQUIRE(pow(i32, 2).dtype() == kInt32);
  REQUIRE(pow(i32, 2.0).dtype() == kFloat32);
  REQUIRE(pow(2.0, i32).dtype() == kFloat32);
  REQUIRE(pow(2, bl).dtype() == kInt64);
  REQUIRE(where(bl, i32, 2.5).dtype() == kFloat32);
  REQUIRE(where(bl, 7, i32).dtype() == kInt32);
  REQUIRE(masked_fill(i32, bl, 2.7).dtype() == kInt32);
}

TEST_CASE("where and masked_fill") {
  const Tensor cond = tensor(std::vector<bool>{true, false, true, false, false, true}, {2, 3});
  const Tensor a = tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}).reshape({2, 3});
  const Tensor b = tensor({-1.0, -2.0, -3.0});
  check_values(where(cond, a, b), {1, -2, 3, -1, -2, 6}, 0, "where broadcast");
  check_values(where(cond.t(), a.t(), 0.5), {1, 0.5, 0.5, 0.5, 3, 6}, 0, "where transposed, scalar b");
  check_values(where(cond, 9, b), {9, -2, 9, -1, -2, 9}, 0, "where scalar a");
  check_values(where(cond.select(1, 0).unsqueeze(1), a, b), {1, 2, 3, -1, -2, -3}, 0, "where broadcast condition");
  check_values(masked_fill(a, cond, -7), {-7, 2, -7, 4, 5, -7}, 0, "masked_fill");
  check_values(a.masked_fill(cond.select(0, 0), 0), {0, 2, 0, 0, 5, 0}, 0, "masked_fill broadcast mask");
  REQUIRE(masked_fill(b, cond, 0).shape() == Shape{2, 3});  // out of place broadcasts like PyTorch
  check_values(masked_fill(tensor(std::vector<std::int64_t>{1, 2}), tensor(std::vector<bool>{false, true}), 2.7), {1, 2},
               0, "int masked_fill truncates the value");
  Tensor m = a.clone();
  const std::uint64_t v0 = m.impl()->storage->version();
  m.masked_fill_(cond, 0.5);
  check_values(m, {0.5, 2, 0.5, 4, 5, 0.5}, 0, "masked_fill_");
  REQUIRE(m.impl()->storage->version() > v0);
  Tensor mt = a.clone().t();  // non-contiguous self
  mt.masked_fill_(cond.t(), -1);
  check_values(mt, {-1, 4, 2, 5, -1, -1}, 0, "masked_fill_ transposed");
  // errors
  REQUIRE_THROWS_AS(where(a, a, b), DTypeError);
  REQUIRE_THROWS_AS(where(cond, a, tensor({1.0, 2.0})), ShapeError);
  REQUIRE_THROWS_AS(masked_fill(a, a, 1), DTypeError);
  REQUIRE_THROWS_AS(masked_fill(a, tensor(std::vector<bool>{true, false}), 1), ShapeError);
  Tensor small = b.clone();
  REQUIRE_THROWS_AS(small.masked_fill_(cond, 1), ShapeError);  // mask would grow self
  REQUIRE_THROWS_AS(where(Tensor(), a, b), ValueError);
}

TEST_CASE("outputs too big for the cache (streamed stores) are exact, aligned or not") {
  // 16 MiB and more per call goes through non-temporal stores after an unaligned head; check a
  // fresh output, an out= view starting 1 element into its storage, and the tail.
  const int threads = get_num_threads();
  set_num_threads(1);  // one call sees the whole output
  const std::int64_t n = (std::int64_t{4} << 20) + 37;
  const Tensor a = randn({n}), b = randn({n});
  const Tensor fresh = a + b;
  Tensor storage = empty({n + 1});
  Tensor shifted = storage.slice(0, 1, n + 1);
  add_out(shifted, a, b);
  const Tensor e = exp(a);
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  const float* pf = fresh.data_ptr<float>();
  const float* ps = shifted.data_ptr<float>();
  const float* pe = e.data_ptr<float>();
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float sum = pa[i] + pb[i];
    wrong += (pf[i] != sum) + (ps[i] != sum);
    wrong += std::fabs(static_cast<double>(pe[i]) - std::exp(static_cast<double>(pa[i]))) > 1e-6 * std::exp(static_cast<double>(pa[i]));
  }
  set_num_threads(threads);
  CHECK(wrong == 0);
}
