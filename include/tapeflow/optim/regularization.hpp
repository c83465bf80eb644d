#pragma once
// Regularisation terms to add to a loss; both are differentiable (recorded on the tape):
//   loss = criterion(out, y) + optim::l2_regularization(model->parameters(), 1e-4);
//
// How l2 relates to weight_decay: the gradient of lambda * sum(p^2) is 2 * lambda * p, while the
// optimizers' weight_decay adds weight_decay * p to the gradient. So l2_regularization(params,
// wd / 2) gives the same updates as weight_decay = wd for SGD, Adam, RMSprop and Adagrad (which
// fold the decay into the gradient), but NOT for AdamW, whose decoupled decay shrinks the
// parameters directly and never passes through the adaptive scaling. Use weight_decay when you
// only want the update (cheaper: no extra graph); use these when the penalty must be part of
// the loss value, apply to some parameters only, or be L1.
#include <vector>

#include "tapeflow/tensor.hpp"

namespace tapeflow::optim {

// lambda * sum over all tensors of sum(|p|): a 0-d tensor of the promoted dtype of the tensors.
Tensor l1_regularization(const std::vector<Tensor>& parameters, double lambda);
// lambda * sum over all tensors of sum(p^2).
Tensor l2_regularization(const std::vector<Tensor>& parameters, double lambda);

}  // namespace tapeflow::optim
