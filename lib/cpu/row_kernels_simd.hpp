#pragma once
// The body of RowKernels (row_kernels.hpp) for one instruction set. Included only by the per-ISA
// unit (isa_kernels.cpp); reuses elementwise_simd.hpp's exp_of, contig_sum and load_as_double.
// Remainders run on plain numbers through the same formulas, except exp, whose tail goes through
// one masked (or zero-padded) batch so that every element gets the same exp.
#include <cmath>
#include <cstdint>
#include <limits>

#include "cpu/elementwise_simd.hpp"

namespace tapeflow::cpu {
namespace {

template <class Arch, class T>
T row_max(const T* x, std::int64_t n) {
  using B = xsimd::batch<T, Arch>;
  constexpr std::int64_t W = static_cast<std::int64_t>(B::size);
  T mx = -std::numeric_limits<T>::infinity();
  std::int64_t i = 0;
  if (n >= 2 * W) {
    // max(m, v) keeps m when v is NaN (x86 returns the second operand): NaN is never the max.
    B m0 = B::load_unaligned(x), m1 = B::load_unaligned(x + W);
    for (i = 2 * W; i + 2 * W <= n; i += 2 * W) {
      m0 = B(xsimd::max(B::load_unaligned(x + i), m0));
      m1 = B(xsimd::max(B::load_unaligned(x + i + W), m1));
    }
    alignas(64) T lanes[2 * W];
    m0.store_aligned(lanes);
    m1.store_aligned(lanes + W);
    for (T v : lanes) mx = v > mx ? v : mx;
  }
  for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  return mx;
}

template <class Arch, class T>
T row_exp_sum(const T* x, T a, T b, T* y, std::int64_t n) {
  using B = xsimd::batch<T, Arch>;
  constexpr std::int64_t W = static_cast<std::int64_t>(B::size);
  const B va(a), vb(b);
  B s0(T(0)), s1(T(0));
  std::int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const B e0 = exp_of((B::load_unaligned(x + i) - va) - vb);
    const B e1 = exp_of((B::load_unaligned(x + i + W) - va) - vb);
    e0.store_unaligned(y + i);
    e1.store_unaligned(y + i + W);
    s0 += e0;
    s1 += e1;
  }
  for (; i + W <= n; i += W) {
    const B e = exp_of((B::load_unaligned(x + i) - va) - vb);
    e.store_unaligned(y + i);
    s0 += e;
  }
  T sum = xsimd::hadd(s0 + s1);
  if (i < n) {  // the tail through one masked or padded batch (its padding lanes are not summed)
    const std::int64_t rest = n - i;
    store_partial<Arch>(y + i, exp_of((load_partial<Arch>(x + i, rest) - va) - vb), rest);
    for (; i < n; ++i) sum += y[i];
  }
  return sum;
}

// y[i] = f(x[i]) (y may be x), f taking batches and plain numbers alike (splat for constants).
template <class Arch, class T, class F>
void row_map(const T* x, T* y, std::int64_t n, const F& f) {
  using B = xsimd::batch<T, Arch>;
  constexpr std::int64_t W = static_cast<std::int64_t>(B::size);
  std::int64_t i = 0;
  for (; i + W <= n; i += W) f(B::load_unaligned(x + i)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = f(x[i]);
}

template <class Arch, class T>
void row_sub2(const T* x, T a, T b, T* y, std::int64_t n) {
  row_map<Arch>(x, y, n, [a, b](auto v) { return (v - splat<decltype(v)>(a)) - splat<decltype(v)>(b); });
}

template <class Arch, class T>
void row_scale(T* y, T s, std::int64_t n) {
  row_map<Arch>(y, y, n, [s](auto v) { return v * splat<decltype(v)>(s); });
}

template <class Arch, class T>
void row_moments(const T* x, std::int64_t n, double* mean, double* var) {
  using D = xsimd::batch<double, Arch>;
  constexpr std::int64_t W = static_cast<std::int64_t>(D::size);
  const double m = contig_sum<Arch, T>(x, n) / static_cast<double>(n);
  const D vm(m);
  D a0(0.0), a1(0.0), a2(0.0), a3(0.0);
  std::int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    const D d0 = load_as_double<Arch>(x + i) - vm, d1 = load_as_double<Arch>(x + i + W) - vm;
    const D d2 = load_as_double<Arch>(x + i + 2 * W) - vm, d3 = load_as_double<Arch>(x + i + 3 * W) - vm;
    a0 = xsimd::fma(d0, d0, a0);
    a1 = xsimd::fma(d1, d1, a1);
    a2 = xsimd::fma(d2, d2, a2);
    a3 = xsimd::fma(d3, d3, a3);
  }
  double q = xsimd::hadd((a0 + a1) + (a2 + a3));
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - m;
    q += d * d;
  }
  *mean = m;
  *var = q / static_cast<double>(n);
}

