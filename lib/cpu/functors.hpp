#pragma once
// The scalar math of every elementwise op, written once. Each functor's operator() is a
// template over V, which is either a plain C++ number (the scalar and strided kernels) or an
// xsimd batch (the vectorised contiguous kernels, see elementwise_simd.hpp), on the host or in
// CUDA device code (TAPEFLOW_HD). Math calls are unqualified after a block-scope `using std::f;` so that ADL picks
// xsimd::f for batches. Branches are written with select() so they vectorise too.
// Functors that only make sense per element (integer pow, comparisons giving bool...) are
// simply left out of the vectorised op list (elementwise_ops.hpp).
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/host_device.hpp"

namespace tapeflow::cpu {

// The element type of V (V itself for plain numbers, V::value_type for batches).
template <class V, class = void>
struct scalar_of {
  using type = V;
};
template <class V>
struct scalar_of<V, std::void_t<typename V::value_type>> {
  using type = typename V::value_type;
};
template <class V>
using scalar_t = typename scalar_of<V>::type;

// A constant of V's element type (broadcast to all lanes for batches).
template <class V, class S>
TAPEFLOW_HD constexpr V splat(S s) {
  return V(static_cast<scalar_t<V>>(s));
}

// select() for plain numbers; batches use xsimd::select through ADL.
template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
TAPEFLOW_HD constexpr T select(bool c, T a, T b) {
  return c ? a : b;
}

// exp for Exp, Sigmoid, Silu and Softplus: std::exp on plain numbers (host and device), xsimd::exp
// (by ADL) on batches, unless a specialisation takes over: cpu/simd_exp.hpp gives float batches a
// faster one in the per-instruction-set units (host only, so nvcc never sees it).
template <class V, class = void>
struct exp_impl {
  static TAPEFLOW_HD V apply(V x) {
    using std::exp;
    return exp(x);
  }
};
// Always inlined, as are the functors that use it: GCC otherwise calls the AVX-512 polynomial out of
// line (through the PLT, in the shared library), which cost the elementwise exp loop a third of
// its time.
#if defined(__CUDACC__)
#define TAPEFLOW_ALWAYS_INLINE __forceinline__
#else
#define TAPEFLOW_ALWAYS_INLINE __attribute__((always_inline)) inline
#endif
template <class V>
TAPEFLOW_HD TAPEFLOW_ALWAYS_INLINE V exp_of(V x) {
  return exp_impl<V>::apply(x);
}

// The standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 for Gelu and GeluDerivative, by the same
// scheme: erf everywhere, unless cpu/simd_normal_cdf.hpp specialises it (AVX-512 float batches).
template <class V, class = void>
struct normal_cdf_impl {
  static TAPEFLOW_HD V apply(V x) {
    using std::erf;
    return splat<V>(0.5) * (splat<V>(1) + erf(x * splat<V>(0.70710678118654752440)));
  }
};
template <class V>
TAPEFLOW_HD TAPEFLOW_ALWAYS_INLINE V normal_cdf(V x) {
  return normal_cdf_impl<V>::apply(x);
}

// ---- unary, same type in and out ----
struct Identity {
  template <class V> TAPEFLOW_HD V operator()(V x) const { return x; }
};
struct Neg {
  template <class V> TAPEFLOW_HD V operator()(V x) const { return -x; }
};
struct Abs {
  template <class V> TAPEFLOW_HD V operator()(V x) const {
    using std::abs;
    if constexpr (std::is_unsigned_v<V>) return x;
    else return abs(x);
  }
};
struct Sign {  // 0 for zero and NaN, like PyTorch
  template <class V> TAPEFLOW_HD V operator()(V x) const {
    const V zero = splat<V>(0), one = splat<V>(1);
    return select(x > zero, one, zero) - select(x < zero, one, zero);
  }
};
struct Square {
  template <class V> TAPEFLOW_HD V operator()(V x) const { return x * x; }
};
struct Exp {
  template <class V> TAPEFLOW_HD TAPEFLOW_ALWAYS_INLINE V operator()(V x) const { return exp_of(x); }
};
struct Log {
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::log; return log(x); }
};
struct Log1p {
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::log1p; return log1p(x); }
};
struct Expm1 {
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::expm1; return expm1(x); }
};
struct Sqrt {
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::sqrt; return sqrt(x); }
};
struct Rsqrt {  // exact 1/sqrt (xsimd::rsqrt is an approximation)
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::sqrt; return splat<V>(1) / sqrt(x); }
};
struct Sin {
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::sin; return sin(x); }
};
struct Cos {
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::cos; return cos(x); }
};
struct Tanh {
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::tanh; return tanh(x); }
};
struct Sigmoid {
  template <class V> TAPEFLOW_HD TAPEFLOW_ALWAYS_INLINE V operator()(V x) const {
    return splat<V>(1) / (splat<V>(1) + exp_of(-x));
  }
};
struct Relu {  // NaN stays NaN
  template <class V> TAPEFLOW_HD V operator()(V x) const { return select(x < splat<V>(0), splat<V>(0), x); }
};
struct Silu {
  template <class V> TAPEFLOW_HD TAPEFLOW_ALWAYS_INLINE V operator()(V x) const {
    return x / (splat<V>(1) + exp_of(-x));
  }
};
struct Gelu {  // exact: x * Phi(x)
  template <class V> TAPEFLOW_HD V operator()(V x) const { return x * normal_cdf(x); }
};
// gelu's derivative Phi(x) + x phi(x) (gelu_backward).
struct GeluDerivative {
  template <class V> TAPEFLOW_HD V operator()(V x) const {
    return normal_cdf(x) + x * exp_of(splat<V>(-0.5) * x * x) * splat<V>(0.39894228040143267794);
  }
};
struct GeluTanh {
  template <class V> TAPEFLOW_HD V operator()(V x) const {
    using std::tanh;
    const V inner = splat<V>(0.79788456080286535588) * (x + splat<V>(0.044715) * x * x * x);
    return splat<V>(0.5) * x * (splat<V>(1) + tanh(inner));
  }
};
struct Floor {
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::floor; return floor(x); }
};
struct Ceil {
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::ceil; return ceil(x); }
};
struct Round {  // half to even (nearbyint in the default rounding mode)
  template <class V> TAPEFLOW_HD V operator()(V x) const { using std::nearbyint; return nearbyint(x); }
};

