// Factories: empty/zeros/ones/full/arange/linspace/eye, *_like, tensor(values), from_blob.
#include "tapeflow/creation.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/parallel.hpp"
#include "core/small_alloc.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"

namespace tapeflow {
namespace {

Tensor finish(Tensor t, const TensorOptions& o) {
  if (o.requires_grad()) t.requires_grad_(true);
  return t;
}

TensorOptions like_options(const Tensor& t, const std::optional<TensorOptions>& o) {
  return o ? *o : TensorOptions(t.dtype()).device(t.device());
}

}  // namespace

Tensor empty(IntArrayRef shape, TensorOptions o) {
  return finish(detail::make_tensor(shape, o.dtype(), o.device()), o);
}

Tensor full(IntArrayRef shape, Scalar value, TensorOptions o) {
  Tensor t = detail::make_tensor(shape, o.dtype(), o.device());
  kernels::on(t).fill(t, value);
  return finish(t, o);
}
Tensor zeros(IntArrayRef shape, TensorOptions o) {
  Tensor t = detail::make_tensor(shape, o.dtype(), o.device());
  if (t.is_cpu()) detail::parallel_zero_bytes(t.data_ptr(), t.nbytes());  // all-zero bytes are 0 in every dtype
  else kernels::on(t).fill(t, 0);
  return finish(t, o);
}
Tensor ones(IntArrayRef shape, TensorOptions o) { return full(shape, 1, o); }

Tensor empty_like(const Tensor& t, std::optional<TensorOptions> o) { return empty(t.shape(), like_options(t, o)); }
Tensor zeros_like(const Tensor& t, std::optional<TensorOptions> o) { return zeros(t.shape(), like_options(t, o)); }
Tensor ones_like(const Tensor& t, std::optional<TensorOptions> o) { return ones(t.shape(), like_options(t, o)); }
Tensor full_like(const Tensor& t, Scalar v, std::optional<TensorOptions> o) {
  return full(t.shape(), v, like_options(t, o));
}

Tensor scalar_tensor(Scalar value, TensorOptions o) { return full({}, value, o); }

Tensor arange(Scalar end, std::optional<TensorOptions> o) { return arange(0, end, 1, o); }

Tensor arange(Scalar start, Scalar end, Scalar step, std::optional<TensorOptions> o) {
  const bool all_int = !start.is_floating_point() && !end.is_floating_point() && !step.is_floating_point();
  const TensorOptions opts = o ? *o : TensorOptions(all_int ? kInt64 : kFloat32);
  const double s = start.to_double(), e = end.to_double(), st = step.to_double();
  if (st == 0 || !std::isfinite(s) || !std::isfinite(e) || !std::isfinite(st))
    fail<ValueError>("arange", "need finite start/end and a non-zero step, got start=", s, " end=", e, " step=", st);
  if ((e - s) / st < 0)
    fail<ValueError>("arange", "step ", st, " moves away from end (start=", s, ", end=", e, ")");
  std::int64_t n;
  if (all_int) {
    const std::int64_t a = start.to_int(), b = end.to_int(), c = step.to_int();
    n = c > 0 ? (b - a + c - 1) / c : (a - b - c - 1) / (-c);
  } else {
    n = static_cast<std::int64_t>(std::ceil((e - s) / st));
  }
  Tensor t = detail::make_tensor({n}, opts.dtype(), Device::cpu());
  dispatch_numeric(opts.dtype(), "arange", [&]<typename T>() {
    T* p = t.data_ptr<T>();
    for (std::int64_t i = 0; i < n; ++i)
      p[i] = all_int ? static_cast<T>(start.to_int() + i * step.to_int()) : static_cast<T>(s + static_cast<double>(i) * st);
  });
  return finish(t.to(opts.device()), opts);
}

Tensor linspace(double start, double end, std::int64_t steps, TensorOptions o) {
  if (steps < 0) fail<ValueError>("linspace", "number of steps must be non-negative, got ", steps);
  Tensor t = detail::make_tensor({steps}, o.dtype(), Device::cpu());
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  dispatch_numeric(o.dtype(), "linspace", [&]<typename T>() {
    T* p = t.data_ptr<T>();
    // Fill symmetric halves from both ends, like PyTorch, so the last value is exactly `end`.
    const std::int64_t half = steps / 2;
    for (std::int64_t i = 0; i < steps; ++i)
      p[i] = static_cast<T>(i < half ? start + step * static_cast<double>(i)
                                     : end - step * static_cast<double>(steps - 1 - i));
  });
  return finish(t.to(o.device()), o);
}

Tensor eye(std::int64_t n, std::optional<std::int64_t> m, TensorOptions o) {
  const std::int64_t cols = m.value_or(n);
  if (n < 0 || cols < 0) fail<ValueError>("eye", "sizes must be non-negative, got ", n, " x ", cols);
  Tensor t = zeros({n, cols}, o.dtype());
  dispatch(o.dtype(), [&]<typename T>() {
    T* p = t.data_ptr<T>();
    for (std::int64_t i = 0; i < std::min(n, cols); ++i) p[i * cols + i] = T(1);
  });
  return finish(t.to(o.device()), o);
}

Tensor from_blob(void* data, IntArrayRef shape, IntArrayRef strides, TensorOptions o) {
  if (!o.device().is_cpu()) fail<DeviceError>("from_blob", "only CPU memory can be wrapped, got ", o.device());
  if (strides.size() != shape.size())
    fail<ShapeError>("from_blob", "shape ", shape, " and strides ", strides, " differ in length");
  std::int64_t extent = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0 || strides[i] < 0)
      fail<ShapeError>("from_blob", "negative size or stride in shape ", shape, " strides ", strides);
    if (shape[i] == 0) extent = 0;
  }
  if (extent != 0)
    for (std::size_t i = 0; i < shape.size(); ++i) extent += (shape[i] - 1) * strides[i];
  auto impl = detail::make_small_shared<TensorImpl>();
  impl->storage = Storage::wrap(data, static_cast<std::size_t>(extent) * element_size(o.dtype()), o.device(), {});
  impl->sizes = Shape(shape);
  impl->strides = Shape(strides);
  impl->numel = shape_numel(shape);
  impl->dtype = o.dtype();
  return finish(Tensor(std::move(impl)), o);
}

