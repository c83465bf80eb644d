#pragma once
// IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
#include <optional>
#include <string>

#include "tapeflow/tensor.hpp"

namespace tapeflow {

// Loads an IDX file. Element types: unsigned/signed byte -> int32 (no uint8 dtype yet), short ->
// int32, int -> int32, float -> float32, double -> float64; `dtype` converts while loading
// (e.g. kFloat32 for images, kInt64 for labels). Throws IOError naming the file when it is
// missing, truncated, or has a bad magic number / element type.
Tensor load_idx(const std::string& path, std::optional<DType> dtype = std::nullopt);

}  // namespace tapeflow
