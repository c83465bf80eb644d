// operator<< for tensors, in PyTorch's style: tensor([[1.0000, 2.5000], ...], dtype=float64).
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "tapeflow/tensor.hpp"

namespace tapeflow {
namespace {

constexpr std::int64_t kSummarizeAbove = 1000;  // like PyTorch's threshold
constexpr std::int64_t kEdgeItems = 3;

struct Formatter {
  enum class Mode { Int, Bool, FloatInt, Fixed, Sci } mode = Mode::Fixed;
  int width = 1;

  std::string format(double v) const {
    char buf[64];
    switch (mode) {
      case Mode::Bool: return v != 0 ? "True" : "False";
      case Mode::Int: std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v)); break;
      case Mode::FloatInt:
        if (!std::isfinite(v)) std::snprintf(buf, sizeof buf, "%s", std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        else std::snprintf(buf, sizeof buf, "%.0f.", v);
        break;
      case Mode::Fixed:
        if (!std::isfinite(v)) std::snprintf(buf, sizeof buf, "%s", std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        else std::snprintf(buf, sizeof buf, "%.4f", v);
        break;
      case Mode::Sci: std::snprintf(buf, sizeof buf, "%.4e", v); break;
    }
    return buf;
  }
};

// Reads element (flat index in logical row-major order) as double.
double element(const Tensor& t, const Shape& idx) {
  std::int64_t off = 0;
  for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.strides()[d];
  return dispatch(t.dtype(), [&]<typename T>() {
    return static_cast<double>(static_cast<const T*>(t.data_ptr())[off]);
  });
}

bool shown(std::int64_t i, std::int64_t n, bool summarize) {
  return !summarize || n <= 2 * kEdgeItems || i < kEdgeItems || i >= n - kEdgeItems;
}

void collect(const Tensor& t, Shape& idx, std::size_t d, bool summarize, std::vector<double>& out) {
  if (d == idx.size()) {
    out.push_back(element(t, idx));
    return;
  }
  for (std::int64_t i = 0; i < t.shape()[d]; ++i) {
    if (!shown(i, t.shape()[d], summarize)) continue;
    idx[d] = i;
    collect(t, idx, d + 1, summarize, out);
  }
}

void print_rec(std::ostream& os, const Tensor& t, Shape& idx, std::size_t d, bool summarize, const Formatter& f,
               int indent) {
  const std::size_t nd = idx.size();
  if (d == nd) {
    std::string s = f.format(element(t, idx));
    os << std::string(static_cast<std::size_t>(std::max(0, f.width - static_cast<int>(s.size()))), ' ') << s;
    return;
  }
  os << "[";
  const std::int64_t n = t.shape()[d];
  bool first = true;
  for (std::int64_t i = 0; i < n; ++i) {
    if (!shown(i, n, summarize)) {
      if (i == kEdgeItems) {
        os << (d + 1 == nd ? ", ..." : ",\n" + std::string(static_cast<std::size_t>(indent + 1), ' ') + "...");
      }
      continue;
    }
    if (!first) {
      if (d + 1 == nd) os << ", ";
      else os << "," << std::string(nd - d - 1, '\n') << std::string(static_cast<std::size_t>(indent + 1), ' ');
    }
    first = false;
    idx[d] = i;
    print_rec(os, t, idx, d + 1, summarize, f, indent + 1);
  }
  os << "]";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& x) {
  if (!x.defined()) return os << "[ Tensor (undefined) ]";
  const Tensor t = x.cpu();
  const bool summarize = t.numel() > kSummarizeAbove;
  Shape idx(static_cast<std::size_t>(t.dim()), 0);
  std::vector<double> values;
  collect(t, idx, 0, summarize, values);

  Formatter f;
  if (t.dtype() == kBool) f.mode = Formatter::Mode::Bool;
  else if (!t.is_floating_point()) f.mode = Formatter::Mode::Int;
  else {
    bool all_int = true;
    double max_abs = 0, min_abs = INFINITY;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      all_int = all_int && v == std::nearbyint(v);
      max_abs = std::max(max_abs, std::fabs(v));
      if (v != 0) min_abs = std::min(min_abs, std::fabs(v));
    }
    if (all_int && max_abs < 1e8) f.mode = Formatter::Mode::FloatInt;
    else if (max_abs >= 1e8 || (min_abs < 1e-4) || (min_abs != INFINITY && max_abs / min_abs > 1000))
      f.mode = Formatter::Mode::Sci;
    else f.mode = Formatter::Mode::Fixed;
  }
  for (double v : values) f.width = std::max(f.width, static_cast<int>(f.format(v).size()));

  os << "tensor(";
  if (t.numel() == 0) {
    os << "[]";
    if (t.dim() != 1) os << ", size=" << t.shape();
  } else {
    print_rec(os, t, idx, 0, summarize, f, 7);
  }
  if (t.dtype() != kFloat32 && t.dtype() != kInt64 && t.dtype() != kBool) os << ", dtype=" << t.dtype();
  if (!x.is_cpu()) os << ", device='" << x.device() << "'";
  if (x.requires_grad()) os << ", requires_grad=True";
  return os << ")";
}

}  // namespace tapeflow
