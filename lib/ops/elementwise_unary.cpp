// Unary elementwise ops: arithmetic (neg, abs, sign, square), floating functions (exp, log,
// sqrt, trigonometric, sigmoid...), activations, rounding, clamp; in-place forms and methods.
#include "ops/elementwise_common.hpp"

namespace tapeflow {
namespace {

using ew::Types;

// A floating function: integer and bool inputs give float32.
template <class F>
Tensor floating_fn(const char* op, const Tensor& x) {
  ew::check_unary(op, x);
  return ew::unary_op<Types::Floating>(op, x, ew::float_result(x.dtype()), []<typename T>() { return F{}; });
}

// An activation defined for floating tensors only (as in PyTorch).
template <class Make>
Tensor activation(const char* op, const Tensor& x, Make&& make) {
  ew::check_unary(op, x);
  if (!x.is_floating_point())
    fail<DTypeError>(op, "expected a floating-point tensor, got ", x.dtype());
  return ew::unary_op<Types::Floating>(op, x, x.dtype(), make);
}

// An arithmetic op keeping the dtype; bool inputs are rejected.
template <class F>
Tensor numeric_fn(const char* op, const Tensor& x) {
  ew::check_unary(op, x);
  ew::reject_bool(op, x.dtype(), "");
  return ew::unary_op<Types::Numeric>(op, x, x.dtype(), []<typename T>() { return F{}; });
}

// floor/ceil/round: integers are already integral (a copy, like PyTorch); bool is rejected.
template <class F>
Tensor rounding_fn(const char* op, const Tensor& x) {
  ew::check_unary(op, x);
  ew::reject_bool(op, x.dtype(), "");
  if (!x.is_floating_point()) return x.clone();
  return ew::unary_op<Types::Floating>(op, x, x.dtype(), []<typename T>() { return F{}; });
}

// In place: self = f(self) where the result dtype ct must cast into self's dtype.
template <Types K, class Make>
Tensor& unary_inplace(const char* op, Tensor& self, DType ct, Make&& make) {
  ew::check_unary(op, self);
  ew::check_destination(op, self, self.shape(), ct, "self");
  ew::write_to(self, self.shape(), ct, [&](const Tensor& t) { ew::run_unary<K>(op, t, self, ct, make); });
  return self;
}

// The dtype of clamp's result and the functor making it (missing bounds are the type's limits).
DType clamp_dtype(const char* op, const Tensor& x, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi) {
  ew::check_unary(op, x);
  if (!lo && !hi) fail<ValueError>(op, "at least one of min and max must be given");
  DType ct = x.dtype();
  if (lo) ct = promote_types(ct, promote_with_scalar(x.dtype(), lo->kind()));
  if (hi) ct = promote_types(ct, promote_with_scalar(x.dtype(), hi->kind()));
  ew::reject_bool(op, ct, " (clamp of bool values)");
  return ct;
}

auto clamp_maker(const std::optional<Scalar>& lo, const std::optional<Scalar>& hi) {
  return [lo, hi]<typename T>() {
    const T low = std::is_floating_point_v<T> ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
    const T high = std::is_floating_point_v<T> ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
    return cpu::Clamp<T>{lo ? lo->to<T>() : low, hi ? hi->to<T>() : high};
  };
}

}  // namespace

// ---- arithmetic ----
Tensor neg(const Tensor& x) { return numeric_fn<cpu::Neg>("neg", x); }
Tensor abs(const Tensor& x) { return numeric_fn<cpu::Abs>("abs", x); }
Tensor relu(const Tensor& x) { return numeric_fn<cpu::Relu>("relu", x); }

Tensor sign(const Tensor& x) {
  ew::check_unary("sign", x);
  if (x.dtype() == kBool) return x.clone();
  return ew::unary_op<Types::Numeric>("sign", x, x.dtype(), []<typename T>() { return cpu::Sign{}; });
}

Tensor square(const Tensor& x) {  // bool squares to int64, like PyTorch's pow(x, 2)
  ew::check_unary("square", x);
  const DType ct = x.dtype() == kBool ? kInt64 : x.dtype();
  return ew::unary_op<Types::Numeric>("square", x, ct, []<typename T>() { return cpu::Square{}; });
}

// ---- floating functions ----
Tensor exp(const Tensor& x) { return floating_fn<cpu::Exp>("exp", x); }
Tensor log(const Tensor& x) { return floating_fn<cpu::Log>("log", x); }
Tensor log1p(const Tensor& x) { return floating_fn<cpu::Log1p>("log1p", x); }
Tensor expm1(const Tensor& x) { return floating_fn<cpu::Expm1>("expm1", x); }
Tensor sqrt(const Tensor& x) { return floating_fn<cpu::Sqrt>("sqrt", x); }
Tensor rsqrt(const Tensor& x) { return floating_fn<cpu::Rsqrt>("rsqrt", x); }
Tensor sin(const Tensor& x) { return floating_fn<cpu::Sin>("sin", x); }
Tensor cos(const Tensor& x) { return floating_fn<cpu::Cos>("cos", x); }
Tensor tanh(const Tensor& x) { return floating_fn<cpu::Tanh>("tanh", x); }
Tensor sigmoid(const Tensor& x) { return floating_fn<cpu::Sigmoid>("sigmoid", x); }

// ---- activations ----
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation("leaky_relu", x, [=]<typename T>() { return cpu::LeakyRelu<T>{static_cast<T>(negative_slope)}; });
}
Tensor elu(const Tensor& x, double alpha) {
  return activation("elu", x, [=]<typename T>() { return cpu::Elu<T>{static_cast<T>(alpha)}; });
}
Tensor gelu(const Tensor& x, bool tanh_approximation) {
  if (tanh_approximation) return activation("gelu", x, []<typename T>() { return cpu::GeluTanh{}; });
  return activation("gelu", x, []<typename T>() { return cpu::Gelu{}; });
}
Tensor silu(const Tensor& x) {
  return activation("silu", x, []<typename T>() { return cpu::Silu{}; });
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  if (beta == 0.0) fail<ValueError>("softplus", "beta must be non-zero");
  return activation("softplus", x, [=]<typename T>() {
    return cpu::Softplus<T>{static_cast<T>(beta), static_cast<T>(threshold)};
  });
}

