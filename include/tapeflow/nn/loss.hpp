#pragma once
// Loss modules: the functional losses (nn/functional/loss.hpp) held with their options, as
// PyTorch's nn.CrossEntropyLoss and friends:
//
//   nn::CrossEntropyLoss criterion(nn::CrossEntropyLossOptions{.label_smoothing = 0.1});
//   Tensor loss = criterion(model(x), labels);
//
// Class weights and pos_weight are registered as buffers ("weight", "pos_weight"), so they are
// in state_dict() and follow to(device / dtype). Options are checked at construction.
#include <iosfwd>
#include <utility>

#include "tapeflow/nn/loss_options.hpp"
#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/reduction.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

// The part every loss module shares: its options, and a forward taking (input, target).
// Printing shows the bare name, "MSELoss()", as PyTorch.
template <typename Options>
class LossModule : public Module {
 public:
  Options options;
  void pretty_print(std::ostream& os) const override;

 protected:
  explicit LossModule(Options o) : options(std::move(o)) {}
};

// Instantiated once, in lib/nn/loss.cpp.
extern template class LossModule<MSELossOptions>;
extern template class LossModule<L1LossOptions>;
extern template class LossModule<SmoothL1LossOptions>;
extern template class LossModule<HuberLossOptions>;
extern template class LossModule<CrossEntropyLossOptions>;
extern template class LossModule<NLLLossOptions>;
extern template class LossModule<BCELossOptions>;
extern template class LossModule<BCEWithLogitsLossOptions>;
extern template class LossModule<KLDivLossOptions>;

class MSELossImpl : public LossModule<MSELossOptions> {
 public:
  explicit MSELossImpl(MSELossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
};
TAPEFLOW_MODULE(MSELoss);

class L1LossImpl : public LossModule<L1LossOptions> {
 public:
  explicit L1LossImpl(L1LossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
};
TAPEFLOW_MODULE(L1Loss);

class SmoothL1LossImpl : public LossModule<SmoothL1LossOptions> {
 public:
  explicit SmoothL1LossImpl(SmoothL1LossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
};
TAPEFLOW_MODULE(SmoothL1Loss);

class HuberLossImpl : public LossModule<HuberLossOptions> {
 public:
  explicit HuberLossImpl(HuberLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
};
TAPEFLOW_MODULE(HuberLoss);

class CrossEntropyLossImpl : public LossModule<CrossEntropyLossOptions> {
 public:
  explicit CrossEntropyLossImpl(CrossEntropyLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
};
TAPEFLOW_MODULE(CrossEntropyLoss);

class NLLLossImpl : public LossModule<NLLLossOptions> {
 public:
  explicit NLLLossImpl(NLLLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
};
TAPEFLOW_MODULE(NLLLoss);

class BCELossImpl : public LossModule<BCELossOptions> {
 public:
  explicit BCELossImpl(BCELossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
};
TAPEFLOW_MODULE(BCELoss);

class BCEWithLogitsLossImpl : public LossModule<BCEWithLogitsLossOptions> {
 public:
  explicit BCEWithLogitsLossImpl(BCEWithLogitsLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
};
TAPEFLOW_MODULE(BCEWithLogitsLoss);

class KLDivLossImpl : public LossModule<KLDivLossOptions> {
 public:
  explicit KLDivLossImpl(KLDivLossOptions options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
};
TAPEFLOW_MODULE(KLDivLoss);

}  // namespace tapeflow::nn
