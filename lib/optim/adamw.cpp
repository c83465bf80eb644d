// optim::AdamW: options, construction, step (the math is in cpu/optim_update_rules.hpp).
#include "tapeflow/optim/adamw.hpp"

#include "optim/adam_common.hpp"
#include "tapeflow/autograd.hpp"

namespace tapeflow::optim {

void AdamWOptions::validate(const char* optimizer, std::size_t group) const {
  detail::validate_adam_options(*this, optimizer, group);
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions defaults)
    : AdamW(std::vector<ParamGroup<AdamWOptions>>{{std::move(params)}}, defaults) {}

AdamW::AdamW(std::vector<ParamGroup<AdamWOptions>> groups, AdamWOptions defaults)
    : OptimizerWithOptions("AdamW", std::move(groups), defaults) {}

void AdamW::step() {
  NoGradGuard no_grad;
  for_each_param_with_grad([&](std::size_t group, const Tensor& param, const Tensor& grad, StateDict& state) {
    detail::adam_param_step(name(), options(group), /*decoupled_weight_decay=*/true, param, grad, state);
  });
}

std::optional<double> AdamW::momentum(std::size_t group) const { return options(group).betas[0]; }
void AdamW::set_momentum(std::size_t group, double value) { options(group).betas[0] = value; }

}  // namespace tapeflow::optim
