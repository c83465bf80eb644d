#pragma once
// Internal: the .npy format without the file around it, so that .npz archives (zip files of
// .npy members) reuse the same parser and writer as load_npy/save_npy.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tapeflow/tensor.hpp"

namespace tapeflow::io_detail {

// A sequential source of bytes; read() throws IOError (saying `what`) when n bytes are not there.
class ByteReader {
 public:
  virtual ~ByteReader() = default;
  virtual void read(void* dst, std::size_t n, const char* what) = 0;
};

// Parses a complete .npy of `size` bytes from reader; `name` (a path) appears in every error.
Tensor read_npy(ByteReader& reader, std::uint64_t size, const std::string& name);
// Magic, version and padded header of a contiguous tensor: its .npy file is this plus its bytes.
std::string npy_preamble(const Tensor& contiguous);

}  // namespace tapeflow::io_detail
