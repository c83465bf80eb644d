#pragma once
// What Adam and AdamW share (their options have the same fields; only AdamW decouples the
// weight decay): validation and the per-parameter step.
#include <cmath>
#include <cstddef>

#include "kernels/backend.hpp"
#include "optim/update_state.hpp"

namespace tapeflow::optim::detail {

template <class Options>
void validate_adam_options(const Options& o, const char* optimizer, std::size_t group) {
  check_option(o.lr >= 0, optimizer, group, "lr", o.lr, ">= 0");
  check_option(o.eps >= 0, optimizer, group, "eps", o.eps, ">= 0");
  check_option(o.betas[0] >= 0 && o.betas[0] < 1, optimizer, group, "betas[0]", o.betas[0], "in [0, 1)");
  check_option(o.betas[1] >= 0 && o.betas[1] < 1, optimizer, group, "betas[1]", o.betas[1], "in [0, 1)");
  check_option(o.weight_decay >= 0, optimizer, group, "weight_decay", o.weight_decay, ">= 0");
}

template <class Options>
void adam_param_step(const char* optimizer, const Options& o, bool decoupled_weight_decay, const Tensor& param,
                     const Tensor& grad, StateDict& state) {
  const double step = increment_step(state, optimizer);
  const Tensor exp_avg = state_tensor(state, "exp_avg", param, optimizer);
  const Tensor exp_avg_sq = state_tensor(state, "exp_avg_sq", param, optimizer);
  const Tensor max_exp_avg_sq = o.amsgrad ? state_tensor(state, "max_exp_avg_sq", param, optimizer) : Tensor();
  const cpu::AdamUpdate u{o.lr,
                          o.betas[0],
                          o.betas[1],
                          o.eps,
                          o.weight_decay,
                          decoupled_weight_decay,
                          o.maximize,
                          1 - std::pow(o.betas[0], step),
                          std::sqrt(1 - std::pow(o.betas[1], step))};
  kernels::on(param).adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, u);
  param.impl()->storage->bump_version();
}

}  // namespace tapeflow::optim::detail
