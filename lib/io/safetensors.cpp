// safetensors: see include/tapeflow/io/safetensors.hpp for the layout. The header is parsed by a
// small strict JSON parser that knows only what the format uses (objects, strings, arrays of
// non-negative integers); every size is checked against the file before anything is allocated.
#include "tapeflow/io/safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <set>
#include <string_view>
#include <vector>

#include "core/tensor_factory.hpp"
#include "io/file_util.hpp"

namespace tapeflow {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors support assumes a little-endian host");

constexpr std::uint64_t kMaxHeaderSize = 100'000'000;  // the reference implementation's limit
constexpr std::size_t kMaxRank = 64;                   // no real tensor comes near; bounds hostile shapes
constexpr const char* kMetadataKey = "__metadata__";

struct SafeType {
  const char* code;
  DType dtype;
};
constexpr SafeType kTypes[] = {
    {"F32", kFloat32}, {"F64", kFloat64}, {"I32", kInt32}, {"I64", kInt64}, {"BOOL", kBool},
};

const char* code_of(DType dt) {
  for (const SafeType& t : kTypes)
    if (t.dtype == dt) return t.code;
  return "";
}

// True when s is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF),
// which JSON, Python and Rust all require of the header.
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    i += len;
  }
  return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// ---- the header ----

struct Entry {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;
};

struct Header {
  std::vector<Entry> entries;  // in header order
  std::map<std::string, std::string> metadata;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  Header parse() {
    Header h;
    std::set<std::string> seen;
    object([&](std::string key) {
      if (!seen.insert(key).second) malformed("duplicate key '" + key + "'");
      if (key == kMetadataKey) h.metadata = string_map();
      else h.entries.push_back(tensor_info(std::move(key)));
    });
    skip_ws();
    if (i_ != s_.size()) malformed("text after the closing '}'");
    return h;
  }

 private:
  [[noreturn]] void malformed(const std::string& why) const {
    fail<IOError>("load_safetensors", "'", path_, "': malformed header (", why, " at byte ", i_, ")");
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool try_consume(char c) {
    skip_ws();
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  void expect(char c) {
    if (!try_consume(c)) malformed(std::string("expected '") + c + "'");
  }

  // {"key": value, ...}; member(key) parses the value.
  template <typename Member>
  void object(Member&& member) {
    expect('{');
    if (try_consume('}')) return;
    do {
      std::string key = string();
      expect(':');
      member(std::move(key));
    } while (try_consume(','));
    expect('}');
  }

  Entry tensor_info(std::string name) {
    Entry e;
    e.name = std::move(name);
    bool has_dtype = false, has_shape = false, has_offsets = false;
    object([&](const std::string& key) {
      auto once = [&](bool& seen) {
        if (seen) malformed("duplicate key '" + key + "' for tensor '" + e.name + "'");
        seen = true;
      };
      if (key == "dtype") {
        once(has_dtype);
        e.dtype = string();
      } else if (key == "shape") {
        once(has_shape);
        for (std::uint64_t d : integer_array()) e.shape.push_back(static_cast<std::int64_t>(d));
        if (e.shape.size() > kMaxRank)
          malformed("tensor '" + e.name + "' has " + std::to_string(e.shape.size()) + " dimensions, more than " +
                    std::to_string(kMaxRank));
      } else if (key == "data_offsets") {
        once(has_offsets);
        const std::vector<std::uint64_t> offsets = integer_array();
        if (offsets.size() != 2) malformed("data_offsets of tensor '" + e.name + "' must be [begin, end]");
        e.begin = offsets[0];
        e.end = offsets[1];
      } else {
        malformed("unknown key '" + key + "' for tensor '" + e.name + "'");
      }
    });
    if (!has_dtype || !has_shape || !has_offsets)
      malformed("tensor '" + e.name + "' lacks 'dtype', 'shape' or 'data_offsets'");
    return e;
  }

  std::map<std::string, std::string> string_map() {
    std::map<std::string, std::string> out;
    object([&](std::string key) {
      skip_ws();
      if (peek() != '"') malformed("__metadata__ value of '" + key + "' is not a string");
      std::string value = string();
      if (!out.emplace(key, std::move(value)).second) malformed("duplicate __metadata__ key '" + key + "'");
    });
    return out;
  }

  std::vector<std::uint64_t> integer_array() {
    std::vector<std::uint64_t> out;
    expect('[');
    if (try_consume(']')) return out;
    do {
      out.push_back(integer());
    } while (try_consume(','));
    expect(']');
    return out;
  }

  // A non-negative JSON integer up to INT64_MAX (shapes are int64; offsets must fit a file).
  std::uint64_t integer() {
    skip_ws();
    if (peek() == '-') malformed("negative integer");
    const std::size_t start = i_;
    std::int64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, peek() - '0', &v))
        malformed("integer too large");
      ++i_;
    }
    if (i_ == start) malformed("expected a non-negative integer");
    if (s_[start] == '0' && i_ - start > 1) malformed("integer with a leading zero");
    if (peek() == '.' || peek() == 'e' || peek() == 'E') malformed("expected an integer, found a fraction or exponent");
    return static_cast<std::uint64_t>(v);
  }

  std::uint32_t hex4() {
    if (i_ + 4 > s_.size()) malformed("truncated \\u escape");
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
      else malformed("bad \\u escape");
    }
    return v;
  }

  std::string string() {
    skip_ws();
    if (peek() != '"') malformed("expected a string");
    ++i_;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) malformed("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) malformed("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) malformed("unterminated string");
      switch (s_[i_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xdc00 && cp <= 0xdfff) malformed("unpaired surrogate in a \\u escape");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (s_.substr(i_, 2) != "\\u") malformed("unpaired surrogate in a \\u escape");
            i_ += 2;
            const std::uint32_t low = hex4();
            if (low < 0xdc00 || low > 0xdfff) malformed("unpaired surrogate in a \\u escape");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          append_utf8(out, cp);
          break;
        }
        default: --i_; malformed("unknown escape in a string");
      }
    }
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

