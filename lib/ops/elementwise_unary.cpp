// Unary elementwise ops: arithmetic (neg, abs, sign, square), floating functions (exp, log,
// sqrt, trigonometric, sigmoid...), activations, rounding, clamp; in-place forms and methods.
#include "ops/elementwise_common.hpp"

namespace tapeflow {
namespace {

using ew::Saves;
using ew::Types;

const bool kRegistered = autograd::register_ops(
    {"neg", "abs", "sign", "square", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tanh",
     "sigmoid", "relu", "relu_backward", "leaky_relu", "elu", "gelu", "gelu_backward", "silu", "softplus", "floor",
     "ceil", "round", "clamp", "clamp_", "relu_", "neg_", "exp_", "sqrt_"});

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


// ---- backward formulas (g: incoming gradient, x: input, y: output) ----

// Records out = op(x) with backward f(g, x, y) when x is tracked.
template <class F>
Tensor recorded(const char* name, const Tensor& x, Tensor out, Saves s, F f) {
  if (autograd::should_record(x)) ew::record_unary(name, x, out, s, f);
  return out;
}

// Ops whose gradient is zero almost everywhere (floor, sign...): PyTorch records zeros.
Tensor zero_grad(const Tensor& g, const Tensor&, const Tensor&) { return zeros_like(g); }

// relu's backward g * (y > 0) as one fused, vectorised op of its own. It is linear in g with the
// same mask, and its derivative in y is zero almost everywhere (no gradient, as PyTorch).
Tensor relu_backward(const Tensor& g, const Tensor& y) {
  const Shape shape = ew::check_binary("relu_backward", g, y);
  Tensor out = detail::make_tensor(shape, g.dtype(), g.device());
  ew::run_binary<Types::Floating>("relu_backward", out, g, y, g.dtype(), []<typename T>() { return cpu::ReluBackward{}; });
  if (autograd::should_record(g, y))
    autograd::record("relu_backward", {g, y}, {out}, [y](const autograd::BackwardArgs& a) {
      return autograd::Grads{a.needs(0) ? relu_backward(a.grad(), y) : Tensor(), Tensor()};
    }, /*saved=*/{y});
  return out;
}
Tensor pass_where_positive(const Tensor& g, const Tensor&, const Tensor& y) { return relu_backward(g, y); }

// Exact gelu's derivative Phi(x) + x phi(x) needs erf, which no public op offers, so it is an
// op of its own (functor cpu::GeluDerivative); its derivative phi(x) (2 - x^2) is written with public ops.
Tensor gelu_derivative(const Tensor& x) {
  Tensor d = ew::unary_op<Types::Floating>("gelu_backward", x, x.dtype(), []<typename T>() { return cpu::GeluDerivative{}; });
  return recorded("gelu_backward", x, d, Saves::Input, [](const Tensor& g, const Tensor& x, const Tensor&) {
    return g * exp(x * x * -0.5) * 0.39894228040143267794 * (2 - x * x);
  });
}

// The tanh form 0.5 x (1 + tanh(u)), u = k (x + c x^3): 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2).
Tensor gelu_tanh_backward(const Tensor& g, const Tensor& x) {
  constexpr double k = 0.79788456080286535588, c = 0.044715;
  const Tensor x2 = x * x;
  const Tensor t = tanh((x + x2 * x * c) * k);
  return g * ((t + 1) * 0.5 + x * (1 - t * t) * (x2 * (3 * c) + 1) * (0.5 * k));
}

// Where clamp passes x through (bounds included), computed in x's dtype.
Tensor clamp_mask(const Tensor& x, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi) {
  if (lo && hi) return logical_and(x >= *lo, x <= *hi);
  return lo ? x >= *lo : x <= *hi;
}

}  // namespace

// ---- arithmetic ----
Tensor neg(const Tensor& x) {
  return recorded("neg", x, numeric_fn<cpu::Neg>("neg", x), Saves::Nothing,
                  [](const Tensor& g, const Tensor&, const Tensor&) { return neg(g); });
}
Tensor abs(const Tensor& x) {
  return recorded("abs", x, numeric_fn<cpu::Abs>("abs", x), Saves::Input,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return g * sign(x); });
}
Tensor relu(const Tensor& x) {
  return recorded("relu", x, numeric_fn<cpu::Relu>("relu", x), Saves::Output, pass_where_positive);
}

Tensor sign(const Tensor& x) {
  ew::check_unary("sign", x);
  if (x.dtype() == kBool) return x.clone();
  return recorded("sign", x, ew::unary_op<Types::Numeric>("sign", x, x.dtype(), []<typename T>() { return cpu::Sign{}; }),
                  Saves::Nothing, zero_grad);
}

