#pragma once
// Runtime dtypes, their C++ types, promotion, and the one dtype-dispatch helper.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <type_traits>

#include "tapeflow/error.hpp"

namespace tapeflow {

enum class DType : std::uint8_t { Bool, Int32, Int64, Float32, Float64 };

inline constexpr DType kBool = DType::Bool;
inline constexpr DType kInt32 = DType::Int32;
inline constexpr DType kInt = DType::Int32;
inline constexpr DType kInt64 = DType::Int64;
inline constexpr DType kLong = DType::Int64;
inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kDouble = DType::Float64;

const char* dtype_name(DType dt) noexcept;  // "float32", "int64", ...
std::ostream& operator<<(std::ostream& os, DType dt);

constexpr std::size_t element_size(DType dt) noexcept {
  switch (dt) {
    case DType::Bool: return 1;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
  }
  return 0;
}
constexpr bool is_floating_point(DType dt) noexcept {
  return dt == DType::Float32 || dt == DType::Float64;
}
constexpr bool is_integral(DType dt, bool include_bool = false) noexcept {
  return dt == DType::Int32 || dt == DType::Int64 || (include_bool && dt == DType::Bool);
}

// PyTorch's promotion lattice for tensor-tensor operands: bool < int32 < int64 < float32 < float64.
constexpr DType promote_types(DType a, DType b) noexcept {
  return static_cast<std::uint8_t>(a) > static_cast<std::uint8_t>(b) ? a : b;
}

// C++ type <-> DType.
template <typename T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<std::int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<std::int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <typename T> inline constexpr DType dtype_v = dtype_of<std::remove_cv_t<T>>::value;

// Calls f.template operator()<T>() with T the C++ type of dt. The only dtype switch ops need:
//   dispatch(x.dtype(), [&]<typename T>() { ... });
template <typename F>
decltype(auto) dispatch(DType dt, F&& f) {
  switch (dt) {
    case DType::Bool: return f.template operator()<bool>();
    case DType::Int32: return f.template operator()<std::int32_t>();
    case DType::Int64: return f.template operator()<std::int64_t>();
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
  }
  throw DTypeError("[dispatch] invalid dtype");
}

// Same, restricted to float32/float64; other dtypes throw a DTypeError naming op.
template <typename F>
decltype(auto) dispatch_floating(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    default: fail<DTypeError>(op, "expected a floating-point tensor, got ", dtype_name(dt));
  }
}

// Same, excluding bool (the arithmetic dtypes).
template <typename F>
decltype(auto) dispatch_numeric(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::Int32: return f.template operator()<std::int32_t>();
    case DType::Int64: return f.template operator()<std::int64_t>();
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    default: fail<DTypeError>(op, "not supported for ", dtype_name(dt), " tensors");
  }
}

}  // namespace tapeflow
