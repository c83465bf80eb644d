// embedding: rows of a (num_embeddings, dim) weight picked by integer indices of any shape.
// Its gradient scatter-adds the gradient rows into zeros of the weight's shape (repeated indices
// accumulate) with the public scatter_add, whose own gradient is a gather: any order works.
// The row at padding_idx gets no gradient (PyTorch), e.g. the <pad> token of a vocabulary.
#include <cstring>

#include "autograd/tape.hpp"
#include "core/parallel.hpp"
#include "ops/nn_common.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/index.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow {
namespace {

const bool kRegistered = autograd::register_ops({"embedding"});

// idx: the flat int64 indices (count), g: the output gradient (..., D). Gradient rows that
// look up padding_idx are zeroed first (a product with a constant mask, so still differentiable).
Tensor embedding_backward(const Tensor& g, const Tensor& idx, std::int64_t rows, std::optional<std::int64_t> pad) {
  const std::int64_t count = idx.numel(), D = g.size(-1);
  Tensor g2 = g.reshape({count, D});
  if (pad) g2 = g2 * ne(idx.reshape({count, 1}), *pad).to(g.dtype());
  const Tensor index = idx.reshape({count, 1}).expand({count, D}).contiguous();
  return scatter_add(zeros({rows, D}, TensorOptions(g.dtype()).device(g.device())), 0, index, g2);
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<std::int64_t> padding_idx) {
  const char* op = "embedding";
  detail::check_defined(op, weight, "weight");
  detail::check_defined(op, indices, "indices");
  detail::check_same_device(op, weight, indices);
  detail::check_floating(op, weight, "weight");
  if (weight.dim() != 2) fail<ShapeError>(op, "weight must be 2-D (num_embeddings, dim), got shape ", weight.shape());
  if (indices.dtype() != kInt64 && indices.dtype() != kInt32)
    fail<DTypeError>(op, "indices must be int64 or int32, got ", indices.dtype());
  const std::int64_t rows = weight.size(0), D = weight.size(1);
  if (padding_idx) {
    if (*padding_idx < -rows || *padding_idx >= rows)
      fail<ValueError>(op, "padding_idx ", *padding_idx, " is out of range for ", rows, " embeddings");
    if (*padding_idx < 0) padding_idx = *padding_idx + rows;
  }
  const Tensor idx = indices.contiguous().to(kInt64);
  const std::int64_t* ix = idx.data_ptr<std::int64_t>();
  const std::int64_t count = idx.numel();
  for (std::int64_t i = 0; i < count; ++i)
    if (ix[i] < 0 || ix[i] >= rows)
      fail<IndexError>(op, "index ", ix[i], " is out of range for ", rows, " embeddings");
  Shape shape = indices.shape();
  shape.push_back(D);
  Tensor out = detail::make_tensor(shape, weight.dtype(), weight.device());
  if (autograd::should_record(weight))
    autograd::record(op, {weight}, {out}, [idx, rows, padding_idx](const autograd::BackwardArgs& a) {
      return autograd::Grads{embedding_backward(a.grad(), idx, rows, padding_idx)};
    }, /*saved=*/{idx});  // idx may share the caller's indices: changing them in place is caught
  if (out.numel() == 0) return out;
  // Rows are read in place through weight's strides: a large table is never copied.
  dispatch_floating(weight.dtype(), op, [&]<typename T>() {
    const T* w = static_cast<const T*>(weight.data_ptr());
    const std::int64_t rs = weight.stride(0), cs = weight.stride(1);
    T* o = out.data_ptr<T>();
    const std::int64_t grain = std::max<std::int64_t>(1, detail::kElementwiseGrain / D);
    detail::parallel_for(0, count, grain, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        const T* src = w + ix[i] * rs;
        T* dst = o + i * D;
        if (cs == 1) std::memcpy(dst, src, static_cast<std::size_t>(D) * sizeof(T));
        else
          for (std::int64_t j = 0; j < D; ++j) dst[j] = src[j * cs];
      }
    });
  });
  return out;
}

}  // namespace tapeflow
