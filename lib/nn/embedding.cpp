// Embedding: the lookup table, its initialisation (N(0, 1), padding row zeroed) and from_pretrained.
#include "tapeflow/nn/embedding.hpp"

#include "nn/layer_checks.hpp"
#include "tapeflow/autograd.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/nn/init.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow::nn {
namespace {

// padding_idx in [-n, n), returned non-negative.
std::optional<std::int64_t> normalised_padding_idx(std::optional<std::int64_t> idx, std::int64_t n) {
  if (!idx) return idx;
  if (*idx < -n || *idx >= n)
    fail<ValueError>("Embedding", "padding_idx must be within [-", n, ", ", n, ") for num_embeddings ", n, ", got ",
                     *idx);
  return *idx < 0 ? *idx + n : *idx;
}

}  // namespace

EmbeddingImpl::EmbeddingImpl(const EmbeddingOptions& options_) : options(options_) {
  const std::int64_t n = options.num_embeddings(), d = options.embedding_dim();
  if (n < 0 || d < 0)
    fail<ValueError>("Embedding", "num_embeddings and embedding_dim must be non-negative, got ", n, " and ", d);
  options.padding_idx(normalised_padding_idx(options.padding_idx(), n));
  const Tensor& given = options._weight();
  if (given.defined()) {
    if (!(given.shape() == Shape{n, d}))
      fail<ShapeError>("Embedding", "_weight must have shape (", n, ", ", d,
                       ") (num_embeddings, embedding_dim), got ", given.shape());
    if (!given.is_floating_point())
      fail<DTypeError>("Embedding", "_weight must be floating-point, got dtype ", given.dtype());
    weight = register_parameter("weight", given.detach());  // a new handle on the same storage
  } else {
    weight = register_parameter("weight", empty({n, d}));
    reset_parameters();
  }
}

void EmbeddingImpl::reset_parameters() {
  init::normal_(weight);
  if (options.padding_idx()) {
    NoGradGuard no_grad;
    weight[*options.padding_idx()].fill_(0.0);
  }
}

Tensor EmbeddingImpl::forward(const Tensor& indices) {
  detail::check_input_defined(name(), indices);
  if (indices.dtype() != kInt64 && indices.dtype() != kInt32)
    fail<DTypeError>(name().c_str(), "expected integer indices (int64 or int32), got dtype ", indices.dtype());
  return embedding(weight, indices, options.padding_idx());
}

void EmbeddingImpl::pretty_print(std::ostream& os) const {
  os << name() << "(num_embeddings=" << options.num_embeddings() << ", embedding_dim=" << options.embedding_dim();
  if (options.padding_idx()) os << ", padding_idx=" << *options.padding_idx();
  os << ")";
}

Embedding Embedding::from_pretrained(const Tensor& embeddings, const EmbeddingFromPretrainedOptions& options) {
  if (!embeddings.defined() || embeddings.dim() != 2)
    fail<ShapeError>("Embedding::from_pretrained", "expected a 2-D (num_embeddings, embedding_dim) tensor, got ",
                     embeddings.defined() ? detail::shape_str(embeddings) : std::string("an undefined tensor"));
  Embedding out(EmbeddingOptions(embeddings.size(0), embeddings.size(1))
                    ._weight(embeddings)
                    .padding_idx(options.padding_idx()));
  out->weight.requires_grad_(!options.freeze());
  return out;
}

Embedding Embedding::from_pretrained(const Tensor& embeddings, bool freeze) {
  return from_pretrained(embeddings, EmbeddingFromPretrainedOptions().freeze(freeze));
}

}  // namespace tapeflow::nn
