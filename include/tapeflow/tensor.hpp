#pragma once
// Tensor: a cheap handle (shared pointer) to a TensorImpl, which is a strided view
// (shape, strides in elements, offset) of a shared Storage. Copying a Tensor shares it;
// use clone() for a deep copy. Views (reshape, transpose, slicing...) share storage.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/device.hpp"
#include "tapeflow/dtype.hpp"
#include "tapeflow/error.hpp"
#include "tapeflow/scalar.hpp"
#include "tapeflow/shape.hpp"
#include "tapeflow/storage.hpp"

namespace tapeflow {

class Tensor;
struct AutogradMeta;  // gradient function and hooks; defined by the autograd layer

struct TensorImpl {
  // User-provided on purpose: make_shared value-initialises, which for an implicit constructor
  // first zeroes the whole object (a rep stos, ~10% of creating a tensor) and then runs the
  // member initialisers below anyway.
  TensorImpl() noexcept {}  // NOLINT(modernize-use-equals-default)
  std::shared_ptr<Storage> storage;
  Shape sizes;
  Shape strides;  // in elements; 0 for broadcast dims
  std::int64_t offset = 0;  // in elements
  std::int64_t numel = 0;
  DType dtype = kFloat32;
  bool requires_grad = false;
  bool is_view = false;  // shares its storage with the tensor it was derived from
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<AutogradMeta> autograd;

