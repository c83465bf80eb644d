// Elementwise ops, copies and fill on cuda:0 against the same ops on the CPU: every functor
// family, every dtype the op accepts, contiguous (vectorised kernel), misaligned, broadcast and
// strided (offset kernel) operands, and transfers in both directions with casts and strides.
#include <functional>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::require_close;

namespace {

// Inputs of each layout the kernels distinguish, built on the CPU then moved to the GPU with
// the same layout: contiguous, transposed, sliced with a step, offset by one element
// (misaligned for 16-byte vectors), and a small odd size (vector tail only).
struct Layout {
  std::string name;
  std::function<Tensor(const Tensor&)> view;  // applied to a (64, 48) tensor on either device
};

std::vector<Layout> layouts() {
  return {{"contiguous", [](const Tensor& t) { return t; }},
          {"transposed", [](const Tensor& t) { return t.t(); }},
          {"stepped slice", [](const Tensor& t) { return t.slice(1, 1, 48, 3); }},
          {"misaligned", [](const Tensor& t) { return t.reshape({-1}).slice(0, 1, 3001); }},
          {"odd size", [](const Tensor& t) { return t.reshape({-1}).slice(0, 0, 7); }}};
}

Tensor sample(DType dtype, double lo, double hi) {
  Tensor t = rand({64, 48}, kFloat64) * (hi - lo) + lo;
  if (dtype == kBool) return t > (lo + hi) / 2;
  if (dtype == kInt32 || dtype == kInt64) return t.round().to(dtype);
  return t.to(dtype);
}

void check_unary(const std::string& name, const std::function<Tensor(const Tensor&)>& op, DType dtype, double lo,
                 double hi, double rtol = 1e-5) {
  const Tensor x = sample(dtype, lo, hi);
  for (const Layout& l : layouts()) {
    INFO(name << " on " << dtype << ", " << l.name);
    require_close(op(l.view(x)), op(l.view(x.to(kGpu))), rtol);
  }
}

void check_binary(const std::string& name, const std::function<Tensor(const Tensor&, const Tensor&)>& op,
                  DType dtype, double lo, double hi) {
  const Tensor a = sample(dtype, lo, hi), b = sample(dtype, lo, hi);
  const Tensor ga = a.to(kGpu), gb = b.to(kGpu);
  for (const Layout& l : layouts()) {
    INFO(name << " on " << dtype << ", " << l.name);
    require_close(op(l.view(a), l.view(b)), op(l.view(ga), l.view(gb)));
  }
  INFO(name << " broadcast: (64, 48) with (48) and (64, 1)");
  require_close(op(a, b[0]), op(ga, gb[0]));
  require_close(op(a.slice(1, 0, 1), b), op(ga.slice(1, 0, 1), gb));
}

}  // namespace

