// SummaryWriter internals against independent references: CRC-32C test vectors (RFC 3720),
// protobuf bytes made by TensorBoard's/PyTorch's Python code (data/proto_vectors.txt, from
// make_proto_vectors.py), PNGs inflated again with zlib, and event files read back record by record.
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tapeflow/creation.hpp"
#include "tapeflow/summary_writer.hpp"
#include "tensorboard/event_file.hpp"
#include "tensorboard/protobuf_writer.hpp"
#include "tensorboard/summary.hpp"

using namespace tapeflow;
namespace tb = tapeflow::tensorboard;
namespace fs = std::filesystem;

namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

const std::map<std::string, std::string>& reference_vectors() {
  static const std::map<std::string, std::string> vectors = [] {
    std::map<std::string, std::string> v;
    std::ifstream in(std::string(TAPEFLOW_TENSORBOARD_DATA) + "/proto_vectors.txt");
    REQUIRE(in.good());
    std::string name, bytes;
    while (in >> name >> bytes) v[name] = bytes;
    return v;
  }();
  return vectors;
}
std::string reference(const std::string& name) {
  const auto& v = reference_vectors();
  const auto it = v.find(name);
  REQUIRE(it != v.end());
  return it->second;
}

std::uint64_t read_le(const std::string& s, std::size_t pos, int count) {
  std::uint64_t v = 0;
  for (int i = count - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[pos + static_cast<std::size_t>(i)]);
  return v;
}
std::uint32_t read_be32(const std::string& s, std::size_t pos) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[pos + static_cast<std::size_t>(i)]);
  return v;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The records of an event file, checking every length and CRC on the way.
std::vector<std::string> read_records(const fs::path& path) {
  const std::string data = read_file(path);
  std::vector<std::string> records;
  std::size_t pos = 0;
  while (pos < data.size()) {
    REQUIRE(pos + 12 <= data.size());
    const std::uint64_t length = read_le(data, pos, 8);
    REQUIRE(read_le(data, pos + 8, 4) == tb::masked_crc32c(data.substr(pos, 8)));
    REQUIRE(pos + 16 + length <= data.size());
    const std::string record = data.substr(pos + 12, length);
    REQUIRE(read_le(data, pos + 12 + length, 4) == tb::masked_crc32c(record));
    records.push_back(record);
    pos += 16 + length;
  }
  return records;
}

std::vector<fs::path> event_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) files.push_back(entry.path());
  return files;
}

// A fresh directory under the system's temp folder, removed at scope end.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("tapeflow_tb_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("crc32c matches the RFC 3720 test vectors") {
  CHECK(tb::crc32c("123456789") == 0xE3069283u);
  CHECK(tb::crc32c("") == 0u);
  CHECK(tb::crc32c(std::string(32, '\0')) == 0x8A9136AAu);
  CHECK(tb::crc32c(std::string(32, '\xFF')) == 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  CHECK(tb::crc32c(ascending) == 0x46DD794Eu);
}

TEST_CASE("masked crc32c matches TensorBoard's") {
  const auto le4 = [](std::uint32_t v) { return hex(std::string{static_cast<char>(v), static_cast<char>(v >> 8),
                                                                static_cast<char>(v >> 16), static_cast<char>(v >> 24)}); };
  CHECK(le4(tb::masked_crc32c("123456789")) == reference("masked_crc32c_123456789"));
  CHECK(le4(tb::masked_crc32c("")) == reference("masked_crc32c_empty"));
}

TEST_CASE("TFRecord framing: length, masked CRC of the length, data, masked CRC of the data") {
  const std::string record = tb::frame_record("hello");
  REQUIRE(record.size() == 8 + 4 + 5 + 4);
  CHECK(read_le(record, 0, 8) == 5);
  CHECK(read_le(record, 8, 4) == tb::masked_crc32c(record.substr(0, 8)));
  CHECK(record.substr(12, 5) == "hello");
  CHECK(read_le(record, 17, 4) == tb::masked_crc32c("hello"));
  const std::string big(300, 'x');  // a length above one byte
  CHECK(read_le(tb::frame_record(big), 0, 8) == 300);
}

TEST_CASE("protobuf encoding matches TensorBoard's and PyTorch's messages byte for byte") {
  CHECK(hex(tb::file_version_event(1.5)) == reference("file_version_event"));
  CHECK(hex(tb::summary_event(1700000000.25, 300, tb::scalar_summary("loss/train", 0.125f))) ==
        reference("scalar_event"));
  CHECK(hex(tb::summary_event(2.0, -1, "")) == reference("negative_step_event"));  // ten-byte varint
  CHECK(hex(tb::text_summary("notes", "hi \xC3\xBC")) == reference("text_summary"));
  tb::Histogram h;
  h.min = -1, h.max = 2, h.num = 5, h.sum = 2, h.sum_squares = 5.5;
  h.bucket_limit = {-1, 0, 1, 2, 3};
  h.bucket = {0, 1, 3, 0, 1};
  CHECK(hex(tb::histogram_summary("h", h)) == reference("histogram_summary"));
  CHECK(hex(tb::image_summary("img", 2, 3, 4, "PNGDATA")) == reference("image_summary"));

  tb::ProtoWriter w;
  w.varint(1, 150);  // the protobuf documentation's example: 08 96 01
  CHECK(hex(w.str()) == "089601");
}

