// Reducers (the math of each reduction) run by the one engine in reduce_kernel.hpp.
#include "cpu/reduce.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include "cpu/elementwise.hpp"
#include "cpu/reduce_kernel.hpp"
#include "kernels/reducers.hpp"

namespace tapeflow::cpu {
namespace {

using reduce_detail::contiguous_reduce;
using reduce_detail::run_reduce;

// Floats accumulate in double; integers in uint64 (wrapping like PyTorch's int64, without UB).
template <typename T>
using wide_t = std::conditional_t<std::is_floating_point_v<T>, double, std::uint64_t>;
template <typename T>
using sum_out_t = std::conditional_t<std::is_floating_point_v<T>, T, std::int64_t>;

constexpr double kInf = std::numeric_limits<double>::infinity();

template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return v != v;
  else return false;
}

template <typename T>
struct SumOp {
  using in_t = T;
  using acc_t = wide_t<T>;
  static constexpr bool kIndexed = false;
  acc_t init() const { return 0; }
  acc_t step(acc_t a, T v, std::int64_t) const { return a + static_cast<acc_t>(v); }
  acc_t combine(acc_t a, acc_t b) const { return a + b; }
  // float runs: the vectorised kernel (double lanes, as step), which the scalar lanes of the
  // generic path cannot match at memory speed. double runs keep the pairwise blocks for accuracy.
  acc_t row(const float* p, std::int64_t n) const
    requires std::is_same_v<T, float>
  {
    if (const VecTable* t = g_vec_table) return t->f32.sum(p, n);
    return reduce_detail::pairwise_reduce(*this, p, n);
  }
  // Outer reductions: n rows of len values, `stride` bytes apart, added into acc in row order.
  // False when no vector table applies (the caller's scalar loop then runs, same order).
  bool rows(acc_t* acc, const char* p, std::int64_t stride, std::int64_t n, std::int64_t len) const {
    if constexpr (std::is_floating_point_v<T>) {
      const VecTable* t = g_vec_table;
      if (t == nullptr || stride % static_cast<std::int64_t>(sizeof(T)) != 0) return false;
      t->get<T>().sum_rows(p, stride / static_cast<std::int64_t>(sizeof(T)), n, len, acc);
      return true;
    } else {
      return false;
    }
  }
};

template <typename T>
struct ProdOp {
  using in_t = T;
  using acc_t = wide_t<T>;
  static constexpr bool kIndexed = false;
  acc_t init() const { return 1; }
  acc_t step(acc_t a, T v, std::int64_t) const { return a * static_cast<acc_t>(v); }
  acc_t combine(acc_t a, acc_t b) const { return a * b; }
};

// max/min with NaN propagation: a NaN, once seen, wins.
template <typename T, bool IsMax>
struct ExtremumOp {
  using in_t = T;
  using acc_t = T;
  static constexpr bool kIndexed = false;
  acc_t init() const {
    if constexpr (std::is_same_v<T, bool>) return !IsMax;
    else if constexpr (std::is_floating_point_v<T>) return IsMax ? -std::numeric_limits<T>::infinity()
                                                                  : std::numeric_limits<T>::infinity();
    else return IsMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
  acc_t step(acc_t a, T v, std::int64_t) const { return (is_nan(v) || (IsMax ? v > a : v < a)) ? v : a; }
  acc_t combine(acc_t a, acc_t b) const { return step(a, b, 0); }
};

template <typename T>
struct ValueIndex {
  T value;
  std::int64_t index;
};

// Extremum with its first position; NaN counts as the extremum (as in PyTorch).
template <typename T, bool IsMax>
struct ArgOp {
  using in_t = T;
  using acc_t = ValueIndex<T>;
  static constexpr bool kIndexed = true;
  static bool better(T v, T cur) { return !is_nan(cur) && (is_nan(v) || (IsMax ? v > cur : v < cur)); }
  acc_t init() const { return {T{}, -1}; }
  acc_t step(acc_t a, T v, std::int64_t pos) const { return a.index < 0 || better(v, a.value) ? acc_t{v, pos} : a; }
  acc_t combine(acc_t a, acc_t b) const {
    if (b.index < 0) return a;
    return a.index < 0 || better(b.value, a.value) ? b : a;
  }
};

// Sum of (x - center)^2, the second pass of the blocked variance.
template <typename T>
struct SquaredDeviationOp {
  using in_t = T;
  using acc_t = double;
  static constexpr bool kIndexed = false;
  double center;
  acc_t init() const { return 0; }
  acc_t step(acc_t a, T v, std::int64_t) const {
    const double d = static_cast<double>(v) - center;
    return a + d * d;
  }
  acc_t combine(acc_t a, acc_t b) const { return a + b; }
};

// Welford per element; contiguous runs use an exact two-pass per cache-sized block; blocks and
// chunks merge with Chan's formula. Stable for large offsets (no sum-of-squares cancellation).
template <typename T>
struct VarOp {
  using in_t = T;
  using acc_t = kernels::Moments;
  static constexpr bool kIndexed = false;
  acc_t init() const { return {0, 0, 0}; }
  acc_t step(acc_t a, T v, std::int64_t) const { return a.add(static_cast<double>(v)); }
  acc_t combine(acc_t a, acc_t b) const { return acc_t::merge(a, b); }
  acc_t row(const T* p, std::int64_t n) const {
    acc_t a = init();
    for (std::int64_t b = 0; b < n; b += reduce_detail::kPairwiseBlock) {
      const std::int64_t len = std::min(reduce_detail::kPairwiseBlock, n - b);
      const double mean = contiguous_reduce(SumOp<T>{}, p + b, len) / static_cast<double>(len);
      const double m2 = contiguous_reduce(SquaredDeviationOp<T>{mean}, p + b, len);
      a = combine(a, {static_cast<double>(len), mean, m2});
    }
    return a;
  }
};

struct MaxSum {
  double max, sum;  // logsumexp = max + log(sum)
};

// Online log-sum-exp; contiguous runs take the block max first (one exp per element).
template <typename T>
struct LogSumExpOp {
  using in_t = T;
  using acc_t = MaxSum;
  static constexpr bool kIndexed = false;
  acc_t init() const { return {-kInf, 0}; }
  acc_t step(acc_t a, T value, std::int64_t) const {
    const double v = static_cast<double>(value);
    if (v != v || a.max != a.max) return {v + a.max, 1};  // NaN
    if (v == -kInf) return a;
    if (v <= a.max) return a.max == kInf ? a : acc_t{a.max, a.sum + std::exp(v - a.max)};
    if (v == kInf) return {kInf, 1};
    return {v, a.sum * std::exp(a.max - v) + 1};
  }
  acc_t combine(acc_t a, acc_t b) const {
    if (a.max != a.max || b.max != b.max) return {a.max + b.max, 1};
    const double m = std::max(a.max, b.max);
    if (m == -kInf) return {-kInf, a.sum + b.sum};
    if (m == kInf) return {kInf, 1};
    return {m, a.sum * std::exp(a.max - m) + b.sum * std::exp(b.max - m)};
  }
  acc_t row(const T* p, std::int64_t n) const {
    acc_t a = init();
    for (std::int64_t b = 0; b < n; b += reduce_detail::kPairwiseBlock) {
      const std::int64_t len = std::min(reduce_detail::kPairwiseBlock, n - b);
      const double m = static_cast<double>(contiguous_reduce(ExtremumOp<T, true>{}, p + b, len));
      acc_t blk{m, 0};
      if (std::isfinite(m)) {
        for (std::int64_t i = 0; i < len; ++i) blk.sum += std::exp(static_cast<double>(p[b + i]) - m);
      } else {
        blk = init();
        for (std::int64_t i = 0; i < len; ++i) blk = step(blk, p[b + i], 0);
      }
      a = combine(a, blk);
    }
    return a;
  }
};

enum class NormKind { Zero, One, Two, Inf, P };

template <typename T, NormKind Kind>
struct NormOp {
  using in_t = T;
  using acc_t = double;
  static constexpr bool kIndexed = false;
  double p = 2;
  acc_t init() const { return 0; }
  acc_t step(acc_t a, T value, std::int64_t) const {
    const double v = std::abs(static_cast<double>(value));
    if constexpr (Kind == NormKind::Zero) return a + (v != 0 ? 1.0 : 0.0);
    else if constexpr (Kind == NormKind::One) return a + v;
    else if constexpr (Kind == NormKind::Two) return a + v * v;
    else if constexpr (Kind == NormKind::Inf) return (v != v || v > a) ? v : a;
    else return a + std::pow(v, p);
  }
  acc_t combine(acc_t a, acc_t b) const {
    if constexpr (Kind == NormKind::Inf) return (b != b || b > a) ? b : a;
    else return a + b;
  }
  double finalize(acc_t a) const {
    if constexpr (Kind == NormKind::Two) return std::sqrt(a);
    else if constexpr (Kind == NormKind::P) return std::pow(a, 1.0 / p);
    else return a;
  }
};

template <typename T, bool IsAll>
struct LogicalOp {
  using in_t = T;
  using acc_t = bool;
  static constexpr bool kIndexed = false;
  acc_t init() const { return IsAll; }
  acc_t step(acc_t a, T v, std::int64_t) const { return IsAll ? (a && v != T(0)) : (a || v != T(0)); }
  acc_t combine(acc_t a, acc_t b) const { return IsAll ? (a && b) : (a || b); }
};

// Runs op over x and stores fin(acc) into out (of type Out).
template <typename Out, typename Op, typename Fin>
void reduce_into(const Tensor& out, const Tensor& x, const ReduceMask& reduced, const Op& op, Fin fin) {
  Out* po = out.data_ptr<Out>();
  run_reduce(op, x, reduced, [&](std::int64_t o, const typename Op::acc_t& a) { po[o] = static_cast<Out>(fin(a)); });
}

template <bool IsMax>
void extremum(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() {
    reduce_into<T>(out, x, reduced, ExtremumOp<T, IsMax>{}, [](T a) { return a; });
  });
}

template <bool IsMax>
void extremum_with_index(const Tensor& values, const Tensor& indices, const Tensor& x, const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() {
    T* pv = values.defined() ? values.data_ptr<T>() : nullptr;
    std::int64_t* pi = indices.data_ptr<std::int64_t>();
    run_reduce(ArgOp<T, IsMax>{}, x, reduced, [&](std::int64_t o, const ValueIndex<T>& a) {
      if (pv) pv[o] = a.value;
      pi[o] = a.index;
    });
  });
}

