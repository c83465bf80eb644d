#pragma once
// NumPy .npy files (format 1.0-3.0), little-endian; C and Fortran order on load.
#include <string>

#include "tapeflow/tensor.hpp"

namespace tapeflow {

// Throws IOError naming the file when it is missing, truncated, malformed or of an
// unsupported dtype (supported: <f4 <f8 <i4 <i8 |b1, plus |u1 |i1 <i2 <u2 read as int32).
Tensor load_npy(const std::string& path);
// Writes atomically (temporary file + rename): an error never leaves a half-written file.
void save_npy(const std::string& path, const Tensor& t);

}  // namespace tapeflow
