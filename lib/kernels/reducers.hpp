#pragma once
// The math of each reduction as a combiner, for kernels that split a reduction across threads
// (the CUDA reduce engine). A reducer R has
//   in_t, acc_t, out_t;
//   acc_t init();                           the identity (what an empty reduction projects)
//   acc_t combine(acc_t, in_t v, int64 k);  folds the element at reduced position k
//   acc_t merge(acc_t a, acc_t b);          joins two partial results, in EITHER order: threads
//                                           hold interleaved positions, so merge must not rely
//                                           on b covering later positions (ties go to the lower
//                                           position explicitly)
//   out_t project(acc_t);                   the final value
// The semantics are the CPU backend's (lib/cpu/reduce.cpp): floats accumulate in double,
// integers in uint64 (wrapping like int64, without overflow UB); NaN propagates through
// amax/amin/inf-norm/logsumexp; argmax/argmin return the first position of the extremum, a NaN
// counting as the extremum.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/host_device.hpp"

namespace tapeflow::kernels {

template <class T>
using wide_t = std::conditional_t<std::is_floating_point_v<T>, double, std::uint64_t>;
template <class T>
using sum_out_t = std::conditional_t<std::is_floating_point_v<T>, T, std::int64_t>;

template <class T>
TAPEFLOW_HD constexpr bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return v != v;
  else
    return false;
}

template <class T>
struct SumReducer {
  using in_t = T;
  using acc_t = wide_t<T>;
  using out_t = sum_out_t<T>;
  TAPEFLOW_HD acc_t init() const { return 0; }
  TAPEFLOW_HD acc_t combine(acc_t a, T v, std::int64_t) const { return a + static_cast<acc_t>(v); }
  TAPEFLOW_HD acc_t merge(acc_t a, acc_t b) const { return a + b; }
  TAPEFLOW_HD out_t project(acc_t a) const { return static_cast<out_t>(a); }
};

// mean = sum / count (count: the reduced size; 0 gives NaN like the CPU).
template <class T>
struct MeanReducer : SumReducer<T> {
  using out_t = T;
  double count = 1;
  TAPEFLOW_HD T project(double a) const { return static_cast<T>(a / count); }
};

template <class T>
struct ProdReducer {
  using in_t = T;
  using acc_t = wide_t<T>;
  using out_t = sum_out_t<T>;
  TAPEFLOW_HD acc_t init() const { return 1; }
  TAPEFLOW_HD acc_t combine(acc_t a, T v, std::int64_t) const { return a * static_cast<acc_t>(v); }
  TAPEFLOW_HD acc_t merge(acc_t a, acc_t b) const { return a * b; }
  TAPEFLOW_HD out_t project(acc_t a) const { return static_cast<out_t>(a); }
};

// amax/amin: a NaN, once seen, wins.
template <class T, bool IsMax>
struct ExtremumReducer {
  using in_t = T;
  using acc_t = T;
  using out_t = T;
  TAPEFLOW_HD acc_t init() const {
    if constexpr (std::is_same_v<T, bool>)
      return !IsMax;
    else if constexpr (std::is_floating_point_v<T>)
      return IsMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else
      return IsMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  TAPEFLOW_HD acc_t combine(acc_t a, T v, std::int64_t) const { return (is_nan(v) || (IsMax ? v > a : v < a)) ? v : a; }
  TAPEFLOW_HD acc_t merge(acc_t a, acc_t b) const { return combine(a, b, 0); }
  TAPEFLOW_HD out_t project(acc_t a) const { return a; }
};

template <class T>
struct ValueIndex {
  T value;
  std::int64_t index;  // -1: nothing seen yet
};

// Extremum and its first position; NaN counts as the extremum (the first NaN wins).
template <class T, bool IsMax>
struct ArgReducer {
  using in_t = T;
  using acc_t = ValueIndex<T>;
  using out_t = ValueIndex<T>;
  // Whether (v, i) comes before (cur, j) in the order "NaN first, then extremum, then position".
  TAPEFLOW_HD static bool before(T v, std::int64_t i, T cur, std::int64_t j) {
    if (is_nan(cur)) return is_nan(v) && i < j;
    if (is_nan(v)) return true;
    if (IsMax ? v > cur : v < cur) return true;
    return v == cur && i < j;
  }
  TAPEFLOW_HD acc_t init() const { return {T{}, -1}; }
  TAPEFLOW_HD acc_t combine(acc_t a, T v, std::int64_t k) const { return merge(a, acc_t{v, k}); }
  TAPEFLOW_HD acc_t merge(acc_t a, acc_t b) const {
    if (b.index < 0) return a;
    if (a.index < 0) return b;
    return before(b.value, b.index, a.value, a.index) ? b : a;
  }
  TAPEFLOW_HD out_t project(acc_t a) const { return a; }
};

struct Moments {
  double n, mean, m2;

