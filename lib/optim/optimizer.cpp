// optim::Optimizer: parameter groups, per-parameter state, state dicts, and the closure,
// minimize (GradientTape) and apply_gradients routes into step().
#include "tapeflow/optim/optimizer.hpp"

#include <set>
#include <sstream>

#include "tapeflow/autograd.hpp"
#include "tapeflow/creation.hpp"

namespace tapeflow::optim {

namespace detail {
Tensor optimizer_option_tensor(double v) { return scalar_tensor(v, kFloat64); }
double optimizer_option_value(const Tensor& t) {
  if (!t.defined() || t.numel() != 1)
    fail<ValueError>("Optimizer::load_state_dict", "an option must be a one-element tensor, got ",
                     t.defined() ? tapeflow::detail::cat_str(t.shape()) : std::string("an undefined tensor"));
  return t.item<double>();
}
}  // namespace detail

Optimizer::Optimizer(const char* name, std::vector<std::vector<Tensor>> groups) : name_(name) {
  if (groups.empty()) fail<ValueError>(name, "no parameter groups given");
  std::set<const TensorImpl*> seen;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty())
      fail<ValueError>(name, "parameter group ", g, " is empty (an optimizer needs parameters to update)");
    for (std::size_t i = 0; i < groups[g].size(); ++i) {
      const Tensor& p = groups[g][i];
      if (!p.defined()) fail<ValueError>(name, "parameter ", i, " of group ", g, " is undefined");
      if (!p.is_floating_point())
        fail<DTypeError>(name, "parameter ", i, " of group ", g, " has dtype ", dtype_name(p.dtype()),
                         "; only floating-point tensors can be optimized");
      if (!p.is_leaf())
        fail<ValueError>(name, "parameter ", i, " of group ", g, " (shape ", p.shape(),
                         ") is not a leaf tensor: it was computed by '", p.grad_fn_name(),
                         "'; optimize the tensors it was computed from, or detach() it");
      if (!seen.insert(p.impl()).second)
        fail<ValueError>(name, "parameter ", i, " of group ", g, " (shape ", p.shape(),
                         ") appears more than once across the parameter groups");
    }
  }
  groups_ = std::move(groups);
  std::size_t total = 0;
  for (const auto& g : groups_) total += g.size();
  state_.resize(total);
}

std::size_t Optimizer::checked_group(std::size_t group) const {
  if (group >= groups_.size())
    fail<IndexError>(name_, "parameter group ", group, " out of range (", groups_.size(), " groups)");
  return group;
}

const std::vector<Tensor>& Optimizer::params(std::size_t group) const { return groups_[checked_group(group)]; }

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> out;
  for (const auto& g : groups_) out.insert(out.end(), g.begin(), g.end());
  return out;
}

std::size_t Optimizer::group_offset(std::size_t group) const {
  std::size_t offset = 0;
  for (std::size_t g = 0; g < group; ++g) offset += groups_[g].size();
  return offset;
}

std::optional<double> Optimizer::momentum(std::size_t) const { return std::nullopt; }

void Optimizer::set_momentum(std::size_t, double) {
  fail<ValueError>(name_, "this optimizer has no momentum option to set");
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (const auto& g : groups_)
    for (const Tensor& p : g) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (set_to_none)
        p.set_grad(Tensor());
      else
        grad.zero_();
    }
}

Tensor Optimizer::grad_of(std::size_t flat_index, const Tensor& param) const {
  if (override_grads_) return (*override_grads_)[flat_index];
  return param.grad();
}

void Optimizer::for_each_param_with_grad(const ParamVisitor& visit) {
  std::size_t flat = 0;
  for (std::size_t g = 0; g < groups_.size(); ++g)
    for (const Tensor& p : groups_[g]) {
      const std::size_t index = flat++;
      const Tensor grad = grad_of(index, p);
      if (!grad.defined()) continue;
      if (!(grad.shape() == p.shape()))
        fail<ShapeError>(name_, "the gradient of parameter ", index, " has shape ", grad.shape(),
                         "; expected the parameter's shape ", p.shape());
      if (grad.dtype() != p.dtype())
        fail<DTypeError>(name_, "the gradient of parameter ", index, " has dtype ", dtype_name(grad.dtype()),
                         "; expected the parameter's dtype ", dtype_name(p.dtype()));
      if (grad.device() != p.device())
        fail<DeviceError>(name_, "the gradient of parameter ", index, " is on ", grad.device(),
                          "; expected the parameter's device ", p.device());
      visit(g, p, grad, state_[index]);
    }
}

Tensor Optimizer::step(const std::function<Tensor()>& closure) {
  Tensor loss;
  {
    EnableGradGuard grad_on;
    loss = closure();
  }
  step();
  return loss;
}

void Optimizer::apply_gradients(const std::vector<Tensor>& grads) {
  const std::vector<Tensor> params = parameters();
  if (grads.size() != params.size())
    fail<ValueError>(name_, "apply_gradients: ", grads.size(), " gradients for ", params.size(), " parameters");
  for (std::size_t i = 0; i < grads.size(); ++i)
    if (grads[i].defined() && !(grads[i].shape() == params[i].shape()))
      fail<ShapeError>(name_, "apply_gradients: gradient ", i, " has shape ", grads[i].shape(),
                       " but its parameter has shape ", params[i].shape());
  struct Reset {
    const std::vector<Tensor>*& slot;
    ~Reset() { slot = nullptr; }
  } reset{override_grads_};
  override_grads_ = &grads;
  step();
}

