#pragma once
// optim::Adagrad (learning-rate decay, L2 weight decay, maximize); PyTorch 1.13's update
// (torch.optim.Adagrad), per parameter with its own step count t:
//   d = ±grad + weight_decay * param
//   sum += d^2
//   param -= lr / (1 + (t - 1) * lr_decay) * d / (sqrt(sum) + eps)
// State per parameter: "step" (a 0-d float64 count), "sum" (starts at initial_accumulator_value).
// Unlike PyTorch, which fills it for every parameter at construction, the state is created on a
// parameter's first step (as for the other optimizers); the updates are the same.
// Dense gradients only (tapeflow has no sparse tensors).
//
//   optim::Adagrad opt(model->parameters(), {.lr = 0.1, .lr_decay = 1e-3});
#include <cstddef>
#include <initializer_list>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;

  template <class F>
  void fields(F&& f) {
    f("lr", lr);
    f("lr_decay", lr_decay);
    f("weight_decay", weight_decay);
    f("initial_accumulator_value", initial_accumulator_value);
    f("eps", eps);
    f("maximize", maximize);
  }
  // lr, lr_decay, weight_decay, initial_accumulator_value, eps >= 0.
  void validate(const char* optimizer, std::size_t group) const;
};

class Adagrad : public OptimizerWithOptions<AdagradOptions> {
 public:
  explicit Adagrad(std::vector<Tensor> params, AdagradOptions defaults = {});
  Adagrad(std::vector<ParamGroup<AdagradOptions>> groups, AdagradOptions defaults = {});
  // Optimizer({a, b}): a braced list of tensors is one group (not a list of one-tensor groups).
  explicit Adagrad(std::initializer_list<Tensor> params, AdagradOptions defaults = {})
      : Adagrad(std::vector<Tensor>(params), defaults) {}

  using Optimizer::step;
  void step() override;
};

}  // namespace tapeflow::optim