// The checks of the reference implementation: known dtype, byte size == numel * itemsize,
// offsets inside the buffer, and tensors that tile the buffer without overlaps or gaps.
// Returns the entry indices in buffer order, with each entry's dtype.
std::vector<std::size_t> validate(const Header& h, std::uint64_t buffer_size, const std::string& path,
                                  std::vector<DType>& dtypes) {
  auto bad = [&](const auto&... why) { fail<IOError>("load_safetensors", "'", path, "': ", why...); };
  for (const Entry& e : h.entries) {
    const SafeType* type = nullptr;
    for (const SafeType& t : kTypes)
      if (e.dtype == t.code) type = &t;
    if (!type) bad("tensor '", e.name, "' has unsupported dtype '", e.dtype, "' (supported: F32 F64 I32 I64 BOOL)");
    dtypes.push_back(type->dtype);
    std::uint64_t nbytes = element_size(type->dtype);
    for (std::int64_t d : e.shape)
      if (__builtin_mul_overflow(nbytes, static_cast<std::uint64_t>(d), &nbytes))
        bad("tensor '", e.name, "' has shape ", IntArrayRef(e.shape), " whose size overflows");
    if (e.end < e.begin) bad("tensor '", e.name, "' has data_offsets [", e.begin, ", ", e.end, "] with end < begin");
    if (e.end > buffer_size)
      bad("tensor '", e.name, "' has data_offsets [", e.begin, ", ", e.end, "] outside the data buffer (", buffer_size,
          " bytes)");
    if (e.end - e.begin != nbytes)
      bad("tensor '", e.name, "' of dtype ", e.dtype, " and shape ", IntArrayRef(e.shape), " needs ", nbytes,
          " bytes, but data_offsets [", e.begin, ", ", e.end, "] span ", e.end - e.begin);
  }
  std::vector<std::size_t> order(h.entries.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::pair(h.entries[a].begin, h.entries[a].end) < std::pair(h.entries[b].begin, h.entries[b].end);
  });
  std::uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (std::size_t i : order) {
    const Entry& e = h.entries[i];
    if (e.begin < covered) bad("tensors '", previous->name, "' and '", e.name, "' overlap in the data buffer");
    if (e.begin > covered) bad("the data buffer has unused bytes [", covered, ", ", e.begin, ") before tensor '", e.name, "'");
    covered = e.end;
    previous = &e;
  }
  if (covered != buffer_size)
    bad("the tensors cover ", covered, " bytes of a data buffer of ", buffer_size, " bytes");
  return order;
}

// ---- saving ----

