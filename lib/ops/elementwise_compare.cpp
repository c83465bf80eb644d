// Comparisons and logic (bool results), where / masked_fill, allclose / equal, and the
// comparison and logical operators.
#include <atomic>

#include "ops/elementwise_common.hpp"

namespace tapeflow {
namespace {

// Comparisons, logic and predicates never record: their results are bool.
const bool kRegistered = autograd::register_ops({"where", "masked_fill", "masked_fill_"});

template <class F>
Tensor compare(const char* op, const Tensor& a, const Tensor& b) {
  return ew::predicate2(op, a, b, promote_types(a.dtype(), b.dtype()), []<typename T>() { return F{}; });
}

// Tensor-scalar comparison, in the dtype PyTorch's scalar promotion gives.
template <class F>
Tensor compare(const char* op, const Tensor& a, Scalar b) {
  ew::check_unary(op, a);
  const DType ct = promote_with_scalar(a.dtype(), b.kind());
  return ew::predicate1(op, a, ct, [b]<typename T>() { return cpu::BindSecond<F, T>{F{}, b.to<T>()}; });
}

template <class F>
Tensor predicate(const char* op, const Tensor& x) {
  return ew::predicate1(op, x, x.dtype(), []<typename T>() { return F{}; });
}

void check_mask(const char* op, const Tensor& mask, const char* what) {
  if (mask.dtype() != kBool) fail<DTypeError>(op, what, " must be a bool tensor, got ", mask.dtype());
}

// out = where(cond, a, value) with a of out's dtype: the engine behind where and masked_fill.
void where_scalar_kernel(const Tensor& out, const Tensor& cond, Scalar value, const Tensor& other, bool value_first) {
  dispatch(out.dtype(), [&]<typename T>() {
    if (value_first) kernels::map<T, bool, T>(cpu::WhereScalarA<T>{value.to<T>()}, out, cond, other);
    else kernels::map<T, bool, T>(cpu::WhereScalarB<T>{value.to<T>()}, out, cond, other);
  });
}

Tensor where_scalar(const Tensor& cond, const Tensor& t, Scalar value, bool value_first) {
  const Shape shape = ew::check_binary("where", cond, t);
  check_mask("where", cond, "condition");
  const DType ct = promote_with_scalar(t.dtype(), value.kind());
  Tensor out = detail::make_tensor(shape, ct, t.device());
  where_scalar_kernel(out, cond, value, ew::as_dtype(t, ct), value_first);
  return out;
}

// True when pred holds for every pair of elements of a and b (same shape), read as T.
template <class T, class Pred>
bool all_pairs(const Tensor& a, const Tensor& b, Pred pred) {
  std::atomic<bool> ok{true};
  auto ops = detail::make_operands<2>(a.shape(), {&a, &b});
  detail::strided_for_each(ops, [&](const std::array<char*, 2>& p, const std::array<std::int64_t, 2>& s, std::int64_t n) {
    const char* x = p[0];
    const char* y = p[1];
    bool row_ok = true;
    for (std::int64_t i = 0; i < n && row_ok; ++i, x += s[0], y += s[1])
      row_ok = pred(*reinterpret_cast<const T*>(x), *reinterpret_cast<const T*>(y));
    if (!row_ok) ok.store(false, std::memory_order_relaxed);
  });
  return ok.load();
}

}  // namespace

// ---- comparisons ----
Tensor eq(const Tensor& a, const Tensor& b) { return compare<cpu::Eq>("eq", a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare<cpu::Ne>("ne", a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare<cpu::Lt>("lt", a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare<cpu::Le>("le", a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare<cpu::Gt>("gt", a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare<cpu::Ge>("ge", a, b); }
Tensor eq(const Tensor& a, Scalar b) { return compare<cpu::Eq>("eq", a, b); }
Tensor ne(const Tensor& a, Scalar b) { return compare<cpu::Ne>("ne", a, b); }
Tensor lt(const Tensor& a, Scalar b) { return compare<cpu::Lt>("lt", a, b); }
Tensor le(const Tensor& a, Scalar b) { return compare<cpu::Le>("le", a, b); }
Tensor gt(const Tensor& a, Scalar b) { return compare<cpu::Gt>("gt", a, b); }
Tensor ge(const Tensor& a, Scalar b) { return compare<cpu::Ge>("ge", a, b); }

// ---- logic ----
Tensor logical_and(const Tensor& a, const Tensor& b) { return compare<cpu::LogicalAnd>("logical_and", a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return compare<cpu::LogicalOr>("logical_or", a, b); }
Tensor logical_not(const Tensor& x) { return predicate<cpu::LogicalNot>("logical_not", x); }
Tensor isnan(const Tensor& x) { return predicate<cpu::IsNan>("isnan", x); }
Tensor isinf(const Tensor& x) { return predicate<cpu::IsInf>("isinf", x); }
Tensor isfinite(const Tensor& x) { return predicate<cpu::IsFinite>("isfinite", x); }

// ---- where / masked_fill ----
// The gradient goes to a where cond holds and to b elsewhere; the condition gets none.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  const Shape ab = ew::check_binary("where", a, b);
  detail::check_defined("where", condition, "condition");
  detail::check_same_device("where", condition, a);
  check_mask("where", condition, "condition");
  const Shape shape = broadcast_shapes("where", condition.shape(), ab);
  const DType ct = promote_types(a.dtype(), b.dtype());
  Tensor out = detail::make_tensor(shape, ct, a.device());
  const Tensor ac = ew::as_dtype(a, ct), bc = ew::as_dtype(b, ct);
  dispatch(ct, [&]<typename T>() { kernels::map<T, bool, T, T>(cpu::Where{}, out, condition, ac, bc); });
  if (autograd::should_record(a, b))
    autograd::record("where", {a, b}, {out}, [condition](const autograd::BackwardArgs& g) {
      return autograd::Grads{g.needs(0) ? where(condition, g.grad(), Scalar(0)) : Tensor(),
                             g.needs(1) ? where(condition, Scalar(0), g.grad()) : Tensor()};
    }, {condition});
  return out;
}

Tensor where(const Tensor& condition, const Tensor& a, Scalar b) {
  Tensor out = where_scalar(condition, a, b, false);
  if (autograd::should_record(a))
    autograd::record("where", {a}, {out}, [condition](const autograd::BackwardArgs& g) {
      return autograd::Grads{where(condition, g.grad(), Scalar(0))};
    }, {condition});
  return out;
}

Tensor where(const Tensor& condition, Scalar a, const Tensor& b) {
  Tensor out = where_scalar(condition, b, a, true);
  if (autograd::should_record(b))
    autograd::record("where", {b}, {out}, [condition](const autograd::BackwardArgs& g) {
      return autograd::Grads{where(condition, Scalar(0), g.grad())};
    }, {condition});
  return out;
}

// The gradient reaches x where the mask is false.
Tensor masked_fill(const Tensor& x, const Tensor& mask, Scalar value) {
  const Shape shape = ew::check_binary("masked_fill", x, mask);
  check_mask("masked_fill", mask, "mask");
  Tensor out = detail::make_tensor(shape, x.dtype(), x.device());
  where_scalar_kernel(out, mask, value, x, true);
  if (autograd::should_record(x))
    autograd::record("masked_fill", {x}, {out}, [mask](const autograd::BackwardArgs& g) {
      return autograd::Grads{masked_fill(g.grad(), mask, 0)};
    }, {mask});
  return out;
}

Tensor& Tensor::masked_fill_(const Tensor& mask, Scalar value) {
  autograd::check_inplace("masked_fill_", *this);
  const Shape shape = ew::check_binary("masked_fill_", *this, mask);
  check_mask("masked_fill_", mask, "mask");
  ew::check_destination("masked_fill_", *this, shape, dtype(), "self");
  where_scalar_kernel(*this, mask, value, *this, true);
  impl()->storage->bump_version();
  if (autograd::should_record(*this))
    autograd::record("masked_fill_", {*this}, {*this}, [mask](const autograd::BackwardArgs& g) {
      return autograd::Grads{tapeflow::masked_fill(g.grad(), mask, 0)};
    }, {mask});
  return *this;
}

Tensor Tensor::masked_fill(const Tensor& mask, Scalar value) const { return tapeflow::masked_fill(*this, mask, value); }

// ---- allclose / equal ----
namespace {
void check_pair(const char* op, const Tensor& a, const Tensor& b) {
  detail::check_defined(op, a, "first operand");
  detail::check_defined(op, b, "second operand");
  detail::check_same_device(op, a, b);
}
}  // namespace

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  check_pair("allclose", a, b);
  if (rtol < 0 || atol < 0) fail<ValueError>("allclose", "rtol and atol must be non-negative, got ", rtol, " and ", atol);
  if (!(a.shape() == b.shape())) return false;
  const Tensor ad = ew::as_dtype(a, kFloat64), bd = ew::as_dtype(b, kFloat64);
  return all_pairs<double>(ad, bd, [=](double x, double y) {
    if (x == y) return true;  // also equal infinities
    if (x != x || y != y) return equal_nan && x != x && y != y;
    if (std::isinf(x) || std::isinf(y)) return false;  // unequal infinities are never close
    return std::abs(x - y) <= atol + rtol * std::abs(y);
  });
}

bool equal(const Tensor& a, const Tensor& b) {
  check_pair("equal", a, b);
  if (!(a.shape() == b.shape())) return false;
  const DType ct = promote_types(a.dtype(), b.dtype());
  const Tensor ac = ew::as_dtype(a, ct), bc = ew::as_dtype(b, ct);
  return dispatch(ct, [&]<typename T>() { return all_pairs<T>(ac, bc, [](T x, T y) { return x == y; }); });
}

// ---- methods and operators ----
Tensor Tensor::eq(const Tensor& o) const { return tapeflow::eq(*this, o); }
Tensor Tensor::ne(const Tensor& o) const { return tapeflow::ne(*this, o); }
Tensor Tensor::lt(const Tensor& o) const { return tapeflow::lt(*this, o); }
Tensor Tensor::le(const Tensor& o) const { return tapeflow::le(*this, o); }
Tensor Tensor::gt(const Tensor& o) const { return tapeflow::gt(*this, o); }
Tensor Tensor::ge(const Tensor& o) const { return tapeflow::ge(*this, o); }
Tensor Tensor::logical_not() const { return tapeflow::logical_not(*this); }
Tensor Tensor::isnan() const { return tapeflow::isnan(*this); }
Tensor Tensor::isinf() const { return tapeflow::isinf(*this); }

Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, Scalar b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, Scalar b) { return ne(a, b); }
Tensor operator<(const Tensor& a, Scalar b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, Scalar b) { return le(a, b); }
Tensor operator>(const Tensor& a, Scalar b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, Scalar b) { return ge(a, b); }
Tensor operator&&(const Tensor& a, const Tensor& b) { return logical_and(a, b); }
Tensor operator||(const Tensor& a, const Tensor& b) { return logical_or(a, b); }
Tensor operator!(const Tensor& x) { return logical_not(x); }

}  // namespace tapeflow