template <class Arch, class T, bool HasW, bool HasB>
void affine_loop(const T* x, T mean, T rstd, const T* w, const T* b, T* y, std::int64_t n) {
  using B = xsimd::batch<T, Arch>;
  constexpr std::int64_t W = static_cast<std::int64_t>(B::size);
  const B vm(mean), vr(rstd);
  std::int64_t i = 0;
  for (; i + W <= n; i += W) {
    B v = (B::load_unaligned(x + i) - vm) * vr;
    if constexpr (HasW) v = v * B::load_unaligned(w + i);
    if constexpr (HasB) v = v + B::load_unaligned(b + i);
    v.store_unaligned(y + i);
  }
  for (; i < n; ++i) {
    T v = (x[i] - mean) * rstd;
    if constexpr (HasW) v = v * w[i];
    if constexpr (HasB) v = v + b[i];
    y[i] = v;
  }
}

template <class Arch, class T>
void row_affine(const T* x, T mean, T rstd, const T* w, const T* b, T* y, std::int64_t n) {
  if (w && b) affine_loop<Arch, T, true, true>(x, mean, rstd, w, b, y, n);
  else if (w) affine_loop<Arch, T, true, false>(x, mean, rstd, w, b, y, n);
  else if (b) affine_loop<Arch, T, false, true>(x, mean, rstd, w, b, y, n);
  else affine_loop<Arch, T, false, false>(x, mean, rstd, w, b, y, n);
}

template <class Arch, class T, bool HasW>
void norm_grad_loop(const T* g, const T* x, const T* w, double mean, double rstd, T* out, std::int64_t n) {
  using D = xsimd::batch<double, Arch>;
  constexpr std::int64_t W = static_cast<std::int64_t>(D::size);
  const D vm(mean), vr(rstd);
  D s0(0.0), s1(0.0), p0(0.0), p1(0.0);  // sums of gy and gy * xhat, two lanes each
  std::int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    D gy0 = load_as_double<Arch>(g + i), gy1 = load_as_double<Arch>(g + i + W);
    if constexpr (HasW) {
      gy0 = gy0 * load_as_double<Arch>(w + i);
      gy1 = gy1 * load_as_double<Arch>(w + i + W);
    }
    s0 = s0 + gy0;
    s1 = s1 + gy1;
    p0 = xsimd::fma(gy0, (load_as_double<Arch>(x + i) - vm) * vr, p0);
    p1 = xsimd::fma(gy1, (load_as_double<Arch>(x + i + W) - vm) * vr, p1);
  }
  double sg = xsimd::hadd(s0 + s1), sgx = xsimd::hadd(p0 + p1);
  for (; i < n; ++i) {
    const double gy = static_cast<double>(g[i]) * (HasW ? static_cast<double>(w[i]) : 1.0);
    sg += gy;
    sgx += gy * (static_cast<double>(x[i]) - mean) * rstd;
  }
  using B = xsimd::batch<T, Arch>;
  constexpr std::int64_t V = static_cast<std::int64_t>(B::size);
  const T a = static_cast<T>(sg / static_cast<double>(n)), c = static_cast<T>(sgx / static_cast<double>(n));
  const T tm = static_cast<T>(mean), tr = static_cast<T>(rstd);
  const B va(a), vc(c), vtm(tm), vtr(tr);
  for (i = 0; i + V <= n; i += V) {
    B gy = B::load_unaligned(g + i);
    if constexpr (HasW) gy = gy * B::load_unaligned(w + i);
    const B xhat = (B::load_unaligned(x + i) - vtm) * vtr;
    (vtr * (gy - va - xhat * vc)).store_unaligned(out + i);
  }
  for (; i < n; ++i) {
    const T gy = HasW ? g[i] * w[i] : g[i];
    out[i] = tr * (gy - a - (x[i] - tm) * tr * c);
  }
}

template <class Arch, class T>
void row_norm_grad(const T* g, const T* x, const T* w, double mean, double rstd, T* out, std::int64_t n) {
  if (w) norm_grad_loop<Arch, T, true>(g, x, w, mean, rstd, out, n);
  else norm_grad_loop<Arch, T, false>(g, x, w, mean, rstd, out, n);
}

template <class Arch, class T>
constexpr RowKernels<T> make_row_kernels() {
  return RowKernels<T>{&row_max<Arch, T>,     &row_exp_sum<Arch, T>, &row_sub2<Arch, T>,
                       &row_scale<Arch, T>,   &row_moments<Arch, T>, &row_affine<Arch, T>,
                       &row_norm_grad<Arch, T>};
}

}  // namespace
}  // namespace tapeflow::cpu
