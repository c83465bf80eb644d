#pragma once
// Fused optimizer updates: one pass over a parameter that reads param, grad and state and writes
// param and state in place, with no temporary tensors. One function per optimizer family; the
// CUDA backend provides the same functions. The scalars (SGDUpdate, ...) and the per-element
// math are in optim_update_rules.hpp.
//
// Preconditions (checked by lib/optim): every tensor has the parameter's shape, dtype (float32 or
// float64) and device; any may be non-contiguous (a strided fallback handles those); an operand
// documented as optional is an undefined Tensor when absent.
#include "cpu/optim_update_rules.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::cpu {

// momentum_buffer: undefined when momentum == 0. first_step: the buffer is uninitialised and
// becomes the first (decayed) gradient, as PyTorch's clone.
void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, bool first_step,
                const SGDUpdate& u);
// max_exp_avg_sq: undefined unless amsgrad.
void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const Tensor& max_exp_avg_sq, const AdamUpdate& u);
// grad_avg: undefined unless centered; momentum_buffer: undefined unless momentum > 0.
void rmsprop_update(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                    const Tensor& momentum_buffer, const RMSpropUpdate& u);
void adagrad_update(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradUpdate& u);

}  // namespace tapeflow::cpu
