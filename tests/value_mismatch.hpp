#pragma once
// The element-by-element comparison of a result with its reference that the CUDA tests and the
// device-parity harness share: both tensors read as float64 on the CPU.
#include <cmath>
#include <sstream>
#include <string>

#include "tapeflow/tapeflow.hpp"

namespace test_util {

// "" when |got - ref| <= atol + rtol |ref| everywhere (NaN where ref has NaN, the same
// infinities), else the first element that differs, with got named got_name. Shapes must match.
inline std::string value_mismatch(const tapeflow::Tensor& ref, const tapeflow::Tensor& got, double rtol, double atol,
                                  const std::string& got_name) {
  using namespace tapeflow;
  const Tensor r = ref.detach().to(Device::cpu(), kFloat64).contiguous().reshape({-1});
  const Tensor g = got.detach().to(Device::cpu(), kFloat64).contiguous().reshape({-1});
  const double* pr = r.data_ptr<double>();
  const double* pg = g.data_ptr<double>();
  for (std::int64_t i = 0; i < r.numel(); ++i) {
    const bool same_special = (std::isnan(pr[i]) && std::isnan(pg[i])) || (std::isinf(pr[i]) && pr[i] == pg[i]);
    if (same_special) continue;
    if (!(std::abs(pg[i] - pr[i]) <= atol + rtol * std::abs(pr[i]))) {
      std::ostringstream report;
      report << "element " << i << " of " << ref.shape() << ": cpu " << pr[i] << ", " << got_name << " " << pg[i];
      return report.str();
    }
  }
  return "";
}

}  // namespace test_util