// ---- unary with parameters (held in the element type T) ----
template <class T>
struct LeakyRelu {
  T slope;
  template <class V> TAPEFLOW_HD V operator()(V x) const { return select(x > splat<V>(0), x, x * splat<V>(slope)); }
};
template <class T>
struct Elu {
  T alpha;
  template <class V> TAPEFLOW_HD V operator()(V x) const {
    using std::expm1;
    return select(x > splat<V>(0), x, splat<V>(alpha) * expm1(x));
  }
};
template <class T>
struct Softplus {  // log(1 + exp(beta x)) / beta, linear above the threshold
  T beta, threshold;
  template <class V> TAPEFLOW_HD TAPEFLOW_ALWAYS_INLINE V operator()(V x) const {
    using std::log1p;
    const V bx = x * splat<V>(beta);
    return select(bx > splat<V>(threshold), x, log1p(exp_of(bx)) / splat<V>(beta));
  }
};
template <class T>
struct Clamp {  // min then max, so lo > hi gives hi (PyTorch); NaN inputs stay NaN
  T lo, hi;
  template <class V> TAPEFLOW_HD V operator()(V x) const {
    const V l = splat<V>(lo), h = splat<V>(hi);
    const V y = select(x < l, l, x);
    return select(y > h, h, y);
  }
};