// ---- rounding and clamp ----
Tensor floor(const Tensor& x) { return rounding_fn<cpu::Floor>("floor", x); }
Tensor ceil(const Tensor& x) { return rounding_fn<cpu::Ceil>("ceil", x); }
Tensor round(const Tensor& x) { return rounding_fn<cpu::Round>("round", x); }

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  const DType ct = clamp_dtype("clamp", x, min, max);
  return ew::unary_op<Types::Numeric>("clamp", x, ct, clamp_maker(min, max));
}

// ---- in place ----
Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) {
  const DType ct = clamp_dtype("clamp_", *this, min, max);
  return unary_inplace<Types::Numeric>("clamp_", *this, ct, clamp_maker(min, max));
}
Tensor& Tensor::relu_() {
  ew::check_unary("relu_", *this);
  ew::reject_bool("relu_", dtype(), "");
  return unary_inplace<Types::Numeric>("relu_", *this, dtype(), []<typename T>() { return cpu::Relu{}; });
}
Tensor& Tensor::neg_() {
  ew::check_unary("neg_", *this);
  ew::reject_bool("neg_", dtype(), "");
  return unary_inplace<Types::Numeric>("neg_", *this, dtype(), []<typename T>() { return cpu::Neg{}; });
}
Tensor& Tensor::exp_() {
  ew::check_unary("exp_", *this);
  return unary_inplace<Types::Floating>("exp_", *this, ew::float_result(dtype()), []<typename T>() { return cpu::Exp{}; });
}
Tensor& Tensor::sqrt_() {
  ew::check_unary("sqrt_", *this);
  return unary_inplace<Types::Floating>("sqrt_", *this, ew::float_result(dtype()), []<typename T>() { return cpu::Sqrt{}; });
}

// ---- methods ----
Tensor Tensor::neg() const { return tapeflow::neg(*this); }
Tensor Tensor::abs() const { return tapeflow::abs(*this); }
Tensor Tensor::sign() const { return tapeflow::sign(*this); }
Tensor Tensor::exp() const { return tapeflow::exp(*this); }
Tensor Tensor::log() const { return tapeflow::log(*this); }
Tensor Tensor::log1p() const { return tapeflow::log1p(*this); }
Tensor Tensor::expm1() const { return tapeflow::expm1(*this); }
Tensor Tensor::sqrt() const { return tapeflow::sqrt(*this); }
Tensor Tensor::rsqrt() const { return tapeflow::rsqrt(*this); }
Tensor Tensor::square() const { return tapeflow::square(*this); }
Tensor Tensor::sin() const { return tapeflow::sin(*this); }
Tensor Tensor::cos() const { return tapeflow::cos(*this); }
Tensor Tensor::tanh() const { return tapeflow::tanh(*this); }
Tensor Tensor::sigmoid() const { return tapeflow::sigmoid(*this); }
Tensor Tensor::relu() const { return tapeflow::relu(*this); }
Tensor Tensor::floor() const { return tapeflow::floor(*this); }
Tensor Tensor::ceil() const { return tapeflow::ceil(*this); }
Tensor Tensor::round() const { return tapeflow::round(*this); }
Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return tapeflow::clamp(*this, min, max);
}

Tensor operator-(const Tensor& x) { return neg(x); }

}  // namespace tapeflow
