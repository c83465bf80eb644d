#pragma once
// Creating tensors: factories, tensor() from values, from_blob over user memory.
#include <functional>
#include <initializer_list>
#include <type_traits>
#include <vector>

#include "tapeflow/tensor.hpp"

namespace tapeflow {

// dtype, device and requires_grad for a new tensor. Implicit from a DType or a Device, so
// zeros({2, 3}, kFloat64) and zeros({2, 3}, TensorOptions().dtype(kInt64)) both work.
class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(DType dtype) : dtype_(dtype) {}      // NOLINT: implicit on purpose
  TensorOptions(Device device) : device_(device) {}  // NOLINT: implicit on purpose
  TensorOptions dtype(DType d) const { TensorOptions o = *this; o.dtype_ = d; return o; }
  TensorOptions device(Device d) const { TensorOptions o = *this; o.device_ = d; return o; }
  TensorOptions requires_grad(bool r) const { TensorOptions o = *this; o.requires_grad_ = r; return o; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool requires_grad() const { return requires_grad_; }

 private:
  DType dtype_ = kFloat32;
  Device device_ = Device::cpu();
  bool requires_grad_ = false;
};

Tensor empty(IntArrayRef shape, TensorOptions options = {});
Tensor zeros(IntArrayRef shape, TensorOptions options = {});
Tensor ones(IntArrayRef shape, TensorOptions options = {});
Tensor full(IntArrayRef shape, Scalar value, TensorOptions options = {});
// Values start, start+step, ... below end. The dtype defaults to int64 when all three are
// integers, else float32 (as in PyTorch).
Tensor arange(Scalar end, std::optional<TensorOptions> options = std::nullopt);
Tensor arange(Scalar start, Scalar end, Scalar step = 1, std::optional<TensorOptions> options = std::nullopt);
Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options = {});
Tensor eye(std::int64_t n, std::optional<std::int64_t> m = std::nullopt, TensorOptions options = {});

// *_like: same shape, and the same dtype/device unless options say otherwise.
Tensor empty_like(const Tensor& t, std::optional<TensorOptions> options = std::nullopt);
Tensor zeros_like(const Tensor& t, std::optional<TensorOptions> options = std::nullopt);
Tensor ones_like(const Tensor& t, std::optional<TensorOptions> options = std::nullopt);
Tensor full_like(const Tensor& t, Scalar value, std::optional<TensorOptions> options = std::nullopt);

// Wraps memory the caller owns without copying (CPU only). The caller keeps it alive while any
// view of the tensor exists, or passes a deleter that the last view runs.
Tensor from_blob(void* data, IntArrayRef shape, TensorOptions options = {});
Tensor from_blob(void* data, IntArrayRef shape, IntArrayRef strides, TensorOptions options = {});
Tensor from_blob(void* data, IntArrayRef shape, std::function<void(void*)> deleter,
                 TensorOptions options = {});

// A copy of values with the given shape (default: 1-D); dtype defaults to T's.
template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
Tensor tensor(const std::vector<T>& values, IntArrayRef shape, std::optional<TensorOptions> options = std::nullopt);
template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
Tensor tensor(const std::vector<T>& values, std::optional<TensorOptions> options = std::nullopt) {
  const std::int64_t n = static_cast<std::int64_t>(values.size());
  return tensor(values, IntArrayRef(n), options);
}

// Nested braces: tensor({{1.0, 2.0}, {3.0, 4.0}}). Integers give int64, any float gives
// float32, all-bool gives bool, unless options name a dtype. Ragged nesting throws ShapeError.
class NestedValues {
 public:
  NestedValues(Scalar s) : scalar_(s), is_scalar_(true) {}  // NOLINT
  template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  NestedValues(T v) : NestedValues(Scalar(v)) {}  // NOLINT
  NestedValues(std::initializer_list<NestedValues> list) : children_(list) {}
  bool is_scalar() const { return is_scalar_; }
  Scalar scalar() const { return scalar_; }
  const std::vector<NestedValues>& children() const { return children_; }

 private:
  Scalar scalar_;
  bool is_scalar_ = false;
  std::vector<NestedValues> children_;
};
Tensor tensor(NestedValues values, std::optional<TensorOptions> options = std::nullopt);

// A 0-dim tensor holding value.
Tensor scalar_tensor(Scalar value, TensorOptions options = {});

}  // namespace tapeflow
