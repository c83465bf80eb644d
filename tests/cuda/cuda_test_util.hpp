#pragma once
// Helpers for CUDA parity tests: the same computation on the CPU and on cuda:0, compared
// element by element in float64 (the CPU result is the reference; both backends are tested
// against independent references elsewhere).
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "tapeflow/tapeflow.hpp"

namespace cuda_test {

inline const tapeflow::Device kGpu = tapeflow::Device::cuda(0);

// The GPU result must be on cuda:0, have the CPU result's shape and dtype, and match it within
// |g - c| <= atol + rtol |c| everywhere (NaN where the CPU has NaN, the same infinities).
inline void require_close(const tapeflow::Tensor& cpu, const tapeflow::Tensor& gpu, double rtol = 1e-5,
                          double atol = 1e-6) {
  using namespace tapeflow;
  REQUIRE(gpu.device() == kGpu);
  REQUIRE(gpu.shape() == cpu.shape());
  REQUIRE(gpu.dtype() == cpu.dtype());
  const Tensor c = cpu.to(kFloat64).contiguous().reshape({-1});
  const Tensor g = gpu.to(Device::cpu()).to(kFloat64).contiguous().reshape({-1});
  const double* pc = c.data_ptr<double>();
  const double* pg = g.data_ptr<double>();
  for (std::int64_t i = 0; i < c.numel(); ++i) {
    const bool same_special = (std::isnan(pc[i]) && std::isnan(pg[i])) || (std::isinf(pc[i]) && pc[i] == pg[i]);
    if (same_special) continue;
    if (!(std::abs(pg[i] - pc[i]) <= atol + rtol * std::abs(pc[i]))) {
      std::ostringstream msg;
      msg << "element " << i << " of " << cpu.shape() << ": cpu " << pc[i] << ", gpu " << pg[i];
      FAIL(msg.str());
    }
  }
}

}  // namespace cuda_test
