// Per-parameter optimizer state: creation, checks of loaded tensors, step counts.
#include "optim/update_state.hpp"

#include "tapeflow/creation.hpp"
#include "tapeflow/error.hpp"

namespace tapeflow::optim::detail {

Tensor state_tensor(StateDict& state, const char* key, const Tensor& param, const char* optimizer,
                    std::optional<double> fill, bool* created) {
  if (created) *created = false;
  if (const Tensor* t = state.find(key)) {
    if (!t->defined() || !(t->shape() == param.shape()) || t->dtype() != param.dtype() || t->device() != param.device())
      fail<ShapeError>(optimizer, "state '", key, "' must match its parameter (shape ", param.shape(), ", ",
                       dtype_name(param.dtype()), ", ", param.device(), "), got ",
                       t->defined() ? tapeflow::detail::cat_str("shape ", t->shape(), ", ", dtype_name(t->dtype()),
                                                                ", ", t->device())
                                    : std::string("an undefined tensor"));
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

void require_cpu(const char* optimizer, const Tensor& param) {
  if (!param.is_cpu())
    fail<DeviceError>(optimizer, "parameters on ", param.device(),
                      " are not supported yet: the fused update kernels exist for the CPU only");
}

}  // namespace tapeflow::optim::detail