TEST_CASE("make_histogram counts like numpy.histogram and trims like PyTorch") {
  const std::vector<double> values = {-1, 0, 0.5, 0.5, 2, 7};  // 7 lies outside the edges
  const std::vector<double> edges = {-2, -1, 0, 1, 2, 3};
  const tb::Histogram h = tb::make_histogram(values, edges);
  CHECK(h.min == -1);
  CHECK(h.max == 7);
  CHECK(h.num == 6);
  CHECK(h.sum == 9);
  CHECK(h.sum_squares == 54.5);
  // bins [-2,-1):0 [-1,0):1 [0,1):3 [1,2):0 [2,3]:1 -> from one empty bin left of the first filled one
  CHECK(h.bucket_limit == std::vector<double>{-1, 0, 1, 2, 3});
  CHECK(h.bucket == std::vector<double>{0, 1, 3, 0, 1});

  // A filled first bin gets an empty bin bounded by the first edge.
  const tb::Histogram first = tb::make_histogram(std::vector<double>{-2, -1.5}, edges);
  CHECK(first.bucket_limit == std::vector<double>{-2, -1});
  CHECK(first.bucket == std::vector<double>{0, 2});

  CHECK(tb::uniform_bin_edges(std::vector<double>{1, 1}, 2) == std::vector<double>{0.5, 1, 1.5});
  CHECK(tb::uniform_bin_edges(std::vector<double>{0, 4, 2}, 4) == std::vector<double>{0, 1, 2, 3, 4});

  const auto& tf = tb::tensorflow_bin_edges();
  REQUIRE(tf.size() % 2 == 1);
  CHECK(tf[tf.size() / 2] == 0.0);
  CHECK(tf[tf.size() / 2 + 1] == 1e-12);
  CHECK(tf.back() < 1e20);
  CHECK(tf.back() * 1.1 >= 1e20);
  CHECK(tf.front() == -tf.back());

  CHECK_THROWS_AS(tb::make_histogram(std::vector<double>{}, edges), ValueError);
  CHECK_THROWS_AS(tb::make_histogram(std::vector<double>{1.0, std::nan("")}, edges), ValueError);
  CHECK_THROWS_AS(tb::uniform_bin_edges(std::vector<double>{1.0}, 0), ValueError);
}

TEST_CASE("encode_png: chunks with valid CRCs, IHDR fields, and pixels that inflate back") {
  const std::int64_t height = 2, width = 3;
  for (std::int64_t channels : {1, 3, 4}) {
    std::vector<std::uint8_t> pixels;
    for (std::int64_t i = 0; i < height * width * channels; ++i) pixels.push_back(static_cast<std::uint8_t>(i * 37 + 5));
    const std::string png = tb::encode_png(height, width, channels, pixels.data());
    REQUIRE(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
    std::vector<std::string> types;
    std::string ihdr, idat;
    for (std::size_t pos = 8; pos < png.size();) {
      const std::uint32_t length = read_be32(png, pos);
      const std::string typed = png.substr(pos + 4, 4 + length);
      const auto crc = static_cast<std::uint32_t>(
          crc32(0L, reinterpret_cast<const Bytef*>(typed.data()), static_cast<uInt>(typed.size())));
      CHECK(read_be32(png, pos + 8 + length) == crc);
      types.push_back(typed.substr(0, 4));
      if (types.back() == "IHDR") ihdr = typed.substr(4);
      if (types.back() == "IDAT") idat += typed.substr(4);
      pos += 12 + length;
    }
    CHECK(types == std::vector<std::string>{"IHDR", "IDAT", "IEND"});
    REQUIRE(ihdr.size() == 13);
    CHECK(read_be32(ihdr, 0) == width);
    CHECK(read_be32(ihdr, 4) == height);
    CHECK(ihdr[8] == 8);
    const int expected_color_type = channels == 1 ? 0 : channels == 3 ? 2 : 6;
    CHECK(ihdr[9] == expected_color_type);
    std::string raw(static_cast<std::size_t>(height * (1 + width * channels)), '\0');
    uLongf raw_size = raw.size();
    REQUIRE(uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size, reinterpret_cast<const Bytef*>(idat.data()),
                       static_cast<uLong>(idat.size())) == Z_OK);
    REQUIRE(raw_size == raw.size());
    std::vector<std::uint8_t> back;
    for (std::int64_t y = 0; y < height; ++y) {
      const auto row = static_cast<std::size_t>(y * (1 + width * channels));
      CHECK(raw[row] == 0);  // filter type none
      for (std::int64_t i = 1; i <= width * channels; ++i) back.push_back(static_cast<std::uint8_t>(raw[row + static_cast<std::size_t>(i)]));
    }
    CHECK(back == pixels);
  }
  const std::uint8_t one = 0;
  CHECK_THROWS_AS(tb::encode_png(1, 1, 5, &one), ShapeError);
  CHECK_THROWS_AS(tb::encode_png(0, 1, 1, &one), ShapeError);
}