Tensor from_blob(void* data, IntArrayRef shape, TensorOptions o) {
  return from_blob(data, shape, contiguous_strides(shape), o);
}

Tensor from_blob(void* data, IntArrayRef shape, std::function<void(void*)> deleter, TensorOptions o) {
  if (!o.device().is_cpu()) fail<DeviceError>("from_blob", "only CPU memory can be wrapped, got ", o.device());
  auto impl = detail::make_small_shared<TensorImpl>();
  impl->numel = shape_numel(shape);
  impl->storage = Storage::wrap(data, static_cast<std::size_t>(impl->numel) * element_size(o.dtype()), o.device(),
                                std::move(deleter));
  impl->sizes = Shape(shape);
  impl->strides = contiguous_strides(shape);
  impl->dtype = o.dtype();
  return finish(Tensor(std::move(impl)), o);
}

template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int>>
Tensor tensor(const std::vector<T>& values, IntArrayRef shape, std::optional<TensorOptions> o) {
  if (shape_numel(shape) != static_cast<std::int64_t>(values.size()))
    fail<ShapeError>("tensor", values.size(), " values do not fill shape ", shape);
  using Stored = std::conditional_t<std::is_same_v<T, bool>, bool,
                 std::conditional_t<std::is_floating_point_v<T>, std::conditional_t<sizeof(T) == 4, float, double>,
                 std::conditional_t<(sizeof(T) <= 4 && std::is_signed_v<T>), std::int32_t, std::int64_t>>>;
  Tensor t = detail::make_tensor(shape, dtype_v<Stored>, Device::cpu());
  Stored* p = t.data_ptr<Stored>();
  for (std::size_t i = 0; i < values.size(); ++i) p[i] = static_cast<Stored>(values[i]);
  const TensorOptions opts = o ? *o : TensorOptions(t.dtype());
  return finish(t.to(opts.device(), opts.dtype()), opts);
}

#define TAPEFLOW_INSTANTIATE_TENSOR(T) \
  template Tensor tensor<T, 0>(const std::vector<T>&, IntArrayRef, std::optional<TensorOptions>);
TAPEFLOW_INSTANTIATE_TENSOR(bool)
TAPEFLOW_INSTANTIATE_TENSOR(float)
TAPEFLOW_INSTANTIATE_TENSOR(double)
TAPEFLOW_INSTANTIATE_TENSOR(std::int32_t)
TAPEFLOW_INSTANTIATE_TENSOR(std::int64_t)
TAPEFLOW_INSTANTIATE_TENSOR(std::uint8_t)
TAPEFLOW_INSTANTIATE_TENSOR(std::int16_t)
TAPEFLOW_INSTANTIATE_TENSOR(std::uint32_t)
TAPEFLOW_INSTANTIATE_TENSOR(long long)
#undef TAPEFLOW_INSTANTIATE_TENSOR

namespace {
// Walks the nesting depth-first; the first path down fixes each depth's size and the leaf depth.
void flatten_nested(const NestedValues& v, std::size_t depth, Shape& shape, std::size_t& leaf_depth,
                    std::vector<Scalar>& out) {
  if (v.is_scalar()) {
    if (leaf_depth == SIZE_MAX) leaf_depth = depth;
    if (depth != leaf_depth) fail<ShapeError>("tensor", "ragged nested list: a value at depth ", depth);
    out.push_back(v.scalar());
    return;
  }
  const std::int64_t n = static_cast<std::int64_t>(v.children().size());
  if (depth >= leaf_depth) fail<ShapeError>("tensor", "ragged nested list: a list at depth ", depth);
  if (depth == shape.size()) shape.push_back(n);
  else if (shape[depth] != n)
    fail<ShapeError>("tensor", "ragged nested list: expected ", shape[depth], " elements at depth ", depth, ", got ", n);
  for (const NestedValues& c : v.children()) flatten_nested(c, depth + 1, shape, leaf_depth, out);
}
}  // namespace

Tensor tensor(NestedValues values, std::optional<TensorOptions> o) {
  Shape shape;
  std::vector<Scalar> flat;
  std::size_t leaf_depth = SIZE_MAX;
  flatten_nested(values, 0, shape, leaf_depth, flat);
  DType dt = kBool;
  for (const Scalar& s : flat) dt = promote_types(dt, s.default_dtype());
  if (flat.empty()) dt = kFloat32;
  const TensorOptions opts = o ? *o : TensorOptions(dt);
  Tensor t = detail::make_tensor(shape, opts.dtype(), Device::cpu());
  dispatch(opts.dtype(), [&]<typename T>() {
    T* p = t.data_ptr<T>();
    for (std::size_t i = 0; i < flat.size(); ++i) p[i] = flat[i].to<T>();
  });
  return finish(t.to(opts.device()), opts);
}

}  // namespace tapeflow
