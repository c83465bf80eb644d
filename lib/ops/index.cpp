// Index ops: selection by integer index tensors and boolean masks, gather/scatter along a dim.
#include "tapeflow/ops/index.hpp"

#include <algorithm>

#include "autograd/tape.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow {
namespace {

const bool kRegistered = autograd::register_ops({"index_select", "gather", "scatter_add", "scatter_add_", "masked_select"});

void check_index_dtype(const char* op, const Tensor& index) {
  if (index.dtype() != kInt64 && index.dtype() != kInt32)
    fail<DTypeError>(op, "index must be int64 or int32, got ", index.dtype());
}

// A contiguous 1-D int64 copy of a 0-/1-D index with negative entries wrapped, checked against
// size, on the index's device (public elementwise ops, then the backend's range check).
Tensor wrapped_indices(const char* op, const Tensor& index, std::int64_t dim, std::int64_t size) {
  check_index_dtype(op, index);
  const Tensor flat = index.reshape({index.numel()}).to(kInt64);
  const Tensor idx = where(lt(flat, 0), flat + size, flat);
  try {
    kernels::on(idx).check_index_range(op, idx, dim, size);
  } catch (const IndexError&) {
    // The check saw wrapped values: name the first bad one as the caller wrote it.
    const Tensor host = flat.to(Device::cpu()).contiguous();
    const std::int64_t* p = host.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < host.numel(); ++i)
      if (p[i] < -size || p[i] >= size) fail<IndexError>(op, "index ", p[i], " is out of bounds for size ", size);
    throw;
  }
  return idx;
}

// x viewed with `shape` (sizes of an index tensor) and stride 0 along dim: the base that
// gather/scatter shift by index * x.stride(dim).
Tensor dim_base_view(const Tensor& x, IntArrayRef shape, std::int64_t dim) {
  Shape strides = x.strides();
  strides[static_cast<std::size_t>(dim)] = 0;
  return detail::make_view(x, Shape(shape), std::move(strides), x.storage_offset());
}

// PyTorch's gather/scatter rules: same number of dims, index no larger than x except along dim
// (and no larger than src anywhere, when there is a src).
void check_gather_shapes(const char* op, const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor* src) {
  if (index.dim() != x.dim())
    fail<ShapeError>(op, "index ", index.shape(), " must have as many dims as the input ", x.shape());
  for (std::int64_t d = 0; d < x.dim(); ++d) {
    if (d != dim && index.size(d) > x.size(d))
      fail<ShapeError>(op, "index ", index.shape(), " is larger than the input ", x.shape(), " at dim ", d);
    if (src && index.size(d) > src->size(d))
      fail<ShapeError>(op, "index ", index.shape(), " is larger than src ", src->shape(), " at dim ", d);
  }
}

// Zeros of `shape` like g (dtype, device): the base the backward scatters gradients into.
Tensor zeros_for(const Tensor& g, IntArrayRef shape) {
  return zeros(shape, TensorOptions(g.dtype()).device(g.device()));
}

// Gradient of gather(x, dim, index) (and of index_select, with an expanded index): the gradient
// scatter-added into zeros of x's shape, duplicates accumulating. scatter_add records itself,
// so this is differentiable again under create_graph.
Tensor gather_backward(const Tensor& g, IntArrayRef x_shape, std::int64_t dim, const Tensor& index) {
  return tapeflow::scatter_add(zeros_for(g, x_shape), dim, index, g);
}

// Gradient of scatter_add's src: gather of the gradient at index; where src is larger than index
// (allowed), the rest of src never reached the output and gets zeros. That embedding is a
// scatter_add along dim 0 at each element's own row, so it stays differentiable.
Tensor scatter_src_backward(const Tensor& g, std::int64_t dim, const Tensor& index, IntArrayRef src_shape) {
  Tensor gs = tapeflow::gather(g, dim, index);
  if (gs.shape() == src_shape) return gs;
  Shape row_shape(index.shape().size(), 1);
  row_shape[0] = index.size(0);
  const Tensor rows = arange(index.size(0), TensorOptions(kInt64).device(g.device())).view(row_shape).expand(index.shape());
  return tapeflow::scatter_add(zeros_for(g, src_shape), 0, rows, gs);
}

// The differentiable inputs of the index ops are floating point; integer data never records.
template <typename... Ts>
bool records(const Tensor& out, const Ts&... ins) {
  return autograd::should_record(ins...) && out.is_floating_point();
}

// scatter_add_ without recording (shared by the in-place and out-of-place ops).
void scatter_add_impl(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src);

