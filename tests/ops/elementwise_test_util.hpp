#pragma once
// Shared helpers of the elementwise tests: values as float64, deterministic samples, tolerances.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tapeflow/tapeflow.hpp"

namespace tapeflow::test_elementwise {

inline const double kNaN = std::numeric_limits<double>::quiet_NaN();
inline const double kInf = std::numeric_limits<double>::infinity();
inline const std::vector<DType> kAll = {kBool, kInt32, kInt64, kFloat32, kFloat64};
inline const std::vector<DType> kNumeric = {kInt32, kInt64, kFloat32, kFloat64};
inline const std::vector<DType> kFloating = {kFloat32, kFloat64};

// Values of any tensor as float64, in row-major order of its (possibly strided) shape.
inline std::vector<double> values(const Tensor& t) {
  const Tensor c = t.contiguous();
  std::vector<double> v(static_cast<std::size_t>(c.numel()));
  dispatch(c.dtype(), [&]<typename T>() {
    const T* p = c.data_ptr<T>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

inline Tensor make(const std::vector<double>& v, IntArrayRef shape, DType dt) { return tensor(v, shape).to(dt); }

// Deterministic pseudo-random values in [lo, hi], rounded to integers for integral dtypes.
inline std::vector<double> sample(std::size_t n, double lo, double hi, DType dt, unsigned seed = 1) {
  std::vector<double> v(n);
  std::uint64_t s = 0x9E3779B97F4A7C15ull * (seed + 1);
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const double u = static_cast<double>(s >> 11) / 9007199254740992.0;
    x = lo + (hi - lo) * u;
    if (dt == kBool) x = u < 0.5 ? 0.0 : 1.0;
    else if (is_integral(dt)) x = std::round(x);
    else if (dt == kFloat32) x = static_cast<double>(static_cast<float>(x));
  }
  return v;
}

inline double tol_for(DType result) { return result == kFloat64 ? 1e-12 : result == kFloat32 ? 2e-6 : 0.0; }

inline bool close(double got, double want, double rtol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::abs(got - want) <= rtol * std::max(1.0, std::abs(want));
}

inline void check_values(const Tensor& got, const std::vector<double>& want, double rtol, const std::string& what) {
  const std::vector<double> g = values(got);
  REQUIRE(g.size() == want.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    INFO(what << " element " << i << ": got " << g[i] << ", want " << want[i]);
    REQUIRE(close(g[i], want[i], rtol));
  }
}

}  // namespace tapeflow::test_elementwise
