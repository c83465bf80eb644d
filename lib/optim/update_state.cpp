// Per-parameter optimizer state: creation, checks of loaded tensors, step counts.
#include "optim/update_state.hpp"

#include "tapeflow/creation.hpp"
#include "tapeflow/error.hpp"

namespace tapeflow::optim::detail {

Tensor state_tensor(StateDict& state, const char* key, const Tensor& param, const char* optimizer,
                    std::optional<double> fill, bool* created) {
  if (created) *created = false;
  if (const Tensor* t = state.find(key)) {
    if (!t->defined()) fail<ValueError>(optimizer, "state '", key, "' is an undefined tensor");
    if (!(t->shape() == param.shape()))
      fail<ShapeError>(optimizer, "state '", key, "' must have its parameter's shape ", param.shape(), ", got ",
                       t->shape());
    if (t->dtype() != param.dtype())
      fail<DTypeError>(optimizer, "state '", key, "' must have its parameter's dtype ", dtype_name(param.dtype()),
                       ", got ", dtype_name(t->dtype()));
    if (t->device() != param.device())
      fail<DeviceError>(optimizer, "state '", key, "' must be on its parameter's device ", param.device(), ", got ",
                        t->device());
    return *t;
  }
  const TensorOptions options = TensorOptions().dtype(param.dtype()).device(param.device());
  Tensor t = fill ? full(param.shape(), *fill, options) : empty(param.shape(), options);
  if (created) *created = true;
  return state.insert(key, t);
}

double increment_step(StateDict& state, const char* optimizer) {
  Tensor* step = state.find("step");
  if (!step) step = &state.insert("step", scalar_tensor(0.0, kFloat64));
  if (!step->defined() || step->numel() != 1 || !step->is_cpu())
    fail<ValueError>(optimizer, "state 'step' must be a one-element CPU tensor");
  return dispatch_numeric(step->dtype(), optimizer, [&]<typename T>() {
    T& count = *step->data_ptr<T>();
    count = static_cast<T>(count + 1);
    step->impl()->storage->bump_version();
    return static_cast<double>(count);
  });
}

void check_option(bool ok, const char* optimizer, std::size_t group, const char* option, double value,
                  const char* expected) {
  if (!ok)
    fail<ValueError>(optimizer, "param group ", group, ": invalid ", option, " = ", value, " (expected ", expected,
                     ")");
}

}  // namespace tapeflow::optim::detail
