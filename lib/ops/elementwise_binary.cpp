// Binary arithmetic: add, sub, mul, div, pow, maximum, minimum; their tensor-scalar forms,
// out= and in-place variants, and the C++ arithmetic operators.
#include "ops/elementwise_common.hpp"

namespace tapeflow {
namespace {

using ew::Types;

// PyTorch's alpha checks for add/sub.
void check_alpha(const char* op, DType ct, Scalar alpha) {
  if (alpha.is_bool() && ct != kBool)
    fail<DTypeError>(op, "a bool alpha is only supported for bool results, got ", ct);
  if (!is_floating_point(ct) && alpha.is_floating_point())
    fail<DTypeError>(op, "for integral results (", ct, ") alpha must not be a floating-point number, got ",
                     alpha.to_double());
}

// -alpha, keeping its kind.
Scalar negate(Scalar s) { return s.is_floating_point() ? Scalar(-s.to_double()) : Scalar(-s.to_int()); }

// s * alpha in the arithmetic of dtype ct.
Scalar scaled(Scalar s, Scalar alpha, DType ct) {
  if (ew::scalar_is_one(alpha)) return s;
  if (is_floating_point(ct)) return Scalar(s.to_double() * alpha.to_double());
  if (ct == kBool) return Scalar(s.to<bool>() && alpha.to<bool>());
  return Scalar(s.to_int() * alpha.to_int());
}

void reject_bool_sub(const char* op, DType a, DType b) {
  if (a == kBool || b == kBool)
    fail<DTypeError>(op, "subtraction with a bool operand is not supported (", a, " - ", b,
                     "); use logical_xor() or logical_not() instead");
}

// dst = a + alpha * b in dtype ct (alpha already checked).
void add_kernel(const char* op, const Tensor& dst, const Tensor& a, const Tensor& b, Scalar alpha, DType ct) {
  if (ew::scalar_is_one(alpha)) {
    ew::run_binary<Types::All>(op, dst, a, b, ct, []<typename T>() { return cpu::Add{}; });
  } else if (ct == kBool) {  // a || (alpha && b)
    if (alpha.to<bool>()) ew::run_binary<Types::All>(op, dst, a, b, ct, []<typename T>() { return cpu::Add{}; });
    else cpu::copy(dst, a);
  } else {
    ew::run_binary<Types::Numeric>(op, dst, a, b, ct,
                                   [&]<typename T>() { return cpu::AddScaled<T>{alpha.to<T>()}; });
  }
}

// dst = a - alpha * b in dtype ct (bool operands already rejected).
void sub_kernel(const char* op, const Tensor& dst, const Tensor& a, const Tensor& b, Scalar alpha, DType ct) {
  if (ew::scalar_is_one(alpha)) ew::run_binary<Types::Numeric>(op, dst, a, b, ct, []<typename T>() { return cpu::Sub{}; });
  else add_kernel(op, dst, a, b, negate(alpha), ct);
}

void mul_kernel(const char* op, const Tensor& dst, const Tensor& a, const Tensor& b, DType ct) {
  ew::run_binary<Types::All>(op, dst, a, b, ct, []<typename T>() { return cpu::Mul{}; });
}

void div_kernel(const char* op, const Tensor& dst, const Tensor& a, const Tensor& b, DType ct) {
  ew::run_binary<Types::Floating>(op, dst, a, b, ct, []<typename T>() { return cpu::Div{}; });
}

// Tensor-tensor op into a fresh output: kernel(dst, a, b, ct).
template <class K>
Tensor binary_new(const Shape& shape, const Tensor& a, const Tensor& b, DType ct, K&& kernel) {
  Tensor out = detail::make_tensor(shape, ct, a.device());
  kernel(out, a, b, ct);
  return out;
}

// Tensor-tensor op into an existing dst (out= or self).
template <class K>
Tensor& binary_into(const char* op, Tensor& dst, const Shape& shape, const Tensor& a, const Tensor& b, DType ct,
                    const char* what, K&& kernel) {
  detail::check_defined(op, dst, what);
  detail::check_same_device(op, dst, a);
  ew::check_destination(op, dst, shape, ct, what);
  ew::write_to(dst, shape, ct, [&](const Tensor& t) { kernel(t, a, b, ct); });
  return dst;
}

// Tensor-scalar op (F applied as f(x, s), or f(s, x) when Bind is BindFirst) into dst.
template <template <class, class> class Bind, class F, Types K>
void scalar_kernel(const char* op, const Tensor& dst, const Tensor& x, Scalar s, DType ct) {
  ew::run_unary<K>(op, dst, x, ct, [&]<typename T>() { return Bind<F, T>{F{}, s.to<T>()}; });
}

template <template <class, class> class Bind, class F, Types K>
Tensor scalar_new(const char* op, const Tensor& x, Scalar s, DType ct) {
  ew::check_unary(op, x);
  Tensor out = detail::make_tensor(x.shape(), ct, x.device());
  scalar_kernel<Bind, F, K>(op, out, x, s, ct);
  return out;
}

template <template <class, class> class Bind, class F, Types K>
Tensor& scalar_inplace(const char* op, Tensor& self, Scalar s, DType ct) {
  ew::check_unary(op, self);
  ew::check_destination(op, self, self.shape(), ct, "self");
  ew::write_to(self, self.shape(), ct, [&](const Tensor& t) { scalar_kernel<Bind, F, K>(op, t, self, s, ct); });
  return self;
}

DType add_dtype(const char* op, const Tensor& a, Scalar b, Scalar alpha) {
  ew::check_unary(op, a);
  const DType ct = promote_with_scalar(a.dtype(), b.kind());
  check_alpha(op, ct, alpha);
  return ct;
}

DType sub_dtype(const char* op, const Tensor& a, Scalar b, Scalar alpha) {
  ew::check_unary(op, a);
  reject_bool_sub(op, a.dtype(), b.default_dtype());
  const DType ct = promote_with_scalar(a.dtype(), b.kind());
  check_alpha(op, ct, alpha);
  return ct;
}

DType div_dtype(const Tensor& a, Scalar b) { return ew::float_result(promote_with_scalar(a.dtype(), b.kind())); }

DType pow_dtype(const char* op, DType ct) {
  if (ct == kBool) fail<DTypeError>(op, "not supported for bool tensors and exponents");
  return ct;
}

}  // namespace

// ---- add / sub ----
Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
  const Shape shape = ew::check_binary("add", a, b);
  const DType ct = promote_types(a.dtype(), b.dtype());
  check_alpha("add", ct, alpha);
  return binary_new(shape, a, b, ct, [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    add_kernel("add", d, x, y, alpha, t);
  });
}

