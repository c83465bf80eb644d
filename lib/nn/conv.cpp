// Conv1d and Conv2d: parameters and PyTorch's initialisation, input checks, then the functional ops.
#include "tapeflow/nn/conv.hpp"

#include <cmath>
#include <string>

#include "nn/layer_checks.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/nn/init.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow::nn {

template <std::size_t D>
ConvNdImpl<D>::ConvNdImpl(const ConvOptions<D>& options_) : options(options_) {
  const char* layer = D == 1 ? "Conv1d" : "Conv2d";
  const std::int64_t in = options.in_channels(), out = options.out_channels(), groups = options.groups();
  if (in <= 0 || out <= 0)
    fail<ValueError>(layer, "in_channels and out_channels must be positive, got ", in, " and ", out);
  if (groups <= 0) fail<ValueError>(layer, "groups must be positive, got ", groups);
  if (in % groups != 0 || out % groups != 0)
    fail<ValueError>(layer, "in_channels (", in, ") and out_channels (", out, ") must be divisible by groups (",
                     groups, ")");
  for (std::size_t i = 0; i < D; ++i) {
    if (options.kernel_size()[i] <= 0) fail<ValueError>(layer, "kernel_size must be positive, got ", options.kernel_size());
    if (options.stride()[i] <= 0) fail<ValueError>(layer, "stride must be positive, got ", options.stride());
    if (options.padding()[i] < 0) fail<ValueError>(layer, "padding must be non-negative, got ", options.padding());
    if (options.dilation()[i] <= 0) fail<ValueError>(layer, "dilation must be positive, got ", options.dilation());
  }
  Shape shape{out, in / groups};
  for (std::int64_t k : options.kernel_size()) shape.push_back(k);
  weight = register_parameter("weight", empty(shape));
  bias = register_parameter("bias", options.bias() ? empty({out}) : Tensor(), options.bias());
  reset_parameters();
}

template <std::size_t D>
void ConvNdImpl<D>::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const auto fan_in = init::calculate_fan_in_and_fan_out(weight).first;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(bias, -bound, bound);
  }
}

template <std::size_t D>
void ConvNdImpl<D>::check_input(const Tensor& x, const char* layout) const {
  detail::check_input_dtype(name(), x, weight);
  const std::int64_t batched = static_cast<std::int64_t>(D) + 2;
  if (x.dim() != batched && x.dim() != batched - 1) {
    const std::string unbatched = std::string("(C") + (D == 1 ? ", L)" : ", H, W)");
    fail<ShapeError>(name().c_str(), "expected ", batched - 1, "-D ", unbatched, " or ", batched, "-D ", layout,
                     " input, got shape ", x.shape());
  }
  const std::int64_t channel_dim = x.dim() == batched ? 1 : 0;
  if (x.size(channel_dim) != options.in_channels())
    fail<ShapeError>(name().c_str(), "expected input with ", options.in_channels(), " channels (in_channels) in dim ",
                     channel_dim, ", got shape ", x.shape());
}

template <std::size_t D>
void ConvNdImpl<D>::pretty_print(std::ostream& os) const {
  os << name() << "(" << options.in_channels() << ", " << options.out_channels()
     << ", kernel_size=" << options.kernel_size() << ", stride=" << options.stride();
  if (!(options.padding() == ExpandingArray<D>(0))) os << ", padding=" << options.padding();
  if (!(options.dilation() == ExpandingArray<D>(1))) os << ", dilation=" << options.dilation();
  if (options.groups() != 1) os << ", groups=" << options.groups();
  if (!options.bias()) os << ", bias=false";
  os << ")";
}

template class ConvNdImpl<1>;
template class ConvNdImpl<2>;

Tensor Conv1dImpl::forward(const Tensor& x) {
  check_input(x, "(N, C, L)");
  return conv1d(x, weight, bias, options.stride(), options.padding(), options.dilation(), options.groups());
}

Tensor Conv2dImpl::forward(const Tensor& x) {
  check_input(x, "(N, C, H, W)");
  return conv2d(x, weight, bias, options.stride(), options.padding(), options.dilation(), options.groups());
}

}  // namespace tapeflow::nn
