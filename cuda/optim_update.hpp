#pragma once
// Fused optimizer updates on the GPU: the contracts of lib/cpu/optim_update.hpp, one kernel per
// call over param, grad and state, applying the rules of cpu/optim_update_rules.hpp (the CPU's
// own per-element code). The scalars (step counts, bias corrections) arrive as host values, so
// no update waits for the GPU.
#include "cpu/optim_update_rules.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::cuda_backend {

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, bool first_step,
                const cpu::SGDUpdate& u);
void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const Tensor& max_exp_avg_sq, const cpu::AdamUpdate& u);
void rmsprop_update(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                    const Tensor& momentum_buffer, const cpu::RMSpropUpdate& u);
void adagrad_update(const Tensor& param, const Tensor& grad, const Tensor& sum, const cpu::AdagradUpdate& u);

}  // namespace tapeflow::cuda_backend