template <bool IsAll>
void logical(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() {
    reduce_into<bool>(out, x, reduced, LogicalOp<T, IsAll>{}, [](bool a) { return a; });
  });
}

template <typename T, NormKind Kind>
void norm_with(const Tensor& out, const Tensor& x, const ReduceMask& reduced, double p) {
  const NormOp<T, Kind> op{p};
  reduce_into<T>(out, x, reduced, op, [&](double a) { return op.finalize(a); });
}

}  // namespace

double contiguous_sum(const float* p, std::int64_t n) {
  return SumOp<float>{}.row(p, n);
}

void sum(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() {
    reduce_into<sum_out_t<T>>(out, x, reduced, SumOp<T>{}, [](wide_t<T> a) { return a; });
  });
}

void prod(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch(x.dtype(), [&]<typename T>() {
    reduce_into<sum_out_t<T>>(out, x, reduced, ProdOp<T>{}, [](wide_t<T> a) { return a; });
  });
}

void mean(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  const auto k = static_cast<double>(kernels::reduced_count(x.shape(), reduced));
  dispatch_floating(x.dtype(), "mean", [&]<typename T>() {
    reduce_into<T>(out, x, reduced, SumOp<T>{}, [k](double a) { return a / k; });
  });
}

void var(const Tensor& out, const Tensor& x, const ReduceMask& reduced, std::int64_t correction, bool take_sqrt) {
  dispatch_floating(x.dtype(), "var", [&]<typename T>() {
    reduce_into<T>(out, x, reduced, VarOp<T>{}, [=](const kernels::Moments& m) {
      const double v = m.m2 / std::max(0.0, m.n - static_cast<double>(correction));
      return take_sqrt ? std::sqrt(v) : v;
    });
  });
}

