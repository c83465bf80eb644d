// Tensor metadata, conversion and copies.
#include <algorithm>
#include <sstream>

#include "autograd/tape.hpp"
#include "core/cuda_api.hpp"
#include "core/small_alloc.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"
#include "tapeflow/creation.hpp"

namespace tapeflow {
namespace detail {

Tensor make_tensor(IntArrayRef shape, DType dtype, Device device) {
  auto impl = detail::make_small_shared<TensorImpl>();
  impl->sizes.assign(shape);
  // Strides and numel in one pass, written over a copy of the sizes (every op output comes
  // through here, so no temporaries).
  impl->strides.assign(shape);
  std::int64_t* strides = impl->strides.data();
  std::int64_t numel = 1, stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    const std::int64_t size = shape[i];
    if (size < 0) fail<ShapeError>("empty", "negative size in shape ", shape);
    strides[i] = stride;
    stride *= std::max<std::int64_t>(size, 1);
    numel *= size;
  }
  impl->numel = numel;
  impl->dtype = dtype;
  // Swapped in, not move-assigned: the move reloads the returned pointer pair as one 16-byte
  // load of two 8-byte stores, which stalls (store forwarding fails; ~3 ns per tensor).
  std::shared_ptr<Storage> storage = Storage::allocate(static_cast<std::size_t>(numel) * element_size(dtype), device);
  impl->storage.swap(storage);
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, Shape sizes, Shape strides, std::int64_t offset) {
  auto impl = detail::make_small_shared<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->numel = shape_numel(sizes);
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.impl()->dtype;
  impl->is_view = true;
  return Tensor(std::move(impl));
}

void check_defined(const char* op, const Tensor& t, const char* what) {
  if (!t.defined()) fail<ValueError>(op, what, " is an undefined tensor");
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device())
    fail<DeviceError>(op, "expected tensors on the same device, got ", a.device(), " and ", b.device());
}

}  // namespace detail

void Tensor::bad_dim(const char* op, std::int64_t d) const {
  if (dim() == 0) fail<IndexError>(op, "dim ", d, " out of range: the tensor has no dimensions (0-d)");
  wrap_dim(op, d, dim());  // throws, naming the valid range
  fail<IndexError>(op, "dim ", d, " out of range for a ", dim(), "-d tensor");
}

bool Tensor::is_contiguous() const {
  const TensorImpl& t = checked();
  std::int64_t expected = 1;
  for (std::size_t i = t.sizes.size(); i-- > 0;) {
    if (t.sizes[i] == 1) continue;
    if (t.strides[i] != expected) return false;
    expected *= t.sizes[i];
  }
  return true;
}

std::string Tensor::toString() const {
  if (!defined()) return "UndefinedTensor";
  std::ostringstream os;
  os << device() << " " << dtype() << " tensor of shape " << shape();
  return os.str();
}

Scalar Tensor::item() const {
  if (numel() != 1)
    fail<ValueError>("item", "a tensor with ", numel(), " elements cannot be converted to a scalar (shape ",
                     shape(), ")");
  if (!is_cpu()) return to(Device::cpu()).item();
  return dispatch(dtype(), [&]<typename T>() { return Scalar(*static_cast<const T*>(checked().data())); });
}

namespace {
const bool kCopyOpsRegistered = autograd::register_ops({"to", "clone"});

// A copy is differentiable unless it lands in a non-floating dtype: the gradient goes back cast to
// the input's dtype and device (clone and contiguous: the identity).
void record_copy(const Tensor& in, const Tensor& out) {
  if (!autograd::should_record(in) || !out.is_floating_point()) return;
  const bool same = in.dtype() == out.dtype() && in.device() == out.device();
  autograd::record(same ? "clone" : "to", {in}, {out},
                   [dt = in.dtype(), dev = in.device()](const autograd::BackwardArgs& g) {
                     return autograd::Grads{g.grad().to(dev, dt)};
                   });
}
}  // namespace

Tensor Tensor::to(DType dt, bool copy) const {
  if (dt == dtype() && !copy) return *this;
  Tensor out = detail::make_tensor(shape(), dt, device());
  kernels::on(out, *this).copy(out, *this);
  record_copy(*this, out);
  return out;
}

Tensor Tensor::to(Device dev, bool copy) const { return to(dev, dtype(), copy); }

Tensor Tensor::to(Device dev, DType dt, bool copy) const {
  if (dev == device()) return to(dt, copy);
  Tensor out = detail::make_tensor(shape(), dt, dev);  // throws DeviceError without a CUDA backend
  kernels::on(out, *this).copy(out, *this);
  record_copy(*this, out);
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const { return to(dtype(), /*copy=*/true); }

Tensor Tensor::detach() const {
  const TensorImpl& t = checked();
  return detail::make_view(*this, t.sizes, t.strides, t.offset);
}

Tensor Tensor::pin_memory() const {
  if (!is_cpu()) fail<DeviceError>("pin_memory", "only CPU tensors can be pinned, got a tensor on ", device());
  if (is_pinned()) return *this;
  const std::size_t nbytes = static_cast<std::size_t>(numel()) * tapeflow::element_size(dtype());
  void* p = detail::pinned_host_allocate("pin_memory", nbytes);
  Tensor pinned = from_blob(p, shape(), detail::pinned_host_free, TensorOptions().dtype(dtype()));
  pinned.copy_(*this);
  return pinned;
}

bool Tensor::is_pinned() const { return is_cpu() && detail::is_pinned_host(checked().storage->data()); }

namespace {
// Overwriting in place: the old values get a zero gradient (PyTorch), copy_'s source the gradient.
const bool kOverwriteOpsRegistered = autograd::register_ops({"copy_", "fill_"});
}  // namespace

Tensor& Tensor::copy_(const Tensor& src) {
  detail::check_defined("copy_", src, "source");  // any devices: copy_ is how values cross them (PyTorch)
  const Shape b = broadcast_shapes("copy_", shape(), src.shape());
  if (!(b == shape()))
    fail<ShapeError>("copy_", "source of shape ", src.shape(), " cannot be broadcast to destination ", shape());
  autograd::check_inplace("copy_", *this);
  kernels::on(*this, src).copy(*this, src);
  impl_->storage->bump_version();
  if (is_floating_point() && autograd::should_record(*this, src))  // broadcast and dtype: undone by the engine
    autograd::record("copy_", {*this, src}, {*this}, [](const autograd::BackwardArgs& g) {
      return autograd::Grads{g.needs(0) ? zeros_like(g.grad()) : Tensor(), g.needs(1) ? g.grad() : Tensor()};
    });
  return *this;
}

Tensor& Tensor::fill_(Scalar value) {
  autograd::check_inplace("fill_", *this);
  kernels::on(*this).fill(*this, value);
  checked().storage->bump_version();
  if (autograd::should_record(*this))
    autograd::record("fill_", {*this}, {*this}, [](const autograd::BackwardArgs& g) {
      return autograd::Grads{zeros_like(g.grad())};
    });
  return *this;
}

Tensor& Tensor::zero_() { return fill_(0); }

Tensor& Tensor::requires_grad_(bool requires_grad) {
  if (requires_grad && !is_floating_point())
    fail<DTypeError>("requires_grad_", "only floating-point tensors can require gradients, got ", dtype());
  impl_->requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const {
  const TensorImpl& t = checked();
  return t.grad ? Tensor(t.grad) : Tensor();
}

}  // namespace tapeflow
