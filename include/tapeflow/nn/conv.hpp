#pragma once
// Conv1d and Conv2d, as torch::nn's:
//   nn::Conv2d conv(1, 8, 3);   // or nn::Conv2dOptions(1, 8, 3).stride(2).padding(1).groups(..).bias(false)
//   Tensor y = conv(x);         // x: (N, C_in, H, W) or unbatched (C_in, H, W)
// Parameters "weight" (C_out, C_in / groups, k...) and "bias" (C_out), float32, initialised as
// PyTorch: weight kaiming_uniform_(a = sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
// fan_in = C_in / groups * prod(kernel_size).
// Only zero padding is supported (PyTorch's padding_mode "zeros", its default); there is no
// padding_mode option, nor padding="same"/"valid".
#include <cstddef>
#include <cstdint>
#include <ostream>

#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/options.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

template <std::size_t D>
class ConvOptions {
 public:
  ConvOptions(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<D> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TAPEFLOW_ARG(std::int64_t, in_channels);
  TAPEFLOW_ARG(std::int64_t, out_channels);
  TAPEFLOW_ARG(ExpandingArray<D>, kernel_size);
  TAPEFLOW_ARG(ExpandingArray<D>, stride) = 1;
  TAPEFLOW_ARG(ExpandingArray<D>, padding) = 0;  // zeros on both sides of each spatial dim
  TAPEFLOW_ARG(ExpandingArray<D>, dilation) = 1;
  TAPEFLOW_ARG(std::int64_t, groups) = 1;
  TAPEFLOW_ARG(bool, bias) = true;
};
using Conv1dOptions = ConvOptions<1>;
using Conv2dOptions = ConvOptions<2>;

// What Conv1d and Conv2d share: parameters, initialisation, input checks and printing.
template <std::size_t D>
class ConvNdImpl : public Module {
 public:
  explicit ConvNdImpl(const ConvOptions<D>& options);
  void reset_parameters();
  void pretty_print(std::ostream& os) const override;

  ConvOptions<D> options;
  Tensor weight;  // (out_channels, in_channels / groups, kernel_size...)
  Tensor bias;    // (out_channels), undefined without bias

 protected:
  // Throws unless x is (N, C_in, spatial...) or unbatched (C_in, spatial...) of the weight's dtype.
  void check_input(const Tensor& x, const char* layout) const;
};

class Conv1dImpl : public ConvNdImpl<1> {
 public:
  Conv1dImpl(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<1> kernel_size)
      : Conv1dImpl(Conv1dOptions(in_channels, out_channels, kernel_size)) {}
  explicit Conv1dImpl(const Conv1dOptions& options) : ConvNdImpl<1>(options) {}
  // (N, C_in, L) -> (N, C_out, L_out), or (C_in, L) -> (C_out, L_out).
  Tensor forward(const Tensor& x);
};
TAPEFLOW_MODULE(Conv1d);

class Conv2dImpl : public ConvNdImpl<2> {
 public:
  Conv2dImpl(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<2> kernel_size)
      : Conv2dImpl(Conv2dOptions(in_channels, out_channels, kernel_size)) {}
  explicit Conv2dImpl(const Conv2dOptions& options) : ConvNdImpl<2>(options) {}
  // (N, C_in, H, W) -> (N, C_out, H_out, W_out), or (C_in, H, W) -> (C_out, H_out, W_out).
  Tensor forward(const Tensor& x);
};
TAPEFLOW_MODULE(Conv2d);

extern template class ConvNdImpl<1>;
extern template class ConvNdImpl<2>;

}  // namespace tapeflow::nn
