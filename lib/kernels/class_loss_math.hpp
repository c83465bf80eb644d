#pragma once
// The per-element math of the class-target and binary losses (contracts in cpu/loss.hpp), as
// plain scalar functions for every backend: the CUDA kernels (cuda/loss.cu) call them, and
// tests/kernels/test_class_loss_math.cpp checks them against float64 references on the CPU.
//
// Notation: a sample's logits x[k] over C classes, mx = max_k x[k], lsum = log(sum_k exp(x[k] -
// mx)); target t, class weights w (1 without), label smoothing ls; q = (1 - ls) one_hot(t) +
// ls / C; scale = 1 / D (mean) or 1. The coefficient of -logp[k] in the scaled loss is
//   a[k] = hit [k == t] + smooth[k],   hit = scale (1 - ls) w[t],   smooth[k] = scale ls / C w[k].
#include <cmath>
#include <cstdint>

#include "kernels/host_device.hpp"

namespace tapeflow::kernels::class_loss {

// Weight of class k, in double; 1 without weights (w null).
template <typename T>
TAPEFLOW_HD double class_weight(const T* w, std::int64_t k) {
  return w ? static_cast<double>(w[k]) : 1.0;
}

// Where element (sample s, class k) of an (outer, C, inner) block lives: s = o * inner + j.
TAPEFLOW_HD constexpr std::int64_t class_offset(std::int64_t s, std::int64_t k, std::int64_t C, std::int64_t inner) {
  return ((s / inner) * C + k) * inner + s % inner;
}

// A target is valid when ignored or in [0, C).
TAPEFLOW_HD constexpr bool target_in_range(std::int64_t t, std::int64_t C, std::int64_t ignore_index) {
  return t == ignore_index || (t >= 0 && t < C);
}

// -log_softmax(x)[k] = (mx - x[k]) + lsum: log_softmax's own rounding.
template <typename T>
TAPEFLOW_HD T neg_log_prob(T mx, T xk, T lsum) {
  return (mx - xk) + lsum;
}

// softmax(x)[k] = exp((x[k] - mx) - lsum); not exp(x[k] - (mx + lsum)), which loses 1 - p when p
// is close to 1.
template <typename T>
TAPEFLOW_HD T softmax_from_stats(T xk, T mx, T lsum) {
  using std::exp;
  return exp((xk - mx) - lsum);
}

// A sample's loss: (1 - ls) w[t] nlp[t] + ls / C sum_k w[k] nlp[k] (the sum: smoothed_sum).
TAPEFLOW_HD inline double smoothed_loss(double ls, std::int64_t C, double w_target, double nlp_target,
                                        double smoothed_sum) {
  double loss = (1.0 - ls) * w_target * nlp_target;
  if (ls > 0) loss += ls / static_cast<double>(C) * smoothed_sum;
  return loss;
}

// The coefficients a[k] (see the top of this file): the target's part and each class's part.
TAPEFLOW_HD inline double hit_coefficient(double scale, double ls, double w_target) {
  return scale * (1.0 - ls) * w_target;
}
TAPEFLOW_HD inline double smooth_coefficient(double scale, double ls, std::int64_t C, double w_k) {
  return scale * ls / static_cast<double>(C) * w_k;
}

// d loss / d x[k] from logits: (softmax[k] sum_k a - a[k]) g, with sm_scale = sum_k a * g in T,
// rounded as the CPU kernel does (softmax term, minus the smoothing term, minus the hit term).
template <typename T>
TAPEFLOW_HD T logits_grad(T softmax_k, T sm_scale, double smooth_k, double hit, bool is_target, double g) {
  T v = softmax_k * sm_scale;
  if (smooth_k != 0) v = v - static_cast<T>(smooth_k * g);
  if (is_target) v = v - static_cast<T>(hit * g);
  return v;
}

// ---- binary cross entropy ----

// A probability input of binary_cross_entropy: in [0, 1], not NaN.
template <typename T>
TAPEFLOW_HD bool is_probability(T x) {
  return x >= T(0) && x <= T(1);
}

// (t - 1) max(log(1 - x), -100) - t max(log(x), -100): PyTorch's clamped logs.
template <typename T>
TAPEFLOW_HD T binary_cross_entropy(T x, T t) {
  using std::log, std::log1p;
  const T log1m = log1p(-x), logx = log(x);
  return (t - T(1)) * (log1m < T(-100) ? T(-100) : log1m) - t * (logx < T(-100) ? T(-100) : logx);
}

// (1 - t) x + (1 + (pw - 1) t) (log(exp(-m) + exp(-x - m)) + m), m = max(-x, 0): stable for any
// logit. has_pw false: pw = 1.
template <typename T>
TAPEFLOW_HD T binary_cross_entropy_with_logits(T x, T t, T pw, bool has_pw) {
  using std::exp, std::log;
  const T m = -x > T(0) ? -x : T(0);
  const T log_weight = has_pw ? (pw - T(1)) * t + T(1) : T(1);
  return (T(1) - t) * x + log_weight * (log(exp(-m) + exp(-x - m)) + m);
}

}  // namespace tapeflow::kernels::class_loss
