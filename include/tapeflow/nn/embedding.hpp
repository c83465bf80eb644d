#pragma once
// Embedding, as torch::nn::Embedding: a (num_embeddings, embedding_dim) table whose rows are
// looked up by integer (int64/int32) indices of any shape: (...) -> (..., embedding_dim).
//   nn::Embedding emb(nn::EmbeddingOptions(100, 16).padding_idx(0));
//   auto pre = nn::Embedding::from_pretrained(vectors);   // frozen unless freeze = false
// The weight starts N(0, 1), with the padding_idx row zeroed; that row never receives a
// gradient (so it stays as it is during training). Not supported: max_norm, norm_type,
// scale_grad_by_freq and sparse gradients.
#include <cstdint>
#include <optional>
#include <ostream>

#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/options.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::nn {

class EmbeddingOptions {
 public:
  EmbeddingOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  TAPEFLOW_ARG(std::int64_t, num_embeddings);
  TAPEFLOW_ARG(std::int64_t, embedding_dim);
  // Negative values count from the end (-1 is the last row), as PyTorch.
  TAPEFLOW_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;
  // Initial weight to use (shared, not copied) instead of a random one; must be
  // (num_embeddings, embedding_dim).
  TAPEFLOW_ARG(Tensor, _weight);
};

class EmbeddingFromPretrainedOptions {
 public:
  EmbeddingFromPretrainedOptions() = default;
  TAPEFLOW_ARG(bool, freeze) = true;  // the weight does not require grad
  TAPEFLOW_ARG(std::optional<std::int64_t>, padding_idx) = std::nullopt;
};

class EmbeddingImpl : public Module {
 public:
  EmbeddingImpl(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : EmbeddingImpl(EmbeddingOptions(num_embeddings, embedding_dim)) {}
  explicit EmbeddingImpl(const EmbeddingOptions& options);
  // indices: int64/int32 of any shape, each in [0, num_embeddings).
  Tensor forward(const Tensor& indices);
  void reset_parameters();  // N(0, 1), padding row zeroed
  void pretty_print(std::ostream& os) const override;

  EmbeddingOptions options;  // padding_idx is stored non-negative
  Tensor weight;             // (num_embeddings, embedding_dim)
};

// The holder, with PyTorch's from_pretrained.
class Embedding : public ModuleHolder<EmbeddingImpl> {
 public:
  using ModuleHolder<EmbeddingImpl>::ModuleHolder;
  // An Embedding whose weight is `embeddings` (2-D; shared, not copied), frozen by default.
  static Embedding from_pretrained(const Tensor& embeddings, const EmbeddingFromPretrainedOptions& options = {});
  static Embedding from_pretrained(const Tensor& embeddings, bool freeze);
};

}  // namespace tapeflow::nn
