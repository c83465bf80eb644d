#pragma once
// Checks and the reduction step shared by the losses (lib/ops/loss*.cpp) and their modules
// (lib/nn/loss.cpp). Internal to the library.
#include "tapeflow/nn/loss_options.hpp"
#include "tapeflow/nn/reduction.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn::detail {

// The mean, the sum, or loss itself.
Tensor reduce(const Tensor& loss, Reduction reduction);

// input and target: defined, same device, floating-point, of one dtype and the same shape.
void check_input_target(const char* op, const Tensor& input, const Tensor& target);
// An optional weight (undefined passes) of input's dtype and device that broadcasts to input's shape.
void check_broadcast_weight(const char* op, const Tensor& input, const Tensor& weight, const char* what);
// An optional (classes) weight vector for a class-target loss: 1-D, floating-point.
void check_class_weight(const char* op, const Tensor& weight, std::int64_t classes);

// Option values; the modules call these at construction (the functions at each call).
void check_beta(const char* op, double beta);          // >= 0
void check_delta(const char* op, double delta);        // > 0
void check_label_smoothing(const char* op, double ls);  // in [0, 1]
void check_options(const char* op, const CrossEntropyLossOptions& o);
void check_options(const char* op, const NLLLossOptions& o);
void check_options(const char* op, const BCELossOptions& o);
void check_options(const char* op, const BCEWithLogitsLossOptions& o);

}  // namespace tapeflow::nn::detail