Tensor square(const Tensor& x) {  // bool squares to int64, like PyTorch's pow(x, 2)
  ew::check_unary("square", x);
  const DType ct = x.dtype() == kBool ? kInt64 : x.dtype();
  return recorded("square", x, ew::unary_op<Types::Numeric>("square", x, ct, []<typename T>() { return cpu::Square{}; }),
                  Saves::Input, [](const Tensor& g, const Tensor& x, const Tensor&) { return g * x * 2; });
}

// ---- floating functions ----
Tensor exp(const Tensor& x) {
  return recorded("exp", x, floating_fn<cpu::Exp>("exp", x), Saves::Output,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return g * y; });
}
Tensor log(const Tensor& x) {
  return recorded("log", x, floating_fn<cpu::Log>("log", x), Saves::Input,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return g / x; });
}
Tensor log1p(const Tensor& x) {
  return recorded("log1p", x, floating_fn<cpu::Log1p>("log1p", x), Saves::Input,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return g / (x + 1); });
}
Tensor expm1(const Tensor& x) {
  return recorded("expm1", x, floating_fn<cpu::Expm1>("expm1", x), Saves::Output,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return g * (y + 1); });
}
Tensor sqrt(const Tensor& x) {
  return recorded("sqrt", x, floating_fn<cpu::Sqrt>("sqrt", x), Saves::Output,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return g / (y * 2); });
}
Tensor rsqrt(const Tensor& x) {  // d x^(-1/2) = -x^(-3/2) / 2 = -y^3 / 2
  return recorded("rsqrt", x, floating_fn<cpu::Rsqrt>("rsqrt", x), Saves::Output,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return g * y * y * y * -0.5; });
}
Tensor sin(const Tensor& x) {
  return recorded("sin", x, floating_fn<cpu::Sin>("sin", x), Saves::Input,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return g * cos(x); });
}
Tensor cos(const Tensor& x) {
  return recorded("cos", x, floating_fn<cpu::Cos>("cos", x), Saves::Input,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return neg(g * sin(x)); });
}
Tensor tanh(const Tensor& x) {
  return recorded("tanh", x, floating_fn<cpu::Tanh>("tanh", x), Saves::Output,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return g * (1 - y * y); });
}
Tensor sigmoid(const Tensor& x) {
  return recorded("sigmoid", x, floating_fn<cpu::Sigmoid>("sigmoid", x), Saves::Output,
                  [](const Tensor& g, const Tensor&, const Tensor& y) { return g * y * (1 - y); });
}

// ---- activations ----
Tensor leaky_relu(const Tensor& x, double negative_slope) {
  Tensor y = activation("leaky_relu", x, [=]<typename T>() { return cpu::LeakyRelu<T>{static_cast<T>(negative_slope)}; });
  return recorded("leaky_relu", x, y, Saves::Input, [negative_slope](const Tensor& g, const Tensor& x, const Tensor&) {
    return where(x > 0, g, g * negative_slope);
  });
}
Tensor elu(const Tensor& x, double alpha) {
  Tensor y = activation("elu", x, [=]<typename T>() { return cpu::Elu<T>{static_cast<T>(alpha)}; });
  return recorded("elu", x, y, Saves::Input, [alpha](const Tensor& g, const Tensor& x, const Tensor&) {
    return where(x > 0, g, g * exp(x) * alpha);
  });
}
Tensor gelu(const Tensor& x, bool tanh_approximation) {
  if (tanh_approximation) {
    Tensor y = activation("gelu", x, []<typename T>() { return cpu::GeluTanh{}; });
    return recorded("gelu", x, y, Saves::Input,
                    [](const Tensor& g, const Tensor& x, const Tensor&) { return gelu_tanh_backward(g, x); });
  }
  Tensor y = activation("gelu", x, []<typename T>() { return cpu::Gelu{}; });
  return recorded("gelu", x, y, Saves::Input,
                  [](const Tensor& g, const Tensor& x, const Tensor&) { return g * gelu_derivative(x); });
}
Tensor silu(const Tensor& x) {  // s (1 + x (1 - s)), s = sigmoid(x)
  Tensor y = activation("silu", x, []<typename T>() { return cpu::Silu{}; });
  return recorded("silu", x, y, Saves::Input, [](const Tensor& g, const Tensor& x, const Tensor&) {
    const Tensor s = sigmoid(x);
    return g * s * (x * (1 - s) + 1);
  });
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  if (beta == 0.0) fail<ValueError>("softplus", "beta must be non-zero");
  Tensor y = activation("softplus", x, [=]<typename T>() {
    return cpu::Softplus<T>{static_cast<T>(beta), static_cast<T>(threshold)};
  });
  return recorded("softplus", x, y, Saves::Input, [beta, threshold](const Tensor& g, const Tensor& x, const Tensor&) {
    const Tensor bx = x * beta;
    return where(bx > threshold, g, g * sigmoid(bx));
  });
}