void record_scatter_add(const char* op, const Tensor& x_in, std::int64_t dim, const Tensor& index, const Tensor& src,
                        const Tensor& out) {
  autograd::record(op, {x_in, src}, {out}, [dim, index, src_shape = src.shape()](const autograd::BackwardArgs& g) {
    return autograd::Grads{g.needs(0) ? g.grad() : Tensor(),
                           g.needs(1) ? scatter_src_backward(g.grad(), dim, index, src_shape) : Tensor()};
  }, /*saved=*/{index});
}

}  // namespace

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  detail::check_defined("index_select", x);
  detail::check_defined("index_select", index, "index");
  detail::check_same_device("index_select", x, index);
  if (index.dim() > 1) fail<ShapeError>("index_select", "index must be 0-D or 1-D, got shape ", index.shape());
  const std::int64_t d = wrap_dim("index_select", dim, x.dim());
  const std::int64_t size = x.dim() == 0 ? 1 : x.size(d);
  const Tensor idx = wrapped_indices("index_select", index, d, size);
  if (x.dim() == 0) {  // a 0-D input behaves as a 1-element 1-D one
    const Tensor r = index_select(x.reshape({1}), 0, idx);
    return index.dim() == 0 ? r.reshape(IntArrayRef{}) : r;
  }
  Shape out_shape = x.shape();
  out_shape[static_cast<std::size_t>(d)] = idx.numel();
  Tensor out = detail::make_tensor(out_shape, x.dtype(), x.device());
  // The 1-D index broadcast over out's shape: every row of out shares one index, so the
  // gather kernel copies whole rows.
  Shape idx_strides(out_shape.size(), 0);
  idx_strides[static_cast<std::size_t>(d)] = 1;
  const Tensor idx_view = detail::make_view(idx, out_shape, std::move(idx_strides), 0);
  kernels::on(out).gather(out, dim_base_view(x, out_shape, d), idx_view, x.stride(d));
  if (records(out, x))
    autograd::record("index_select", {x}, {out}, [d, idx, x_shape = x.shape()](const autograd::BackwardArgs& g) {
      // index_add as a scatter_add with the 1-D index expanded over the gradient's shape.
      const Tensor grad = g.grad();
      Shape idx_shape(grad.shape().size(), 1);
      idx_shape[static_cast<std::size_t>(d)] = idx.numel();
      return autograd::Grads{gather_backward(grad, x_shape, d, idx.view(idx_shape).expand(grad.shape()))};
    });
  return out;
}

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  detail::check_defined("gather", x);
  detail::check_defined("gather", index, "index");
  detail::check_same_device("gather", x, index);
  check_index_dtype("gather", index);
  const std::int64_t d = wrap_dim("gather", dim, x.dim());
  if (x.dim() == 0) {  // a 0-D input behaves as a 1-element 1-D one
    if (index.dim() != 0) fail<ShapeError>("gather", "index ", index.shape(), " must be 0-D for a 0-D input");
    return gather(x.reshape({1}), 0, index.reshape({1})).reshape(IntArrayRef{});
  }
  check_gather_shapes("gather", x, d, index, nullptr);
  kernels::on(index).check_index_range("gather", index, d, x.size(d));
  Tensor out = detail::make_tensor(index.shape(), x.dtype(), x.device());
  kernels::on(out).gather(out, dim_base_view(x, index.shape(), d), index, x.stride(d));
  if (records(out, x))
    autograd::record("gather", {x}, {out}, [d, index, x_shape = x.shape()](const autograd::BackwardArgs& g) {
      return autograd::Grads{gather_backward(g.grad(), x_shape, d, index)};
    }, /*saved=*/{index});
  return out;
}

namespace {
void scatter_add_impl(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  detail::check_defined("scatter_add_", x);
  detail::check_defined("scatter_add_", index, "index");
  detail::check_defined("scatter_add_", src, "src");
  detail::check_same_device("scatter_add_", x, index);
  detail::check_same_device("scatter_add_", x, src);
  check_index_dtype("scatter_add_", index);
  if (src.dtype() != x.dtype())
    fail<DTypeError>("scatter_add_", "src has dtype ", src.dtype(), ", expected ", x.dtype(), " like the input");
  if (x.dtype() == kBool) fail<DTypeError>("scatter_add_", "not supported for bool tensors");
  const std::int64_t d = wrap_dim("scatter_add_", dim, x.dim());
  for (std::int64_t i = 0; i < x.dim(); ++i)
    if (x.stride(i) == 0 && x.size(i) > 1)
      fail<ValueError>("scatter_add_", "cannot write in place into a broadcast (expanded) tensor of shape ", x.shape());
  if (x.dim() == 0) {
    if (index.dim() != 0 || src.dim() > 1 || src.numel() < 1)
      fail<ShapeError>("scatter_add_", "a 0-D input needs a 0-D index and a 1-element src, got ", index.shape(),
                       " and ", src.shape());
    scatter_add_impl(x.reshape({1}), 0, index.reshape({1}), src.reshape({-1}).narrow(0, 0, 1));
    return;
  }
  if (src.dim() != x.dim())
    fail<ShapeError>("scatter_add_", "src ", src.shape(), " must have as many dims as the input ", x.shape());
  check_gather_shapes("scatter_add_", x, d, index, &src);
  // Everything is checked before x changes, so an error leaves x untouched.
  kernels::on(index).check_index_range("scatter_add_", index, d, x.size(d));
  Tensor src_view = detail::make_view(src, index.shape(), src.strides(), src.storage_offset());
  kernels::on(x).scatter_add(dim_base_view(x, index.shape(), d), index, src_view, d, x.stride(d));
  x.impl()->storage->bump_version();
}
}  // namespace

