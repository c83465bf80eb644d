// A PNG encoder for TensorBoard images: 8-bit samples, no interlacing, filter type 0 on every
// row, one IDAT chunk compressed by zlib (which libtapeflow already links).
#include <zlib.h>

#include <string>
#include <string_view>

#include "tapeflow/error.hpp"
#include "tensorboard/summary.hpp"

namespace tapeflow::tensorboard {
namespace {

void append_be32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

// A chunk: big-endian length, 4-letter type, data, CRC-32 (zlib's) of type and data.
void append_chunk(std::string& out, std::string_view type, std::string_view data) {
  append_be32(out, static_cast<std::uint32_t>(data.size()));
  std::string typed(type);
  typed.append(data);
  out += typed;
  append_be32(out, static_cast<std::uint32_t>(
                       crc32(0L, reinterpret_cast<const Bytef*>(typed.data()), static_cast<uInt>(typed.size()))));
}

}  // namespace

std::string encode_png(std::int64_t height, std::int64_t width, std::int64_t channels, const std::uint8_t* pixels) {
  if (height < 1 || width < 1 || height > 0x7FFFFFFF || width > 0x7FFFFFFF)
    fail<ShapeError>("encode_png", "a height and width in [1, 2^31), got ", height, "x", width);
  // PNG colour types for 1..4 channels: gray, gray+alpha, RGB, RGBA.
  static constexpr std::uint8_t kColorType[] = {0, 4, 2, 6};
  if (channels < 1 || channels > 4) fail<ShapeError>("encode_png", "1 to 4 channels, got ", channels);

  // Raw scanlines, each preceded by its filter type (0: none).
  const auto row_bytes = static_cast<std::size_t>(width * channels);
  std::string raw;
  raw.reserve(static_cast<std::size_t>(height) * (row_bytes + 1));
  for (std::int64_t y = 0; y < height; ++y) {
    raw.push_back('\0');
    raw.append(reinterpret_cast<const char*>(pixels) + static_cast<std::size_t>(y) * row_bytes, row_bytes);
  }
  uLongf compressed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string compressed(compressed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), Z_DEFAULT_COMPRESSION) != Z_OK)
    fail<ValueError>("encode_png", "zlib compression to succeed for a ", height, "x", width, " image");
  compressed.resize(compressed_size);

  std::string header;
  append_be32(header, static_cast<std::uint32_t>(width));
  append_be32(header, static_cast<std::uint32_t>(height));
  header.push_back(8);  // bit depth
  header.push_back(static_cast<char>(kColorType[channels - 1]));
  header.append(3, '\0');  // compression 0 (deflate), filter method 0, no interlace

  std::string png("\x89PNG\r\n\x1a\n", 8);
  append_chunk(png, "IHDR", header);
  append_chunk(png, "IDAT", compressed);
  append_chunk(png, "IEND", {});
  return png;
}

}  // namespace tapeflow::tensorboard
