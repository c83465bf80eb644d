#pragma once
// Helpers for the nn op tests: deterministic data, non-contiguous copies, value comparison.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "tapeflow/tapeflow.hpp"

namespace nn_test {

using namespace tapeflow;

// Deterministic values in [lo, hi) from an LCG (the random family is not used here).
inline Tensor data(std::vector<std::int64_t> shape, DType dtype, std::uint64_t seed, double lo = -2, double hi = 2) {
  std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
  std::uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (double& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = lo + (hi - lo) * static_cast<double>(s >> 11) / 9007199254740992.0;
  }
  return tensor(v, shape).to(dtype);
}

// The values of t in row-major order, as doubles.
inline std::vector<double> values(const Tensor& t) {
  const Tensor c = t.contiguous().to(kFloat64);
  const double* p = c.data_ptr<double>();
  return {p, p + c.numel()};
}

// The same values as t, in a view whose last dim has stride 2 (a slice of a larger buffer).
inline Tensor strided(const Tensor& t) {
  Shape big = t.shape();
  big.back() *= 2;
  Tensor buf = full(big, 1234.5, t.dtype());
  Tensor v = buf.slice(-1, 0, std::nullopt, 2);
  v.copy_(t);
  REQUIRE_FALSE(v.is_contiguous());
  return v;
}

// The same values as t, in a view with dims d0 and d1 stored swapped.
inline Tensor transposed(const Tensor& t, std::int64_t d0, std::int64_t d1) {
  Tensor v = t.transpose(d0, d1).contiguous().transpose(d0, d1);
  return v;
}

// Elementwise |got - want| <= tol * (1 + |want|), NaNs matching NaNs; reports the first miss.
inline void require_close(const Tensor& got, const std::vector<double>& want, double tol) {
  const std::vector<double> g = values(got);
  REQUIRE(g.size() == want.size());
  std::size_t bad = g.size();
  for (std::size_t i = 0; i < g.size() && bad == g.size(); ++i) {
    const bool ok = std::isnan(want[i]) ? std::isnan(g[i]) : std::abs(g[i] - want[i]) <= tol * (1 + std::abs(want[i]));
    if (!ok) bad = i;
  }
  INFO("first mismatch at element " << bad << ": got " << (bad < g.size() ? g[bad] : 0.0) << ", want "
                                    << (bad < g.size() ? want[bad] : 0.0) << " (tol " << tol << ")");
  REQUIRE(bad == g.size());
}

inline double tol_for(DType dt) { return dt == kFloat32 ? 2e-5 : 1e-12; }

}  // namespace nn_test
