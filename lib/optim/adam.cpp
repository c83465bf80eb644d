// optim::Adam: options, construction, step (the math is in cpu/optim_update_rules.hpp).
#include "tapeflow/optim/adam.hpp"

#include "optim/adam_common.hpp"
#include "tapeflow/autograd.hpp"

namespace tapeflow::optim {

void AdamOptions::validate(const char* optimizer, std::size_t group) const {
  detail::validate_adam_options(*this, optimizer, group);
}

Adam::Adam(std::vector<Tensor> params, AdamOptions defaults)
    : Adam(std::vector<ParamGroup<AdamOptions>>{{std::move(params)}}, defaults) {}

Adam::Adam(std::vector<ParamGroup<AdamOptions>> groups, AdamOptions defaults)
    : OptimizerWithOptions("Adam", std::move(groups), defaults) {}

void Adam::step() {
  NoGradGuard no_grad;
  for_each_param_with_grad([&](std::size_t group, const Tensor& param, const Tensor& grad, StateDict& state) {
    detail::adam_param_step(name(), options(group), /*decoupled_weight_decay=*/false, param, grad, state);
  });
}

std::optional<double> Adam::momentum(std::size_t group) const { return options(group).betas[0]; }
void Adam::set_momentum(std::size_t group, double value) { options(group).betas[0] = value; }

}  // namespace tapeflow::optim
