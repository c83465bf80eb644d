// Index ops: selection by integer index tensors and boolean masks.
#include "tapeflow/ops/index.hpp"

#include <cstring>

#include "core/tensor_factory.hpp"
#include "cpu/copy.hpp"

namespace tapeflow {
namespace {

// Reads integer index i of a (contiguous) int32/int64 tensor and checks it against size.
std::vector<std::int64_t> read_indices(const char* op, const Tensor& index, std::int64_t size) {
  if (index.dtype() != kInt64 && index.dtype() != kInt32)
    fail<DTypeError>(op, "index must be int64 or int32, got ", index.dtype());
  const Tensor idx = index.contiguous().to(kInt64);
  std::vector<std::int64_t> out(static_cast<std::size_t>(idx.numel()));
  const std::int64_t* p = idx.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::int64_t v = p[i];
    if (v < -size || v >= size) fail<IndexError>(op, "index ", v, " is out of bounds for size ", size);
    out[i] = v < 0 ? v + size : v;
  }
  return out;
}

}  // namespace

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  detail::check_defined("index_select", x);
  detail::check_defined("index_select", index, "index");
  detail::check_same_device("index_select", x, index);
  if (index.dim() > 1) fail<ShapeError>("index_select", "index must be 0-D or 1-D, got shape ", index.shape());
  const std::int64_t d = wrap_dim("index_select", dim, x.dim());
  const std::int64_t size = x.dim() == 0 ? 1 : x.size(d);
  const auto idx = read_indices("index_select", index, size);
  if (x.dim() == 0) return x.clone().reshape(index.dim() == 0 ? IntArrayRef{} : IntArrayRef{static_cast<std::int64_t>(idx.size())});
  Shape out_shape = x.shape();
  out_shape[static_cast<std::size_t>(d)] = static_cast<std::int64_t>(idx.size());
  Tensor out = detail::make_tensor(out_shape, x.dtype(), x.device());
  for (std::size_t i = 0; i < idx.size(); ++i)
    cpu::copy(out.select(d, static_cast<std::int64_t>(i)), x.select(d, idx[i]));
  return out;
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  detail::check_defined("masked_select", x);
  detail::check_defined("masked_select", mask, "mask");
  detail::check_same_device("masked_select", x, mask);
  if (mask.dtype() != kBool) fail<DTypeError>("masked_select", "mask must be bool, got ", mask.dtype());
  const Shape shape = broadcast_shapes("masked_select", x.shape(), mask.shape());
  const Tensor xs = x.expand(shape).contiguous();
  const Tensor ms = mask.expand(shape).contiguous();
  const bool* m = ms.data_ptr<bool>();
  std::int64_t count = 0;
  for (std::int64_t i = 0; i < ms.numel(); ++i) count += m[i];
  Tensor out = detail::make_tensor({count}, x.dtype(), x.device());
  const std::size_t es = x.element_size();
  const char* src = static_cast<const char*>(xs.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  for (std::int64_t i = 0, j = 0; i < ms.numel(); ++i)
    if (m[i]) std::memcpy(dst + es * static_cast<std::size_t>(j++), src + es * static_cast<std::size_t>(i), es);
  return out;
}

Tensor Tensor::index_select(std::int64_t dim, const Tensor& index) const { return tapeflow::index_select(*this, dim, index); }
Tensor Tensor::masked_select(const Tensor& mask) const { return tapeflow::masked_select(*this, mask); }

}  // namespace tapeflow
