#pragma once
// Flatten, as torch::nn::Flatten: merges dims start_dim..end_dim (default 1..-1, i.e. keeps the
// batch dim), e.g. (N, C, H, W) -> (N, C * H * W) between a conv stack and a Linear. A view
// when the input's strides allow it.
#include <cstdint>
#include <ostream>

#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/options.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

class FlattenOptions {
 public:
  FlattenOptions() = default;
  TAPEFLOW_ARG(std::int64_t, start_dim) = 1;
  TAPEFLOW_ARG(std::int64_t, end_dim) = -1;
};

class FlattenImpl : public Module {
 public:
  explicit FlattenImpl(const FlattenOptions& options_ = {}) : options(options_) {}
  FlattenImpl(std::int64_t start_dim, std::int64_t end_dim)
      : FlattenImpl(FlattenOptions().start_dim(start_dim).end_dim(end_dim)) {}
  Tensor forward(const Tensor& x);
  void pretty_print(std::ostream& os) const override;
  FlattenOptions options;
};
TAPEFLOW_MODULE(Flatten);

}  // namespace tapeflow::nn
