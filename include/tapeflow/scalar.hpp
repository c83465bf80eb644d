#pragma once
// A number passed to an op (x + 2, clamp(x, 0, 1), full(shape, 3.5)), remembering whether it
// was written as a bool, an integer or a floating-point value (that decides type promotion).
#include <cstdint>
#include <type_traits>

#include "tapeflow/dtype.hpp"

namespace tapeflow {

class Scalar {
 public:
  enum class Kind : std::uint8_t { Bool, Int, Float };

  Scalar() = default;
  template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Scalar(T v) {  // NOLINT: implicit on purpose, like at::Scalar
    if constexpr (std::is_floating_point_v<T>) {
      kind_ = Kind::Float;
      value_.d = static_cast<double>(v);
    } else {
      kind_ = std::is_same_v<T, bool> ? Kind::Bool : Kind::Int;
      value_.i = static_cast<std::int64_t>(v);
    }
  }

  Kind kind() const { return kind_; }
  bool is_floating_point() const { return kind_ == Kind::Float; }
  bool is_integral() const { return kind_ == Kind::Int; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  double to_double() const { return is_floating_point() ? value_.d : static_cast<double>(value_.i); }
  std::int64_t to_int() const { return is_floating_point() ? 0 : value_.i; }  // a float has no exact integer value

  // The value converted to T (integers keep their exact value; floats convert from double).
  template <typename T>
  T to() const {
    if constexpr (std::is_same_v<T, bool>) return is_floating_point() ? value_.d != 0.0 : value_.i != 0;
    else return is_floating_point() ? static_cast<T>(value_.d) : static_cast<T>(value_.i);
  }

  // The dtype a tensor would have if made from this value alone (PyTorch defaults).
  DType default_dtype() const {
    return kind_ == Kind::Bool ? kBool : kind_ == Kind::Int ? kInt64 : kFloat32;
  }

 private:
  // 16 bytes, trivially copyable: passed in two registers. A larger Scalar went through the
  // stack, and copying it there (a 16-byte load of two 8-byte stores) stalled every call.
  union Value {
    double d;
    std::int64_t i = 0;
  } value_;
  Kind kind_ = Kind::Int;
};
static_assert(sizeof(Scalar) == 16 && std::is_trivially_copyable_v<Scalar>);

// PyTorch's rule for tensor-with-scalar operands: the tensor's dtype wins unless the scalar is of
// a higher category (bool < integer < floating), in which case the default dtype of that category.
constexpr DType promote_with_scalar(DType tensor_dtype, Scalar::Kind kind) {
  if (kind == Scalar::Kind::Float && !is_floating_point(tensor_dtype)) return kFloat32;
  if (kind == Scalar::Kind::Int && tensor_dtype == kBool) return kInt64;
  return tensor_dtype;
}

}  // namespace tapeflow
