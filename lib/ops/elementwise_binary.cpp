// Binary arithmetic: add, sub, mul, div, pow, maximum, minimum; their tensor-scalar forms,
// out= and in-place variants, and the C++ arithmetic operators.
#include <cmath>

#include "kernels/backend.hpp"
#include "ops/elementwise_common.hpp"

namespace tapeflow {
namespace {

using autograd::BackwardArgs;
using autograd::Grads;
using ew::Saves;
using ew::Types;

const bool kRegistered = autograd::register_ops(
    {"add", "sub", "rsub", "mul", "div", "pow", "maximum", "minimum", "add_", "sub_", "mul_", "div_"});

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
    else kernels::on(dst, a).copy(dst, a);
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


// ---- backward formulas ----

// a + alpha b (sub passes -alpha): the gradients are g and alpha g.
void record_add(const char* name, const Tensor& a, const Tensor& b, const Tensor& out, Scalar alpha) {
  autograd::record(name, {a, b}, {out}, [alpha](const BackwardArgs& g) {
    return Grads{g.needs(0) ? g.grad() : Tensor(), g.needs(1) ? ew::scale_grad(g.grad(), alpha) : Tensor()};
  });
}

// a * b: each gradient reads the other operand, so only what a needed gradient reads is kept.
// a_val / b_val are the operands' values (copies where an in-place op overwrote them).
void record_mul(const char* name, const Tensor& a, const Tensor& b, const Tensor& out, const Tensor& a_val,
                const Tensor& b_val) {
  const Tensor av = autograd::tracked(b) ? a_val : Tensor(), bv = autograd::tracked(a) ? b_val : Tensor();
  std::vector<Tensor> saved;
  if (av.defined()) saved.push_back(av);
  if (bv.defined()) saved.push_back(bv);
  autograd::record(name, {a, b}, {out}, [av, bv](const BackwardArgs& g) {
    return Grads{g.needs(0) ? g.grad() * bv : Tensor(), g.needs(1) ? g.grad() * av : Tensor()};
  }, saved);
}

// out = a / b: (g / b, -g a / b^2 = -(g / b) out). Reading out rather than a also serves div_.
void record_div(const char* name, const Tensor& a, const Tensor& b, const Tensor& out, const Tensor& b_val) {
  std::vector<Tensor> saved{b_val};
  if (autograd::tracked(b)) saved.push_back(ew::output_view(out));
  autograd::record(name, {a, b}, {out}, [b_val](const BackwardArgs& g) {
    const Tensor ga = g.grad() / b_val;
    return Grads{g.needs(0) ? ga : Tensor(), g.needs(1) ? neg(ga * g.outputs[0]) : Tensor()};
  }, saved);
}

// a ^ b with PyTorch's conventions at 0: no gradient to a where b == 0, none to b where a == 0
// and b >= 0 (there a^b is 0 or 1 whatever log(a) says).
void record_pow(const Tensor& a, const Tensor& b, const Tensor& out) {
  std::vector<Tensor> saved{a, b};
  if (autograd::tracked(b)) saved.push_back(ew::output_view(out));
  autograd::record("pow", {a, b}, {out}, [a, b](const BackwardArgs& g) {
    const Tensor gr = g.grad();
    Tensor ga, gb;
    if (g.needs(0)) ga = where(b == 0, Scalar(0), gr * b * pow(a, b - 1));
    if (g.needs(1)) gb = where(logical_and(a == 0, b >= 0), Scalar(0), gr * g.outputs[0] * log(a));
    return Grads{ga, gb};
  }, saved);
}

// maximum/minimum: the gradient goes to the chosen operand; ties split it half/half (PyTorch).
void record_extremum(const char* name, const Tensor& a, const Tensor& b, const Tensor& out, bool is_max) {
  autograd::record(name, {a, b}, {out}, [a, b, is_max](const BackwardArgs& g) {
    const Tensor half = where(a == b, g.grad() * 0.5, g.grad());
    Tensor ga, gb;
    if (g.needs(0)) ga = masked_fill(half, is_max ? a < b : a > b, 0);
    if (g.needs(1)) gb = masked_fill(half, is_max ? a > b : a < b, 0);
    return Grads{ga, gb};
  }, {a, b});
}

Scalar minus_one(Scalar e) { return e.is_floating_point() ? Scalar(e.to_double() - 1.0) : Scalar(e.to_int() - 1); }

// x ^ e for a scalar e: e x^(e-1), and zeros for e == 0 (PyTorch).
Tensor pow_scalar_backward(const Tensor& g, const Tensor& x, Scalar e) {
  if (e.to_double() == 0.0) return zeros_like(g);
  if (e.to_double() == 2.0) return g * x * e;
  return g * pow(x, minus_one(e)) * e;
}

// s ^ e for a scalar base: g s^e log(s), and no gradient where s == 0 and e >= 0.
Tensor pow_base_backward(const Tensor& g, const Tensor& e, const Tensor& out, Scalar s) {
  const Tensor d = g * out * std::log(s.to_double());
  return s.to_double() == 0.0 ? where(e >= 0, Scalar(0), d) : d;
}

}  // namespace

// ---- add / sub ----
Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
  const Shape shape = ew::check_binary("add", a, b);
  const DType ct = promote_types(a.dtype(), b.dtype());
  check_alpha("add", ct, alpha);
  Tensor out = binary_new(shape, a, b, ct, [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    add_kernel("add", d, x, y, alpha, t);
  });
  if (autograd::should_record(a, b)) record_add("add", a, b, out, alpha);
  return out;
}

