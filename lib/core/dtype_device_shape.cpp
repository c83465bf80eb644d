// Names and printing for DType, Device and shapes; shape arithmetic shared by all ops.
#include <ostream>
#include <thread>

#include "tapeflow/device.hpp"
#include "tapeflow/dtype.hpp"
#include "tapeflow/error.hpp"
#include "tapeflow/shape.hpp"

namespace tapeflow {

const char* dtype_name(DType dt) noexcept {
  switch (dt) {
    case DType::Bool: return "bool";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "invalid";
}
std::ostream& operator<<(std::ostream& os, DType dt) { return os << dtype_name(dt); }

Device::Device(const std::string& spec) {
  auto bad = [&] {
    fail<ValueError>("Device", "expected \"cpu\", \"cuda\" or \"cuda:N\" (N a device index), got \"", spec, "\"");
  };
  if (spec == "cpu") return;
  if (spec.rfind("cuda", 0) != 0) bad();
  type_ = DeviceType::CUDA;
  if (spec.size() == 4) return;
  if (spec[4] != ':' || spec.size() == 5 || spec.size() > 9) bad();
  for (std::size_t i = 5; i < spec.size(); ++i)
    if (spec[i] < '0' || spec[i] > '9') bad();
  index_ = std::stoi(spec.substr(5));
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index_);
}
std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

std::ostream& operator<<(std::ostream& os, IntArrayRef s) {
  os << "(";
  for (std::size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  return os << ")";
}

std::int64_t shape_numel(IntArrayRef shape) {
  std::int64_t n = 1;
  for (std::int64_t s : shape) n *= s;
  return n;
}

Shape contiguous_strides(IntArrayRef shape) {
  Shape strides(shape.size());
  std::int64_t s = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<std::int64_t>(shape[i], 1);
  }
  return strides;
}

Shape broadcast_shapes(const char* op, IntArrayRef a, IntArrayRef b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      fail<ShapeError>(op, "shapes ", a, " and ", b, " cannot be broadcast together (dim ", i, ": ", da,
                       " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::int64_t wrap_dim(const char* op, std::int64_t dim, std::int64_t ndim) {
  const std::int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  if (dim < lo || dim > hi)
    fail<IndexError>(op, "dim ", dim, " out of range for a ", ndim, "-d tensor (expected ", lo, "..", hi, ")");
  return dim < 0 ? dim + std::max<std::int64_t>(ndim, 1) : dim;
}

}  // namespace tapeflow
