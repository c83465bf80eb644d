#pragma once
// BatchNorm1d, BatchNorm2d and LayerNorm, as torch::nn's.
//
// BatchNorm normalises each channel (dim 1) of (N, C) / (N, C, L) [1d] or (N, C, H, W) [2d] input.
// In training mode it uses the batch's statistics and, with track_running_stats, updates
//   running = (1 - momentum) * running + momentum * batch_stat   (the variance's unbiased)
// and counts num_batches_tracked; momentum = nullopt makes the running statistics a cumulative
// average (factor 1 / num_batches_tracked). In eval mode it uses the running statistics (or the
// batch's when track_running_stats is false). State names match torch.nn: weight, bias,
// running_mean, running_var, num_batches_tracked (an int64 scalar).
//
// LayerNorm normalises over the trailing normalized_shape dims of its input, with elementwise
// weight and bias of that shape.
#include <cstdint>
#include <optional>
#include <ostream>
#include <utility>
#include <vector>

#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/options.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

class BatchNormOptions {
 public:
  BatchNormOptions(std::int64_t num_features) : num_features_(num_features) {}  // NOLINT
  TAPEFLOW_ARG(std::int64_t, num_features);
  TAPEFLOW_ARG(double, eps) = 1e-5;
  TAPEFLOW_ARG(std::optional<double>, momentum) = 0.1;
  TAPEFLOW_ARG(bool, affine) = true;
  TAPEFLOW_ARG(bool, track_running_stats) = true;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

// The shared part of BatchNorm1d/2d; they differ only in the input dims they accept.
class BatchNormImplBase : public Module {
 public:
  Tensor forward(const Tensor& x);
  void reset_running_stats();  // mean 0, var 1, count 0
  void reset_parameters();     // the running stats, and weight 1, bias 0
  void pretty_print(std::ostream& os) const override;

  BatchNormOptions options;
  Tensor weight, bias;                                    // (C), undefined unless affine
  Tensor running_mean, running_var, num_batches_tracked;  // undefined unless track_running_stats

 protected:
  // dims: the input dims accepted; layout: how to describe them in errors.
  BatchNormImplBase(const BatchNormOptions& options, std::vector<std::int64_t> dims, const char* layout);

 private:
  std::vector<std::int64_t> dims_;
  const char* layout_;
};

class BatchNorm1dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm1dImpl(std::int64_t num_features) : BatchNorm1dImpl(BatchNormOptions(num_features)) {}
  explicit BatchNorm1dImpl(const BatchNormOptions& options)
      : BatchNormImplBase(options, {2, 3}, "(N, C) or (N, C, L)") {}
};
TAPEFLOW_MODULE(BatchNorm1d);

class BatchNorm2dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm2dImpl(std::int64_t num_features) : BatchNorm2dImpl(BatchNormOptions(num_features)) {}
  explicit BatchNorm2dImpl(const BatchNormOptions& options) : BatchNormImplBase(options, {4}, "(N, C, H, W)") {}
};
TAPEFLOW_MODULE(BatchNorm2d);

class LayerNormOptions {
 public:
  LayerNormOptions(std::vector<std::int64_t> normalized_shape) : normalized_shape_(std::move(normalized_shape)) {}  // NOLINT
  TAPEFLOW_ARG(std::vector<std::int64_t>, normalized_shape);
  TAPEFLOW_ARG(double, eps) = 1e-5;
  TAPEFLOW_ARG(bool, elementwise_affine) = true;
};

class LayerNormImpl : public Module {
 public:
  explicit LayerNormImpl(std::vector<std::int64_t> normalized_shape)
      : LayerNormImpl(LayerNormOptions(std::move(normalized_shape))) {}
  explicit LayerNormImpl(const LayerNormOptions& options);
  // x: (..., normalized_shape...) -> same shape.
  Tensor forward(const Tensor& x);
  void reset_parameters();  // weight 1, bias 0
  void pretty_print(std::ostream& os) const override;

  LayerNormOptions options;
  Tensor weight, bias;  // normalized_shape, undefined unless elementwise_affine
};
TAPEFLOW_MODULE(LayerNorm);

}  // namespace tapeflow::nn