Tensor add(const Tensor& a, Scalar b, Scalar alpha) {
  const DType ct = add_dtype("add", a, b, alpha);
  Tensor out = scalar_new<cpu::BindSecond, cpu::Add, Types::All>("add", a, scaled(b, alpha, ct), ct);
  if (autograd::should_record(a))
    ew::record_unary("add", a, out, Saves::Nothing, [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
  const Shape shape = ew::check_binary("sub", a, b);
  reject_bool_sub("sub", a.dtype(), b.dtype());
  const DType ct = promote_types(a.dtype(), b.dtype());
  check_alpha("sub", ct, alpha);
  Tensor out = binary_new(shape, a, b, ct, [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    sub_kernel("sub", d, x, y, alpha, t);
  });
  if (autograd::should_record(a, b)) record_add("sub", a, b, out, negate(alpha));
  return out;
}

Tensor sub(const Tensor& a, Scalar b, Scalar alpha) {
  const DType ct = sub_dtype("sub", a, b, alpha);
  Tensor out = scalar_new<cpu::BindSecond, cpu::Sub, Types::Numeric>("sub", a, scaled(b, alpha, ct), ct);
  if (autograd::should_record(a))
    ew::record_unary("sub", a, out, Saves::Nothing, [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
  return out;
}

// ---- mul / div ----
Tensor mul(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("mul", a, b);
  Tensor out = binary_new(shape, a, b, promote_types(a.dtype(), b.dtype()),
                          [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { mul_kernel("mul", d, x, y, t); });
  if (autograd::should_record(a, b)) record_mul("mul", a, b, out, a, b);
  return out;
}

Tensor mul(const Tensor& a, Scalar b) {
  ew::check_unary("mul", a);
  Tensor out = scalar_new<cpu::BindSecond, cpu::Mul, Types::All>("mul", a, b, promote_with_scalar(a.dtype(), b.kind()));
  if (autograd::should_record(a))
    ew::record_unary("mul", a, out, Saves::Nothing,
                     [b](const Tensor& g, const Tensor&, const Tensor&) { return ew::scale_grad(g, b); });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("div", a, b);
  Tensor out = binary_new(shape, a, b, ew::float_result(promote_types(a.dtype(), b.dtype())),
                          [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { div_kernel("div", d, x, y, t); });
  if (autograd::should_record(a, b)) record_div("div", a, b, out, b);
  return out;
}

Tensor div(const Tensor& a, Scalar b) {
  ew::check_unary("div", a);
  Tensor out = scalar_new<cpu::BindSecond, cpu::Div, Types::Floating>("div", a, b, div_dtype(a, b));
  if (autograd::should_record(a))
    ew::record_unary("div", a, out, Saves::Nothing, [b](const Tensor& g, const Tensor&, const Tensor&) { return g / b; });
  return out;
}

// ---- pow ----
Tensor pow(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("pow", a, b);
  const DType ct = pow_dtype("pow", promote_types(a.dtype(), b.dtype()));
  Tensor out = binary_new(shape, a, b, ct, [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    ew::run_binary<Types::Numeric>("pow", d, x, y, t, []<typename T>() { return cpu::Pow{}; });
  });
  if (autograd::should_record(a, b)) record_pow(a, b, out);
  return out;
}

Tensor pow(const Tensor& a, Scalar e) {
  ew::check_unary("pow", a);
  const DType ct = pow_dtype("pow", promote_with_scalar(a.dtype(), e.kind()));
  if (!is_floating_point(ct) && e.to_int() < 0)
    fail<ValueError>("pow", "integers to negative integer powers are not allowed (exponent ", e.to_int(), ")");
  Tensor out;
  if (is_floating_point(ct) && e.to_double() == 2.0)  // exact and fast, like PyTorch
    out = ew::unary_op<Types::Numeric>("pow", a, ct, []<typename T>() { return cpu::Square{}; });
  else if (is_floating_point(ct) && e.to_double() == 0.5)
    out = ew::unary_op<Types::Floating>("pow", a, ct, []<typename T>() { return cpu::Sqrt{}; });
  else
    out = scalar_new<cpu::BindSecond, cpu::Pow, Types::Numeric>("pow", a, e, ct);
  if (autograd::should_record(a))
    ew::record_unary("pow", a, out, Saves::Input,
                     [e](const Tensor& g, const Tensor& x, const Tensor&) { return pow_scalar_backward(g, x, e); });
  return out;
}

Tensor pow(Scalar a, const Tensor& e) {
  ew::check_unary("pow", e);
  const DType ct = pow_dtype("pow", promote_with_scalar(e.dtype(), a.kind()));
  Tensor out = scalar_new<cpu::BindFirst, cpu::Pow, Types::Numeric>("pow", e, a, ct);
  if (autograd::should_record(e))
    ew::record_unary("pow", e, out, a.to_double() == 0.0 ? Saves::Both : Saves::Output,
                     [a](const Tensor& g, const Tensor& x, const Tensor& y) { return pow_base_backward(g, x, y, a); });
  return out;
}

// ---- maximum / minimum (NaN propagates) ----
Tensor maximum(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("maximum", a, b);
  Tensor out = binary_new(shape, a, b, promote_types(a.dtype(), b.dtype()),
                          [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
                            ew::run_binary<Types::All>("maximum", d, x, y, t, []<typename T>() { return cpu::Maximum{}; });
                          });
  if (autograd::should_record(a, b)) record_extremum("maximum", a, b, out, true);
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("minimum", a, b);
  Tensor out = binary_new(shape, a, b, promote_types(a.dtype(), b.dtype()),
                          [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
                            ew::run_binary<Types::All>("minimum", d, x, y, t, []<typename T>() { return cpu::Minimum{}; });
                          });
  if (autograd::should_record(a, b)) record_extremum("minimum", a, b, out, false);
  return out;
}

// ---- out= (no autograd, as in PyTorch) ----
Tensor& add_out(Tensor& out, const Tensor& a, const Tensor& b, Scalar alpha) {
  const Shape shape = ew::check_binary("add_out", a, b);
  ew::reject_autograd_out("add_out", out, a, b);
  const DType ct = promote_types(a.dtype(), b.dtype());
  check_alpha("add_out", ct, alpha);
  return binary_into("add_out", out, shape, a, b, ct, "out", [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    add_kernel("add_out", d, x, y, alpha, t);
  });
}

Tensor& sub_out(Tensor& out, const Tensor& a, const Tensor& b, Scalar alpha) {
  const Shape shape = ew::check_binary("sub_out", a, b);
  ew::reject_autograd_out("sub_out", out, a, b);
  reject_bool_sub("sub_out", a.dtype(), b.dtype());
  const DType ct = promote_types(a.dtype(), b.dtype());
  check_alpha("sub_out", ct, alpha);
  return binary_into("sub_out", out, shape, a, b, ct, "out", [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    sub_kernel("sub_out", d, x, y, alpha, t);
  });
}

Tensor& mul_out(Tensor& out, const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("mul_out", a, b);
  ew::reject_autograd_out("mul_out", out, a, b);
  return binary_into("mul_out", out, shape, a, b, promote_types(a.dtype(), b.dtype()), "out",
                     [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { mul_kernel("mul_out", d, x, y, t); });
}

Tensor& div_out(Tensor& out, const Tensor& a, const Tensor& b) {
  const Shape shape = ew::check_binary("div_out", a, b);
  ew::reject_autograd_out("div_out", out, a, b);
  return binary_into("div_out", out, shape, a, b, ew::float_result(promote_types(a.dtype(), b.dtype())), "out",
                     [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { div_kernel("div_out", d, x, y, t); });
}

// ---- in place: inputs {self before, other}, output self (the engine keys gradients by impl) ----
Tensor& Tensor::add_(const Tensor& o, Scalar alpha) {
  autograd::check_inplace("add_", *this);
  const Shape shape = ew::check_binary("add_", *this, o);
  const DType ct = promote_types(dtype(), o.dtype());
  check_alpha("add_", ct, alpha);
  binary_into("add_", *this, shape, *this, o, ct, "self", [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    add_kernel("add_", d, x, y, alpha, t);
  });
  if (autograd::should_record(*this, o)) record_add("add_", *this, o, *this, alpha);
  return *this;
}

Tensor& Tensor::add_(Scalar o) {
  autograd::check_inplace("add_", *this);
  const DType ct = add_dtype("add_", *this, o, 1);
  scalar_inplace<cpu::BindSecond, cpu::Add, Types::All>("add_", *this, o, ct);
  if (autograd::should_record(*this))
    ew::record_unary("add_", *this, *this, Saves::Nothing, [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
  return *this;
}

Tensor& Tensor::sub_(const Tensor& o, Scalar alpha) {
  autograd::check_inplace("sub_", *this);
  const Shape shape = ew::check_binary("sub_", *this, o);
  reject_bool_sub("sub_", dtype(), o.dtype());
  const DType ct = promote_types(dtype(), o.dtype());
  check_alpha("sub_", ct, alpha);
  binary_into("sub_", *this, shape, *this, o, ct, "self", [&](const Tensor& d, const Tensor& x, const Tensor& y, DType t) {
    sub_kernel("sub_", d, x, y, alpha, t);
  });
  if (autograd::should_record(*this, o)) record_add("sub_", *this, o, *this, negate(alpha));
  return *this;
}

Tensor& Tensor::sub_(Scalar o) {
  autograd::check_inplace("sub_", *this);
  const DType ct = sub_dtype("sub_", *this, o, 1);
  scalar_inplace<cpu::BindSecond, cpu::Sub, Types::Numeric>("sub_", *this, o, ct);
  if (autograd::should_record(*this))
    ew::record_unary("sub_", *this, *this, Saves::Nothing, [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
  return *this;
}

Tensor& Tensor::mul_(const Tensor& o) {
  autograd::check_inplace("mul_", *this);
  const Shape shape = ew::check_binary("mul_", *this, o);
  const DType ct = promote_types(dtype(), o.dtype());
  Tensor old_self, o_val = o;
  if (autograd::should_record(*this, o)) {
    // The gradient of o reads self's old value; that of self reads o, which may be self's memory.
    ew::check_destination("mul_", *this, shape, ct, "self");
    if (autograd::tracked(o)) old_self = ew::value_before_inplace(*this);
    if (ew::same_storage(o, *this)) o_val = ew::value_before_inplace(o);
  }
  binary_into("mul_", *this, shape, *this, o, ct, "self",
              [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { mul_kernel("mul_", d, x, y, t); });
  if (autograd::should_record(*this, o)) record_mul("mul_", *this, o, *this, old_self, o_val);
  return *this;
}

Tensor& Tensor::mul_(Scalar o) {
  autograd::check_inplace("mul_", *this);
  ew::check_unary("mul_", *this);
  scalar_inplace<cpu::BindSecond, cpu::Mul, Types::All>("mul_", *this, o, promote_with_scalar(dtype(), o.kind()));
  if (autograd::should_record(*this))
    ew::record_unary("mul_", *this, *this, Saves::Nothing,
                     [o](const Tensor& g, const Tensor&, const Tensor&) { return ew::scale_grad(g, o); });
  return *this;
}

Tensor& Tensor::div_(const Tensor& o) {
  autograd::check_inplace("div_", *this);
  const Shape shape = ew::check_binary("div_", *this, o);
  const DType ct = ew::float_result(promote_types(dtype(), o.dtype()));
  Tensor o_val = o;
  if (autograd::should_record(*this, o) && ew::same_storage(o, *this)) {
    ew::check_destination("div_", *this, shape, ct, "self");
    o_val = ew::value_before_inplace(o);
  }
  binary_into("div_", *this, shape, *this, o, ct, "self",
              [](const Tensor& d, const Tensor& x, const Tensor& y, DType t) { div_kernel("div_", d, x, y, t); });
  if (autograd::should_record(*this, o)) record_div("div_", *this, o, *this, o_val);
  return *this;
}

Tensor& Tensor::div_(Scalar o) {
  autograd::check_inplace("div_", *this);
  ew::check_unary("div_", *this);
  scalar_inplace<cpu::BindSecond, cpu::Div, Types::Floating>("div_", *this, o, div_dtype(*this, o));
  if (autograd::should_record(*this))
    ew::record_unary("div_", *this, *this, Saves::Nothing, [o](const Tensor& g, const Tensor&, const Tensor&) { return g / o; });
  return *this;
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
  Tensor out = scalar_new<cpu::BindFirst, cpu::Sub, Types::Numeric>("rsub", b, a, ct);
  if (autograd::should_record(b))
    ew::record_unary("rsub", b, out, Saves::Nothing, [](const Tensor& g, const Tensor&, const Tensor&) { return neg(g); });
  return out;
}

Tensor operator/(Scalar a, const Tensor& b) {  // a / b: -g a / b^2 = -(g / b) out
  ew::check_unary("div", b);
  Tensor out = scalar_new<cpu::BindFirst, cpu::Div, Types::Floating>("div", b, a, div_dtype(b, a));
  if (autograd::should_record(b))
    ew::record_unary("div", b, out, Saves::Both,
                     [](const Tensor& g, const Tensor& x, const Tensor& y) { return neg(g / x * y); });
  return out;
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
