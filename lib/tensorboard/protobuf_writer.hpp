#pragma once
// A minimal protobuf wire-format encoder: just what TensorBoard's Event, Summary, HistogramProto
// and TensorProto need. Fields are appended in the order written; nested messages are built in
// their own ProtoWriter and embedded as bytes (length-delimited), which is what protobuf does.
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace tapeflow::tensorboard {

class ProtoWriter {
 public:
  // Wire types of the protobuf encoding.
  enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

  void varint(std::uint32_t field, std::uint64_t value) {
    tag(field, kVarint);
    raw_varint(value);
  }
  // int32/int64/enum fields: negative values are sign-extended to 64 bits (ten bytes), as protobuf does.
  void int64(std::uint32_t field, std::int64_t value) { varint(field, static_cast<std::uint64_t>(value)); }
  void fixed64(std::uint32_t field, double value) {
    tag(field, kFixed64);
    raw_fixed(value);
  }
  void fixed32(std::uint32_t field, float value) {
    tag(field, kFixed32);
    raw_fixed(value);
  }
  void bytes(std::uint32_t field, std::string_view data) {
    tag(field, kLengthDelimited);
    raw_varint(data.size());
    out_.append(data);
  }
  void message(std::uint32_t field, const ProtoWriter& nested) { bytes(field, nested.str()); }
  // A packed repeated double field (proto3's default encoding for repeated scalars).
  void packed_doubles(std::uint32_t field, std::span<const double> values) {
    ProtoWriter packed;
    for (double v : values) packed.raw_fixed(v);
    bytes(field, packed.str());
  }

  const std::string& str() const { return out_; }

  void raw_varint(std::uint64_t value) {
    while (value >= 0x80) {
      out_.push_back(static_cast<char>((value & 0x7F) | 0x80));
      value >>= 7;
    }
    out_.push_back(static_cast<char>(value));
  }

 private:
  void tag(std::uint32_t field, WireType type) { raw_varint((std::uint64_t{field} << 3) | type); }
  // Little-endian bytes of a float or double (the encoding of fixed32/fixed64 fields).
  template <typename T>
  void raw_fixed(T value) {
    static_assert(std::endian::native == std::endian::little, "big-endian hosts need a byte swap here");
    char bytes_le[sizeof(T)];
    std::memcpy(bytes_le, &value, sizeof(T));
    out_.append(bytes_le, sizeof(T));
  }

  std::string out_;
};

}  // namespace tapeflow::tensorboard