TEST_CASE("unary floating functions match the CPU", "[cuda][elementwise]") {
  manual_seed(1);
  for (DType dt : {kFloat32, kFloat64}) {
    check_unary("exp", [](const Tensor& x) { return exp(x); }, dt, -20, 20);
    check_unary("log", [](const Tensor& x) { return log(x); }, dt, 1e-3, 100);
    check_unary("log1p", [](const Tensor& x) { return log1p(x); }, dt, -0.5, 10);
    check_unary("expm1", [](const Tensor& x) { return expm1(x); }, dt, -5, 5);
    check_unary("sqrt", [](const Tensor& x) { return sqrt(x); }, dt, 0, 100);
    check_unary("rsqrt", [](const Tensor& x) { return rsqrt(x); }, dt, 0.01, 100);
    check_unary("sin", [](const Tensor& x) { return sin(x); }, dt, -10, 10);
    check_unary("cos", [](const Tensor& x) { return cos(x); }, dt, -10, 10);
    check_unary("tanh", [](const Tensor& x) { return tanh(x); }, dt, -5, 5);
    check_unary("sigmoid", [](const Tensor& x) { return sigmoid(x); }, dt, -20, 20);
    check_unary("relu", [](const Tensor& x) { return relu(x); }, dt, -1, 1);
    check_unary("gelu", [](const Tensor& x) { return gelu(x); }, dt, -5, 5);
    check_unary("silu", [](const Tensor& x) { return silu(x); }, dt, -5, 5);
    check_unary("floor", [](const Tensor& x) { return floor(x); }, dt, -5, 5);
    check_unary("round", [](const Tensor& x) { return round(x); }, dt, -5, 5);
    check_unary("clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.25); }, dt, -1, 1);
  }
}

TEST_CASE("arithmetic on every dtype matches the CPU", "[cuda][elementwise]") {
  manual_seed(2);
  for (DType dt : {kFloat32, kFloat64, kInt32, kInt64}) {
    check_unary("neg", [](const Tensor& x) { return neg(x); }, dt, -100, 100);
    check_unary("abs", [](const Tensor& x) { return abs(x); }, dt, -100, 100);
    check_unary("add scalar", [](const Tensor& x) { return x + 3; }, dt, -100, 100);
    check_unary("rsub scalar", [](const Tensor& x) { return 3 - x; }, dt, -100, 100);
    check_binary("add", [](const Tensor& a, const Tensor& b) { return a + b; }, dt, -100, 100);
    check_binary("sub", [](const Tensor& a, const Tensor& b) { return a - b; }, dt, -100, 100);
    check_binary("mul", [](const Tensor& a, const Tensor& b) { return a * b; }, dt, -100, 100);
    check_binary("maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, dt, -100, 100);
    check_binary("add alpha", [](const Tensor& a, const Tensor& b) { return add(a, b, 2); }, dt, -100, 100);
  }
  check_binary("div", [](const Tensor& a, const Tensor& b) { return a / b; }, kFloat32, 0.5, 100);
  check_binary("pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, kFloat64, 0.5, 3);
  check_binary("integer pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, kInt64, -3, 5);
}

TEST_CASE("comparisons, logic and where match the CPU", "[cuda][elementwise]") {
  manual_seed(3);
  for (DType dt : {kFloat32, kInt64, kBool}) {
    check_binary("eq", [](const Tensor& a, const Tensor& b) { return eq(a, b); }, dt, -3, 3);
    check_binary("lt", [](const Tensor& a, const Tensor& b) { return lt(a, b); }, dt, -3, 3);
    check_binary("logical_and", [](const Tensor& a, const Tensor& b) { return logical_and(a, b); }, dt, -3, 3);
    check_unary("logical_not", [](const Tensor& x) { return logical_not(x); }, dt, -3, 3);
    check_unary("ge scalar", [](const Tensor& x) { return ge(x, 1); }, dt, -3, 3);
  }
  const Tensor x = randn({64, 48}), y = randn({64, 48});
  const Tensor c = x > y;
  require_close(where(c, x, y), where(c.to(kGpu), x.to(kGpu), y.to(kGpu)));
  require_close(where(c, x, 2.5), where(c.to(kGpu), x.to(kGpu), 2.5));
  require_close(isnan(log(x)), isnan(log(x.to(kGpu))));
}

TEST_CASE("copies between host and device keep values through casts and strides", "[cuda][copy]") {
  manual_seed(4);
  const std::vector<DType> dtypes{kFloat32, kFloat64, kInt32, kInt64, kBool};
  const Tensor base = randn({64, 48}) * 50;
  for (DType from : dtypes) {
    const Tensor x = from == kBool ? base > 0 : base.to(from);
    for (const Layout& l : layouts()) {
      INFO("from " << from << ", " << l.name);
      const Tensor gpu = l.view(x).to(kGpu);  // host -> device from a strided host view
      require_close(l.view(x), gpu, 0, 0);
      REQUIRE(gpu.is_contiguous());
      for (DType to : dtypes) {
        INFO("to " << to);
        require_close(l.view(x).to(to), l.view(x.to(kGpu)).to(to), 0, 0);  // device-side cast of a strided view
        const Tensor back = l.view(x.to(kGpu)).to(Device::cpu(), to);  // device -> host with a cast
        require_close(l.view(x).to(to).to(kGpu), back.to(kGpu), 0, 0);
      }
    }
  }
  // copy_ into strided destinations on both sides, with a broadcast source.
  Tensor host = zeros({48, 64}).t();
  Tensor dev = zeros({48, 64}, kGpu).t();
  const Tensor row = arange(48, kFloat32);
  host.copy_(row);
  dev.copy_(row.to(kGpu));
  require_close(host, dev, 0, 0);
  Tensor host_back = zeros({64, 48}, kFloat64).t().t();
  host_back.copy_(dev.to(Device::cpu()));
  require_close(host_back, dev.to(kFloat64), 0, 0);
}

TEST_CASE("fill, zeros, ones, full and arange on the GPU", "[cuda][copy]") {
  for (DType dt : {kFloat32, kFloat64, kInt32, kInt64, kBool}) {
    INFO(dt);
    require_close(full({5, 7}, 1, dt), full({5, 7}, 1, TensorOptions(dt).device(kGpu)), 0, 0);
    require_close(zeros({1000}, dt), zeros({1000}, TensorOptions(dt).device(kGpu)), 0, 0);
    Tensor strided = ones({6, 8}, TensorOptions(dt).device(kGpu));
    strided.slice(1, 0, 8, 2).fill_(0);
    Tensor expect = ones({6, 8}, dt);
    expect.slice(1, 0, 8, 2).fill_(0);
    require_close(expect, strided, 0, 0);
  }
  require_close(arange(0, 10, 0.5), arange(0, 10, 0.5, TensorOptions(kFloat32).device(kGpu)), 0, 0);
}

TEST_CASE("a GPU tensor on a missing device or mixed with a CPU tensor is a DeviceError", "[cuda][errors]") {
  const int n = cuda::device_count();
  CHECK_THROWS_AS(zeros({2}, Device::cuda(n)), DeviceError);
  CHECK_THROWS_AS(zeros({2}, kGpu) + zeros({2}), DeviceError);
}