  // Welford's update with one more value.
  TAPEFLOW_HD Moments add(double x) const {
    Moments a = *this;
    a.n += 1;
    const double d = x - a.mean;
    a.mean += d / a.n;
    a.m2 += d * (x - a.mean);
    return a;
  }
  // Chan's formula: the moments of both parts together, in either order.
  TAPEFLOW_HD static Moments merge(Moments a, Moments b) {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    const double n = a.n + b.n, d = b.mean - a.mean;
    return {n, a.mean + d * (b.n / n), a.m2 + b.m2 + d * d * (a.n * b.n / n)};
  }
};

// Welford per element, Chan's formula to merge: no sum-of-squares cancellation. project gives
// m2 / max(0, n - correction), or its square root.
template <class T>
struct VarReducer {
  using in_t = T;
  using acc_t = Moments;
  using out_t = T;
  std::int64_t correction = 1;
  bool take_sqrt = false;
  TAPEFLOW_HD acc_t init() const { return {0, 0, 0}; }
  TAPEFLOW_HD acc_t combine(acc_t a, T v, std::int64_t) const { return a.add(static_cast<double>(v)); }
  TAPEFLOW_HD acc_t merge(acc_t a, acc_t b) const { return Moments::merge(a, b); }
  TAPEFLOW_HD out_t project(acc_t a) const {
    const double den = a.n - static_cast<double>(correction);
    const double v = a.m2 / (den > 0 ? den : 0.0);
    using std::sqrt;
    return static_cast<T>(take_sqrt ? sqrt(v) : v);
  }
};

struct MaxSum {
  double max, sum;  // logsumexp = max + log(sum)
};

// Online log-sum-exp: a running max and the sum of exp(x - max), rescaled when the max grows.
template <class T>
struct LogSumExpReducer {
  using in_t = T;
  using acc_t = MaxSum;
  using out_t = T;
  static constexpr double kInf = std::numeric_limits<double>::infinity();
  TAPEFLOW_HD acc_t init() const { return {-kInf, 0}; }
  TAPEFLOW_HD acc_t combine(acc_t a, T value, std::int64_t) const { return merge(a, {static_cast<double>(value), 1}); }
  TAPEFLOW_HD acc_t merge(acc_t a, acc_t b) const {
    using std::exp;
    if (a.max != a.max || b.max != b.max) return {a.max + b.max, 1};  // NaN
    const double m = a.max > b.max ? a.max : b.max;
    if (m == -kInf) return {-kInf, a.sum + b.sum};
    if (m == kInf) return {kInf, 1};
    return {m, a.sum * exp(a.max - m) + b.sum * exp(b.max - m)};
  }
  TAPEFLOW_HD out_t project(acc_t a) const {
    using std::log;
    return static_cast<T>(a.max + log(a.sum));
  }
};

enum class NormKind { Zero, One, Two, Inf, P };

// p-norms of |x| in double: 0 counts non-zeros, inf is the max (NaN propagates).
template <class T, NormKind Kind>
struct NormReducer {
  using in_t = T;
  using acc_t = double;
  using out_t = T;
  double p = 2;
  TAPEFLOW_HD acc_t init() const { return 0; }
  TAPEFLOW_HD acc_t combine(acc_t a, T value, std::int64_t) const {
    using std::abs;
    using std::pow;
    const double v = abs(static_cast<double>(value));
    if constexpr (Kind == NormKind::Zero)
      return a + (v != 0 ? 1.0 : 0.0);
    else if constexpr (Kind == NormKind::One)
      return a + v;
    else if constexpr (Kind == NormKind::Two)
      return a + v * v;
    else if constexpr (Kind == NormKind::Inf)
      return merge(a, v);
    else
      return a + pow(v, p);
  }
  TAPEFLOW_HD acc_t merge(acc_t a, acc_t b) const {
    if constexpr (Kind == NormKind::Inf)
      return (b != b || b > a) ? b : a;
    else
      return a + b;
  }
  TAPEFLOW_HD out_t project(acc_t a) const {
    using std::pow;
    using std::sqrt;
    if constexpr (Kind == NormKind::Two)
      return static_cast<T>(sqrt(a));
    else if constexpr (Kind == NormKind::P)
      return static_cast<T>(pow(a, 1.0 / p));
    else
      return static_cast<T>(a);
  }
};

template <class T, bool IsAll>
struct LogicalReducer {
  using in_t = T;
  using acc_t = bool;
  using out_t = bool;
  TAPEFLOW_HD acc_t init() const { return IsAll; }
  TAPEFLOW_HD acc_t combine(acc_t a, T v, std::int64_t) const { return merge(a, v != T(0)); }
  TAPEFLOW_HD acc_t merge(acc_t a, acc_t b) const { return IsAll ? (a && b) : (a || b); }
  TAPEFLOW_HD out_t project(acc_t a) const { return a; }
};

// Two sums at once (normalisation backward: sum(g) and sum(g * xhat) per channel or column).
struct SumPair {
  double a, b;
};
struct PairSumReducer {
  using in_t = SumPair;
  using acc_t = SumPair;
  using out_t = SumPair;
  TAPEFLOW_HD acc_t init() const { return {0, 0}; }
  TAPEFLOW_HD acc_t combine(acc_t s, SumPair v, std::int64_t) const { return merge(s, v); }
  TAPEFLOW_HD acc_t merge(acc_t s, acc_t v) const { return {s.a + v.a, s.b + v.b}; }
  TAPEFLOW_HD out_t project(acc_t s) const { return s; }
};

}  // namespace tapeflow::kernels