void logsumexp(const Tensor& out, const Tensor& x, const ReduceMask& reduced) {
  dispatch_floating(x.dtype(), "logsumexp", [&]<typename T>() {
    reduce_into<T>(out, x, reduced, LogSumExpOp<T>{}, [](const MaxSum& a) { return a.max + std::log(a.sum); });
  });
}

void norm(const Tensor& out, const Tensor& x, const ReduceMask& reduced, double p) {
  dispatch_floating(x.dtype(), "norm", [&]<typename T>() {
    if (p == 0) norm_with<T, NormKind::Zero>(out, x, reduced, p);
    else if (p == 1) norm_with<T, NormKind::One>(out, x, reduced, p);
    else if (p == 2) norm_with<T, NormKind::Two>(out, x, reduced, p);
    else if (p == kInf) norm_with<T, NormKind::Inf>(out, x, reduced, p);
    else norm_with<T, NormKind::P>(out, x, reduced, p);
  });
}

void amax(const Tensor& out, const Tensor& x, const ReduceMask& reduced) { extremum<true>(out, x, reduced); }
void amin(const Tensor& out, const Tensor& x, const ReduceMask& reduced) { extremum<false>(out, x, reduced); }

void max_with_index(const Tensor& values, const Tensor& indices, const Tensor& x, const ReduceMask& reduced) {
  extremum_with_index<true>(values, indices, x, reduced);
}
void min_with_index(const Tensor& values, const Tensor& indices, const Tensor& x, const ReduceMask& reduced) {
  extremum_with_index<false>(values, indices, x, reduced);
}

