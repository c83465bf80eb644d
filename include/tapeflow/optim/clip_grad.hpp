#pragma once
// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch 1.13). Both
// act in place on the .grad() of the given tensors; tensors without a gradient are skipped.
#include <vector>

#include "tapeflow/tensor.hpp"

namespace tapeflow::optim {

// Scales all gradients by min(1, max_norm / (total_norm + 1e-6)), where total_norm is the
// norm_type-norm of all gradients together (as if concatenated; norm_type may be infinity).
// Returns total_norm as a 0-d tensor of the gradients' (promoted) dtype, or 0 (float32) when no
// tensor has a gradient. error_if_nonfinite: throw a ValueError when the total norm is NaN or
// infinite instead of scaling by it. Throws ValueError for max_norm < 0 or norm_type <= 0.
Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element to [-clip_value, clip_value]; clip_value must be >= 0.
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);

}  // namespace tapeflow::optim
