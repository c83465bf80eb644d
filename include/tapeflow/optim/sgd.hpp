#pragma once
// optim::SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum, L2 weight
// decay and maximize; PyTorch 1.13's update (torch.optim.SGD):
//   d = ±grad + weight_decay * param
//   buf = d on the first step, else momentum * buf + (1 - dampening) * d
//   d = nesterov ? d + momentum * buf : buf        (when momentum != 0)
//   param -= lr * d
// State per parameter: "momentum_buffer" (only when momentum != 0).
//
//   optim::SGD opt(model->parameters(), {.lr = 0.1, .momentum = 0.9});
//   optim::SGD opt(std::vector<optim::ParamGroup<optim::SGDOptions>>{{p1}, {p2, optim::SGDOptions{.lr = 0.01}}},
//                  {.lr = 0.1});
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <optional>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

struct SGDOptions {
  // Required, as in PyTorch (there is no good default step size): left unset (NaN), the
  // constructor throws a ValueError asking for it. A group given its own SGDOptions needs its lr too.
  double lr = std::numeric_limits<double>::quiet_NaN();
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;

  template <class F>
  void fields(F&& f) {
    f("lr", lr);
    f("momentum", momentum);
    f("dampening", dampening);
    f("weight_decay", weight_decay);
    f("nesterov", nesterov);
    f("maximize", maximize);
  }
  // lr >= 0, momentum >= 0, weight_decay >= 0; nesterov needs momentum > 0 and dampening == 0.
  void validate(const char* optimizer, std::size_t group) const;
};

class SGD : public OptimizerWithOptions<SGDOptions> {
 public:
  SGD(std::vector<Tensor> params, SGDOptions defaults);
  SGD(std::vector<ParamGroup<SGDOptions>> groups, SGDOptions defaults);
  // Optimizer({a, b}): a braced list of tensors is one group (not a list of one-tensor groups).
  SGD(std::initializer_list<Tensor> params, SGDOptions defaults) : SGD(std::vector<Tensor>(params), defaults) {}

  using Optimizer::step;
  void step() override;
  std::optional<double> momentum(std::size_t group) const override;
  void set_momentum(std::size_t group, double value) override;
};

}  // namespace tapeflow::optim