void all(const Tensor& out, const Tensor& x, const ReduceMask& reduced) { logical<true>(out, x, reduced); }
void any(const Tensor& out, const Tensor& x, const ReduceMask& reduced) { logical<false>(out, x, reduced); }

namespace {

// Running sums of K contiguous rows of n, side by side: K independent chains of adds (one row's
// chain is latency-bound; 4 rows took 28-long rows from 393 to 293 us on (64,16,28,28), 8 lost).
template <std::int64_t K, typename Acc, typename T, typename Out>
void scan_rows(const T* x, Out* out, std::int64_t n) {
  Acc acc[K] = {};
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < K; ++k) {
      acc[k] += static_cast<Acc>(x[k * n + i]);
      out[k * n + i] = static_cast<Out>(acc[k]);
    }
}

}  // namespace

// Lines along dim are independent; when the last kept dim is contiguous, blocks of neighbouring
// lines advance together (whole rows per step, vectorisable) instead of one strided line each.
void cumsum(const Tensor& out, const Tensor& x, std::int64_t dim) {
  if (x.numel() == 0) return;
  dispatch(x.dtype(), [&]<typename T>() {
    using Out = sum_out_t<T>;
    using Acc = wide_t<T>;
    const T* px = x.data_ptr<T>();
    Out* po = out.data_ptr<Out>();
    if (x.dim() == 0) {
      po[0] = static_cast<Out>(static_cast<Acc>(px[0]));
      return;
    }
    const auto d = static_cast<std::size_t>(dim);
    const std::int64_t n = x.shape()[d], xs = x.strides()[d], os = out.strides()[d];
    if (d + 1 == x.shape().size() && x.is_contiguous()) {  // scans along contiguous rows
      // (the general walk below pays a multi-index per row: 8x LibTorch's time on 28-long rows)
      const std::int64_t rows = x.numel() / n;
      const std::int64_t grain = std::max<std::int64_t>(1, reduce_detail::kGrainElems / n);
      detail::parallel_for(0, rows, grain, [&](std::int64_t b, std::int64_t e) {
        std::int64_t r = b;
        for (; r + 4 <= e; r += 4) scan_rows<4, Acc>(px + r * n, po + r * n, n);
        for (; r < e; ++r) scan_rows<1, Acc>(px + r * n, po + r * n, n);
      });
      return;
    }
    Shape sizes, xst, ost;
    for (std::size_t k = 0; k < x.shape().size(); ++k)
      if (k != d) {
        sizes.push_back(x.shape()[k]);
        xst.push_back(x.strides()[k]);
        ost.push_back(out.strides()[k]);
      }
    const bool block = !sizes.empty() && xst.back() == 1 && ost.back() == 1 && sizes.back() >= 4;
    const std::int64_t J = block ? sizes.back() : 1, B = std::min(J, reduce_detail::kBlockJ);
    const std::int64_t blocks = (J + B - 1) / B;
    if (block) {
      sizes.back() = 1;
      xst.back() = ost.back() = 0;
    }
    const std::int64_t groups = shape_numel(sizes) * blocks;
    const std::int64_t grain = std::max<std::int64_t>(1, reduce_detail::kGrainElems / (n * B));
    detail::parallel_for(0, groups, grain, [&](std::int64_t b, std::int64_t e) {
      std::array<Acc, reduce_detail::kBlockJ> acc;
      for (std::int64_t g = b; g < e; ++g) {
        const std::int64_t q = g / blocks, j0 = (g % blocks) * B, len = std::min(B, J - j0);
        const reduce_detail::Cursor xc(sizes, xst, q), oc(sizes, ost, q);
        const T* xp = px + xc.offset + j0;
        Out* op = po + oc.offset + j0;
        for (std::int64_t j = 0; j < len; ++j) acc[static_cast<std::size_t>(j)] = 0;
        for (std::int64_t i = 0; i < n; ++i, xp += xs, op += os)
          for (std::int64_t j = 0; j < len; ++j) {
            acc[static_cast<std::size_t>(j)] += static_cast<Acc>(xp[j]);
            op[j] = static_cast<Out>(acc[static_cast<std::size_t>(j)]);
          }
      }
    });
  });
}

}  // namespace tapeflow::cpu