// Escapes as serde_json does (short forms, else \\u00xx), so our headers match Python's byte for byte.
void append_json_string(std::string& out, const std::string& s, const std::string& path, const char* what) {
  if (!is_utf8(s)) fail<IOError>("save_safetensors", "'", path, "': ", what, " is not valid UTF-8");
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const char* short_escape = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                             : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : nullptr;
    if (short_escape) {
      out += short_escape;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

void save_safetensors(const std::string& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<Tensor> data;
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      if (header.back() != '{') header += ',';
      append_json_string(header, key, path, "a metadata key");
      header += ':';
      append_json_string(header, value, path, "a metadata value");
    }
    header += '}';
  }
  std::uint64_t offset = 0;
  for (const auto& item : tensors) {
    const std::string& name = item.key();
    if (name == kMetadataKey)
      fail<IOError>("save_safetensors", "'", path, "': the tensor name '", kMetadataKey, "' is reserved");
    if (!item.value().defined())
      fail<IOError>("save_safetensors", "'", path, "': tensor '", name, "' is undefined");
    const Tensor& t = data.emplace_back(item.value().detach().cpu().contiguous());
    if (header.back() != '{') header += ',';
    append_json_string(header, name, path, "a tensor name");
    header += ":{\"dtype\":\"";
    header += code_of(t.dtype());
    header += "\",\"shape\":[";
    for (std::int64_t i = 0; i < t.dim(); ++i) {
      if (i) header += ',';
      header += std::to_string(t.size(i));
    }
    header += "],\"data_offsets\":[";
    header += std::to_string(offset);
    header += ',';
    offset += t.nbytes();
    header += std::to_string(offset);
    header += "]}";
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');  // the data starts 8-byte aligned, as Rust writes it

  unsigned char size_bytes[8];
  for (int i = 0; i < 8; ++i) size_bytes[i] = static_cast<unsigned char>((header.size() >> (8 * i)) & 0xff);
  io_detail::write_atomically("save_safetensors", path, [&](std::FILE* f) {
    if (!io_detail::write_bytes(f, size_bytes, 8) || !io_detail::write_bytes(f, header.data(), header.size())) return false;
    for (const Tensor& t : data)
      if (!io_detail::write_bytes(f, t.data_ptr(), t.nbytes())) return false;
    return true;
  });
}

StateDict load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  constexpr const char* op = "load_safetensors";
  auto [file, file_size] = io_detail::open_for_reading(op, path);
  if (file_size < 8) fail<IOError>(op, "'", path, "': truncated (", file_size, " bytes, no 8-byte header size)");
  unsigned char size_bytes[8];
  io_detail::read_exact(op, file.get(), size_bytes, 8, path, "the header size");
  std::uint64_t header_size = 0;
  for (int i = 8; i-- > 0;) header_size = (header_size << 8) | size_bytes[i];
  if (header_size > kMaxHeaderSize)
    fail<IOError>(op, "'", path, "': header size ", header_size, " exceeds the limit of ", kMaxHeaderSize, " bytes");
  if (header_size > file_size - 8)
    fail<IOError>(op, "'", path, "': header size ", header_size, " exceeds the file (", file_size,
                  " bytes): truncated or not a safetensors file");
  std::string text(static_cast<std::size_t>(header_size), '\0');
  io_detail::read_exact(op, file.get(), text.data(), text.size(), path, "the header");
  if (text.empty() || text[0] != '{')
    fail<IOError>(op, "'", path, "': the header does not start with '{' (not a safetensors file)");
  if (!is_utf8(text)) fail<IOError>(op, "'", path, "': the header is not valid UTF-8");
  Header h = HeaderParser(text, path).parse();
  std::vector<DType> dtypes;
  const std::vector<std::size_t> order = validate(h, file_size - 8 - header_size, path, dtypes);

  // The tensors tile the buffer, so reading them in buffer order reads the file sequentially.
  std::vector<Tensor> loaded(h.entries.size());
  for (std::size_t i : order) {
    Tensor t = detail::make_tensor(h.entries[i].shape, dtypes[i], Device::cpu());
    io_detail::read_exact(op, file.get(), t.data_ptr(), t.nbytes(), path, "tensor data");
    if (t.dtype() == kBool) {  // any non-zero byte is true; keep bool storage 0/1
      auto* bytes = static_cast<unsigned char*>(t.data_ptr());
      for (std::size_t k = 0; k < t.nbytes(); ++k) bytes[k] = bytes[k] != 0;
    }
    loaded[i] = std::move(t);
  }
  StateDict out("load_safetensors");
  for (std::size_t i = 0; i < loaded.size(); ++i) out.insert(std::move(h.entries[i].name), std::move(loaded[i]));
  if (metadata) *metadata = std::move(h.metadata);
  return out;
}

}  // namespace tapeflow
