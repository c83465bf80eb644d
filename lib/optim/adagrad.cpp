// optim::Adagrad: options, construction, step (the math is in cpu/optim_update_rules.hpp).
#include "tapeflow/optim/adagrad.hpp"

#include "kernels/backend.hpp"
#include "optim/update_state.hpp"
#include "tapeflow/autograd.hpp"

namespace tapeflow::optim {

void AdagradOptions::validate(const char* optimizer, std::size_t group) const {
  detail::check_option(lr >= 0, optimizer, group, "lr", lr, ">= 0");
  detail::check_option(lr_decay >= 0, optimizer, group, "lr_decay", lr_decay, ">= 0");
  detail::check_option(weight_decay >= 0, optimizer, group, "weight_decay", weight_decay, ">= 0");
  detail::check_option(initial_accumulator_value >= 0, optimizer, group, "initial_accumulator_value",
                       initial_accumulator_value, ">= 0");
  detail::check_option(eps >= 0, optimizer, group, "eps", eps, ">= 0");
}

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions defaults)
    : Adagrad(std::vector<ParamGroup<AdagradOptions>>{{std::move(params)}}, defaults) {}

Adagrad::Adagrad(std::vector<ParamGroup<AdagradOptions>> groups, AdagradOptions defaults)
    : OptimizerWithOptions("Adagrad", std::move(groups), defaults) {}

void Adagrad::step() {
  NoGradGuard no_grad;
  for_each_param_with_grad([&](std::size_t group, const Tensor& param, const Tensor& grad, StateDict& state) {
    const AdagradOptions& o = options(group);
    const double step = detail::increment_step(state, name());
    const Tensor sum = detail::state_tensor(state, "sum", param, name(), o.initial_accumulator_value);
    kernels::on(param).adagrad_update(param, grad, sum, {o.lr / (1 + (step - 1) * o.lr_decay), o.eps, o.weight_decay, o.maximize});
    param.impl()->storage->bump_version();
  });
}

}  // namespace tapeflow::optim
