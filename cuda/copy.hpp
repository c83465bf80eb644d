#pragma once
// Copies that involve a GPU: host -> device, device -> host, device -> device (same or another
// GPU), with dtype conversion, broadcasting and any strides on either side; and fill.
#include "tapeflow/tensor.hpp"

namespace tapeflow::cuda_backend {

// dst[...] = cast(src[...]), src broadcast to dst's shape; at least one of them on a GPU.
// Reading back to the host waits for the copy (the host needs the values); the other
// directions are queued on the current stream.
void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, Scalar value);

}  // namespace tapeflow::cuda_backend