  void* data() const {
    return static_cast<char*>(storage->data()) + offset * static_cast<std::int64_t>(element_size(dtype));
  }
};

// A python-like slice for Tensor::index: Slice(start, stop, step); missing ends mean "all".
struct Slice {
  std::optional<std::int64_t> start, stop;
  std::int64_t step = 1;
  Slice() = default;
  Slice(std::optional<std::int64_t> start_, std::optional<std::int64_t> stop_ = std::nullopt,
        std::int64_t step_ = 1)
      : start(start_), stop(stop_), step(step_) {}
};
struct NoneIndex {};      // inserts a new dim of size 1 (numpy's newaxis)
struct EllipsisIndex {};  // stands for as many full slices as needed
inline constexpr NoneIndex None{};
inline constexpr EllipsisIndex Ellipsis{};

class TensorIndex;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor; defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // ---- metadata ----
  const Shape& shape() const { return checked().sizes; }
  const Shape& sizes() const { return checked().sizes; }
  const Shape& strides() const { return checked().strides; }
  // Negative dims count from the end; out of range (any dim of a 0-d tensor) throws IndexError.
  // Inline: shape queries run several times in every op.
  std::int64_t size(std::int64_t dim) const { return checked().sizes[wrapped_dim("size", dim)]; }
  std::int64_t stride(std::int64_t dim) const { return checked().strides[wrapped_dim("stride", dim)]; }
  std::int64_t dim() const { return static_cast<std::int64_t>(checked().sizes.size()); }
  std::int64_t ndimension() const { return dim(); }
  std::int64_t numel() const { return checked().numel; }
  std::int64_t storage_offset() const { return checked().offset; }
  DType dtype() const { return checked().dtype; }
  DType scalar_type() const { return dtype(); }
  Device device() const { return checked().storage->device(); }
  std::size_t element_size() const { return tapeflow::element_size(dtype()); }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * element_size(); }
  bool is_contiguous() const;
  bool is_floating_point() const { return tapeflow::is_floating_point(dtype()); }
  bool is_cpu() const { return device().is_cpu(); }
  bool is_cuda() const { return device().is_cuda(); }
  std::string toString() const;  // "CPUFloatType{2,3}"-like summary

  // ---- data access ----
  // Pointer to the first element; throws DTypeError if T does not match dtype().
  template <typename T> T* data_ptr() const;
  void* data_ptr() const { return checked().data(); }
  // The value of a one-element tensor converted to T (synchronises with the device).
  template <typename T> T item() const;
  Scalar item() const;

  // ---- conversion and copies ----
  Tensor to(DType dtype, bool copy = false) const;
  Tensor to(Device device, bool copy = false) const;
  Tensor to(Device device, DType dtype, bool copy = false) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor detach() const;  // shares storage, no autograd history
  // A contiguous copy in page-locked host memory, which the GPU reads directly (faster copies
  // to a GPU); *this when already pinned. Only for CPU tensors; throws DeviceError when tapeflow
  // has no CUDA or the machine no GPU (as PyTorch).
  Tensor pin_memory() const;
  bool is_pinned() const;  // in page-locked host memory (always false without CUDA)
  Tensor& copy_(const Tensor& src);  // broadcasts src, converts dtype

  // ---- views (share storage) ----
  Tensor view(IntArrayRef shape) const;     // throws if the strides cannot express it
  Tensor reshape(IntArrayRef shape) const;  // a view when possible, else a copy
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  Tensor permute(IntArrayRef dims) const;
  Tensor t() const;  // 2-D transpose (0-D and 1-D unchanged)
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor expand(IntArrayRef shape) const;  // -1 keeps a size
  Tensor expand_as(const Tensor& other) const;
  Tensor broadcast_to(IntArrayRef shape) const;
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  Tensor slice(std::int64_t dim, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
               std::int64_t step = 1) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor index(std::initializer_list<TensorIndex> indices) const;
  Tensor index(const std::vector<TensorIndex>& indices) const;
  Tensor operator[](std::int64_t i) const { return select(0, i); }
  std::vector<Tensor> chunk(std::int64_t chunks, std::int64_t dim = 0) const;
  std::vector<Tensor> split(std::int64_t split_size, std::int64_t dim = 0) const;
  std::vector<Tensor> split(IntArrayRef split_sizes, std::int64_t dim = 0) const;
  std::vector<Tensor> unbind(std::int64_t dim = 0) const;

  // ---- elementwise (lib/ops/elementwise.cpp); see ops/elementwise.hpp ----
  Tensor add(const Tensor& o, Scalar alpha = 1) const;
  Tensor sub(const Tensor& o, Scalar alpha = 1) const;
  Tensor mul(const Tensor& o) const;
  Tensor div(const Tensor& o) const;
  Tensor pow(const Tensor& e) const;
  Tensor pow(Scalar e) const;
  Tensor neg() const;
  Tensor abs() const;
  Tensor sign() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor log1p() const;
  Tensor expm1() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor square() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor floor() const;
  Tensor ceil() const;
  Tensor round() const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max) const;
  Tensor eq(const Tensor& o) const;
  Tensor ne(const Tensor& o) const;
  Tensor lt(const Tensor& o) const;
  Tensor le(const Tensor& o) const;
  Tensor gt(const Tensor& o) const;
  Tensor ge(const Tensor& o) const;
  Tensor logical_not() const;
  Tensor isnan() const;
  Tensor isinf() const;
  Tensor masked_fill(const Tensor& mask, Scalar value) const;
  // in place: bump the version counter, keep dtype (the result must be castable to it)
  Tensor& add_(const Tensor& o, Scalar alpha = 1);
  Tensor& add_(Scalar o);
  Tensor& sub_(const Tensor& o, Scalar alpha = 1);
  Tensor& sub_(Scalar o);
  Tensor& mul_(const Tensor& o);
  Tensor& mul_(Scalar o);
  Tensor& div_(const Tensor& o);
  Tensor& div_(Scalar o);
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max);
  Tensor& relu_();
  Tensor& neg_();
  Tensor& exp_();
  Tensor& sqrt_();
  Tensor& masked_fill_(const Tensor& mask, Scalar value);
  Tensor& zero_();
  Tensor& fill_(Scalar value);

  // ---- reductions (lib/ops/reduce.cpp); see ops/reduce.hpp ----
  Tensor sum(std::optional<DType> dtype = std::nullopt) const;
  Tensor sum(IntArrayRef dims, bool keepdim = false, std::optional<DType> dtype = std::nullopt) const;
  Tensor mean() const;
  Tensor mean(IntArrayRef dims, bool keepdim = false) const;
  Tensor prod() const;
  Tensor prod(std::int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  std::pair<Tensor, Tensor> max(std::int64_t dim, bool keepdim = false) const;  // values, indices
  Tensor min() const;
  std::pair<Tensor, Tensor> min(std::int64_t dim, bool keepdim = false) const;
  Tensor argmax(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
  // dims empty = all dims. (No var(int correction) overload: x.var({1}) must mean dim 1.)
  Tensor var(IntArrayRef dims = {}, std::int64_t correction = 1, bool keepdim = false) const;
  Tensor std(IntArrayRef dims = {}, std::int64_t correction = 1, bool keepdim = false) const;
  Tensor logsumexp(IntArrayRef dims, bool keepdim = false) const;
  Tensor norm(Scalar p = 2) const;
  Tensor norm(Scalar p, IntArrayRef dims, bool keepdim = false) const;
  Tensor cumsum(std::int64_t dim) const;
  Tensor all() const;
  Tensor any() const;

  // ---- linear algebra (lib/ops/linalg.cpp) ----
  Tensor matmul(const Tensor& o) const;
  Tensor mm(const Tensor& o) const;
  Tensor bmm(const Tensor& o) const;
  Tensor dot(const Tensor& o) const;

  // ---- indexing (lib/ops/index.cpp) ----
  Tensor index_select(std::int64_t dim, const Tensor& index) const;
  Tensor gather(std::int64_t dim, const Tensor& index) const;
  Tensor scatter_add(std::int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor masked_select(const Tensor& mask) const;

  // ---- nn (lib/ops/nn_*.cpp) ----
  Tensor softmax(std::int64_t dim) const;
  Tensor log_softmax(std::int64_t dim) const;

  // ---- autograd (see autograd.hpp) ----
  bool requires_grad() const { return checked().requires_grad; }
  Tensor& requires_grad_(bool requires_grad = true);
  Tensor grad() const;  // undefined until a gradient has been accumulated
  void set_grad(const Tensor& grad) const;  // replaces .grad(); an undefined tensor clears it
  // Points this tensor at new_data's storage, shape, strides and dtype, keeping its identity
  // (every handle sees the change) and requires_grad: how Module::to moves parameters that an
  // optimizer already holds. Only for leaves; not recorded.
  void set_data(const Tensor& new_data) const;
  // False for results of recorded ops; true for tensors created by the user.
  bool is_leaf() const;
  // Accumulates d(this)/d(leaves) into their .grad(). `gradient` is required unless this is a
  // scalar. retain_graph keeps the tape entries for another backward (default: create_graph).
  void backward(const Tensor& gradient = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  // Also keep .grad() for this non-leaf tensor.
  void retain_grad() const;
  bool retains_grad() const;
  // hook(grad) runs when this tensor's gradient is computed; it may return a replacement
  // (a Tensor of the same shape) or nothing (void / an undefined Tensor). Returns a handle.
  template <typename F>
  int register_hook(F&& hook) const {
    if constexpr (std::is_void_v<std::invoke_result_t<F, const Tensor&>>) {
      return register_hook_fn([h = std::forward<F>(hook)](const Tensor& g) {
        h(g);
        return Tensor();
      });
    } else {
      return register_hook_fn(std::function<Tensor(const Tensor&)>(std::forward<F>(hook)));
    }
  }
  void remove_hook(int handle) const;
  std::string grad_fn_name() const;  // name of the op that produced this tensor ("" for leaves)

 private:
  int register_hook_fn(std::function<Tensor(const Tensor&)> hook) const;
  const TensorImpl& checked() const {
    if (!impl_) throw ValueError("[Tensor] operation on an undefined tensor");
    return *impl_;
  }
  std::size_t wrapped_dim(const char* op, std::int64_t d) const {
    const auto n = static_cast<std::int64_t>(checked().sizes.size());
    const std::int64_t i = d < 0 ? d + n : d;
    if (i >= 0 && i < n) [[likely]] return static_cast<std::size_t>(i);
    bad_dim(op, d);
  }
  [[noreturn]] void bad_dim(const char* op, std::int64_t d) const;
  std::shared_ptr<TensorImpl> impl_;
};

// One entry of Tensor::index: an integer (select), a Slice, None, Ellipsis, or a Tensor
// (a bool mask, or an integer index tensor along that dim).
class TensorIndex {
 public:
  enum class Kind { Integer, Slice, None, Ellipsis, Tensor };
  TensorIndex(std::int64_t i) : kind_(Kind::Integer), integer_(i) {}
  TensorIndex(int i) : kind_(Kind::Integer), integer_(i) {}
  TensorIndex(tapeflow::Slice s) : kind_(Kind::Slice), slice_(s) {}
  TensorIndex(NoneIndex) : kind_(Kind::None) {}
  TensorIndex(EllipsisIndex) : kind_(Kind::Ellipsis) {}
  TensorIndex(tapeflow::Tensor t) : kind_(Kind::Tensor), tensor_(std::move(t)) {}
  Kind kind() const { return kind_; }
  std::int64_t integer() const { return integer_; }
  const tapeflow::Slice& slice() const { return slice_; }
  const tapeflow::Tensor& tensor() const { return tensor_; }

 private:
  Kind kind_;
  std::int64_t integer_ = 0;
  tapeflow::Slice slice_;
  tapeflow::Tensor tensor_;
};

// PyTorch-style printing: "tensor([[1., 2.],\n        [3., 4.]])" plus dtype when not float32.
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- template definitions ----
template <typename T>
T* Tensor::data_ptr() const {
  if (dtype_v<T> != dtype())
    fail<DTypeError>("data_ptr", "requested ", dtype_name(dtype_v<T>), " from a ", dtype_name(dtype()),
                     " tensor");
  return static_cast<T*>(checked().data());
}

template <typename T>
T Tensor::item() const {
  return item().to<T>();
}

}  // namespace tapeflow
