#pragma once
// Argument checks shared by the nn ops (conv, pooling, normalisation).
#include <array>
#include <cstdint>

#include "core/tensor_factory.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::detail {

// A (h, w) pair from one value or two; each at least min_value, else ValueError naming what.
inline std::array<std::int64_t, 2> pair_arg(const char* op, const char* what, IntArrayRef v,
                                            std::int64_t min_value) {
  if (v.size() != 1 && v.size() != 2)
    fail<ValueError>(op, what, " must have one or two values, got ", v);
  const std::array<std::int64_t, 2> p{v[0], v.size() == 2 ? v[1] : v[0]};
  for (std::int64_t x : p)
    if (x < min_value) fail<ValueError>(op, what, " must be at least ", min_value, ", got ", v);
  return p;
}

// Throws DTypeError unless t is float32/float64.
inline void check_floating(const char* op, const Tensor& t, const char* what = "input") {
  if (!t.is_floating_point())
    fail<DTypeError>(op, "expected a floating-point ", what, ", got ", t.dtype());
}

// An optional companion tensor (weight, bias, running stats): same device and dtype as x.
inline void check_companion(const char* op, const Tensor& x, const Tensor& t, const char* what) {
  if (!t.defined()) return;
  check_same_device(op, x, t);
  if (t.dtype() != x.dtype())
    fail<DTypeError>(op, what, " has dtype ", t.dtype(), " but input has dtype ", x.dtype());
}

// A 1-D companion of length n (per channel / per feature), or undefined.
inline void check_vector(const char* op, const Tensor& x, const Tensor& t, const char* what, std::int64_t n) {
  if (!t.defined()) return;
  check_companion(op, x, t, what);
  if (t.dim() != 1 || t.size(0) != n)
    fail<ShapeError>(op, what, " must have shape (", n, "), got ", t.shape());
}

}  // namespace tapeflow::detail
