// optim::SGD: options, construction, step (the math is in cpu/optim_update_rules.hpp).
#include "tapeflow/optim/sgd.hpp"

#include <cmath>

#include "kernels/backend.hpp"
#include "optim/update_state.hpp"
#include "tapeflow/autograd.hpp"

namespace tapeflow::optim {

void SGDOptions::validate(const char* optimizer, std::size_t group) const {
  if (std::isnan(lr))
    fail<ValueError>(optimizer, "param group ", group,
                     ": lr is required (PyTorch's SGD has no default learning rate), e.g. {.lr = 0.01}");
  detail::check_option(lr >= 0, optimizer, group, "lr", lr, ">= 0");
  detail::check_option(momentum >= 0, optimizer, group, "momentum", momentum, ">= 0");
  detail::check_option(weight_decay >= 0, optimizer, group, "weight_decay", weight_decay, ">= 0");
  detail::check_option(std::isfinite(dampening), optimizer, group, "dampening", dampening, "a finite number");
  if (nesterov && (momentum <= 0 || dampening != 0))
    fail<ValueError>(optimizer, "param group ", group,
                     ": Nesterov momentum requires a momentum > 0 and zero dampening, got momentum = ", momentum,
                     ", dampening = ", dampening);
}

SGD::SGD(std::vector<Tensor> params, SGDOptions defaults)
    : SGD(std::vector<ParamGroup<SGDOptions>>{{std::move(params)}}, defaults) {}

SGD::SGD(std::vector<ParamGroup<SGDOptions>> groups, SGDOptions defaults)
    : OptimizerWithOptions("SGD", std::move(groups), defaults) {}

void SGD::step() {
  NoGradGuard no_grad;
  for_each_param_with_grad([&](std::size_t group, const Tensor& param, const Tensor& grad, StateDict& state) {
    const SGDOptions& o = options(group);
    bool first_step = false;
    const Tensor buffer = o.momentum != 0
                              ? detail::state_tensor(state, "momentum_buffer", param, name(), std::nullopt, &first_step)
                              : Tensor();
    kernels::on(param).sgd_update(param, grad, buffer, first_step,
                    {o.lr, o.momentum, o.dampening, o.weight_decay, o.nesterov, o.maximize});
    param.impl()->storage->bump_version();
  });
}

std::optional<double> SGD::momentum(std::size_t group) const { return options(group).momentum; }
void SGD::set_momentum(std::size_t group, double value) { options(group).momentum = value; }

}  // namespace tapeflow::optim
