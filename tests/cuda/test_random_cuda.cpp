// Random draws on cuda:0 against the same draws on the CPU: the same generator state must give
// the same numbers (bit for bit, except normal's last bits, which come from the device's own
// log/sin/cos) and advance the generator identically; dropout's mask and output too.
#include <cstring>
#include <limits>
#include <set>

#include "cuda/cuda_test_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::require_close;

namespace {

// The GPU tensor, brought back, holds the CPU tensor's exact bytes.
void require_bit_equal(const Tensor& cpu, const Tensor& gpu) {
  REQUIRE(gpu.device() == kGpu);
  REQUIRE(gpu.dtype() == cpu.dtype());
  REQUIRE(gpu.shape() == cpu.shape());
  const Tensor c = cpu.contiguous(), g = gpu.to(Device::cpu()).contiguous();
  REQUIRE(std::memcmp(c.data_ptr(), g.data_ptr(), c.nbytes()) == 0);
}

constexpr std::uint64_t kSeed = 20261207;

}  // namespace

TEST_CASE("uniform and randint draw the CPU's bits from the same seed", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    INFO(dtype);
    Generator gc(kSeed), gg(kSeed);
    require_bit_equal(rand({301, 7}, dtype, &gc), rand({301, 7}, TensorOptions(dtype).device(kGpu), &gg));
    REQUIRE(gc.offset() == gg.offset());
    // A second draw continues the stream at the same offset on both.
    Tensor c = empty({1000}, dtype), g = empty({1000}, TensorOptions(dtype).device(kGpu));
    require_bit_equal(uniform_(c, -3.0, 5.0, &gc), uniform_(g, -3.0, 5.0, &gg));
    REQUIRE(gc.offset() == gg.offset());
  }
  for (DType dtype : {kInt32, kInt64, kFloat32, kFloat64}) {
    INFO(dtype);
    Generator gc(kSeed), gg(kSeed);
    require_bit_equal(randint(-50, 1000, {513}, dtype, &gc),
                      randint(-50, 1000, {513}, TensorOptions(dtype).device(kGpu), &gg));
  }
  Generator gc(kSeed), gg(kSeed);
  const std::int64_t lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
  require_bit_equal(randint(lo, hi, {99}, kInt64, &gc), randint(lo, hi, {99}, TensorOptions(kInt64).device(kGpu), &gg));
}

TEST_CASE("normal matches the CPU to the last bits of log, sin and cos", "[cuda]") {
  Generator gc(kSeed), gg(kSeed);
  require_close(randn({4099}, kFloat32, &gc), randn({4099}, TensorOptions(kFloat32).device(kGpu), &gg), 2e-6, 2e-6);
  require_close(randn({4099}, kFloat64, &gc), randn({4099}, TensorOptions(kFloat64).device(kGpu), &gg), 1e-13, 1e-13);
  Tensor c = empty({64, 48}), g = empty({64, 48}, TensorOptions().device(kGpu));
  // In place into a transposed (non-contiguous) view: the values a fresh draw would hold.
  Tensor ct = c.t(), gt = g.t();
  require_close(normal_(ct, 2.0, 0.5, &gc), normal_(gt, 2.0, 0.5, &gg), 2e-6, 2e-6);
  REQUIRE(gc.offset() == gg.offset());
}

TEST_CASE("bernoulli with a scalar and with per-element probabilities", "[cuda]") {
  Generator gc(kSeed), gg(kSeed);
  for (DType dtype : {kBool, kInt32, kFloat32, kFloat64}) {
    INFO(dtype);
    require_bit_equal(bernoulli({777}, 0.3, dtype, &gc), bernoulli({777}, 0.3, TensorOptions(dtype).device(kGpu), &gg));
  }
  const Tensor p = rand({50, 21}, kFloat64);
  require_bit_equal(bernoulli(p, &gc), bernoulli(p.to(kGpu), &gg));
  REQUIRE_THROWS_AS(bernoulli((p + 1.0).to(kGpu), &gg), ValueError);
}

TEST_CASE("randperm: the CPU's permutation for the same seed", "[cuda]") {
  for (std::int64_t n : {0, 1, 2, 1000, 100003}) {
    INFO("n " << n);
    Generator gc(kSeed), gg(kSeed);
    const Tensor c = randperm(n, kInt64, &gc), g = randperm(n, TensorOptions(kInt64).device(kGpu), &gg);
    require_bit_equal(c, g);
    REQUIRE(gc.offset() == gg.offset());
    const Tensor back = g.to(Device::cpu());
    std::set<std::int64_t> seen(back.data_ptr<std::int64_t>(), back.data_ptr<std::int64_t>() + n);
    REQUIRE(static_cast<std::int64_t>(seen.size()) == n);
    if (n > 0) REQUIRE((*seen.begin() == 0 && *seen.rbegin() == n - 1));
  }
  Generator gg(kSeed);
  REQUIRE(randperm(10, TensorOptions(kInt32).device(kGpu), &gg).dtype() == kInt32);
}

TEST_CASE("dropout: the CPU's mask and output, and its gradient", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    for (double p : {0.0, 0.2, 0.75, 1.0}) {
      INFO(dtype << ", p " << p);
      const Tensor x = randn({33, 65}, dtype);
      Tensor xc = x.clone().requires_grad_(true), xg = x.to(kGpu, /*copy=*/true).requires_grad_(true);
      manual_seed(kSeed);
      const Tensor yc = dropout(xc, p);
      manual_seed(kSeed);
      const Tensor yg = dropout(xg, p);
      require_bit_equal(yc, yg);
      // The gradient is g * mask * scale: the mask, compared through it (elementwise ops only).
      yc.backward(x);
      yg.backward(x.to(kGpu));
      require_bit_equal(xc.grad(), xg.grad());
    }
  }
}

TEST_CASE("empty draws launch nothing and advance nothing", "[cuda]") {
  Generator gg(kSeed);
  REQUIRE(rand({0, 5}, TensorOptions().device(kGpu), &gg).numel() == 0);
  REQUIRE(randint(0, 9, {0}, TensorOptions(kInt64).device(kGpu), &gg).numel() == 0);
  REQUIRE(gg.offset() == 0);
}
