// Class-target losses in one pass per sample (max, log-sum-exp, the target's terms), and the
// elementwise binary cross entropies. Per-sample values are combined in float64.
#include "cpu/loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "core/parallel.hpp"
#include "cpu/elementwise.hpp"

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

// out[i] = exp(in[i]) over n contiguous elements, on the vectorised kernel of the best
// instruction set (the elementwise backend's): exp is the cost of these losses.
template <typename T>
void exp_contiguous(T* out, const T* in, std::int64_t n) {
  detail_ew::run_contiguous<T, T>(Exp{}, out, {in}, n, std::make_index_sequence<1>{});
}

// Calls f(i, s) for every element i of outer rows [b, e) of an (outer, C, inner) block, s being
// its sample (relative to the first of row b), in an order where consecutive calls belong to
// different samples: per-sample reductions then form independent chains, not one long one
// (which is what makes rows of 10 classes slow one by one).
template <typename F>
void for_each_across_samples(std::int64_t C, std::int64_t inner, std::int64_t b, std::int64_t e, F&& f) {
  const std::int64_t rows = e - b;
  if (inner == 1) {
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t o = 0; o < rows; ++o) f(o * C + c, o);
  } else {
    for (std::int64_t o = 0; o < rows; ++o)
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t j = 0; j < inner; ++j) f((o * C + c) * inner + j, o * inner + j);
  }
}

// Samples of outer rows [b, e) of (outer, C, inner) logits: each one's max and log of the sum
// of exp(x - max). The shifted values of the whole range go through exp in one call.
// Rows of at least this many classes run one by one on the row kernels (row_kernels.hpp); shorter
// ones gain more from independent chains across samples.
constexpr std::int64_t kRowKernelMinClasses = 64;

// The row kernels of the chosen instruction set when (outer, C, inner) logits should use them.
template <typename T>
const RowKernels<T>* row_kernels_for(std::int64_t C, std::int64_t inner) {
  if (inner != 1 || C < kRowKernelMinClasses || g_vec_table == nullptr) return nullptr;
  return &g_vec_table->template get<T>().rows;
}

template <typename T>
void logsumexp_range(const T* x, std::int64_t C, std::int64_t inner, std::int64_t b, std::int64_t e, T* mx, T* lsum,
                     T* scratch) {
  const std::int64_t samples = (e - b) * inner;
  const T* xb = x + b * C * inner;
  if (const RowKernels<T>* k = row_kernels_for<T>(C, inner)) {
    for (std::int64_t s = 0; s < samples; ++s) {
      mx[s] = k->max(xb + s * C, C);
      lsum[s] = std::log(k->exp_sum(xb + s * C, mx[s], T(0), scratch, C));
    }
    return;
  }
  std::fill(mx, mx + samples, -std::numeric_limits<T>::infinity());
  std::fill(lsum, lsum + samples, T(0));
  // A NaN is never the max, but it poisons the sum below.
  for_each_across_samples(C, inner, b, e, [&](std::int64_t i, std::int64_t s) { mx[s] = xb[i] > mx[s] ? xb[i] : mx[s]; });
  for_each_across_samples(C, inner, b, e, [&](std::int64_t i, std::int64_t s) { scratch[i] = xb[i] - mx[s]; });
  exp_contiguous(scratch, scratch, samples * C);
  for_each_across_samples(C, inner, b, e, [&](std::int64_t i, std::int64_t s) { lsum[s] += scratch[i]; });
  for (std::int64_t s = 0; s < samples; ++s) lsum[s] = std::log(lsum[s]);
}

constexpr std::int64_t kBlockElements = 8192;

// Outer rows per parallel chunk: enough elements to be worth a thread.
std::int64_t outer_grain(std::int64_t C, std::int64_t inner) {
  return std::max<std::int64_t>(1, ::tapeflow::detail::kElementwiseGrain / std::max<std::int64_t>(C * inner, 1));
}