TEST_CASE("SummaryWriter writes framed events, sub-writers for add_scalars, and a new file after close") {
  TempDir dir("writer");
  {
    SummaryWriter writer(dir.path.string(), {.max_queue = 100});
    const auto files = event_files(dir.path);
    REQUIRE(files.size() == 1);
    CHECK(read_records(files[0]).size() == 1);  // the file_version event, flushed at once
    writer.add_scalar("x", 2.5, 4, 10.0);
    CHECK(read_records(files[0]).size() == 1);  // buffered
    writer.flush();
    const auto records = read_records(files[0]);
    REQUIRE(records.size() == 2);
    CHECK(hex(records[1]) == hex(tb::summary_event(10.0, 4, tb::scalar_summary("x", 2.5f))));
    CHECK(tb::summary_event(10.0, 4, tb::scalar_summary("x", 2.5f)) == records[1]);

    writer.add_scalars("a/b", {{"train", 1.0}, {"test", 2.0}}, 1, 20.0);
    writer.flush();
    for (const char* name : {"a_b_train", "a_b_test"}) {
      const auto sub = event_files(dir.path / name);
      REQUIRE(sub.size() == 1);
      const auto sub_records = read_records(sub[0]);
      REQUIRE(sub_records.size() == 2);
      CHECK(sub_records[1] ==
            tb::summary_event(20.0, 1, tb::scalar_summary("a/b", std::string(name) == "a_b_train" ? 1.0f : 2.0f)));
    }
    writer.close();
    writer.add_text("after", "close", 1);  // PyTorch reopens: a second event file
    writer.close();
  }
  CHECK(event_files(dir.path).size() == 2);
}

TEST_CASE("SummaryWriter flushes by itself every flush_secs") {
  TempDir dir("periodic");
  SummaryWriter writer(dir.path.string(), {.max_queue = 100, .flush_secs = 0.05});
  writer.add_scalar("y", 1.0, 1);
  const auto file = event_files(dir.path).at(0);
  std::size_t count = 0;
  for (int attempt = 0; attempt < 200 && count < 2; ++attempt) {  // up to 10 s on a busy machine
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    count = read_records(file).size();
  }
  CHECK(count == 2);
}

TEST_CASE("SummaryWriter errors name what was wrong") {
  TempDir dir("errors");
  fs::create_directories(dir.path);
  const fs::path blocker = dir.path / "a_file";
  std::ofstream(blocker) << "not a directory";
  const std::string bad_logdir = (blocker / "logs").string();
  try {
    SummaryWriter writer(bad_logdir);
    FAIL("no IOError");
  } catch (const IOError& e) {
    CHECK_THAT(e.what(), Catch::Contains(bad_logdir));
  }

  SummaryWriter writer((dir.path / "ok").string());
  CHECK_THROWS_AS(writer.add_image("i", zeros({2, 4, 4}), 0), ShapeError);     // 2 channels
  CHECK_THROWS_AS(writer.add_image("i", zeros({1, 3, 4, 4}), 0), ShapeError);  // 4-d for CHW
  CHECK_THROWS_AS(writer.add_image("i", zeros({4, 4}), 0), ShapeError);        // 2-d for CHW
  CHECK_THROWS_AS(writer.add_image("i", zeros({3, 0, 4}), 0), ShapeError);     // empty
  CHECK_THROWS_AS(writer.add_image("i", zeros({4, 4}), 0, std::nullopt, "WH"), ValueError);
  try {
    writer.add_image("i", zeros({5, 4, 4}), 0);
    FAIL("no ShapeError");
  } catch (const ShapeError& e) {
    CHECK_THAT(e.what(), Catch::Contains("add_image") && Catch::Contains("1, 3 or 4 channels"));
  }
  CHECK_THROWS_AS(writer.add_scalar("s", zeros({2})), ShapeError);
  CHECK_THROWS_AS(writer.add_histogram("h", zeros({0})), ValueError);
  CHECK_THROWS_AS(writer.add_histogram("h", zeros({3}), 0, "fd"), ValueError);
}
