#pragma once
// What every optimizer's step() needs besides its update kernel: per-parameter state tensors
// (created on first use, checked when loaded), the step count, option validation messages.
#include <cstddef>
#include <optional>

#include "tapeflow/state_dict.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::optim::detail {

// The state tensor `key` of `param`. Absent: created shaped like the parameter (contiguous, same
// dtype and device), filled with `fill`, and *created is set when given (then the caller may
// also leave it unfilled: fill = nullopt). Present (e.g. loaded): checked to have the
// parameter's shape, dtype and device. Returned by value: later inserts may move the entries.
Tensor state_tensor(StateDict& state, const char* key, const Tensor& param, const char* optimizer,
                    std::optional<double> fill = 0.0, bool* created = nullptr);

// Adds one to the parameter's "step" (a 0-d float64 tensor, created as 0) and returns the new
// count. PyTorch keeps float32 (exact only up to 2^24 steps); a loaded count of any numeric
// dtype is kept and incremented as is.
double increment_step(StateDict& state, const char* optimizer);

// Throws ValueError "[optimizer] param group g: invalid <option> = <value> (expected ...)" unless ok.
void check_option(bool ok, const char* optimizer, std::size_t group, const char* option, double value,
                  const char* expected);

}  // namespace tapeflow::optim::detail
