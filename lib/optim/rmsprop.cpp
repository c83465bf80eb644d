// optim::RMSprop: options, construction, step (the math is in cpu/optim_update_rules.hpp).
#include "tapeflow/optim/rmsprop.hpp"

#include "kernels/backend.hpp"
#include "optim/update_state.hpp"
#include "tapeflow/autograd.hpp"

namespace tapeflow::optim {

void RMSpropOptions::validate(const char* optimizer, std::size_t group) const {
  detail::check_option(lr >= 0, optimizer, group, "lr", lr, ">= 0");
  detail::check_option(alpha >= 0, optimizer, group, "alpha", alpha, ">= 0");
  detail::check_option(eps >= 0, optimizer, group, "eps", eps, ">= 0");
  detail::check_option(weight_decay >= 0, optimizer, group, "weight_decay", weight_decay, ">= 0");
  detail::check_option(momentum >= 0, optimizer, group, "momentum", momentum, ">= 0");
}

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions defaults)
    : RMSprop(std::vector<ParamGroup<RMSpropOptions>>{{std::move(params)}}, defaults) {}

RMSprop::RMSprop(std::vector<ParamGroup<RMSpropOptions>> groups, RMSpropOptions defaults)
    : OptimizerWithOptions("RMSprop", std::move(groups), defaults) {}

void RMSprop::step() {
  NoGradGuard no_grad;
  for_each_param_with_grad([&](std::size_t group, const Tensor& param, const Tensor& grad, StateDict& state) {
    const RMSpropOptions& o = options(group);
    detail::increment_step(state, name());
    const Tensor square_avg = detail::state_tensor(state, "square_avg", param, name());
    const Tensor grad_avg = o.centered ? detail::state_tensor(state, "grad_avg", param, name()) : Tensor();
    const Tensor buffer = o.momentum > 0 ? detail::state_tensor(state, "momentum_buffer", param, name()) : Tensor();
    kernels::on(param).rmsprop_update(param, grad, square_avg, grad_avg, buffer,
                        {o.lr, o.alpha, o.eps, o.weight_decay, o.momentum, o.maximize});
    param.impl()->storage->bump_version();
  });
}

std::optional<double> RMSprop::momentum(std::size_t group) const { return options(group).momentum; }
void RMSprop::set_momentum(std::size_t group, double value) { options(group).momentum = value; }

}  // namespace tapeflow::optim
