// View ops (share storage; no copy) and cat/stack. Every primitive here records itself on the
// tape when its input is tracked; composite ops (flatten, narrow, t, split, chunk, unbind, index,
// stack) record through the primitives they call. Backwards only use public ops, so gradients of
// gradients flow through views too (slicing's backward is the recorded op "slice_backward").
#include "tapeflow/ops/shape.hpp"

#include "autograd/tape.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/index.hpp"

namespace tapeflow {
namespace {

const bool kRegistered = autograd::register_ops(
    {"view", "reshape", "transpose", "permute", "squeeze", "unsqueeze", "expand", "slice", "select", "cat",
     "split", "unbind", "slice_backward"});

// Records a one-input op whose input gradient is back(output gradient). Callers check
// should_record first, so untracked views do not even build the lambda.
template <typename Back>
void record_unary(const char* name, const Tensor& in, const Tensor& out, Back back) {
  autograd::record(name, {in}, {out}, [back = std::move(back)](const autograd::BackwardArgs& g) {
    return autograd::Grads{back(g.grad())};
  });
}

// The view x[..., b:e:step, ...] along dim w (b, e already resolved to 0 <= b <= e <= size).
Tensor slice_view(const Tensor& x, std::size_t w, std::int64_t b, std::int64_t e, std::int64_t step) {
  Shape sz = x.shape(), st = x.strides();
  sz[w] = (e - b + step - 1) / step;
  const std::int64_t offset = x.storage_offset() + b * st[w];
  st[w] *= step;
  return detail::make_view(x, sz, st, offset);
}

// The view x[..., i, ...] along dim w (i already resolved).
Tensor select_view(const Tensor& x, std::size_t w, std::int64_t i) {
  Shape sz = x.shape(), st = x.strides();
  const std::int64_t offset = x.storage_offset() + i * st[w];
  sz.erase(w);
  st.erase(w);
  return detail::make_view(x, sz, st, offset);
}

// split/chunk/unbind: one entry for all the pieces, whose backward joins their gradients (zeros
// for pieces that got none) with one cat or stack, so backward stays linear in the number of
// pieces (a slice entry per piece would add a full-size gradient per piece).
void record_pieces(const char* name, const Tensor& in, const std::vector<Tensor>& pieces, std::int64_t w,
                   bool stacked) {
  if (pieces.empty()) return;
  std::vector<Shape> shapes;
  shapes.reserve(pieces.size());
  for (const Tensor& p : pieces) shapes.push_back(p.shape());
  autograd::record(name, {in}, pieces,
                   [shapes = std::move(shapes), w, stacked, dt = in.dtype(), dev = in.device()](
                       const autograd::BackwardArgs& g) {
                     std::vector<Tensor> parts(shapes.size());
                     for (std::size_t k = 0; k < shapes.size(); ++k)
                       parts[k] = g.grad_outputs[k].defined() ? g.grad_outputs[k]
                                                              : zeros(shapes[k], TensorOptions(dt).device(dev));
                     return autograd::Grads{stacked ? stack(parts, w) : cat(parts, w)};
                   });
}

// Gradient of a slice: zeros of the input's shape with g in the sliced positions. Recorded, with
// slicing as its own backward, so second-order gradients pass through slices and selects.
Tensor slice_backward(const Tensor& g, const Shape& in_shape, std::size_t w, std::int64_t b, std::int64_t e,
                      std::int64_t step) {
  Tensor out = detail::make_tensor(in_shape, g.dtype(), g.device());
  out.zero_();
  kernels::on(g).copy(slice_view(out, w, b, e, step), g);
  if (autograd::should_record(g))
    record_unary("slice_backward", g, out, [w, b, e, step](const Tensor& gg) {
      return gg.slice(static_cast<std::int64_t>(w), b, e, step);
    });
  return out;
}

// Resolves one -1 in a requested shape against numel.
Shape infer_shape(const char* op, IntArrayRef requested, std::int64_t numel, IntArrayRef from) {
  Shape s(requested);
  std::int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) fail<ShapeError>(op, "only one dimension can be -1, got ", requested);
      infer = static_cast<std::int64_t>(i);
    } else if (s[i] < 0) {
      fail<ShapeError>(op, "invalid size ", s[i], " in shape ", requested);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      fail<ShapeError>(op, "shape ", requested, " is invalid for input of shape ", from);
    s[static_cast<std::size_t>(infer)] = numel / known;
  } else if (known != numel) {
    fail<ShapeError>(op, "shape ", requested, " is invalid for input of shape ", from, " (", numel, " elements)");
  }
  return s;
}