// ---- rounding and clamp ----
Tensor floor(const Tensor& x) { return recorded("floor", x, rounding_fn<cpu::Floor>("floor", x), Saves::Nothing, zero_grad); }
Tensor ceil(const Tensor& x) { return recorded("ceil", x, rounding_fn<cpu::Ceil>("ceil", x), Saves::Nothing, zero_grad); }
Tensor round(const Tensor& x) { return recorded("round", x, rounding_fn<cpu::Round>("round", x), Saves::Nothing, zero_grad); }

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  const DType ct = clamp_dtype("clamp", x, min, max);
  return recorded("clamp", x, ew::unary_op<Types::Numeric>("clamp", x, ct, clamp_maker(min, max)), Saves::Input,
                  [min, max](const Tensor& g, const Tensor& x, const Tensor&) {
                    return where(clamp_mask(x, min, max), g, Scalar(0));
                  });
}

// ---- in place: recorded with input and output self (the engine keys gradients by impl) ----
Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) {
  autograd::check_inplace("clamp_", *this);
  const DType ct = clamp_dtype("clamp_", *this, min, max);
  // The mask must be taken before the values are overwritten.
  const Tensor mask = autograd::should_record(*this) ? clamp_mask(*this, min, max) : Tensor();
  unary_inplace<Types::Numeric>("clamp_", *this, ct, clamp_maker(min, max));
  if (mask.defined())
    autograd::record("clamp_", {*this}, {*this}, [mask](const autograd::BackwardArgs& a) {
      return autograd::Grads{where(mask, a.grad(), Scalar(0))};
    });
  return *this;
}
Tensor& Tensor::relu_() {
  autograd::check_inplace("relu_", *this);
  ew::check_unary("relu_", *this);
  ew::reject_bool("relu_", dtype(), "");
  unary_inplace<Types::Numeric>("relu_", *this, dtype(), []<typename T>() { return cpu::Relu{}; });
  recorded("relu_", *this, *this, Saves::Output, pass_where_positive);
  return *this;
}
Tensor& Tensor::neg_() {
  autograd::check_inplace("neg_", *this);
  ew::check_unary("neg_", *this);
  ew::reject_bool("neg_", dtype(), "");
  unary_inplace<Types::Numeric>("neg_", *this, dtype(), []<typename T>() { return cpu::Neg{}; });
  recorded("neg_", *this, *this, Saves::Nothing, [](const Tensor& g, const Tensor&, const Tensor&) { return tapeflow::neg(g); });
  return *this;
}
Tensor& Tensor::exp_() {
  autograd::check_inplace("exp_", *this);
  ew::check_unary("exp_", *this);
  unary_inplace<Types::Floating>("exp_", *this, ew::float_result(dtype()), []<typename T>() { return cpu::Exp{}; });
  recorded("exp_", *this, *this, Saves::Output, [](const Tensor& g, const Tensor&, const Tensor& y) { return g * y; });
  return *this;
}
Tensor& Tensor::sqrt_() {
  autograd::check_inplace("sqrt_", *this);
  ew::check_unary("sqrt_", *this);
  unary_inplace<Types::Floating>("sqrt_", *this, ew::float_result(dtype()), []<typename T>() { return cpu::Sqrt{}; });
  recorded("sqrt_", *this, *this, Saves::Output, [](const Tensor& g, const Tensor&, const Tensor& y) { return g / (y * 2); });
  return *this;
}

// ---- out= form (no autograd, as in PyTorch): writes into an existing tensor, no allocation ----
Tensor& exp_out(Tensor& out, const Tensor& x) {
  ew::check_unary("exp_out", x);
  ew::reject_autograd_out("exp_out", out, x);
  detail::check_defined("exp_out", out, "out");
  detail::check_same_device("exp_out", out, x);
  const DType ct = ew::float_result(x.dtype());
  ew::check_destination("exp_out", out, x.shape(), ct, "out");
  ew::write_to(out, x.shape(), ct, [&](const Tensor& t) {
    ew::run_unary<Types::Floating>("exp_out", t, x, ct, []<typename T>() { return cpu::Exp{}; });
  });
  return out;
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
