#pragma once
// optim::AdamW: Adam with decoupled weight decay (Loshchilov & Hutter); PyTorch 1.13's update
// (torch.optim.AdamW): param *= 1 - lr * weight_decay, then Adam's step on the plain gradient
// (see adam.hpp). State per parameter as Adam's.
//
//   optim::AdamW opt(model->parameters(), {.lr = 1e-3, .weight_decay = 0.05});
#include <array>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <vector>

#include "tapeflow/optim/adam.hpp"

namespace tapeflow::optim {

struct AdamWOptions {
  double lr = 1e-3;
  std::array<double, 2> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;

  template <class F>
  void fields(F&& f) {
    detail::adam_fields(*this, f);
  }
  // lr >= 0, eps >= 0, 0 <= betas < 1, weight_decay >= 0.
  void validate(const char* optimizer, std::size_t group) const;
};

class AdamW : public OptimizerWithOptions<AdamWOptions> {
 public:
  explicit AdamW(std::vector<Tensor> params, AdamWOptions defaults = {});
  AdamW(std::vector<ParamGroup<AdamWOptions>> groups, AdamWOptions defaults = {});
  // Optimizer({a, b}): a braced list of tensors is one group (not a list of one-tensor groups).
  explicit AdamW(std::initializer_list<Tensor> params, AdamWOptions defaults = {})
      : AdamW(std::vector<Tensor>(params), defaults) {}

  using Optimizer::step;
  void step() override;
  // beta1, which schedulers such as OneCycleLR cycle.
  std::optional<double> momentum(std::size_t group) const override;
  void set_momentum(std::size_t group, double value) override;
};

}  // namespace tapeflow::optim
