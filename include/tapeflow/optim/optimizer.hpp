#pragma once
// optim::Optimizer, the base of SGD, Adam, AdamW, RMSprop and Adagrad.
//
// An optimizer holds parameter groups; each group has its own options (an aggregate struct per
// optimizer, e.g. AdamOptions{.lr = 1e-3}) and each parameter its own state tensors
// (momentum buffers, moment estimates, step counts). step() updates parameters in place under
// NoGradGuard from their .grad(); parameters without a gradient are skipped, as in PyTorch.
//
// state_dict() is a flat map of named tensors, so that it can be saved like a model's:
//   "param_groups.<g>.<option>"   0-d float64 tensors (lr, momentum, ...)
//   "param_groups.<g>.params"     int64 indices of the group's parameters (0..n-1, in order)
//   "state.<i>.<name>"            parameter i's state (exp_avg, momentum_buffer, step, ...)
// load_state_dict() checks that the shapes match the parameters this optimizer holds.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/error.hpp"
#include "tapeflow/state_dict.hpp"

namespace tapeflow::optim {

// A group of parameters with its own options (defaults to the optimizer's when not given):
//   std::vector<ParamGroup<SGDOptions>>{{w}, {b, SGDOptions{.lr = 0.1}}, {{w2, b2}, SGDOptions{.lr = 0.01}}}
template <typename Options>
struct ParamGroup {
  ParamGroup(std::vector<Tensor> params_, std::optional<Options> options_ = std::nullopt)
      : params(std::move(params_)), options(std::move(options_)) {}
  // A group of one tensor.
  ParamGroup(Tensor param, std::optional<Options> options_ = std::nullopt)
      : params{std::move(param)}, options(std::move(options_)) {}

  std::vector<Tensor> params;
  std::optional<Options> options = std::nullopt;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient.
  virtual void step() = 0;
  // PyTorch's closure form: re-evaluates the loss (closure zeroes grads, runs forward and
  // backward, returns the loss), then steps. Returns the loss.
  Tensor step(const std::function<Tensor()>& closure);
  // TensorFlow's route: evaluates loss_fn() under a GradientTape watching the parameters,
  // applies the gradients (without touching .grad()), and returns the loss.
  Tensor minimize(const std::function<Tensor()>& loss_fn);
  // Applies given gradients, one per parameter in parameters() order (undefined = skip).
  void apply_gradients(const std::vector<Tensor>& grads);

  // Clears (set_to_none) or zeroes every parameter's .grad().
  void zero_grad(bool set_to_none = true);

  std::size_t num_param_groups() const { return groups_.size(); }
  const std::vector<Tensor>& params(std::size_t group) const;
  std::vector<Tensor> parameters() const;  // all groups, in order

  // Learning rate of a group (what schedulers read and write).
  virtual double lr(std::size_t group) const = 0;
  virtual void set_lr(std::size_t group, double lr) = 0;
  // The group's momentum-like option, for schedulers that cycle it (OneCycleLR): SGD's
  // momentum, Adam's beta1, RMSprop's momentum. nullopt when the optimizer has none.
  virtual std::optional<double> momentum(std::size_t group) const;
  virtual void set_momentum(std::size_t group, double value);
  // PyTorch's param_group['initial_lr']: the group's lr before LR schedulers changed it. The
  // first scheduler built on this optimizer records it and later ones read it (so a second
  // scheduler, and SequentialLR, start from the lr the user gave); OneCycleLR sets it.
  std::optional<double> initial_lr(std::size_t group) const {
    return group < initial_lrs_.size() ? initial_lrs_[group] : std::nullopt;
  }
  void set_initial_lr(std::size_t group, double lr) {
    if (group >= num_param_groups())
      fail<IndexError>(name_, "parameter group ", group, " out of range (", num_param_groups(), " groups)");
    initial_lrs_.resize(num_param_groups());
    initial_lrs_[group] = lr;
  }

  StateDict state_dict() const;
  void load_state_dict(const StateDict& state);

