// IDX reader: big-endian header (0, 0, type, ndims), ndims big-endian int32 sizes, then data.
// zlib's gzread reads gzip and plain files alike.
#include "tapeflow/io/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "core/tensor_factory.hpp"

namespace tapeflow {
namespace {

struct GzFile {
  gzFile f;
  ~GzFile() {
    if (f) gzclose(f);
  }
};

void read_exact(gzFile f, void* dst, std::size_t n, const std::string& path, const char* what) {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30));
    const int got = gzread(f, p, chunk);
    if (got <= 0) fail<IOError>("load_idx", "'", path, "': truncated while reading ", what);
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

std::uint32_t big_endian_u32(const unsigned char* b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

// Reverses each element's bytes (IDX is big-endian; this library targets little-endian hosts).
void swap_bytes(char* data, std::size_t count, std::size_t width) {
  for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * width, data + (i + 1) * width);
}

}  // namespace

Tensor load_idx(const std::string& path, std::optional<DType> dtype) {
  GzFile file{gzopen(path.c_str(), "rb")};
  if (!file.f) fail<IOError>("load_idx", "cannot open '", path, "': ", std::strerror(errno));
  unsigned char magic[4];
  read_exact(file.f, magic, 4, path, "the magic number");
  if (magic[0] != 0 || magic[1] != 0 || magic[3] == 0 || magic[3] > 16)
    fail<IOError>("load_idx", "'", path, "' is not an IDX file (bad magic number)");
  const int type = magic[2];
  std::size_t width;
  DType stored;
  switch (type) {
    case 0x08: case 0x09: width = 1; stored = kInt32; break;
    case 0x0B: width = 2; stored = kInt32; break;
    case 0x0C: width = 4; stored = kInt32; break;
    case 0x0D: width = 4; stored = kFloat32; break;
    case 0x0E: width = 8; stored = kFloat64; break;
    default: fail<IOError>("load_idx", "'", path, "': unknown IDX element type 0x", std::hex, type);
  }
  Shape shape;
  std::size_t count = 1;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    read_exact(file.f, b, 4, path, "the dimensions");
    const std::uint32_t s = big_endian_u32(b);
    if (s > (1u << 31)) fail<IOError>("load_idx", "'", path, "': implausible dimension ", s);
    shape.push_back(s);
    count *= s;
    if (count > (std::size_t{1} << 36)) fail<IOError>("load_idx", "'", path, "': implausible total size");
  }
  std::vector<char> raw(count * width);
  read_exact(file.f, raw.data(), raw.size(), path, "the data");
  if (width > 1) swap_bytes(raw.data(), count, width);
  Tensor out = detail::make_tensor(shape, stored, Device::cpu());
  dispatch(stored, [&]<typename T>() {
    T* dst = out.data_ptr<T>();
    for (std::size_t i = 0; i < count; ++i) {
      const char* src = raw.data() + i * width;
      switch (type) {
        case 0x08: dst[i] = static_cast<T>(static_cast<unsigned char>(*src)); break;
        case 0x09: dst[i] = static_cast<T>(static_cast<signed char>(*src)); break;
        case 0x0B: { std::int16_t v; std::memcpy(&v, src, 2); dst[i] = static_cast<T>(v); break; }
        default: std::memcpy(&dst[i], src, width); break;
      }
    }
  });
  return dtype ? out.to(*dtype) : out;
}

}  // namespace tapeflow
