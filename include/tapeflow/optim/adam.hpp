#pragma once
// optim::Adam (with amsgrad, L2 weight decay folded into the gradient, maximize); PyTorch 1.13's
// update (torch.optim.Adam), per parameter with its own step count t:
//   d = ±grad + weight_decay * param
//   exp_avg = beta1 * exp_avg + (1 - beta1) * d;  exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * d^2
//   v = amsgrad ? (max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)) : exp_avg_sq
//   param -= lr / (1 - beta1^t) * exp_avg / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State per parameter: "step" (a 0-d float64 count; PyTorch keeps float32, exact only to 2^24),
// "exp_avg", "exp_avg_sq", "max_exp_avg_sq" (amsgrad).
// For decoupled weight decay use optim::AdamW.
//
//   optim::Adam opt(model->parameters(), {.lr = 1e-3, .betas = {0.9, 0.99}});
#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

namespace detail {
// The option names of Adam and AdamW (the same fields; only weight_decay's default differs).
template <class Options, class F>
void adam_fields(Options& o, F&& f) {
  f("lr", o.lr);
  f("beta1", o.betas[0]);
  f("beta2", o.betas[1]);
  f("eps", o.eps);
  f("weight_decay", o.weight_decay);
  f("amsgrad", o.amsgrad);
  f("maximize", o.maximize);
}
}  // namespace detail

struct AdamOptions {
  double lr = 1e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;

  template <class F>
  void fields(F&& f) {
    detail::adam_fields(*this, f);
  }
  // lr >= 0, eps >= 0, 0 <= betas < 1, weight_decay >= 0.
  void validate(const char* optimizer, std::size_t group) const;
};

class Adam : public OptimizerWithOptions<AdamOptions> {
 public:
  explicit Adam(std::vector<Tensor> params, AdamOptions defaults = {});
  Adam(std::vector<ParamGroup<AdamOptions>> groups, AdamOptions defaults = {});
  // Optimizer({a, b}): a braced list of tensors is one group (not a list of one-tensor groups).
  explicit Adam(std::initializer_list<Tensor> params, AdamOptions defaults = {})
      : Adam(std::vector<Tensor>(params), defaults) {}

  using Optimizer::step;
  void step() override;
  // beta1, which schedulers such as OneCycleLR cycle.
  std::optional<double> momentum(std::size_t group) const override;
  void set_momentum(std::size_t group, double value) override;
};

}  // namespace tapeflow::optim