  // Parameter i's state (created empty on first use); i counts over all groups in order.
  StateDict& state(std::size_t flat_index);
  const StateDict* find_state(std::size_t flat_index) const;

 protected:
  // Validates the groups (non-empty, floating-point leaves, no parameter twice) and stores them.
  Optimizer(const char* name, std::vector<std::vector<Tensor>> groups);
  const char* name() const { return name_; }
  // Group options to and from named values (implemented by OptimizerWithOptions).
  virtual void save_options(std::size_t group, StateDict& out, const std::string& prefix) const = 0;
  virtual void load_options(std::size_t group, const StateDict& in, const std::string& prefix) = 0;
  // Flat index of the first parameter of a group.
  std::size_t group_offset(std::size_t group) const;
  // group itself; an IndexError when there is no such group.
  std::size_t checked_group(std::size_t group) const;
  // The gradients step() uses: .grad() normally, the given ones inside apply_gradients().
  Tensor grad_of(std::size_t flat_index, const Tensor& param) const;
  // What step() loops over: visit(group, param, grad, state) for every parameter that has a
  // gradient, after checking that the gradient has the parameter's shape, dtype and device.
  using ParamVisitor =
      std::function<void(std::size_t group, const Tensor& param, const Tensor& grad, StateDict& state)>;
  void for_each_param_with_grad(const ParamVisitor& visit);

 private:
  const char* name_;
  std::vector<std::vector<Tensor>> groups_;
  std::vector<StateDict> state_;
  const std::vector<Tensor>* override_grads_ = nullptr;
  std::vector<std::optional<double>> initial_lrs_;  // see initial_lr()
};

namespace detail {
Tensor optimizer_option_tensor(double v);         // a 0-d float64 tensor
double optimizer_option_value(const Tensor& t);  // its value (throws unless one element)
}  // namespace detail

// Shared plumbing for an optimizer whose options struct has a `double lr` and a
// `template <class F> void fields(F&& f)` listing its options as f("name", member). When the
// struct also has `void validate(const char* optimizer, std::size_t group) const`, every group's
// options are validated at construction and before load_state_dict() adopts loaded ones.
template <typename Options>
class OptimizerWithOptions : public Optimizer {
 public:
  double lr(std::size_t group) const override { return options(group).lr; }
  void set_lr(std::size_t group, double lr) override { options(group).lr = lr; }
  Options& options(std::size_t group) { return options_[checked_group(group)]; }
  const Options& options(std::size_t group) const { return options_[checked_group(group)]; }
  const Options& defaults() const { return defaults_; }

 protected:
  OptimizerWithOptions(const char* name, std::vector<ParamGroup<Options>> groups, Options defaults)
      : Optimizer(name, params_of(groups)), defaults_(defaults) {
    for (auto& g : groups) options_.push_back(g.options.value_or(defaults));
    for (std::size_t g = 0; g < options_.size(); ++g) validate(options_[g], g);
  }
  void save_options(std::size_t group, StateDict& out, const std::string& prefix) const override {
    Options copy = options(group);
    copy.fields([&](const char* key, auto& value) { out.insert(prefix + key, detail::optimizer_option_tensor(static_cast<double>(value))); });
  }
  void load_options(std::size_t group, const StateDict& in, const std::string& prefix) override {
    Options o = options(group);
    o.fields([&](const char* key, auto& value) {
      const Tensor* t = in.find(prefix + key);
      if (!t) fail<ValueError>(name(), "load_state_dict: missing key '", prefix, key, "'");
      value = static_cast<std::decay_t<decltype(value)>>(detail::optimizer_option_value(*t));
    });
    validate(o, group);
    options(group) = o;
  }

 private:
  void validate(const Options& o, std::size_t group) const {
    if constexpr (requires { o.validate(name(), group); }) o.validate(name(), group);
  }
  static std::vector<std::vector<Tensor>> params_of(const std::vector<ParamGroup<Options>>& groups) {
    std::vector<std::vector<Tensor>> out;
    for (const auto& g : groups) out.push_back(g.params);
    return out;
  }

  Options defaults_;
  std::vector<Options> options_;
};

}  // namespace tapeflow::optim
