// NumPy .npy files. Layout: "\x93NUMPY", major, minor, a little-endian header length (uint16 for
// 1.0, uint32 for 2.0/3.0), a Python dict literal {'descr', 'fortran_order', 'shape'} padded
// with spaces to a multiple of 64 bytes and ended by '\n', then the raw data.
// Every size is checked against the file's length before anything is read or allocated.
#include "tapeflow/io/npy.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/tensor_factory.hpp"
#include "io/file_util.hpp"
#include "io/npy_format.hpp"

namespace tapeflow {
namespace {

static_assert(std::endian::native == std::endian::little, ".npy support assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

// ---- dtypes ----

// Converts n little-endian items of From at src into dst (of type To).
template <typename From, typename To>
void widen(const char* src, void* dst, std::size_t n) {
  To* out = static_cast<To*>(dst);
  for (std::size_t i = 0; i < n; ++i) {
    From v;
    std::memcpy(&v, src + i * sizeof(From), sizeof(From));
    if constexpr (std::is_same_v<To, bool>) out[i] = v != 0;  // any non-zero byte is true
    else out[i] = static_cast<To>(v);
  }
}

struct NpyType {
  const char* descr;  // without the byte-order character
  bool single_byte;   // any byte-order mark accepted (NumPy writes '|'); others need '<'
  std::size_t itemsize;
  DType dtype;
  void (*convert)(const char*, void*, std::size_t);  // null: the bytes are copied as they are
};

constexpr NpyType kTypes[] = {
    {"f4", false, 4, kFloat32, nullptr},
    {"f8", false, 8, kFloat64, nullptr},
    {"i4", false, 4, kInt32, nullptr},
    {"i8", false, 8, kInt64, nullptr},
    {"b1", true, 1, kBool, widen<std::uint8_t, bool>},
    {"u1", true, 1, kInt32, widen<std::uint8_t, std::int32_t>},
    {"i1", true, 1, kInt32, widen<std::int8_t, std::int32_t>},
    {"i2", false, 2, kInt32, widen<std::int16_t, std::int32_t>},
    {"u2", false, 2, kInt32, widen<std::uint16_t, std::int32_t>},
};

const NpyType& lookup_type(const std::string& descr, const std::string& path) {
  if (descr.size() >= 2) {
    const char order = descr[0];
    const std::string_view rest = std::string_view(descr).substr(1);
    for (const NpyType& t : kTypes) {
      if (rest != t.descr) continue;
      if (order == '<' || (t.single_byte && (order == '|' || order == '=' || order == '>'))) return t;
      if (order == '>' || order == '=' || order == '|')
        fail<IOError>("load_npy", "'", path, "': dtype '", descr,
                      "' is not little-endian (only little-endian data is supported)");
    }
  }
  fail<IOError>("load_npy", "'", path, "': unsupported dtype '", descr,
                "' (supported: <f4 <f8 <i4 <i8 |b1 |u1 |i1 <i2 <u2)");
}

const char* descr_of(DType dt) {
  switch (dt) {
    case kFloat32: return "<f4";
    case kFloat64: return "<f8";
    case kInt32: return "<i4";
    case kInt64: return "<i8";
    case kBool: return "|b1";
  }
  return "";
}

// ---- the header dict ----

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

// A parser for the dict literal NumPy writes: string keys; string, True/False and int-tuple values.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  Header parse() {
    Header h;
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = string();
      expect(':');
      if (key == "descr") {
        skip_ws();
        if (peek() != '\'' && peek() != '"')
          fail<IOError>("load_npy", "'", path_, "': unsupported dtype (structured or nested dtypes are not supported)");
        h.descr = string();
        has_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        has_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        has_shape = true;
      } else {
        malformed("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') ++i_;
      else if (peek() != '}') malformed("expected ',' or '}'");
    }
    ++i_;
    skip_ws();
    if (i_ != s_.size()) malformed("text after the closing '}'");
    if (!has_descr || !has_order || !has_shape) malformed("missing 'descr', 'fortran_order' or 'shape'");
    return h;
  }

 private:
  [[noreturn]] void malformed(const std::string& why) const {
    fail<IOError>("load_npy", "'", path_, "': malformed header (", why, " at byte ", i_, ")");
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) malformed(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string string() {
    skip_ws();
    const char quote = peek();
    if (quote != '\'' && quote != '"') malformed("expected a quoted string");
    const std::size_t end = s_.find(quote, i_ + 1);
    if (end == std::string_view::npos) malformed("unterminated string");
    std::string out(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_ws();
    for (const bool value : {true, false}) {
      const std::string_view word = value ? "True" : "False";
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        return value;
      }
    }
    malformed("expected True or False");
  }
  std::vector<std::int64_t> tuple() {
    std::vector<std::int64_t> out;
    expect('(');
    while (true) {
      skip_ws();
      if (peek() == ')') break;
      out.push_back(integer());
      skip_ws();
      if (peek() == ',') ++i_;
      else if (peek() != ')') malformed("expected ',' or ')' in the shape");
    }
    ++i_;
    return out;
  }
  std::int64_t integer() {
    std::int64_t v = 0;
    const std::size_t start = i_;
    while (peek() >= '0' && peek() <= '9') {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, peek() - '0', &v))
        malformed("dimension too large");
      ++i_;
    }
    if (i_ == start) malformed("expected a non-negative integer dimension");
    if (peek() == 'L') ++i_;  // Python 2 longs
    return v;
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

std::uint32_t read_le(const unsigned char* b, int n) {
  std::uint32_t v = 0;
  for (int i = n; i-- > 0;) v = (v << 8) | b[i];
  return v;
}

// Reads a whole .npy from an open file (load_npy) or from bytes already in memory (npz).
class FileReader : public io_detail::ByteReader {
 public:
  FileReader(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  void read(void* dst, std::size_t n, const char* what) override {
    io_detail::read_exact("load_npy", f_, dst, n, path_, what);
  }

 private:
  std::FILE* f_;
  const std::string& path_;
};

// ---- saving ----

std::string header_text(const Tensor& t) {
  std::string shape = "(";
  for (std::int64_t i = 0; i < t.dim(); ++i) shape += std::to_string(t.size(i)) + (t.dim() == 1 ? "," : i + 1 < t.dim() ? ", " : "");
  shape += ")";
  return std::string("{'descr': '") + descr_of(t.dtype()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

}  // namespace

namespace io_detail {

Tensor read_npy(ByteReader& reader, std::uint64_t file_size, const std::string& path) {
  unsigned char pre[12];
  if (file_size < 10) fail<IOError>("load_npy", "'", path, "': truncated (", file_size, " bytes, no complete .npy preamble)");
  reader.read(pre, 8, "the magic string");
  if (std::memcmp(pre, kMagic, kMagicLen) != 0) fail<IOError>("load_npy", "'", path, "' is not a .npy file (bad magic string)");
  const int major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0)
    fail<IOError>("load_npy", "'", path, "': unsupported .npy format version ", major, ".", minor);
  const int len_bytes = major == 1 ? 2 : 4;
  reader.read(pre + 8, static_cast<std::size_t>(len_bytes), "the header length");
  const std::uint64_t header_len = read_le(pre + 8, len_bytes);
  const std::uint64_t data_start = 8 + static_cast<std::uint64_t>(len_bytes) + header_len;
  if (data_start > file_size)
    fail<IOError>("load_npy", "'", path, "': truncated header (", header_len, " bytes announced, file has ", file_size, ")");
  std::string text(static_cast<std::size_t>(header_len), '\0');
  reader.read(text.data(), text.size(), "the header");
  const Header h = HeaderParser(text, path).parse();
  const NpyType& type = lookup_type(h.descr, path);

  std::int64_t numel = 1;
  for (std::int64_t d : h.shape)
    if (__builtin_mul_overflow(numel, d, &numel))
      fail<IOError>("load_npy", "'", path, "': shape ", IntArrayRef(h.shape), " is too large");
  std::uint64_t nbytes;
  if (__builtin_mul_overflow(static_cast<std::uint64_t>(numel), type.itemsize, &nbytes))
    fail<IOError>("load_npy", "'", path, "': shape ", IntArrayRef(h.shape), " is too large");
  if (nbytes != file_size - data_start)
    fail<IOError>("load_npy", "'", path, "': shape ", IntArrayRef(h.shape), " of ", h.descr, " needs ", nbytes,
                  " data bytes, but the file holds ", file_size - data_start);

  // Fortran order: the bytes are the C-order array of the reversed shape, transposed.
  std::vector<std::int64_t> stored_shape(h.shape);
  if (h.fortran_order) std::reverse(stored_shape.begin(), stored_shape.end());
  Tensor t = detail::make_tensor(stored_shape, type.dtype, Device::cpu());
  if (type.convert) {
    std::vector<char> raw(static_cast<std::size_t>(nbytes));
    reader.read(raw.data(), raw.size(), "the data");
    type.convert(raw.data(), t.data_ptr(), static_cast<std::size_t>(numel));
  } else {
    reader.read(t.data_ptr(), static_cast<std::size_t>(nbytes), "the data");
  }
  if (!h.fortran_order || h.shape.size() < 2) return t;
  std::vector<std::int64_t> reversed_dims(h.shape.size());
  for (std::size_t i = 0; i < reversed_dims.size(); ++i) reversed_dims[i] = static_cast<std::int64_t>(reversed_dims.size() - 1 - i);
  return t.permute(reversed_dims).contiguous();
}

std::string npy_preamble(const Tensor& t) {
  std::string header = header_text(t);
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends with '\n'.
  auto padded = [&](std::size_t len_bytes) {
    const std::size_t unpadded = kMagicLen + 2 + len_bytes + header.size() + 1;
    return header + std::string((64 - unpadded % 64) % 64, ' ') + '\n';
  };
  std::string text = padded(2);
  const bool v1 = text.size() <= 0xffff;
  if (!v1) text = padded(4);
  std::string preamble(kMagic, kMagicLen);
  preamble += static_cast<char>(v1 ? 1 : 2);
  preamble += '\0';
  const std::uint32_t len = static_cast<std::uint32_t>(text.size());
  for (int i = 0; i < (v1 ? 2 : 4); ++i) preamble += static_cast<char>((len >> (8 * i)) & 0xff);
  preamble += text;
  return preamble;
}

}  // namespace io_detail

Tensor load_npy(const std::string& path) {
  auto [file, file_size] = io_detail::open_for_reading("load_npy", path);
  FileReader reader(file.get(), path);
  return io_detail::read_npy(reader, file_size, path);
}

void save_npy(const std::string& path, const Tensor& t) {
  detail::check_defined("save_npy", t);
  const Tensor data = t.cpu().contiguous();

  const std::string preamble = io_detail::npy_preamble(data);
  io_detail::write_atomically("save_npy", path, [&](std::FILE* f) {
    return io_detail::write_bytes(f, preamble.data(), preamble.size()) &&
           io_detail::write_bytes(f, data.data_ptr(), data.nbytes());
  });
}

}  // namespace tapeflow