Tensor add(const Tensor& a, Scalar b, Scalar alpha) {
  const DType ct = add_dtype("add", a, b, alpha);
  return scalar_new<cpu::BindSecond, cpu::Add, Types::All>("add", a, scaled(b, alpha, ct), ct);
}

Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
  const Shape shape = ew::check_binary("sub", a, b);
  reject_bool_sub("sub", a.dtype(), b.dtype());
  const DType ct = promote_types(a.dtype(), b.dtype());
  check_alpha("sub", ct, alpha);
  return binary_new(shape, a, b, ct, [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    sub_kernel("sub", d, x, y, alpha, t);
  });
}

Tensor sub(const Tensor& a, Scalar b, Scalar alpha) {
  const DType ct = sub_dtype("sub", a, b, alpha);
  return scalar_new<cpu::BindSecond, cpu::Sub, Types::Numeric>("sub", a, scaled(b, alpha, ct), ct);
}

// ---- mul / div ----
Tensor mul(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("mul", a, b);
  return binary_new(shape, a, b, promote_types(a.dtype(), b.dtype()),
                    [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { mul_kernel("mul", d, x, y, t); });
}

Tensor mul(const Tensor& a, Scalar b) {
  ew::check_unary("mul", a);
  return scalar_new<cpu::BindSecond, cpu::Mul, Types::All>("mul", a, b, promote_with_scalar(a.dtype(), b.kind()));
}

Tensor div(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("div", a, b);
  return binary_new(shape, a, b, ew::float_result(promote_types(a.dtype(), b.dtype())),
                    [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { div_kernel("div", d, x, y, t); });
}

Tensor div(const Tensor& a, Scalar b) {
  ew::check_unary("div", a);
  return scalar_new<cpu::BindSecond, cpu::Div, Types::Floating>("div", a, b, div_dtype(a, b));
}

// ---- pow ----
Tensor pow(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("pow", a, b);
  const DType ct = pow_dtype("pow", promote_types(a.dtype(), b.dtype()));
  return binary_new(shape, a, b, ct, [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    ew::run_binary<Types::Numeric>("pow", d, x, y, t, []<typename T>() { return cpu::Pow{}; });
  });
}

Tensor pow(const Tensor& a, Scalar e) {
  ew::check_unary("pow", a);
  const DType ct = pow_dtype("pow", promote_with_scalar(a.dtype(), e.kind()));
  if (!is_floating_point(ct) && e.to_int() < 0)
    fail<ValueError>("pow", "integers to negative integer powers are not allowed (exponent ", e.to_int(), ")");
  if (is_floating_point(ct) && e.to_double() == 2.0)  // exact and fast, like PyTorch
    return ew::unary_op<Types::Numeric>("pow", a, ct, []<typename T>() { return cpu::Square{}; });
  if (is_floating_point(ct) && e.to_double() == 0.5)
    return ew::unary_op<Types::Floating>("pow", a, ct, []<typename T>() { return cpu::Sqrt{}; });
  return scalar_new<cpu::BindSecond, cpu::Pow, Types::Numeric>("pow", a, e, ct);
}

Tensor pow(Scalar a, const Tensor& e) {
  ew::check_unary("pow", e);
  const DType ct = pow_dtype("pow", promote_with_scalar(e.dtype(), a.kind()));
  return scalar_new<cpu::BindFirst, cpu::Pow, Types::Numeric>("pow", e, a, ct);
}

// ---- maximum / minimum (NaN propagates) ----
Tensor maximum(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("maximum", a, b);
  return binary_new(shape, a, b, promote_types(a.dtype(), b.dtype()),
                    [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
                      ew::run_binary<Types::All>("maximum", d, x, y, t, []<typename T>() { return cpu::Maximum{}; });
                    });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("minimum", a, b);
  return binary_new(shape, a, b, promote_types(a.dtype(), b.dtype()),
                    [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
                      ew::run_binary<Types::All>("minimum", d, x, y, t, []<typename T>() { return cpu::Minimum{}; });
                    });
}

// ---- out= ----
Tensor& add_out(Tensor& out, const Tensor& a, const Tensor& b, Scalar alpha) {
  const Shape shape = ew::check_binary("add_out", a, b);
  const DType ct = promote_types(a.dtype(), b.dtype());
  check_alpha("add_out", ct, alpha);
  return binary_into("add_out", out, shape, a, b, ct, "out", [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    add_kernel("add_out", d, x, y, alpha, t);
  });
}

Tensor& sub_out(Tensor& out, const Tensor& a, const Tensor& b, Scalar alpha) {
  const Shape shape = ew::check_binary("sub_out", a, b);
  reject_bool_sub("sub_out", a.dtype(), b.dtype());
  const DType ct = promote_types(a.dtype(), b.dtype());
  check_alpha("sub_out", ct, alpha);
  return binary_into("sub_out", out, shape, a, b, ct, "out", [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    sub_kernel("sub_out", d, x, y, alpha, t);
  });
}

Tensor& mul_out(Tensor& out, const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("mul_out", a, b);
  return binary_into("mul_out", out, shape, a, b, promote_types(a.dtype(), b.dtype()), "out",
                     [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { mul_kernel("mul_out", d, x, y, t); });
}

Tensor& div_out(Tensor& out, const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("div_out", a, b);
  return binary_into("div_out", out, shape, a, b, ew::float_result(promote_types(a.dtype(), b.dtype())), "out",
                     [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { div_kernel("div_out", d, x, y, t); });
}

// ---- in place ----
Tensor& Tensor::add_(const Tensor& o, Scalar alpha) {
  const Shape shape = ew::check_binary("add_", *this, o);
  const DType ct = promote_types(dtype(), o.dtype());
  check_alpha("add_", ct, alpha);
  return binary_into("add_", *this, shape, *this, o, ct, "self", [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    add_kernel("add_", d, x, y, alpha, t);
  });
}

Tensor& Tensor::add_(Scalar o) {
  const DType ct = add_dtype("add_", *this, o, 1);
  return scalar_inplace<cpu::BindSecond, cpu::Add, Types::All>("add_", *this, o, ct);
}

Tensor& Tensor::sub_(const Tensor& o, Scalar alpha) {
  const Shape shape = ew::check_binary("sub_", *this, o);
  reject_bool_sub("sub_", dtype(), o.dtype());
  const DType ct = promote_types(dtype(), o.dtype());
  check_alpha("sub_", ct, alpha);
  return binary_into("sub_", *this, shape, *this, o, ct, "self", [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    sub_kernel("sub_", d, x, y, alpha, t);
  });
}

Tensor& Tensor::sub_(Scalar o) {
  const DType ct = sub_dtype("sub_", *this, o, 1);
  return scalar_inplace<cpu::BindSecond, cpu::Sub, Types::Numeric>("sub_", *this, o, ct);
}

Tensor& Tensor::mul_(const Tensor& o) {
  const Shape shape = ew::check_binary("mul_", *this, o);
  return binary_into("mul_", *this, shape, *this, o, promote_types(dtype(), o.dtype()), "self",
                     [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { mul_kernel("mul_", d, x, y, t); });
}

Tensor& Tensor::mul_(Scalar o) {
  ew::check_unary("mul_", *this);
  return scalar_inplace<cpu::BindSecond, cpu::Mul, Types::All>("mul_", *this, o, promote_with_scalar(dtype(), o.kind()));
}

Tensor& Tensor::div_(const Tensor& o) {
  const Shape shape = ew::check_binary("div_", *this, o);
  return binary_into("div_", *this, shape, *this, o, ew::float_result(promote_types(dtype(), o.dtype())), "self",
                     [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { div_kernel("div_", d, x, y, t); });
}

Tensor& Tensor::div_(Scalar o) {
  ew::check_unary("div_", *this);
  return scalar_inplace<cpu::BindSecond, cpu::Div, Types::Floating>("div_", *this, o, div_dtype(*this, o));
}

// ---- methods ----
Tensor Tensor::add(const Tensor& o, Scalar alpha) const { return tapeflow::add(*this, o, alpha); }
Tensor Tensor::sub(const Tensor& o, Scalar alpha) const { return tapeflow::sub(*this, o, alpha); }
Tensor Tensor::mul(const Tensor& o) const { return tapeflow::mul(*this, o); }
Tensor Tensor::div(const Tensor& o) const { return tapeflow::div(*this, o); }
Tensor Tensor::pow(const Tensor& e) const { return tapeflow::pow(*this, e); }
Tensor Tensor::pow(Scalar e) const { return tapeflow::pow(*this, e); }

// ---- operators ----
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, Scalar b) { return add(a, b); }
Tensor operator-(const Tensor& a, Scalar b) { return sub(a, b); }
Tensor operator*(const Tensor& a, Scalar b) { return mul(a, b); }
Tensor operator/(const Tensor& a, Scalar b) { return div(a, b); }
Tensor operator+(Scalar a, const Tensor& b) { return add(b, a); }
Tensor operator*(Scalar a, const Tensor& b) { return mul(b, a); }

Tensor operator-(Scalar a, const Tensor& b) {  // rsub
  const DType ct = sub_dtype("rsub", b, a, 1);
  return scalar_new<cpu::BindFirst, cpu::Sub, Types::Numeric>("rsub", b, a, ct);
}

Tensor operator/(Scalar a, const Tensor& b) {
  ew::check_unary("div", b);
  return scalar_new<cpu::BindFirst, cpu::Div, Types::Floating>("div", b, a, div_dtype(b, a));
}

Tensor& operator+=(Tensor& a, const Tensor& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Tensor& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Tensor& b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, const Tensor& b) { return a.div_(b); }
Tensor& operator+=(Tensor& a, Scalar b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, Scalar b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, Scalar b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, Scalar b) { return a.div_(b); }

}  // namespace tapeflow