// Strides for viewing (sizes, strides) as new_sizes without copying, if possible (PyTorch's
// computeStride): groups of old dims that are contiguous among themselves map onto new dims.
std::optional<Shape> view_strides(IntArrayRef sizes, IntArrayRef strides, IntArrayRef new_sizes) {
  Shape out(new_sizes.size());
  if (shape_numel(sizes) == 0 || sizes.empty()) return contiguous_strides(new_sizes);
  std::int64_t view_d = static_cast<std::int64_t>(new_sizes.size()) - 1;
  std::int64_t chunk_base_stride = strides.back();
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= sizes[static_cast<std::size_t>(d)];
    if (d == 0 || (sizes[static_cast<std::size_t>(d - 1)] != 1 &&
                   strides[static_cast<std::size_t>(d - 1)] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[static_cast<std::size_t>(view_d)] == 1)) {
        out[static_cast<std::size_t>(view_d)] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[static_cast<std::size_t>(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[static_cast<std::size_t>(d - 1)];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace

Tensor Tensor::view(IntArrayRef shape) const {
  const Shape s = infer_shape("view", shape, numel(), this->shape());
  auto st = view_strides(this->shape(), strides(), s);
  if (!st)
    fail<ShapeError>("view", "cannot view a tensor of shape ", this->shape(), " and strides ", strides(), " as ", s,
                     " without a copy; use reshape()");
  Tensor out = detail::make_view(*this, s, *st, storage_offset());
  if (autograd::should_record(*this))
    record_unary("view", *this, out, [in = this->shape()](const Tensor& g) { return g.reshape(in); });
  return out;
}

Tensor Tensor::reshape(IntArrayRef shape) const {
  const Shape s = infer_shape("reshape", shape, numel(), this->shape());
  Tensor out;
  if (auto st = view_strides(this->shape(), strides(), s)) {
    out = detail::make_view(*this, s, *st, storage_offset());
  } else {  // a copy, laid out contiguously, then seen with the new shape
    out = detail::make_tensor(s, dtype(), device());
    kernels::on(*this).copy(detail::make_view(out, this->shape(), contiguous_strides(this->shape()), 0), *this);
  }
  if (autograd::should_record(*this))
    record_unary("reshape", *this, out, [in = this->shape()](const Tensor& g) { return g.reshape(in); });
  return out;
}

Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  const std::int64_t nd = dim();
  if (nd == 0) return reshape({1});
  const std::int64_t s = wrap_dim("flatten", start_dim, nd), e = wrap_dim("flatten", end_dim, nd);
  if (s > e) fail<ShapeError>("flatten", "start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape out;
  std::int64_t merged = 1;
  for (std::int64_t d = 0; d < nd; ++d) {
    if (d < s || d > e) out.push_back(size(d));
    else {
      merged *= size(d);
      if (d == e) out.push_back(merged);
    }
  }
  return reshape(out);
}

Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1) const {
  const std::int64_t nd = dim();
  const auto a = static_cast<std::size_t>(wrap_dim("transpose", d0, nd));
  const auto b = static_cast<std::size_t>(wrap_dim("transpose", d1, nd));
  Shape sz = shape(), st = strides();
  if (nd > 0) {
    std::swap(sz[a], sz[b]);
    std::swap(st[a], st[b]);
  }
  Tensor out = detail::make_view(*this, sz, st, storage_offset());
  if (autograd::should_record(*this))
    record_unary("transpose", *this, out, [d0, d1](const Tensor& g) { return g.transpose(d0, d1); });
  return out;
}

Tensor Tensor::permute(IntArrayRef dims) const {
  const std::int64_t nd = dim();
  if (static_cast<std::int64_t>(dims.size()) != nd)
    fail<ShapeError>("permute", "got ", dims.size(), " dims ", dims, " for a tensor of shape ", shape());
  Shape sz(dims.size()), st(dims.size()), inverse(dims.size());
  std::vector<bool> used(dims.size(), false);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const auto d = static_cast<std::size_t>(wrap_dim("permute", dims[i], nd));
    if (used[d]) fail<ShapeError>("permute", "dim ", dims[i], " repeated in ", dims);
    used[d] = true;
    sz[i] = shape()[d];
    st[i] = strides()[d];
    inverse[d] = static_cast<std::int64_t>(i);
  }
  Tensor out = detail::make_view(*this, sz, st, storage_offset());
  if (autograd::should_record(*this))
    record_unary("permute", *this, out, [inverse](const Tensor& g) { return g.permute(inverse); });
  return out;
}

Tensor Tensor::t() const {
  if (dim() > 2) fail<ShapeError>("t", "expects a tensor with <= 2 dims, got shape ", shape());
  return dim() < 2 ? view(shape()) : transpose(0, 1);
}

Tensor Tensor::squeeze() const {
  Shape sz, st;
  for (std::int64_t d = 0; d < dim(); ++d)
    if (shape()[static_cast<std::size_t>(d)] != 1) {
      sz.push_back(shape()[static_cast<std::size_t>(d)]);
      st.push_back(strides()[static_cast<std::size_t>(d)]);
    }
  Tensor out = detail::make_view(*this, sz, st, storage_offset());
  if (autograd::should_record(*this))
    record_unary("squeeze", *this, out, [in = shape()](const Tensor& g) { return g.reshape(in); });
  return out;
}

Tensor Tensor::squeeze(std::int64_t d) const {
  const auto w = static_cast<std::size_t>(wrap_dim("squeeze", d, dim()));
  Shape sz = shape(), st = strides();
  if (dim() > 0 && sz[w] == 1) {
    sz.erase(w);
    st.erase(w);
  }
  Tensor out = detail::make_view(*this, sz, st, storage_offset());
  if (autograd::should_record(*this))
    record_unary("squeeze", *this, out, [in = shape()](const Tensor& g) { return g.reshape(in); });
  return out;
}

Tensor Tensor::unsqueeze(std::int64_t d) const {
  const auto w = static_cast<std::size_t>(wrap_dim("unsqueeze", d, dim() + 1));
  Shape sz = shape(), st = strides();
  const std::int64_t stride = w < sz.size() ? sz[w] * st[w] : 1;
  sz.insert(w, 1);
  st.insert(w, stride);
  Tensor out = detail::make_view(*this, sz, st, storage_offset());
  if (autograd::should_record(*this))
    record_unary("unsqueeze", *this, out, [w](const Tensor& g) { return g.squeeze(static_cast<std::int64_t>(w)); });
  return out;
}

Tensor Tensor::expand(IntArrayRef target) const {
  const std::size_t nd = target.size(), td = static_cast<std::size_t>(dim());
  if (nd < td) fail<ShapeError>("expand", "cannot expand shape ", shape(), " to fewer dims ", target);
  Shape sz(nd), st(nd);
  for (std::size_t i = 0; i < nd; ++i) {
    const bool existing = i >= nd - td;
    const std::int64_t cur = existing ? shape()[i - (nd - td)] : 1;
    std::int64_t want = target[i];
    if (want == -1) {
      if (!existing) fail<ShapeError>("expand", "-1 is not allowed for a new leading dim in ", target);
      want = cur;
    }
    if (cur != want && cur != 1)
      fail<ShapeError>("expand", "cannot expand shape ", shape(), " to ", target, " (dim ", i, ": ", cur, " vs ", want, ")");
    sz[i] = want;
    st[i] = existing && cur == want ? strides()[i - (nd - td)] : 0;
  }
  Tensor out = detail::make_view(*this, sz, st, storage_offset());
  // The engine sums the gradient back over the broadcast dims (autograd::sum_to).
  if (autograd::should_record(*this)) record_unary("expand", *this, out, [](const Tensor& g) { return g; });
  return out;
}

Tensor Tensor::expand_as(const Tensor& other) const { return expand(other.shape()); }
Tensor Tensor::broadcast_to(IntArrayRef s) const { return expand(s); }

Tensor Tensor::slice(std::int64_t d, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                     std::int64_t step) const {
  if (dim() == 0) fail<IndexError>("slice", "cannot slice a 0-d tensor");
  const auto w = static_cast<std::size_t>(wrap_dim("slice", d, dim()));
  if (step <= 0) fail<ValueError>("slice", "step must be positive, got ", step);
  const std::int64_t n = shape()[w];
  auto clampi = [n](std::int64_t v) { return std::clamp<std::int64_t>(v < 0 ? v + n : v, 0, n); };
  const std::int64_t b = start ? clampi(*start) : 0;
  const std::int64_t e = std::max(b, stop ? clampi(*stop) : n);
  Tensor out = slice_view(*this, w, b, e, step);
  if (autograd::should_record(*this))
    record_unary("slice", *this, out, [in = shape(), w, b, e, step](const Tensor& g) {
      return slice_backward(g, in, w, b, e, step);
    });
  return out;
}

Tensor Tensor::narrow(std::int64_t d, std::int64_t start, std::int64_t length) const {
  if (dim() == 0) fail<IndexError>("narrow", "cannot narrow a 0-d tensor");
  const auto w = static_cast<std::size_t>(wrap_dim("narrow", d, dim()));
  const std::int64_t n = shape()[w];
  const std::int64_t s = start < 0 ? start + n : start;
  if (s < 0 || length < 0 || s + length > n)
    fail<IndexError>("narrow", "start ", start, " + length ", length, " exceeds dim ", d, " of size ", n, " (shape ",
                     shape(), ")");
  return slice(d, s, s + length);
}

Tensor Tensor::select(std::int64_t d, std::int64_t index) const {
  if (dim() == 0) fail<IndexError>("select", "cannot select from a 0-d tensor");
  const auto w = static_cast<std::size_t>(wrap_dim("select", d, dim()));
  const std::int64_t n = shape()[w];
  if (index < -n || index >= n)
    fail<IndexError>("select", "index ", index, " is out of bounds for dim ", d, " with size ", n);
  const std::int64_t i = index < 0 ? index + n : index;
  Tensor out = select_view(*this, w, i);
  if (autograd::should_record(*this))
    record_unary("select", *this, out, [in = shape(), w, i](const Tensor& g) {
      return slice_backward(g.unsqueeze(static_cast<std::int64_t>(w)), in, w, i, i + 1, 1);
    });
  return out;
}

Tensor Tensor::index(std::initializer_list<TensorIndex> indices) const {
  return index(std::vector<TensorIndex>(indices));
}

Tensor Tensor::index(const std::vector<TensorIndex>& indices) const {
  using K = TensorIndex::Kind;
  std::int64_t consumed = 0, ellipses = 0;
  for (const auto& ix : indices) {
    if (ix.kind() == K::Ellipsis) ++ellipses;
    else if (ix.kind() != K::None) consumed += ix.kind() == K::Tensor && ix.tensor().dtype() == kBool ? ix.tensor().dim() : 1;
  }
  if (ellipses > 1) fail<IndexError>("index", "only one Ellipsis is allowed");
  if (consumed > dim()) fail<IndexError>("index", "too many indices (", consumed, ") for a tensor of shape ", shape());
  Tensor r = *this;
  std::int64_t d = 0;  // current dim of r
  for (const auto& ix : indices) {
    switch (ix.kind()) {
      case K::Integer: r = r.select(d, ix.integer()); break;
      case K::Slice: r = r.slice(d, ix.slice().start, ix.slice().stop, ix.slice().step); ++d; break;
      case K::None: r = r.unsqueeze(d); ++d; break;
      case K::Ellipsis: d += dim() - consumed; break;
      case K::Tensor: {
        const Tensor& t = ix.tensor();
        if (t.dtype() == kBool) {
          if (d != 0 || t.dim() != r.dim())
            fail<IndexError>("index", "a bool mask index must cover the whole tensor (mask shape ", t.shape(),
                             ", tensor shape ", r.shape(), ")");
          r = tapeflow::masked_select(r, t);
          d = 1;
        } else {
          if (t.dim() != 1) fail<IndexError>("index", "integer index tensors must be 1-D, got shape ", t.shape());
          r = tapeflow::index_select(r, d, t);
          ++d;
        }
        break;
      }
    }
  }
  return r;
}

std::vector<Tensor> Tensor::split(std::int64_t split_size, std::int64_t d) const {
  if (dim() == 0) fail<IndexError>("split", "cannot split a 0-d tensor");
  const auto w = wrap_dim("split", d, dim());
  if (split_size <= 0) fail<ValueError>("split", "split_size must be positive, got ", split_size);
  std::vector<Tensor> out;
  const std::int64_t n = size(w);
  for (std::int64_t s = 0; s < n || (n == 0 && out.empty()); s += split_size)
    out.push_back(slice_view(*this, static_cast<std::size_t>(w), s, s + std::min(split_size, n - s), 1));
  if (autograd::should_record(*this)) record_pieces("split", *this, out, w, false);
  return out;
}

std::vector<Tensor> Tensor::split(IntArrayRef sizes, std::int64_t d) const {
  if (dim() == 0) fail<IndexError>("split", "cannot split a 0-d tensor");
  const auto w = wrap_dim("split", d, dim());
  std::int64_t total = 0;
  for (std::int64_t s : sizes) {
    if (s < 0) fail<ValueError>("split", "negative split size in ", sizes);
    total += s;
  }
  if (total != size(w)) fail<ShapeError>("split", "sizes ", sizes, " do not add up to dim ", d, " of size ", size(w));
  std::vector<Tensor> out;
  std::int64_t s0 = 0;
  for (std::int64_t s : sizes) {
    out.push_back(slice_view(*this, static_cast<std::size_t>(w), s0, s0 + s, 1));
    s0 += s;
  }
  if (autograd::should_record(*this)) record_pieces("split", *this, out, w, false);
  return out;
}

std::vector<Tensor> Tensor::chunk(std::int64_t chunks, std::int64_t d) const {
  if (chunks <= 0) fail<ValueError>("chunk", "number of chunks must be positive, got ", chunks);
  if (dim() == 0) fail<IndexError>("chunk", "cannot chunk a 0-d tensor");
  const std::int64_t n = size(d);
  return split(std::max<std::int64_t>(1, (n + chunks - 1) / chunks), d);
}

std::vector<Tensor> Tensor::unbind(std::int64_t d) const {
  if (dim() == 0) fail<IndexError>("unbind", "cannot unbind a 0-d tensor");
  const auto w = wrap_dim("unbind", d, dim());
  std::vector<Tensor> out;
  for (std::int64_t i = 0; i < size(w); ++i) out.push_back(select_view(*this, static_cast<std::size_t>(w), i));
  if (autograd::should_record(*this)) record_pieces("unbind", *this, out, w, true);
  return out;
}

// ---- free-function forms ----
Tensor reshape(const Tensor& x, IntArrayRef shape) { return x.reshape(shape); }
Tensor flatten(const Tensor& x, std::int64_t s, std::int64_t e) { return x.flatten(s, e); }
Tensor transpose(const Tensor& x, std::int64_t a, std::int64_t b) { return x.transpose(a, b); }
Tensor permute(const Tensor& x, IntArrayRef dims) { return x.permute(dims); }
Tensor squeeze(const Tensor& x) { return x.squeeze(); }
Tensor squeeze(const Tensor& x, std::int64_t d) { return x.squeeze(d); }
Tensor unsqueeze(const Tensor& x, std::int64_t d) { return x.unsqueeze(d); }
Tensor broadcast_to(const Tensor& x, IntArrayRef s) { return x.expand(s); }
Tensor narrow(const Tensor& x, std::int64_t d, std::int64_t s, std::int64_t l) { return x.narrow(d, s, l); }
Tensor select(const Tensor& x, std::int64_t d, std::int64_t i) { return x.select(d, i); }
std::vector<Tensor> chunk(const Tensor& x, std::int64_t c, std::int64_t d) { return x.chunk(c, d); }
std::vector<Tensor> split(const Tensor& x, std::int64_t s, std::int64_t d) { return x.split(s, d); }

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t d) {
  if (tensors.empty()) fail<ValueError>("cat", "expected a non-empty list of tensors");
  // PyTorch skips 1-D empty tensors (legacy behaviour kept for compatibility).
  std::vector<const Tensor*> parts;
  for (const Tensor& t : tensors) {
    detail::check_defined("cat", t);
    if (!(t.dim() == 1 && t.numel() == 0)) parts.push_back(&t);
  }
  if (parts.empty()) return tensors[0].clone();
  const Tensor& first = *parts[0];
  if (first.dim() == 0) fail<ShapeError>("cat", "zero-dimensional tensors cannot be concatenated");
  const auto w = static_cast<std::size_t>(wrap_dim("cat", d, first.dim()));
  Shape out_shape = first.shape();
  DType dt = first.dtype();
  out_shape[w] = 0;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const Tensor& t = *parts[k];
    detail::check_same_device("cat", first, t);
    if (t.dim() != first.dim())
      fail<ShapeError>("cat", "tensor ", k, " has shape ", t.shape(), ", expected ", first.dim(), " dims like ", first.shape());
    for (std::size_t i = 0; i < out_shape.size(); ++i)
      if (i != w && t.shape()[i] != first.shape()[i])
        fail<ShapeError>("cat", "shapes ", first.shape(), " and ", t.shape(), " differ outside dim ", d);
    out_shape[w] += t.shape()[w];
    dt = promote_types(dt, t.dtype());
  }
  Tensor out = detail::make_tensor(out_shape, dt, first.device());
  std::int64_t pos = 0;
  for (const Tensor* t : parts) {
    const std::int64_t n = t->shape()[w];
    kernels::on(*t).copy(slice_view(out, w, pos, pos + n, 1), *t);
    pos += n;
  }
  if (autograd::should_record_list(tensors)) {
    // Where each input landed along dim w; skipped (1-D empty) inputs get no gradient.
    std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
    pos = 0;
    for (const Tensor& t : tensors) {
      const bool skipped = t.dim() == 1 && t.numel() == 0;
      const std::int64_t n = skipped ? -1 : t.shape()[w];
      ranges.emplace_back(pos, n);
      pos += std::max<std::int64_t>(n, 0);
    }
    autograd::record("cat", tensors, {out}, [ranges, w](const autograd::BackwardArgs& g) {
      autograd::Grads grads(ranges.size());
      const Tensor go = g.grad();
      for (std::size_t k = 0; k < ranges.size(); ++k)
        if (g.needs(k) && ranges[k].second >= 0)
          grads[k] = go.narrow(static_cast<std::int64_t>(w), ranges[k].first, ranges[k].second);
      return grads;
    });
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t d) {
  if (tensors.empty()) fail<ValueError>("stack", "expected a non-empty list of tensors");
  const auto w = wrap_dim("stack", d, tensors[0].dim() + 1);
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors) {
    detail::check_defined("stack", t);
    if (!(t.shape() == tensors[0].shape()))
      fail<ShapeError>("stack", "all tensors must have the same shape, got ", tensors[0].shape(), " and ", t.shape());
    parts.push_back(t.unsqueeze(w));
  }
  return cat(parts, w);
}

}  // namespace tapeflow
