// Loss modules: options checked once here, forward calls the functional form.
#include "tapeflow/nn/loss.hpp"

#include <ostream>

#include "ops/loss_common.hpp"
#include "tapeflow/nn/functional/loss.hpp"

namespace tapeflow::nn {

namespace F = functional;

template <typename Options>
void LossModule<Options>::pretty_print(std::ostream& os) const {
  os << name() << "()";
}

template class LossModule<MSELossOptions>;
template class LossModule<L1LossOptions>;
template class LossModule<SmoothL1LossOptions>;
template class LossModule<HuberLossOptions>;
template class LossModule<CrossEntropyLossOptions>;
template class LossModule<NLLLossOptions>;
template class LossModule<BCELossOptions>;
template class LossModule<BCEWithLogitsLossOptions>;
template class LossModule<KLDivLossOptions>;

MSELossImpl::MSELossImpl(MSELossOptions o) : LossModule(o) {}
Tensor MSELossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::mse_loss(input, target, options.reduction);
}

L1LossImpl::L1LossImpl(L1LossOptions o) : LossModule(o) {}
Tensor L1LossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::l1_loss(input, target, options.reduction);
}

SmoothL1LossImpl::SmoothL1LossImpl(SmoothL1LossOptions o) : LossModule(o) { detail::check_beta("SmoothL1Loss", o.beta); }
Tensor SmoothL1LossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::smooth_l1_loss(input, target, options.reduction, options.beta);
}

HuberLossImpl::HuberLossImpl(HuberLossOptions o) : LossModule(o) { detail::check_delta("HuberLoss", o.delta); }
Tensor HuberLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::huber_loss(input, target, options.reduction, options.delta);
}

// Weights live in buffers; options keep the same handles (Module::to updates them in place).
CrossEntropyLossImpl::CrossEntropyLossImpl(CrossEntropyLossOptions o) : LossModule(std::move(o)) {
  detail::check_options("CrossEntropyLoss", options);
  options.weight = register_buffer("weight", options.weight);
}
Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::cross_entropy(input, target, options);
}

NLLLossImpl::NLLLossImpl(NLLLossOptions o) : LossModule(std::move(o)) {
  detail::check_options("NLLLoss", options);
  options.weight = register_buffer("weight", options.weight);
}
Tensor NLLLossImpl::forward(const Tensor& input, const Tensor& target) { return F::nll_loss(input, target, options); }

BCELossImpl::BCELossImpl(BCELossOptions o) : LossModule(std::move(o)) {
  detail::check_options("BCELoss", options);
  options.weight = register_buffer("weight", options.weight);
}
Tensor BCELossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::binary_cross_entropy(input, target, options);
}

BCEWithLogitsLossImpl::BCEWithLogitsLossImpl(BCEWithLogitsLossOptions o) : LossModule(std::move(o)) {
  detail::check_options("BCEWithLogitsLoss", options);
  options.weight = register_buffer("weight", options.weight);
  options.pos_weight = register_buffer("pos_weight", options.pos_weight);
}
Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::binary_cross_entropy_with_logits(input, target, options);
}

KLDivLossImpl::KLDivLossImpl(KLDivLossOptions o) : LossModule(o) {}
Tensor KLDivLossImpl::forward(const Tensor& input, const Tensor& target) { return F::kl_div(input, target, options); }

}  // namespace tapeflow::nn
