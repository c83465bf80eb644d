#pragma once
// Input checks shared by the layers. Messages name the layer and say what was expected and
// what came, e.g. "[Linear] expected input with last dimension 784 (in_features), got shape
// (64, 28, 28)".
#include <cstdint>
#include <string>

#include "tapeflow/tensor.hpp"

namespace tapeflow::nn::detail {

// "(2, 3)", the way shapes appear in messages.
inline std::string shape_str(const Tensor& t) { return tapeflow::detail::cat_str(t.shape()); }

inline void check_input_defined(const std::string& layer, const Tensor& x) {
  if (!x.defined()) fail<ValueError>(layer.c_str(), "expected an input tensor, got an undefined tensor");
}

// A floating-point input of the parameters' dtype (layers do not convert silently).
inline void check_input_dtype(const std::string& layer, const Tensor& x, const Tensor& param) {
  check_input_defined(layer, x);
  if (!x.is_floating_point())
    fail<DTypeError>(layer.c_str(), "expected a floating-point input, got dtype ", x.dtype());
  if (param.defined() && x.dtype() != param.dtype())
    fail<DTypeError>(layer.c_str(), "expected input of dtype ", param.dtype(), " (the dtype of the parameters), got ",
                     x.dtype(), "; convert one with .to(dtype) or module->to(dtype)");
}

// The number of dims must be one of `dims`; `layout` describes them, e.g. "(N, C, H, W)".
inline void check_input_dims(const std::string& layer, const Tensor& x, IntArrayRef dims,
                             const char* layout) {
  check_input_defined(layer, x);
  for (std::int64_t d : dims)
    if (x.dim() == d) return;
  std::string wanted;
  for (std::int64_t d : dims) wanted += (wanted.empty() ? "" : " or ") + std::to_string(d) + "-D";
  fail<ShapeError>(layer.c_str(), "expected ", wanted, " input ", layout, ", got shape ", x.shape());
}

}  // namespace tapeflow::nn::detail
