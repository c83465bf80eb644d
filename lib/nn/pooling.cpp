// MaxPool2d, AvgPool2d, AdaptiveAvgPool2d: input checks, then the functional ops.
#include "tapeflow/nn/pooling.hpp"

#include "nn/layer_checks.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow::nn {
namespace {

void check_pool_input(const std::string& layer, const Tensor& x) {
  detail::check_input_dims(layer, x, {3, 4}, "(C, H, W) or (N, C, H, W)");
  detail::check_input_dtype(layer, x, Tensor());
}

}  // namespace

Tensor MaxPool2dImpl::forward(const Tensor& x) {
  check_pool_input(name(), x);
  return max_pool2d(x, options.kernel_size(), options.stride(), options.padding(), options.dilation(),
                    options.ceil_mode());
}

std::pair<Tensor, Tensor> MaxPool2dImpl::forward_with_indices(const Tensor& x) {
  check_pool_input(name(), x);
  return max_pool2d_with_indices(x, options.kernel_size(), options.stride(), options.padding(), options.dilation(),
                                 options.ceil_mode());
}

// PyTorch's C++ frontend prints kernel_size and stride; settings that differ from their
// defaults follow, so that two differently configured pools never print alike.
void MaxPool2dImpl::pretty_print(std::ostream& os) const {
  os << std::boolalpha << name() << "(kernel_size=" << options.kernel_size() << ", stride=" << options.stride();
  if (!(options.padding() == ExpandingArray<2>(0))) os << ", padding=" << options.padding();
  if (!(options.dilation() == ExpandingArray<2>(1))) os << ", dilation=" << options.dilation();
  if (options.ceil_mode()) os << ", ceil_mode=true";
  os << ")";
}

Tensor AvgPool2dImpl::forward(const Tensor& x) {
  check_pool_input(name(), x);
  return avg_pool2d(x, options.kernel_size(), options.stride(), options.padding(), options.ceil_mode(),
                    options.count_include_pad());
}

void AvgPool2dImpl::pretty_print(std::ostream& os) const {
  os << std::boolalpha << name() << "(kernel_size=" << options.kernel_size() << ", stride=" << options.stride();
  if (!(options.padding() == ExpandingArray<2>(0))) os << ", padding=" << options.padding();
  if (options.ceil_mode()) os << ", ceil_mode=true";
  if (!options.count_include_pad()) os << ", count_include_pad=false";
  os << ")";
}

Tensor AdaptiveAvgPool2dImpl::forward(const Tensor& x) {
  check_pool_input(name(), x);
  return adaptive_avg_pool2d(x, options.output_size());
}

void AdaptiveAvgPool2dImpl::pretty_print(std::ostream& os) const {
  os << name() << "(output_size=" << options.output_size() << ")";
}

}  // namespace tapeflow::nn
