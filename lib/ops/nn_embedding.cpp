// embedding: rows of a (num_embeddings, dim) weight picked by integer indices of any shape.
// Its gradient adds the gradient rows into zeros of the weight's shape (repeated indices
// accumulate), with the backend's scatter_add reading one index per row (a broadcast view, like
// the forward's gather): no copy of the table, no index expanded to the gradient's size and no
// second range check (the forward checked the saved indices; changing them in place is caught).
// That backward op is itself recorded, its gradient a lookup, so second derivatives work.
// The row at padding_idx gets no gradient (PyTorch), e.g. the <pad> token of a vocabulary.
#include "autograd/tape.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"
#include "ops/nn_common.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/index.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow {
namespace {

const bool kRegistered = autograd::register_ops({"embedding", "embedding_backward"});

// idx: the flat int64 indices (count), g: the output gradient (..., D). Gradient rows that
// look up padding_idx are zeroed first (a product with a constant mask, so still differentiable).
Tensor embedding_backward(const Tensor& g, const Tensor& idx, std::int64_t rows, std::optional<std::int64_t> pad) {
  const std::int64_t count = idx.numel(), D = g.size(-1);
  Tensor g2 = g.reshape({count, D});
  if (pad) g2 = g2 * ne(idx.reshape({count, 1}), *pad).to(g.dtype());
  Tensor out = zeros({rows, D}, TensorOptions(g.dtype()).device(g.device()));
  if (count > 0 && D > 0) {
    // Element (i, j) of src adds to out[idx[i], j]: x_view walks a row (the index picks which),
    // the index is read once per row.
    const Tensor x_view = detail::make_view(out, {count, D}, {0, 1}, 0);
    const Tensor index_view = detail::make_view(idx, {count, D}, {1, 0}, idx.storage_offset());
    kernels::on(out).scatter_add(x_view, index_view, g2, 0, D);
  }
  if (autograd::should_record(g2))
    autograd::record("embedding_backward", {g2}, {out}, [idx, count, D](const autograd::BackwardArgs& a) {
      // d out / d g2: each gradient row reads the row of out it was added to.
      return autograd::Grads{embedding(a.grad(), idx).reshape({count, D})};
    }, /*saved=*/{idx});
  return out;
}

// IndexError unless every index lies in [0, rows), checked on the indices' device.
void check_rows(const Tensor& idx, std::int64_t rows) {
  try {
    kernels::on(idx).check_index_range("embedding", idx, 0, rows);
  } catch (const IndexError&) {
    // Name the first bad value in the embedding's own terms (a host copy, on the error path only).
    const Tensor host = idx.to(Device::cpu()).contiguous();
    const std::int64_t* p = host.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < host.numel(); ++i)
      if (p[i] < 0 || p[i] >= rows) fail<IndexError>("embedding", "index ", p[i], " is out of range for ", rows, " embeddings");
    throw;
  }
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
  const std::int64_t count = idx.numel();
  check_rows(idx, rows);
  Shape shape = indices.shape();
  shape.push_back(D);
  Tensor out = detail::make_tensor(shape, weight.dtype(), weight.device());
  if (autograd::should_record(weight))
    autograd::record(op, {weight}, {out}, [idx, rows, padding_idx](const autograd::BackwardArgs& a) {
      return autograd::Grads{embedding_backward(a.grad(), idx, rows, padding_idx)};
    }, /*saved=*/{idx});  // idx may share the caller's indices: changing them in place is caught
  if (out.numel() == 0) return out;
  // The backend's gather with one index per output row (broadcast along the row), which copies
  // whole rows read in place through weight's strides: a large table is never copied.
  const Tensor rows_view = detail::make_view(weight, {count, D}, {0, weight.stride(1)}, weight.storage_offset());
  const Tensor index_view = detail::make_view(idx, {count, D}, {1, 0}, idx.storage_offset());
  kernels::on(out).gather(detail::make_view(out, {count, D}, {D, 1}, 0), rows_view, index_view, weight.stride(0));
  return out;
}

}  // namespace tapeflow
