#pragma once
// Internal constructors every op uses: fresh outputs and views sharing storage.
#include "tapeflow/tensor.hpp"

namespace tapeflow::detail {

// A new, uninitialised, contiguous tensor.
Tensor make_tensor(IntArrayRef shape, DType dtype, Device device);
// A view of base's storage with new geometry (autograd state is not copied).
Tensor make_view(const Tensor& base, Shape sizes, Shape strides, std::int64_t offset);
// Checks every tensor is defined and on CPU (until other backends exist) for op.
void check_defined(const char* op, const Tensor& t, const char* what = "input");
// Throws DeviceError naming op if a and b live on different devices.
void check_same_device(const char* op, const Tensor& a, const Tensor& b);

}  // namespace tapeflow::detail