Tensor Optimizer::minimize(const std::function<Tensor()>& loss_fn) {
  const std::vector<Tensor> params = parameters();
  Tensor loss;
  std::vector<Tensor> grads;
  {
    EnableGradGuard grad_on;
    GradientTape tape;
    for (const Tensor& p : params) tape.watch(p);
    loss = loss_fn();
    if (!loss.defined() || loss.numel() != 1)
      fail<ShapeError>(name_, "minimize: the loss function must return a one-element tensor, got ",
                       loss.defined() ? tapeflow::detail::cat_str(loss.shape()) : std::string("an undefined tensor"));
    grads = tape.gradient(loss, params);
  }
  apply_gradients(grads);
  return loss.detach();
}

StateDict& Optimizer::state(std::size_t flat_index) {
  if (flat_index >= state_.size())
    fail<IndexError>(name_, "parameter ", flat_index, " out of range (", state_.size(), " parameters)");
  return state_[flat_index];
}

const StateDict* Optimizer::find_state(std::size_t flat_index) const {
  return flat_index < state_.size() ? &state_[flat_index] : nullptr;
}

StateDict Optimizer::state_dict() const {
  StateDict out("Optimizer::state_dict");
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    save_options(g, out, prefix);
    Tensor ids = empty({static_cast<std::int64_t>(groups_[g].size())}, kInt64);
    for (std::size_t i = 0; i < groups_[g].size(); ++i)
      ids.data_ptr<std::int64_t>()[i] = static_cast<std::int64_t>(group_offset(g) + i);
    out.insert(prefix + "params", ids);
  }
  for (std::size_t i = 0; i < state_.size(); ++i)
    for (const auto& item : state_[i])
      out.insert("state." + std::to_string(i) + "." + item.key(), item.value().clone());
  return out;
}

void Optimizer::load_state_dict(const StateDict& in) {
  const std::vector<Tensor> params = parameters();
  std::vector<std::string> problems;
  // Groups: same count, same sizes.
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::string key = "param_groups." + std::to_string(g) + ".params";
    StateDict expected_options;
    save_options(g, expected_options, "param_groups." + std::to_string(g) + ".");
    for (const auto& option : expected_options)
      if (!in.contains(option.key())) problems.push_back("missing key " + option.key());
    const Tensor* ids = in.find(key);
    if (!ids)
      problems.push_back("missing key " + key);
    else if (ids->numel() != static_cast<std::int64_t>(groups_[g].size()))
      problems.push_back(tapeflow::detail::cat_str("group ", g, " has ", groups_[g].size(),
                                                   " parameters, the state dict ", ids->numel()));
  }
  if (in.contains("param_groups." + std::to_string(groups_.size()) + ".params"))
    problems.push_back(tapeflow::detail::cat_str("the state dict has more than ", groups_.size(), " parameter groups"));
  // Per-parameter state: index in range, and tensors shaped like the parameter (or one element).
  std::vector<StateDict> loaded(params.size());
  for (const auto& item : in) {
    const std::string& key = item.key();
    if (key.starts_with("param_groups.")) continue;
    std::size_t dot = key.find('.', 6);
    if (!key.starts_with("state.") || dot == std::string::npos) {
      problems.push_back("unexpected key " + key);
      continue;
    }
    std::size_t index = 0;
    try {
      index = std::stoul(key.substr(6, dot - 6));
    } catch (const std::exception&) {
      problems.push_back("unexpected key " + key);
      continue;
    }
    if (index >= params.size()) {
      problems.push_back(tapeflow::detail::cat_str(key, ": parameter ", index, " out of range (", params.size(), " parameters)"));
      continue;
    }
    const Tensor& v = item.value();
    if (!v.defined() || (v.numel() != 1 && !(v.shape() == params[index].shape()))) {
      problems.push_back(tapeflow::detail::cat_str(key, ": expected shape ", params[index].shape(), ", got ",
                                                   v.defined() ? tapeflow::detail::cat_str(v.shape()) : "undefined"));
      continue;
    }
    // As PyTorch: floating-point state takes the parameter's dtype (a float64 checkpoint loads
    // into float32 parameters); the step count keeps its own.
    const std::string state_name = key.substr(dot + 1);
    const Tensor& param = params[index];
    loaded[index].insert(state_name, state_name != "step" && v.is_floating_point()
                                         ? v.to(param.device(), param.dtype(), /*copy=*/true)
                                         : v.to(param.device(), /*copy=*/true));
  }
  if (!problems.empty()) {
    std::ostringstream os;
    os << "[" << name_ << "] load_state_dict:";
    for (const auto& p : problems) os << "\n  " << p;
    throw ValueError(os.str());
  }
  // Options may still be rejected (validation): then restore the groups already loaded.
  StateDict previous("Optimizer::load_state_dict");
  for (std::size_t g = 0; g < groups_.size(); ++g) save_options(g, previous, "param_groups." + std::to_string(g) + ".");
  try {
    for (std::size_t g = 0; g < groups_.size(); ++g) load_options(g, in, "param_groups." + std::to_string(g) + ".");
  } catch (...) {
    for (std::size_t g = 0; g < groups_.size(); ++g)
      load_options(g, previous, "param_groups." + std::to_string(g) + ".");
    throw;
  }
  state_ = std::move(loaded);
}

}  // namespace tapeflow::optim
