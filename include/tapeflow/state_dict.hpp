#pragma once
// StateDict: named tensors in order. What modules and optimizers save and load, and what
// checkpoint files hold.
#include <string>

#include "tapeflow/ordered_dict.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow {
using StateDict = OrderedDict<std::string, Tensor>;
}  // namespace tapeflow
