#pragma once
// The per-element math of the optimizer updates, written once for every backend (the CPU
// kernels in optim_update.cpp; later the CUDA ones). Each rule is PyTorch 1.13's single-tensor
// update (torch/optim/<name>.py, _single_tensor_<name>) with its operations in the same order,
// computed in the parameter's type T with the scalars cast to T as PyTorch's kernels do, so that
// trajectories match PyTorch's to rounding.
//
// What several optimizers share is factored here: the effective gradient (maximize, coupled L2
// weight decay), the exponential moving averages, and addcdiv.
#include <cmath>
#include <tuple>

#include "kernels/host_device.hpp"  // the operator()s run in CUDA kernels too (cuda/optim_update.cu)

namespace tapeflow::cpu {

// ---- the scalars of one update (per parameter), in double; the rules cast them to T ----
struct SGDUpdate {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};
struct AdamUpdate {  // Adam, and AdamW with decoupled_weight_decay
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay, maximize;
  double bias_correction1, bias_correction2_sqrt;  // 1 - beta^step (sqrt for the second)
};
struct RMSpropUpdate {
  double lr, alpha, eps, weight_decay, momentum;
  bool maximize;
};
struct AdagradUpdate {
  double clr, eps, weight_decay;  // clr: lr / (1 + (step - 1) * lr_decay)
  bool maximize;
};

namespace optim_rules {

// d = (maximize ? -grad : grad) + weight_decay * param   (PyTorch: grad.add(param, alpha=wd)).
// Written without branches (a sign factor, selects) so that the loops vectorise.
template <class T>
struct EffectiveGrad {
  T sign, weight_decay;
  bool decay;
  EffectiveGrad(double wd, bool maximize)
      : sign(static_cast<T>(maximize ? -1 : 1)), weight_decay(static_cast<T>(wd)), decay(wd != 0) {}
  TAPEFLOW_HD T operator()(T grad, T param) const {
    const T d = grad * sign;  // exact
    return decay ? d + weight_decay * param : d;
  }
};

// avg.mul_(beta).add_(x, alpha=1-beta)
template <class T>
struct MovingAverage {
  T beta, one_minus_beta;
  explicit MovingAverage(double b) : beta(static_cast<T>(b)), one_minus_beta(static_cast<T>(1 - b)) {}
  TAPEFLOW_HD T operator()(T avg, T x) const { return avg * beta + one_minus_beta * x; }
  // avg.mul_(beta).addcmul_(x, x, value=1-beta)
  TAPEFLOW_HD T of_square(T avg, T x) const { return avg * beta + one_minus_beta * x * x; }
};

// self.addcdiv_(num, den, value=scale): self + scale * num / den, evaluated left to right
template <class T>
TAPEFLOW_HD T addcdiv(T self, T scale, T num, T den) {
  return self + scale * num / den;
}

// torch.maximum: NaN when either is NaN (a NaN `a` is kept: a < b is false). `|`, not `||`:
// no branch, so the loop vectorises.
template <class T>
TAPEFLOW_HD T maximum(T a, T b) {
  return ((a < b) | (b != b)) ? b : a;
}

// ---- one rule per optimizer family; operator() updates one element in place ----

template <class T>
struct SGDRule {
  EffectiveGrad<T> effective;
  T momentum, one_minus_dampening, neg_lr;
  bool nesterov, first_step;  // first_step: the buffer starts as d (no dampening)
  SGDRule(const SGDUpdate& u, bool first)
      : effective(u.weight_decay, u.maximize),
        momentum(static_cast<T>(u.momentum)),
        one_minus_dampening(static_cast<T>(1 - u.dampening)),
        neg_lr(static_cast<T>(-u.lr)),
        nesterov(u.nesterov),
        first_step(first) {}
  TAPEFLOW_HD void operator()(T& p, T g) const { p = p + neg_lr * effective(g, p); }
  TAPEFLOW_HD void operator()(T& p, T g, T& buf) const {
    T d = effective(g, p);
    buf = first_step ? d : buf * momentum + one_minus_dampening * d;
    d = nesterov ? d + momentum * buf : buf;
    p = p + neg_lr * d;
  }
};

// Adam and AdamW; the optional last operand is max_exp_avg_sq (amsgrad).
template <class T>
struct AdamRule {
  EffectiveGrad<T> effective;
  MovingAverage<T> first, second;
  T decay_factor, bias_correction2_sqrt, eps, neg_step_size;
  explicit AdamRule(const AdamUpdate& u)
      : effective(u.decoupled_weight_decay ? 0.0 : u.weight_decay, u.maximize),
        first(u.beta1),
        second(u.beta2),
        decay_factor(static_cast<T>(u.decoupled_weight_decay ? 1 - u.lr * u.weight_decay : 1)),
        bias_correction2_sqrt(static_cast<T>(u.bias_correction2_sqrt)),
        eps(static_cast<T>(u.eps)),
        neg_step_size(static_cast<T>(-(u.lr / u.bias_correction1))) {}
  template <class... MaxSq>
  TAPEFLOW_HD void operator()(T& p, T g, T& exp_avg, T& exp_avg_sq, MaxSq&... max_exp_avg_sq) const {
    const T d = effective(g, p);
    p = p * decay_factor;  // AdamW: param.mul_(1 - lr * weight_decay); Adam: * 1, exact
    exp_avg = first(exp_avg, d);
    exp_avg_sq = second.of_square(exp_avg_sq, d);
    T v = exp_avg_sq;
    if constexpr (sizeof...(MaxSq) == 1) {
      T& max_sq = std::get<0>(std::tie(max_exp_avg_sq...));
      max_sq = maximum(max_sq, exp_avg_sq);
      v = max_sq;
    }
    using std::sqrt;
    const T denom = sqrt(v) / bias_correction2_sqrt + eps;
    p = addcdiv(p, neg_step_size, exp_avg, denom);
  }
};

// RMSprop; the optional operands are grad_avg (Centered) then momentum_buffer (momentum > 0).
template <class T, bool Centered, bool Momentum>
struct RMSpropRule {
  EffectiveGrad<T> effective;
  MovingAverage<T> average;
  T eps, momentum, neg_lr;
  explicit RMSpropRule(const RMSpropUpdate& u)
      : effective(u.weight_decay, u.maximize),
        average(u.alpha),
        eps(static_cast<T>(u.eps)),
        momentum(static_cast<T>(u.momentum)),
        neg_lr(static_cast<T>(-u.lr)) {}
  template <class... Extra>
  TAPEFLOW_HD void operator()(T& p, T g, T& square_avg, Extra&... extra) const {
    static_assert(sizeof...(Extra) == static_cast<std::size_t>(Centered) + static_cast<std::size_t>(Momentum));
    using std::sqrt;
    const T d = effective(g, p);
    square_avg = average.of_square(square_avg, d);
    T avg;
    if constexpr (Centered) {
      T& grad_avg = std::get<0>(std::tie(extra...));
      grad_avg = average(grad_avg, d);
      avg = sqrt(square_avg - grad_avg * grad_avg);  // square_avg.addcmul(g_avg, g_avg, value=-1)
    } else {
      avg = sqrt(square_avg);
    }
    avg = avg + eps;
    if constexpr (Momentum) {
      T& buf = std::get<sizeof...(Extra) - 1>(std::tie(extra...));
      buf = addcdiv(buf * momentum, T(1), d, avg);
      p = p + neg_lr * buf;
    } else {
      p = addcdiv(p, neg_lr, d, avg);
    }
  }
};

template <class T>
struct AdagradRule {
  EffectiveGrad<T> effective;
  T eps, neg_clr;
  explicit AdagradRule(const AdagradUpdate& u)
      : effective(u.weight_decay, u.maximize), eps(static_cast<T>(u.eps)), neg_clr(static_cast<T>(-u.clr)) {}
  TAPEFLOW_HD void operator()(T& p, T g, T& sum) const {
    using std::sqrt;
    const T d = effective(g, p);
    sum = sum + d * d;  // state_sum.addcmul_(grad, grad, value=1)
    p = addcdiv(p, neg_clr, d, sqrt(sum) + eps);
  }
};

}  // namespace optim_rules
}  // namespace tapeflow::cpu
