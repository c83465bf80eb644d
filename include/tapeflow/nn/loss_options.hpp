#pragma once
// Options of the losses, shared by the functional forms (nn::functional::cross_entropy...) and
// the modules (nn::CrossEntropyLoss...). Plain aggregates with PyTorch's defaults, fields in
// PyTorch's argument order, so that designated initializers read like Python keywords:
//
//   F::cross_entropy(logits, target, {.weight = w, .label_smoothing = 0.1});
//   nn::BCEWithLogitsLoss loss(nn::BCEWithLogitsLossOptions{.pos_weight = pw});
//
// Class weights and pos_weight are treated as constants: no gradient flows into them (PyTorch
// does not implement one for nll_loss / cross_entropy either).
#include <cstdint>

#include "tapeflow/nn/reduction.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

struct MSELossOptions {
  Reduction reduction = Reduction::Mean;
};

struct L1LossOptions {
  Reduction reduction = Reduction::Mean;
};

// Quadratic below beta, linear above: 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta.
// beta = 0 is |d| (PyTorch's gradient at d = 0: -1 for the input, here too, and -1 for the
// target, +1 here); beta < 0 throws ValueError.
struct SmoothL1LossOptions {
  Reduction reduction = Reduction::Mean;
  double beta = 1.0;
};

// 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta): smooth_l1 scaled by delta. delta > 0.
struct HuberLossOptions {
  Reduction reduction = Reduction::Mean;
  double delta = 1.0;
};

// Input (C), (N, C) or (N, C, d1, d2, ...) logits. Target: class indices (int64/int32) of shape
// (), (N) or (N, d1, d2, ...), or class probabilities (floating, the input's shape).
// weight: (C) per-class weights or undefined. ignore_index: targets equal to it contribute
// nothing and do not count in the mean (class-index targets only; with probabilities it must be
// negative, as PyTorch). label_smoothing in [0, 1] mixes the target with the uniform distribution.
struct CrossEntropyLossOptions {
  Tensor weight = {};
  std::int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;
};

// Input: log-probabilities with the layouts of cross_entropy; class-index targets only.
struct NLLLossOptions {
  Tensor weight = {};
  std::int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};

// weight: broadcastable to the input's shape (rescales each element's loss), or undefined.
struct BCELossOptions {
  Tensor weight = {};
  Reduction reduction = Reduction::Mean;
};

// weight as BCELossOptions; pos_weight: weight of the positive term, broadcastable to the input
// (typically (C) for input (N, C)), or undefined.
struct BCEWithLogitsLossOptions {
  Tensor weight = {};
  Reduction reduction = Reduction::Mean;
  Tensor pos_weight = {};
};

// log_target: the target is given as log-probabilities. The default reduction is Mean as in
// PyTorch, although BatchMean is the one that gives the KL divergence.
struct KLDivLossOptions {
  KLDivReduction reduction = KLDivReduction::Mean;
  bool log_target = false;
};

}  // namespace tapeflow::nn