Tensor& scatter_add_(Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  detail::check_defined("scatter_add_", x);
  autograd::check_inplace("scatter_add_", x);
  {
    NoGradGuard internal;  // the 0-D path's reshapes are internal views
    scatter_add_impl(x, dim, index, src);
  }
  // Recorded with x both as input (its value before) and output (the same impl after).
  if (records(x, x, src)) record_scatter_add("scatter_add_", x, dim, index, src, x);
  return x;
}

Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  detail::check_defined("scatter_add", x);
  Tensor out;
  {
    NoGradGuard internal;
    out = x.clone();
    scatter_add_impl(out, dim, index, src);
  }
  if (records(out, x, src)) record_scatter_add("scatter_add", x, dim, index, src, out);
  return out;
}

Tensor one_hot(const Tensor& indices, std::int64_t num_classes) {
  detail::check_defined("one_hot", indices);
  check_index_dtype("one_hot", indices);
  if (num_classes < -1) fail<ValueError>("one_hot", "num_classes must be -1 or >= 0, got ", num_classes);
  const Tensor idx = indices.contiguous();
  const std::int64_t n = idx.numel();
  if (num_classes == -1 && n == 0)
    fail<ValueError>("one_hot", "cannot infer the number of classes from an empty tensor");
  // Values are read on the index's device: the largest one (when inferring) and a range check.
  const std::int64_t classes = num_classes == -1 ? std::max<std::int64_t>(amax(idx).item<std::int64_t>() + 1, 0)
                                                 : num_classes;
  kernels::on(idx).check_index_range("one_hot", idx, indices.dim(), classes);
  Shape shape = indices.shape();
  shape.push_back(classes);
  Tensor out = detail::make_tensor(shape, kInt64, indices.device());
  kernels::on(out).one_hot(out, idx);
  return out;
}

Tensor nonzero(const Tensor& x) {
  detail::check_defined("nonzero", x);
  const Tensor xc = x.contiguous();
  const std::int64_t count = kernels::on(xc).count_nonzero(xc);
  Tensor out = detail::make_tensor({count, x.dim()}, kInt64, x.device());
  kernels::on(out).nonzero_indices(out, xc);
  return out;
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  detail::check_defined("masked_select", x);
  detail::check_defined("masked_select", mask, "mask");
  detail::check_same_device("masked_select", x, mask);
  if (mask.dtype() != kBool) fail<DTypeError>("masked_select", "mask must be bool, got ", mask.dtype());
  const Shape shape = broadcast_shapes("masked_select", x.shape(), mask.shape());
  // The flat positions of the true entries of the broadcast mask (one count read back), then a
  // gather of the flattened broadcast x at them: every step runs on x's device.
  Tensor xs, pos;
  {
    NoGradGuard internal;  // private copies, not tape entries
    xs = x.expand(shape).contiguous().reshape({-1});
    pos = nonzero(mask.expand(shape).contiguous().reshape({-1})).reshape({-1});
  }
  Tensor out = detail::make_tensor({pos.numel()}, x.dtype(), x.device());
  kernels::on(out).gather(out, dim_base_view(xs, out.shape(), 0), pos, 1);
  if (records(out, x))
    autograd::record("masked_select", {x}, {out}, [pos, shape, numel = xs.numel()](const autograd::BackwardArgs& g) {
      // The gradient scattered to the true positions of the flattened broadcast mask; the engine
      // sums a broadcast x's gradient back to x's shape.
      const Tensor flat = tapeflow::scatter_add(zeros_for(g.grad(), {numel}), 0, pos, g.grad());
      return autograd::Grads{flat.view(shape)};
    }, /*saved=*/{mask});
  return out;
}

Tensor Tensor::index_select(std::int64_t dim, const Tensor& index) const { return tapeflow::index_select(*this, dim, index); }
Tensor Tensor::gather(std::int64_t dim, const Tensor& index) const { return tapeflow::gather(*this, dim, index); }
Tensor Tensor::scatter_add(std::int64_t dim, const Tensor& index, const Tensor& src) const {
  return tapeflow::scatter_add(*this, dim, index, src);
}
Tensor Tensor::masked_select(const Tensor& mask) const { return tapeflow::masked_select(*this, mask); }

}  // namespace tapeflow
