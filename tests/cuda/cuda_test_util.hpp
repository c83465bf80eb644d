#pragma once
// Helpers for CUDA parity tests: the same computation on the CPU and on cuda:0, compared
// element by element in float64 (the CPU result is the reference; both backends are tested
// against independent references elsewhere).
#include <catch2/catch.hpp>

#include <string>

#include "tapeflow/tapeflow.hpp"
#include "value_mismatch.hpp"

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
  const std::string mismatch = test_util::value_mismatch(cpu, gpu, rtol, atol, "gpu");
  if (!mismatch.empty()) FAIL(mismatch);
}

}  // namespace cuda_test
