#pragma once
// Shared plumbing of the elementwise ops (lib/ops/elementwise_*.cpp): input checks, dtype rules,
// destinations for in-place and out= results, and runners that turn "a functor per dtype" into
// a kernel call. Internal to the library.
#include "autograd/tape.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/map.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"

namespace tapeflow::ew {

// Which dtypes an op's functor is instantiated for.
enum class Types { All, Numeric, Floating };

template <Types K, class Fn>
decltype(auto) dispatch_types(DType dt, const char* op, Fn&& fn) {
  if constexpr (K == Types::All) return dispatch(dt, fn);
  else if constexpr (K == Types::Numeric) return dispatch_numeric(dt, op, fn);
  else return dispatch_floating(dt, op, fn);
}

// Kernel operands converted to the computation dtype: a forward step, never recorded (the op
// records itself as a whole).
inline Tensor as_dtype(const Tensor& t, DType dt) {
  if (t.dtype() == dt) return t;
  NoGradGuard no_grad;
  return t.to(dt);
}
// The same without copying a tensor that already has dtype dt (no reference-count traffic on
// every tiny op); a converted copy lives in `converted`.
inline const Tensor& as_dtype(const Tensor& t, DType dt, Tensor& converted) {
  if (t.dtype() == dt) return t;
  converted = as_dtype(t, dt);
  return converted;
}

// Floating functions (exp, sqrt, div...) of integer or bool inputs give float32.
constexpr DType float_result(DType dt) { return is_floating_point(dt) ? dt : kFloat32; }

// PyTorch's canCast: no floating into integral, no non-bool into bool.
constexpr bool can_cast(DType from, DType to) {
  if (is_floating_point(from) && !is_floating_point(to)) return false;
  if (from != kBool && to == kBool) return false;
  return true;
}

// Whether an alpha is exactly 1 (then the plain, vectorised add/sub functors apply).
inline bool scalar_is_one(Scalar s) { return s.is_floating_point() ? s.to_double() == 1.0 : s.to_int() == 1; }

inline void check_unary(const char* op, const Tensor& x) { detail::check_defined(op, x); }

inline Shape check_binary(const char* op, const Tensor& a, const Tensor& b) {
  detail::check_defined(op, a, "first operand");
  detail::check_defined(op, b, "second operand");
  detail::check_same_device(op, a, b);
  return broadcast_shapes(op, a.shape(), b.shape());
}

inline void reject_bool(const char* op, DType dt, const char* why) {
  if (dt == kBool) fail<DTypeError>(op, "not supported for bool tensors", why);
}

// Checks that dst (self of an in-place op, or out=) can receive a result of `shape` and `result`
// dtype: same shape, a dtype the result casts to, and no element written twice.
inline void check_destination(const char* op, const Tensor& dst, IntArrayRef shape, DType result, const char* what) {
  detail::check_defined(op, dst, what);
  if (!(dst.shape() == shape))
    fail<ShapeError>(op, "result of shape ", shape, " does not match ", what, " of shape ", dst.shape());
  if (!can_cast(result, dst.dtype()))
    fail<DTypeError>(op, "result type ", result, " can't be cast to the desired output type ", dst.dtype(), " of ",
                     what);
  for (std::int64_t d = 0; d < dst.dim(); ++d)
    if (dst.stride(d) == 0 && dst.size(d) > 1)
      fail<ValueError>(op, what, " of shape ", dst.shape(), " has broadcast (stride 0) dims: more than one element "
                       "would be written to one memory location; clone() it first");
}

// Runs kernel(t) with t = dst when dst has the result dtype, else with a temporary that is then
// cast into dst. Bumps dst's version counter.
template <class K>
void write_to(const Tensor& dst, IntArrayRef shape, DType result, K&& kernel) {
  if (dst.dtype() == result) {
    kernel(dst);
  } else {
    Tensor tmp = detail::make_tensor(shape, result, dst.device());
    kernel(tmp);
    kernels::on(dst, tmp).copy(dst, tmp);
  }
  dst.impl()->storage->bump_version();
}

// ---- autograd ----

// out= functions do not support autograd (as in PyTorch): the result could not be tracked.
template <class... Ts>
void reject_autograd_out(const char* op, const Ts&... ts) {
  if (autograd::should_record(ts...))
    fail<Error>(op, "functions with out= arguments don't support automatic differentiation, but one of the "
                "arguments requires grad; call the out-of-place form, or run it under NoGradGuard");
}

// What a backward reads of an output goes in `saved` as a view: it shares the output's storage
// (and so its version counter) without keeping the output itself alive, so the entry can still
// be pruned when the output is dropped.
inline Tensor output_view(const Tensor& out) { return out.detach(); }

// g * s, skipping the multiplication when s is 1 (and negating when it is -1).
inline Tensor scale_grad(const Tensor& g, Scalar s) {
  if (scalar_is_one(s)) return g;
  if (s.to_double() == -1.0) return neg(g);
  return g * s;
}

// What a one-input op's backward reads besides the gradient.
enum class Saves { Nothing, Input, Output, Both };

// Records out = op(x) with the backward f(g, x, out) -> dL/dx, where x is undefined unless
// saved. Written with public ops, so it is itself differentiable (higher-order gradients).
template <class F>
void record_unary(const char* name, const Tensor& x, const Tensor& out, Saves s, F f) {
  const bool in = s == Saves::Input || s == Saves::Both, o = s == Saves::Output || s == Saves::Both;
  std::vector<Tensor> saved;
  if (in) saved.push_back(x);
  if (o) saved.push_back(output_view(out));
  autograd::record(
      name, {x}, {out},
      [xs = in ? x : Tensor(), f](const autograd::BackwardArgs& a) {
        return autograd::Grads{f(a.grad(), xs, a.outputs[0])};
      },
      saved);
}

// Whether two tensors share memory (an in-place op whose operand is self, or a view of it).
inline bool same_storage(const Tensor& a, const Tensor& b) { return a.impl()->storage == b.impl()->storage; }

// A copy of t taken before an in-place op overwrites it, for a backward that reads the old
// value. Made with a recorded op so that, under create_graph, the copy stays part of the graph.
inline Tensor value_before_inplace(const Tensor& t) { return mul(t, Scalar(1)); }

// ---- runners: make.template operator()<T>() returns the functor for element type T ----

// dst = f(x), computed in dtype ct (dst's dtype).
template <Types K, class Make>
void run_unary(const char* op, const Tensor& dst, const Tensor& x, DType ct, Make&& make) {
  Tensor converted;
  const Tensor& xc = as_dtype(x, ct, converted);
  dispatch_types<K>(ct, op, [&]<typename T>() { kernels::map<T, T>(make.template operator()<T>(), dst, xc); });
}

// dst = f(a, b), computed in dtype ct (dst's dtype).
template <Types K, class Make>
void run_binary(const char* op, const Tensor& dst, const Tensor& a, const Tensor& b, DType ct, Make&& make) {
  Tensor a_converted, b_converted;
  const Tensor &ac = as_dtype(a, ct, a_converted), &bc = as_dtype(b, ct, b_converted);
  dispatch_types<K>(ct, op, [&]<typename T>() { kernels::map<T, T, T>(make.template operator()<T>(), dst, ac, bc); });
}

// A fresh output of `shape` and dtype ct holding f(x).
template <Types K, class Make>
Tensor unary_op(const char* op, const Tensor& x, DType ct, Make&& make) {
  check_unary(op, x);
  Tensor out = detail::make_tensor(x.shape(), ct, x.device());
  run_unary<K>(op, out, x, ct, make);
  return out;
}

// A bool output: pred(a, b) compared in dtype ct.
template <class Make>
Tensor predicate2(const char* op, const Tensor& a, const Tensor& b, DType ct, Make&& make) {
  const Shape shape = check_binary(op, a, b);
  Tensor out = detail::make_tensor(shape, kBool, a.device());
  Tensor a_converted, b_converted;
  const Tensor &ac = as_dtype(a, ct, a_converted), &bc = as_dtype(b, ct, b_converted);
  dispatch(ct, [&]<typename T>() { kernels::map<bool, T, T>(make.template operator()<T>(), out, ac, bc); });
  return out;
}

// A bool output: pred(x) evaluated in dtype ct.
template <class Make>
Tensor predicate1(const char* op, const Tensor& x, DType ct, Make&& make) {
  check_unary(op, x);
  Tensor out = detail::make_tensor(x.shape(), kBool, x.device());
  Tensor converted;
  const Tensor& xc = as_dtype(x, ct, converted);
  dispatch(ct, [&]<typename T>() { kernels::map<bool, T>(make.template operator()<T>(), out, xc); });
  return out;
}

}  // namespace tapeflow::ew
