#pragma once
// CUDA kernels of the losses: the contracts of lib/cpu/loss.hpp (contiguous operands checked by
// the op layer), with per_sample a contiguous float64 device tensor. The per-element math is the
// shared kernels/class_loss_math.hpp.
//
// Bad inputs still throw the CPU's errors, at the one host synchronisation each op has:
// class_target_weight returns a host value (the mean's normaliser) anyway, so its kernel also
// finds the first out-of-range target and the readback that brings the total brings it too;
// binary_cross_entropy flags the first input outside [0, 1] while computing and reads the flag
// back (8 bytes) before returning. The other kernels trust what these checked.
#include "kernels/params.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::cuda_backend {

using kernels::ClassTargets;

double class_target_weight(const ClassTargets& c, const Tensor& target, const Tensor& weight);
void class_loss(const ClassTargets& c, const Tensor& input, const Tensor& target, const Tensor& weight,
                bool from_logits, const Tensor& per_sample, const Tensor& stats);
void class_loss_backward(const ClassTargets& c, const Tensor& grad_input, const Tensor& input, const Tensor& target,
                         const Tensor& weight, const Tensor& stats, double scale, const Tensor& grad_output,
                         bool from_logits);
void class_loss_coefficients(const ClassTargets& c, const Tensor& target, const Tensor& weight, double scale,
                             const Tensor& a, const Tensor& sums);
void binary_cross_entropy(const char* op, const Tensor& out, const Tensor& x, const Tensor& t);
void binary_cross_entropy_with_logits(const Tensor& out, const Tensor& x, const Tensor& t, const Tensor& pos_weight);

}  // namespace tapeflow::cuda_backend
