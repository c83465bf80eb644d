// Class-target losses in one pass per sample (max, log-sum-exp, the target's terms), and the
// elementwise binary cross entropies. Per-sample values are combined in float64.
#include "cpu/loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "core/parallel.hpp"

namespace tapeflow::cpu {
namespace {

// Calls f.template operator()<I>() with I the C++ type of an int32/int64 target.
template <typename F>
void dispatch_index(DType dt, F&& f) {
  if (dt == kInt32) f.template operator()<std::int32_t>();
  else f.template operator()<std::int64_t>();
}

// "3" for a 1-D target, "(1, 0, 2)" for a K-dimensional one.
std::string position(IntArrayRef shape, std::int64_t flat) {
  if (shape.size() <= 1) return std::to_string(flat);
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::ostringstream os;
  os << IntArrayRef(idx);
  return os.str();
}

// Weight of class t (1 without weights).
template <typename T>
double class_weight(const T* w, std::int64_t t) {
  return w ? static_cast<double>(w[t]) : 1.0;
}

// sum_i exp(x[i] - shift) over a contiguous row: exp is the cost, so it runs on xsimd batches.
template <typename T>
T sum_exp_shifted(const T* x, std::int64_t n, T shift) {
  using Batch = xsimd::batch<T>;
  constexpr std::int64_t L = Batch::size;
  Batch acc(T(0));
  const Batch s(shift);
  std::int64_t i = 0;
  for (; i + L <= n; i += L) acc += xsimd::exp(Batch::load_unaligned(x + i) - s);
  T sum = xsimd::hadd(acc);
  for (; i < n; ++i) sum += std::exp(x[i] - shift);
  return sum;
}

// The loss of one sample from its contiguous row of C logits (or log-probabilities).
template <typename T, bool FromLogits>
double row_loss(const T* row, std::int64_t C, std::int64_t t, const T* w, double smoothing) {
  if constexpr (!FromLogits) {
    return -class_weight(w, t) * static_cast<double>(row[t]);
  } else {
    T mx = -std::numeric_limits<T>::infinity();
    for (std::int64_t c = 0; c < C; ++c) mx = row[c] > mx ? row[c] : mx;
    const T lse = std::log(sum_exp_shifted(row, C, mx));
    // -log_softmax[c] = (max - x[c]) + log(sum): the rounding of log_softmax's kernel.
    double loss = (1.0 - smoothing) * class_weight(w, t) * static_cast<double>((mx - row[t]) + lse);
    if (smoothing > 0) {
      double uniform = 0;
      for (std::int64_t c = 0; c < C; ++c) uniform += class_weight(w, c) * static_cast<double>((mx - row[c]) + lse);
      loss += smoothing / static_cast<double>(C) * uniform;
    }
    return loss;
  }
}

template <typename T, typename I, bool FromLogits>
void class_loss_kernel(const ClassTargets& c, const T* x, const I* target, const T* w, double* per_sample) {
  const std::int64_t C = c.classes, inner = c.inner;
  const std::int64_t samples = c.outer * inner;
  // Rows are contiguous when inner == 1; otherwise each sample's classes are gathered first.
  const std::int64_t grain = std::max<std::int64_t>(1, detail::kElementwiseGrain / std::max<std::int64_t>(C, 1));
  detail::parallel_for(0, samples, grain, [&](std::int64_t b, std::int64_t e) {
    std::vector<T> gathered(inner == 1 ? 0 : static_cast<std::size_t>(C));
    for (std::int64_t s = b; s < e; ++s) {
      const std::int64_t t = target[s];
      if (t == c.ignore_index) {
        per_sample[s] = 0;
        continue;
      }
      const std::int64_t o = s / inner, j = s % inner;
      const T* row = x + o * C * inner + j;
      if (inner != 1) {
        for (std::int64_t k = 0; k < C; ++k) gathered[static_cast<std::size_t>(k)] = row[k * inner];
        row = gathered.data();
      }
      per_sample[s] = row_loss<T, FromLogits>(row, C, t, w, c.label_smoothing);
    }
  });
}

template <typename T>
const T* optional_data(const Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

}  // namespace

double class_target_weight(const ClassTargets& c, const Tensor& target, const Tensor& weight) {
  double total = 0;
  dispatch_floating(weight.defined() ? weight.dtype() : kFloat64, c.op, [&]<typename T>() {
    const T* w = optional_data<T>(weight);
    dispatch_index(target.dtype(), [&]<typename I>() {
      const I* t = target.data_ptr<I>();
      const std::int64_t n = target.numel();
      for (std::int64_t s = 0; s < n; ++s) {
        const std::int64_t ts = t[s];
        if (ts == c.ignore_index) continue;
        if (ts < 0 || ts >= c.classes)
          fail<IndexError>(c.op, "target ", ts, " is out of range for ", c.classes, " classes (at index ",
                           position(c.target_shape, s), ")");
        total += class_weight(w, ts);
      }
    });
  });
  return total;
}

void class_loss(const ClassTargets& c, const Tensor& input, const Tensor& target, const Tensor& weight,
                bool from_logits, double* per_sample) {
  dispatch_floating(input.dtype(), c.op, [&]<typename T>() {
    dispatch_index(target.dtype(), [&]<typename I>() {
      const T* x = input.data_ptr<T>();
      const I* t = target.data_ptr<I>();
      const T* w = optional_data<T>(weight);
      if (from_logits) class_loss_kernel<T, I, true>(c, x, t, w, per_sample);
      else class_loss_kernel<T, I, false>(c, x, t, w, per_sample);
    });
  });
}

void class_loss_coefficients(const ClassTargets& c, const Tensor& target, const Tensor& weight, double scale,
                             const Tensor& a, const Tensor& sums) {
  dispatch_floating(a.dtype(), c.op, [&]<typename T>() {
    dispatch_index(target.dtype(), [&]<typename I>() {
      const I* t = target.data_ptr<I>();
      const T* w = optional_data<T>(weight);
      T* ap = a.data_ptr<T>();
      T* sp = sums.data_ptr<T>();
      const std::int64_t C = c.classes, inner = c.inner, samples = c.outer * inner;
      const double ls = c.label_smoothing;
      // The smoothing part is the same for every sample: scale * ls / C * weight[c].
      std::vector<double> uniform(ls > 0 ? static_cast<std::size_t>(C) : 0);
      double uniform_sum = 0;
      for (std::size_t k = 0; k < uniform.size(); ++k) {
        uniform[k] = scale * ls / static_cast<double>(C) * class_weight(w, static_cast<std::int64_t>(k));
        uniform_sum += uniform[k];
      }
      std::fill(ap, ap + a.numel(), T(0));
      for (std::int64_t s = 0; s < samples; ++s) {
        const std::int64_t ts = t[s];
        if (ts == c.ignore_index) {
          sp[s] = T(0);
          continue;
        }
        T* col = ap + (s / inner) * C * inner + s % inner;  // element (o, k, j) at col[k * inner]
        const double hit = scale * (1.0 - ls) * class_weight(w, ts);
        for (std::size_t k = 0; k < uniform.size(); ++k) col[static_cast<std::int64_t>(k) * inner] = static_cast<T>(uniform[k]);
        col[ts * inner] = static_cast<T>(hit + (uniform.empty() ? 0.0 : uniform[static_cast<std::size_t>(ts)]));
        sp[s] = static_cast<T>(hit + uniform_sum);
      }
    });
  });
}

void binary_cross_entropy(const char* op, const Tensor& out, const Tensor& x, const Tensor& t) {
  dispatch_floating(x.dtype(), op, [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    const T* tp = t.data_ptr<T>();
    T* o = out.data_ptr<T>();
    const std::int64_t n = x.numel();
    for (std::int64_t i = 0; i < n; ++i)
      if (!(xp[i] >= T(0) && xp[i] <= T(1)))
        fail<ValueError>(op, "input must hold probabilities in [0, 1], got ", xp[i], " at flat index ", i,
                         " (for logits use binary_cross_entropy_with_logits)");
    detail::parallel_for(0, n, detail::kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i)
        o[i] = (tp[i] - T(1)) * std::max(T(std::log1p(-xp[i])), T(-100)) - tp[i] * std::max(T(std::log(xp[i])), T(-100));
    });
  });
}

void binary_cross_entropy_with_logits(const Tensor& out, const Tensor& x, const Tensor& t, const Tensor& pos_weight) {
  dispatch_floating(x.dtype(), "binary_cross_entropy_with_logits", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    const T* tp = t.data_ptr<T>();
    const T* pw = optional_data<T>(pos_weight);
    T* o = out.data_ptr<T>();
    detail::parallel_for(0, x.numel(), detail::kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        const T m = std::max(-xp[i], T(0));
        const T log_weight = pw ? (pw[i] - T(1)) * tp[i] + T(1) : T(1);
        o[i] = (T(1) - tp[i]) * xp[i] + log_weight * (std::log(std::exp(-m) + std::exp(-xp[i] - m)) + m);
      }
    });
  });
}

}  // namespace tapeflow::cpu
