#pragma once
// optim::RMSprop (centered, momentum, L2 weight decay, maximize); PyTorch 1.13's update
// (torch.optim.RMSprop):
//   d = ±grad + weight_decay * param
//   square_avg = alpha * square_avg + (1 - alpha) * d^2
//   centered: grad_avg = alpha * grad_avg + (1 - alpha) * d;  avg = sqrt(square_avg - grad_avg^2) + eps
//   else:     avg = sqrt(square_avg) + eps
//   momentum > 0: buf = momentum * buf + d / avg;  param -= lr * buf
//   else:         param -= lr * d / avg
// State per parameter: "step" (a 0-d float64 count), "square_avg", "grad_avg" (centered), "momentum_buffer"
// (momentum > 0). Each is created, as zeros, on the first step that needs it.
//
//   optim::RMSprop opt(model->parameters(), {.lr = 1e-2, .momentum = 0.9, .centered = true});
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <vector>

#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim {

struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;

  template <class F>
  void fields(F&& f) {
    f("lr", lr);
    f("alpha", alpha);
    f("eps", eps);
    f("weight_decay", weight_decay);
    f("momentum", momentum);
    f("centered", centered);
    f("maximize", maximize);
  }
  // lr, alpha, eps, weight_decay, momentum >= 0.
  void validate(const char* optimizer, std::size_t group) const;
};

class RMSprop : public OptimizerWithOptions<RMSpropOptions> {
 public:
  explicit RMSprop(std::vector<Tensor> params, RMSpropOptions defaults = {});
  RMSprop(std::vector<ParamGroup<RMSpropOptions>> groups, RMSpropOptions defaults = {});
  // Optimizer({a, b}): a braced list of tensors is one group (not a list of one-tensor groups).
  explicit RMSprop(std::initializer_list<Tensor> params, RMSpropOptions defaults = {})
      : RMSprop(std::vector<Tensor>(params), defaults) {}

  using Optimizer::step;
  void step() override;
  std::optional<double> momentum(std::size_t group) const override;
  void set_momentum(std::size_t group, double value) override;
};

}  // namespace tapeflow::optim