template <typename T, typename I>
void class_loss_kernel(const ClassTargets& c, const T* x, const I* target, const T* w, bool from_logits,
                       double* per_sample, T* stats) {
  const std::int64_t C = c.classes, inner = c.inner;
  const double ls = c.label_smoothing;
  auto wc = [w](std::int64_t k) { return class_weight(w, k); };
  if (!from_logits) {  // nll_loss: -weight[t] * x[t]
    for (std::int64_t s = 0; s < c.outer * inner; ++s) {
      const std::int64_t t = target[s];
      per_sample[s] = t == c.ignore_index ? 0.0 : -wc(t) * static_cast<double>(x[((s / inner) * C + t) * inner + s % inner]);
    }
    return;
  }
  // Blocks of rows small enough for their exps to stay in cache.
  const std::int64_t block_rows = std::max<std::int64_t>(1, kBlockElements / std::max<std::int64_t>(C * inner, 1));
  ::tapeflow::detail::parallel_for(0, c.outer, outer_grain(C, inner), [&](std::int64_t b, std::int64_t e) {
    const std::size_t most = static_cast<std::size_t>(std::min(block_rows, e - b) * inner);
    std::vector<T> mx(most), lsum(most), scratch(most * static_cast<std::size_t>(C));
    for (std::int64_t bb = b; bb < e; bb += block_rows) {
      const std::int64_t ee = std::min(e, bb + block_rows);
      logsumexp_range(x, C, inner, bb, ee, mx.data(), lsum.data(), scratch.data());
      for (std::int64_t k = 0; k < (ee - bb) * inner; ++k) {
        const std::size_t ku = static_cast<std::size_t>(k);
        const std::int64_t s = bb * inner + k;
        if (stats) {
          stats[s] = mx[ku];
          stats[c.outer * inner + s] = lsum[ku];
        }
        const std::int64_t t = target[s];
        if (t == c.ignore_index) {
          per_sample[s] = 0;
          continue;
        }
        const T* col = x + (s / inner) * C * inner + s % inner;  // class k2 at col[k2 * inner]
        // -log_softmax[k2] = (max - x[k2]) + log(sum): the rounding of log_softmax's own kernel.
        auto nlp = [&](std::int64_t k2) { return static_cast<double>((mx[ku] - col[k2 * inner]) + lsum[ku]); };
        double loss = (1.0 - ls) * wc(t) * nlp(t);
        if (ls > 0) {
          double uniform = 0;
          for (std::int64_t k2 = 0; k2 < C; ++k2) uniform += wc(k2) * nlp(k2);
          loss += ls / static_cast<double>(C) * uniform;
        }
        per_sample[s] = loss;
      }
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
                bool from_logits, double* per_sample, const Tensor& stats) {
  dispatch_floating(input.dtype(), c.op, [&]<typename T>() {
    dispatch_index(target.dtype(), [&]<typename I>() {
      class_loss_kernel<T, I>(c, input.data_ptr<T>(), target.data_ptr<I>(), optional_data<T>(weight), from_logits,
                              per_sample, stats.defined() ? stats.data_ptr<T>() : nullptr);
    });
  });
}

void class_loss_backward(const ClassTargets& c, const Tensor& grad_input, const Tensor& input, const Tensor& target,
                         const Tensor& weight, const Tensor& stats, double scale, const Tensor& grad_output,
                         bool from_logits) {
  dispatch_floating(input.dtype(), c.op, [&]<typename T>() {
    dispatch_index(target.dtype(), [&]<typename I>() {
      const T* x = input.data_ptr<T>();
      const I* t = target.data_ptr<I>();
      const T* w = optional_data<T>(weight);
      const T* g = grad_output.data_ptr<T>();
      const bool scalar_grad = grad_output.numel() == 1;
      T* out = grad_input.data_ptr<T>();
      const std::int64_t C = c.classes, inner = c.inner;
      const double ls = from_logits ? c.label_smoothing : 0.0;
      // The smoothing part of the coefficients, the same for every sample: scale * ls / C * w[k].
      std::vector<double> uniform(static_cast<std::size_t>(C), 0.0);
      double uniform_sum = 0;
      if (ls > 0)
        for (std::int64_t k = 0; k < C; ++k) uniform_sum += (uniform[static_cast<std::size_t>(k)] = scale * ls / static_cast<double>(C) * class_weight(w, k));
      const T* mx = optional_data<T>(stats);
      const T* lsum = mx ? mx + c.outer * inner : nullptr;
      ::tapeflow::detail::parallel_for(0, c.outer, outer_grain(C, inner), [&](std::int64_t b, std::int64_t e) {
        T* ob = out + b * C * inner;
        const std::int64_t n = (e - b) * C * inner;
        if (from_logits) {  // softmax = exp((x - max) - log(sum)), all of the range's exps in one call
          const T* xb = x + b * C * inner;
          const T* mb = mx + b * inner;
          const T* lb = lsum + b * inner;
          // not x - (max + log(sum)): that loses 1 - p where p is close to 1
          if (const RowKernels<T>* k = row_kernels_for<T>(C, inner)) {
            for (std::int64_t o = 0; o < e - b; ++o) k->exp_sum(xb + o * C, mb[o], lb[o], ob + o * C, C);
          } else {
            for_each_across_samples(C, inner, b, e, [&](std::int64_t i, std::int64_t s) { ob[i] = (xb[i] - mb[s]) - lb[s]; });
            exp_contiguous(ob, ob, n);
          }
        } else {
          std::fill(ob, ob + n, T(0));
        }
        for (std::int64_t o = b; o < e; ++o)
          for (std::int64_t j = 0; j < inner; ++j) {
            const std::int64_t s = o * inner + j;
            T* col = out + o * C * inner + j;  // class k at col[k * inner]
            const std::int64_t ts = t[s];
            if (ts == c.ignore_index) {
              for (std::int64_t k = 0; k < C; ++k) col[k * inner] = T(0);
              continue;
            }
            const double gs = static_cast<double>(g[scalar_grad ? 0 : s]);
            const double hit = scale * (1.0 - ls) * class_weight(w, ts);
            if (from_logits) {  // (softmax * sum(a) - a) * g
              const T sm_scale = static_cast<T>((hit + uniform_sum) * gs);
              if (ls > 0)
                for (std::int64_t k = 0; k < C; ++k)
                  col[k * inner] = col[k * inner] * sm_scale - static_cast<T>(uniform[static_cast<std::size_t>(k)] * gs);
              else
                for (std::int64_t k = 0; k < C; ++k) col[k * inner] *= sm_scale;
              col[ts * inner] -= static_cast<T>(hit * gs);
            } else {  // -a * g
              col[ts * inner] = static_cast<T>(-hit * gs);
            }
          }
      });
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
