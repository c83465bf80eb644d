#pragma once
// NumPy .npy files (format 1.0-3.0), little-endian; C and Fortran order on load.
#include <string>

#include "tapeflow/tensor.hpp"

namespace tapeflow {

// Throws IOError naming the file when it is missing, truncated, malformed or of an
// unsupported dtype (supported: <f4 <f8 <i4 <i8 |b1, plus |u1 |i1 <i2 <u2 read as int32).
// Big-endian data is rejected. Fortran-order files load as contiguous (C-order) tensors. The
// data size must match the shape exactly.
Tensor load_npy(const std::string& path);
// Writes C-order data, format 1.0 (2.0 when the header needs more than 64 KiB). Atomic: writes
// `<path>.tmp.<pid>` (which must not exist yet), then renames it over path; on any error the
// temporary is removed, an existing file at path is left untouched, and IOError is thrown.
// Non-contiguous and CUDA tensors are copied to contiguous CPU memory first.
void save_npy(const std::string& path, const Tensor& t);

}  // namespace tapeflow