// ---- binary ----
struct Add {
  template <class V> TAPEFLOW_HD V operator()(V a, V b) const {
    if constexpr (std::is_same_v<V, bool>) return a || b;
    else return a + b;
  }
};
struct Sub {
  template <class V> TAPEFLOW_HD V operator()(V a, V b) const { return a - b; }
};
struct Mul {
  template <class V> TAPEFLOW_HD V operator()(V a, V b) const {
    if constexpr (std::is_same_v<V, bool>) return a && b;
    else return a * b;
  }
};
struct Div {
  template <class V> TAPEFLOW_HD V operator()(V a, V b) const { return a / b; }
};
template <class T>
struct AddScaled {  // a + alpha * b (sub uses -alpha)
  T alpha;
  template <class V> TAPEFLOW_HD V operator()(V a, V b) const { return a + splat<V>(alpha) * b; }
};
struct Pow {
  template <class V> TAPEFLOW_HD V operator()(V a, V b) const {
    if constexpr (std::is_integral_v<V>) {
      // Integer power by squaring; negative exponents give 0 except for bases 1 and -1 (PyTorch).
      if (b < 0) return a == 1 ? V(1) : a == V(-1) ? ((b % 2) != 0 ? V(-1) : V(1)) : V(0);
      using U = std::make_unsigned_t<V>;
      U base = static_cast<U>(a), result = 1;  // unsigned: overflow wraps like PyTorch's
      for (V e = b; e > 0; e >>= 1) {
        if (e & 1) result *= base;
        base *= base;
      }
      return static_cast<V>(result);
    } else {
      using std::pow;
      return pow(a, b);
    }
  }
};
struct Maximum {  // NaN propagates
  template <class V> TAPEFLOW_HD V operator()(V a, V b) const {
    return select(a != a, a, select(b != b, b, select(a > b, a, b)));
  }
};
// relu's gradient: g where relu's output y is positive, else 0 (one pass, no bool mask).
struct ReluBackward {
  template <class V> TAPEFLOW_HD V operator()(V g, V y) const { return select(y > splat<V>(0), g, splat<V>(0)); }
};
struct Minimum {
  template <class V> TAPEFLOW_HD V operator()(V a, V b) const {
    return select(a != a, a, select(b != b, b, select(a < b, a, b)));
  }
};

// A binary functor with its second (or first) operand fixed: tensor-scalar ops.
template <class F, class T>
struct BindSecond {
  F f;
  T value;
  template <class V> TAPEFLOW_HD auto operator()(V x) const { return f(x, splat<V>(value)); }
};
template <class F, class T>
struct BindFirst {
  F f;
  T value;
  template <class V> TAPEFLOW_HD auto operator()(V x) const { return f(splat<V>(value), x); }
};

// ---- results of type bool (per element only) ----
struct Eq { template <class T> TAPEFLOW_HD bool operator()(T a, T b) const { return a == b; } };
struct Ne { template <class T> TAPEFLOW_HD bool operator()(T a, T b) const { return a != b; } };
struct Lt { template <class T> TAPEFLOW_HD bool operator()(T a, T b) const { return a < b; } };
struct Le { template <class T> TAPEFLOW_HD bool operator()(T a, T b) const { return a <= b; } };
struct Gt { template <class T> TAPEFLOW_HD bool operator()(T a, T b) const { return a > b; } };
struct Ge { template <class T> TAPEFLOW_HD bool operator()(T a, T b) const { return a >= b; } };
struct LogicalAnd { template <class T> TAPEFLOW_HD bool operator()(T a, T b) const { return a != T(0) && b != T(0); } };
struct LogicalOr { template <class T> TAPEFLOW_HD bool operator()(T a, T b) const { return a != T(0) || b != T(0); } };
struct LogicalNot { template <class T> TAPEFLOW_HD bool operator()(T x) const { return x == T(0); } };
struct IsNan { template <class T> TAPEFLOW_HD bool operator()(T x) const { return x != x; } };
struct IsInf {
  template <class T> TAPEFLOW_HD bool operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) return std::isinf(x);
    else return false;
  }
};
struct IsFinite {
  template <class T> TAPEFLOW_HD bool operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) return std::isfinite(x);
    else return true;
  }
};

// ---- no input: fill ----
template <class T>
struct Fill {
  T value;
  TAPEFLOW_HD T operator()() const { return value; }
};

// ---- selection ----
struct Where {
  template <class T> TAPEFLOW_HD T operator()(bool c, T a, T b) const { return c ? a : b; }
};
template <class T>
struct WhereScalarB {  // where(cond, a, scalar)
  T b;
  TAPEFLOW_HD T operator()(bool c, T a) const { return c ? a : b; }
};
template <class T>
struct WhereScalarA {  // where(cond, scalar, b)
  T a;
  TAPEFLOW_HD T operator()(bool c, T b) const { return c ? a : b; }
};

}  // namespace tapeflow::cpu
