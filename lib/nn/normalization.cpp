// BatchNorm1d/2d (running statistics, momentum or cumulative average) and LayerNorm.
#include "tapeflow/nn/normalization.hpp"

#include "nn/layer_checks.hpp"
#include "tapeflow/autograd.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/nn/init.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow::nn {

// ---- BatchNorm ----

BatchNormImplBase::BatchNormImplBase(const BatchNormOptions& options_, std::vector<std::int64_t> dims,
                                     const char* layout)
    : options(options_), dims_(std::move(dims)), layout_(layout) {
  const std::int64_t c = options.num_features();
  if (c <= 0) fail<ValueError>("BatchNorm", "num_features must be positive, got ", c);
  if (!(options.eps() > 0)) fail<ValueError>("BatchNorm", "eps must be positive, got ", options.eps());
  if (options.momentum() && !(*options.momentum() >= 0.0 && *options.momentum() <= 1.0))
    fail<ValueError>("BatchNorm", "momentum must be in [0, 1] (or nullopt for a cumulative average), got ",
                     *options.momentum());
  weight = register_parameter("weight", options.affine() ? empty({c}) : Tensor(), options.affine());
  bias = register_parameter("bias", options.affine() ? empty({c}) : Tensor(), options.affine());
  const bool track = options.track_running_stats();
  running_mean = register_buffer("running_mean", track ? empty({c}) : Tensor());
  running_var = register_buffer("running_var", track ? empty({c}) : Tensor());
  num_batches_tracked = register_buffer("num_batches_tracked", track ? zeros({}, kInt64) : Tensor());
  reset_parameters();
}

void BatchNormImplBase::reset_running_stats() {
  if (!options.track_running_stats()) return;
  init::zeros_(running_mean);
  init::ones_(running_var);
  NoGradGuard no_grad;
  num_batches_tracked.zero_();
}

void BatchNormImplBase::reset_parameters() {
  reset_running_stats();
  if (options.affine()) {
    init::ones_(weight);
    init::zeros_(bias);
  }
}

Tensor BatchNormImplBase::forward(const Tensor& x) {
  detail::check_input_dims(name(), x, dims_, layout_);
  detail::check_input_dtype(name(), x, weight.defined() ? weight : running_mean);
  if (x.size(1) != options.num_features())
    fail<ShapeError>(name().c_str(), "expected input with ", options.num_features(),
                     " channels (num_features) in dim 1, got shape ", x.shape());
  double factor = 0.0;
  if (is_training() && options.track_running_stats()) {
    {
      NoGradGuard no_grad;
      num_batches_tracked.add_(1);
    }
    factor = options.momentum() ? *options.momentum() : 1.0 / num_batches_tracked.item<double>();
  }
  // Without running statistics, eval mode normalises with the batch's too (PyTorch).
  const bool use_batch_stats = is_training() || !options.track_running_stats();
  return batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats, factor, options.eps());
}

void BatchNormImplBase::pretty_print(std::ostream& os) const {
  os << std::boolalpha << name() << "(" << options.num_features() << ", eps=" << options.eps() << ", momentum=";
  if (options.momentum())
    os << *options.momentum();
  else
    os << "None";
  os << ", affine=" << options.affine() << ", track_running_stats=" << options.track_running_stats() << ")";
}

// ---- LayerNorm ----

LayerNormImpl::LayerNormImpl(const LayerNormOptions& options_) : options(options_) {
  const auto& shape = options.normalized_shape();
  if (shape.empty()) fail<ValueError>("LayerNorm", "normalized_shape must have at least one dimension");
  for (std::int64_t s : shape)
    if (s <= 0) fail<ValueError>("LayerNorm", "normalized_shape must be positive, got ", IntArrayRef(shape));
  if (!(options.eps() >= 0)) fail<ValueError>("LayerNorm", "eps must be non-negative, got ", options.eps());
  const bool affine = options.elementwise_affine();
  weight = register_parameter("weight", affine ? tapeflow::empty(shape) : Tensor(), affine);
  bias = register_parameter("bias", affine ? tapeflow::empty(shape) : Tensor(), affine);
  reset_parameters();
}

void LayerNormImpl::reset_parameters() {
  if (!options.elementwise_affine()) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor LayerNormImpl::forward(const Tensor& x) {
  detail::check_input_dtype(name(), x, weight);
  const auto& shape = options.normalized_shape();
  const std::int64_t k = static_cast<std::int64_t>(shape.size());
  bool match = x.dim() >= k;
  for (std::int64_t i = 0; match && i < k; ++i) match = x.size(x.dim() - k + i) == shape[static_cast<std::size_t>(i)];
  if (!match)
    fail<ShapeError>(name().c_str(), "expected input with trailing dimensions ", IntArrayRef(shape),
                     " (normalized_shape), got shape ", x.shape());
  return layer_norm(x, shape, weight, bias, options.eps());
}

void LayerNormImpl::pretty_print(std::ostream& os) const {
  os << std::boolalpha << name() << "([";
  const auto& shape = options.normalized_shape();
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "], eps=" << options.eps() << ", elementwise_affine=" << options.elementwise_affine() << ")";
}

}  // namespace tapeflow::nn
