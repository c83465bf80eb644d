#pragma once
// 2-D pooling modules over (N, C, H, W) or unbatched (C, H, W) inputs, as torch::nn's:
//   nn::MaxPool2d(2)                                    // stride defaults to kernel_size
//   nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true))
//   nn::AvgPool2d(nn::AvgPool2dOptions(2).count_include_pad(false))
//   nn::AdaptiveAvgPool2d(1)                            // global average pooling
// No parameters or buffers. Not supported: AvgPool2d's divisor_override, and None entries in
// AdaptiveAvgPool2d's output_size (give both sizes).
#include <cstdint>
#include <ostream>
#include <utility>

#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/options.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

class MaxPool2dOptions {
 public:
  MaxPool2dOptions(ExpandingArray<2> kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}  // NOLINT
  TAPEFLOW_ARG(ExpandingArray<2>, kernel_size);
  TAPEFLOW_ARG(ExpandingArray<2>, stride);
  TAPEFLOW_ARG(ExpandingArray<2>, padding) = 0;  // implicit -inf padding, at most half the kernel
  TAPEFLOW_ARG(ExpandingArray<2>, dilation) = 1;
  TAPEFLOW_ARG(bool, ceil_mode) = false;
};

class MaxPool2dImpl : public Module {
 public:
  explicit MaxPool2dImpl(ExpandingArray<2> kernel_size) : MaxPool2dImpl(MaxPool2dOptions(kernel_size)) {}
  explicit MaxPool2dImpl(const MaxPool2dOptions& options_) : options(options_) {}
  Tensor forward(const Tensor& x);
  // Also the flat (h * W + w) argmax of each output, as PyTorch's return_indices.
  std::pair<Tensor, Tensor> forward_with_indices(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  MaxPool2dOptions options;
};
TAPEFLOW_MODULE(MaxPool2d);

class AvgPool2dOptions {
 public:
  AvgPool2dOptions(ExpandingArray<2> kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}  // NOLINT
  TAPEFLOW_ARG(ExpandingArray<2>, kernel_size);
  TAPEFLOW_ARG(ExpandingArray<2>, stride);
  TAPEFLOW_ARG(ExpandingArray<2>, padding) = 0;  // zeros
  TAPEFLOW_ARG(bool, ceil_mode) = false;
  TAPEFLOW_ARG(bool, count_include_pad) = true;  // divide by the full window, padding included
};

class AvgPool2dImpl : public Module {
 public:
  explicit AvgPool2dImpl(ExpandingArray<2> kernel_size) : AvgPool2dImpl(AvgPool2dOptions(kernel_size)) {}
  explicit AvgPool2dImpl(const AvgPool2dOptions& options_) : options(options_) {}
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  AvgPool2dOptions options;
};
TAPEFLOW_MODULE(AvgPool2d);

class AdaptiveAvgPool2dOptions {
 public:
  AdaptiveAvgPool2dOptions(ExpandingArray<2> output_size) : output_size_(output_size) {}  // NOLINT
  TAPEFLOW_ARG(ExpandingArray<2>, output_size);
};

class AdaptiveAvgPool2dImpl : public Module {
 public:
  explicit AdaptiveAvgPool2dImpl(ExpandingArray<2> output_size) : AdaptiveAvgPool2dImpl(AdaptiveAvgPool2dOptions(output_size)) {}
  explicit AdaptiveAvgPool2dImpl(const AdaptiveAvgPool2dOptions& options_) : options(options_) {}
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  AdaptiveAvgPool2dOptions options;
};
TAPEFLOW_MODULE(AdaptiveAvgPool2d);

}  // namespace tapeflow::nn
