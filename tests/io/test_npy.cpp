// .npy: fixtures written by NumPy (tests/io/make_npy_fixtures.py) against the same formulas
// computed here, save -> load round trips, hand-made broken files, and atomic saving.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using namespace tapeflow_test;
namespace fs = std::filesystem;

#ifndef TAPEFLOW_TEST_DATA
#error "TAPEFLOW_TEST_DATA must name tests/io/data"
#endif

namespace {

std::string fixture(const std::string& name) { return std::string(TAPEFLOW_TEST_DATA) + "/" + name; }

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.contiguous();
  std::vector<double> v(static_cast<std::size_t>(c.numel()));
  dispatch(c.dtype(), [&]<typename T>() {
    const T* p = c.data_ptr<T>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  const Tensor x = a.contiguous(), y = b.contiguous();
  return x.dtype() == y.dtype() && x.shape() == y.shape() &&
         std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

// A .npy file with the given header dict (padded and '\n'-terminated) and data bytes.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  std::string header = dict;
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  while ((10 - 2 + len_bytes + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  for (std::size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string float_bytes(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// Values i * scale + shift for i = 0..n-1, the formula the fixtures use.
std::vector<double> ramp(int n, double scale = 1.0, double shift = 0.0, int start = 0) {
  std::vector<double> v;
  for (int i = start; i < start + n; ++i) v.push_back(i * scale + shift);
  return v;
}

}  // namespace

TEST_CASE("load NumPy fixtures of every supported dtype") {
  Tensor f4 = load_npy(fixture("f4_c.npy"));
  REQUIRE(f4.dtype() == kFloat32);
  REQUIRE(f4.shape() == Shape{3, 4});
  REQUIRE(values(f4) == ramp(12, 0.5));

  Tensor f8 = load_npy(fixture("f8_3d.npy"));
  REQUIRE(f8.dtype() == kFloat64);
  REQUIRE(f8.shape() == Shape{2, 3, 4});
  REQUIRE(values(f8) == ramp(24, 0.25, -1.0));

  Tensor i4 = load_npy(fixture("i4.npy"));
  REQUIRE(i4.dtype() == kInt32);
  REQUIRE(i4.shape() == Shape{2, 3});
  REQUIRE(values(i4) == ramp(6, 7.0, 0.0, -3));

  Tensor i8 = load_npy(fixture("i8.npy"));
  REQUIRE(i8.dtype() == kInt64);
  const std::int64_t* p = i8.data_ptr<std::int64_t>();
  REQUIRE(p[0] == -(std::int64_t{1} << 40));
  REQUIRE(p[1] == 0);
  REQUIRE(p[2] == (std::int64_t{1} << 40) + 5);
  REQUIRE(p[3] == -1);

  Tensor b1 = load_npy(fixture("b1.npy"));
  REQUIRE(b1.dtype() == kBool);
  REQUIRE(b1.shape() == Shape{2, 3});
  REQUIRE(values(b1) == std::vector<double>{1, 0, 1, 0, 0, 1});
}

TEST_CASE("narrow integer dtypes load as int32") {
  Tensor u1 = load_npy(fixture("u1.npy"));
  REQUIRE(u1.dtype() == kInt32);
  REQUIRE(values(u1) == ramp(6, 1.0, 0.0, 250));
  Tensor i1 = load_npy(fixture("i1.npy"));
  REQUIRE(i1.dtype() == kInt32);
  REQUIRE(values(i1) == std::vector<double>{-128, -1, 0, 127});
  Tensor i2 = load_npy(fixture("i2.npy"));
  REQUIRE(i2.dtype() == kInt32);
  REQUIRE(i2.shape() == Shape{2, 2});
  REQUIRE(values(i2) == std::vector<double>{-32768, -1, 0, 32767});
  Tensor u2 = load_npy(fixture("u2.npy"));
  REQUIRE(u2.dtype() == kInt32);
  REQUIRE(values(u2) == std::vector<double>{0, 1, 65535});
}

TEST_CASE("Fortran order, 0-d, zero-size and format versions 2.0 and 3.0") {
  // The same logical array as f8_3d.npy, stored column-major: loads to the same C-order tensor.
  Tensor f = load_npy(fixture("f8_fortran_3d.npy"));
  REQUIRE(f.shape() == Shape{2, 3, 4});
  REQUIRE(f.is_contiguous());
  REQUIRE(values(f) == ramp(24, 0.25, -1.0));

  Tensor s = load_npy(fixture("scalar_f8.npy"));
  REQUIRE(s.dim() == 0);
  REQUIRE(s.item<double>() == 3.5);

  Tensor e = load_npy(fixture("empty_f4.npy"));
  REQUIRE(e.dtype() == kFloat32);
  REQUIRE(e.shape() == Shape{0, 3});

  Tensor v2 = load_npy(fixture("i4_fortran_v2.npy"));
  REQUIRE(v2.dtype() == kInt32);
  REQUIRE(v2.shape() == Shape{2, 3});
  REQUIRE(values(v2) == ramp(6, 1.0, -2.0));
  REQUIRE(read_bytes(fixture("i4_fortran_v2.npy"))[6] == 2);  // really a version 2.0 file

  Tensor v3 = load_npy(fixture("i8_v3.npy"));
  REQUIRE(v3.dtype() == kInt64);
  REQUIRE(values(v3) == ramp(5, 3.0));
  REQUIRE(read_bytes(fixture("i8_v3.npy"))[6] == 3);
}

TEST_CASE("save then load round-trips exactly") {
  TempDir tmp;
  const std::string path = tmp / "x.npy";
  std::vector<Tensor> cases{
      tensor(std::vector<float>{1.5f, -0.0f, std::numeric_limits<float>::infinity(), std::nanf(""),
                                std::numeric_limits<float>::denorm_min(), 3e38f}, {2, 3}),
      arange(0.0, 2.4, 0.1, kFloat64).reshape({2, 3, 4}),
      tensor(std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::min(), 0, 7,
                                       std::numeric_limits<std::int32_t>::max()}),
      tensor(std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), -1, 1LL << 50}),
      tensor({{true, false}, {false, true}}),
      scalar_tensor(2.25, kFloat64),
      zeros({0, 3}, kInt64),
      zeros({4, 0, 2}),
  };
  for (const Tensor& t : cases) {
    INFO(t.toString());
    save_npy(path, t);
    const std::string bytes = read_bytes(path);
    REQUIRE(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    const std::size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    REQUIRE((10 + header_len) % 64 == 0);
    REQUIRE(bytes[10 + header_len - 1] == '\n');
    REQUIRE(bytes.size() == 10 + header_len + t.nbytes());
    Tensor back = load_npy(path);
    REQUIRE(bit_equal(back, t));
  }
  // A 1-D shape is written as a one-element tuple.
  save_npy(path, zeros({3}));
  REQUIRE(read_bytes(path).find("'shape': (3,)") != std::string::npos);
  REQUIRE_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST_CASE("non-contiguous tensors are saved in logical order") {
  TempDir tmp;
  const std::string path = tmp / "v.npy";
  Tensor base = arange(0.0, 24.0, 1.0, kFloat64).reshape({4, 6});
  std::vector<Tensor> views{base.t(), base.slice(1, 1, 6, 2), base.select(1, 3),
                            tensor(std::vector<std::int32_t>{5, 6}).reshape({2, 1}).expand({2, 3})};
  for (const Tensor& v : views) {
    save_npy(path, v);
    Tensor back = load_npy(path);
    REQUIRE(back.shape() == v.shape());
    REQUIRE(values(back) == values(v));
  }
}

TEST_CASE("a header too long for version 1.0 is written as version 2.0") {
  TempDir tmp;
  const std::string path = tmp / "long.npy";
  const std::vector<std::int64_t> shape(22000, 1);  // "1, " per dim: over 65535 header bytes
  Tensor t = full(shape, 4.5, kFloat64);
  save_npy(path, t);
  const std::string bytes = read_bytes(path);
  REQUIRE(bytes[6] == 2);
  Tensor back = load_npy(path);
  REQUIRE(back.dim() == 22000);
  REQUIRE(back.numel() == 1);
  REQUIRE(values(back) == std::vector<double>{4.5});
}

TEST_CASE("broken files throw IOError naming the file") {
  TempDir tmp;
  const std::string good_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string two_floats = float_bytes({1.0f, 2.0f});
  auto expect_io_error = [&](const std::string& name, const std::string& bytes, const std::string& needle = "") {
    const std::string path = tmp / name;
    write_bytes(path, bytes);
    INFO(name);
    REQUIRE_THROWS_AS(load_npy(path), IOError);
    REQUIRE_THROWS_WITH(load_npy(path), Catch::Contains(path) && Catch::Contains(needle));
  };
  // The helper itself makes valid files.
  write_bytes(tmp / "ok.npy", npy_bytes(good_dict, two_floats));
  REQUIRE(values(load_npy(tmp / "ok.npy")) == std::vector<double>{1, 2});
  write_bytes(tmp / "ok2.npy", npy_bytes(good_dict, two_floats, 2));
  REQUIRE(values(load_npy(tmp / "ok2.npy")) == std::vector<double>{1, 2});

  const std::string valid = npy_bytes(good_dict, two_floats);
  expect_io_error("empty.npy", "");
  expect_io_error("short_preamble.npy", valid.substr(0, 9));
  expect_io_error("bad_magic.npy", "\x93NUMPZ" + valid.substr(6), "magic");
  expect_io_error("not_npy.npy", "hello, this is just a text file with enough bytes");
  expect_io_error("truncated_header.npy", valid.substr(0, 40), "header");
  expect_io_error("truncated_data.npy", valid.substr(0, valid.size() - 1), "data bytes");
  expect_io_error("extra_data.npy", valid + "x", "data bytes");
  expect_io_error("shape_mismatch.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", two_floats));
  expect_io_error("big_endian.npy", npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", two_floats), ">f4");
  expect_io_error("big_endian_i8.npy", npy_bytes("{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", two_floats), ">i8");
  expect_io_error("complex.npy", npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", two_floats), "<c8");
  expect_io_error("object.npy", npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", two_floats), "|O");
  expect_io_error("unicode.npy", npy_bytes("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", two_floats), "<U3");
  expect_io_error("structured.npy", npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", two_floats));
  expect_io_error("version4.npy", std::string("\x93NUMPY\x04\x00", 8) + valid.substr(8), "version");
  expect_io_error("missing_key.npy", npy_bytes("{'descr': '<f4', 'shape': (2,), }", two_floats), "malformed");
  expect_io_error("extra_key.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two_floats), "malformed");
  expect_io_error("bad_bool.npy", npy_bytes("{'descr': '<f4', 'fortran_order': maybe, 'shape': (2,), }", two_floats), "malformed");
  expect_io_error("bad_shape.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", two_floats), "malformed");
  expect_io_error("negative_dim.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", two_floats), "malformed");
  expect_io_error("unterminated.npy", npy_bytes("{'descr': '<f4, 'fortran_order': False, 'shape': (2,) }", two_floats), "malformed");
  expect_io_error("no_brace.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", two_floats), "malformed");
  expect_io_error("trailing.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", two_floats), "malformed");
  expect_io_error("huge_dim.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", two_floats));
  expect_io_error("overflow.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }", two_floats), "too large");
  expect_io_error("bytes_overflow.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", two_floats), "too large");
  // A header length pointing past the end of the file.
  std::string lying = valid;
  lying[8] = '\xff';
  lying[9] = '\x7f';
  expect_io_error("header_len.npy", lying, "truncated");

  REQUIRE_THROWS_AS(load_npy(tmp / "does_not_exist.npy"), IOError);
  REQUIRE_THROWS_WITH(load_npy(tmp / "does_not_exist.npy"), Catch::Contains("does_not_exist.npy"));
  REQUIRE_THROWS_AS(load_npy(tmp.dir.string()), IOError);
}

TEST_CASE("bool bytes other than 0 and 1 load as true") {
  TempDir tmp;
  write_bytes(tmp / "b.npy", npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x00\x02\x01", 3)));
  Tensor b = load_npy(tmp / "b.npy");
  REQUIRE(b.dtype() == kBool);
  const bool* p = b.data_ptr<bool>();
  REQUIRE((!p[0] && p[1] && p[2]));
  // Single-byte types accept any byte-order mark (the byte order of one byte is moot).
  write_bytes(tmp / "u.npy", npy_bytes("{\"descr\": \"<u1\", \"fortran_order\": False, \"shape\": (2,)}", "\xfe\x01"));
  REQUIRE(values(load_npy(tmp / "u.npy")) == std::vector<double>{254, 1});
}

TEST_CASE("save is atomic") {
  TempDir tmp;
  const std::string pid = std::to_string(::getpid());
  Tensor t = arange(0.0, 6.0, 1.0, kFloat32).reshape({2, 3});

  // Into a directory that does not exist: IOError, and nothing is created.
  const std::string missing = tmp / "no_such_dir/x.npy";
  REQUIRE_THROWS_AS(save_npy(missing, t), IOError);
  REQUIRE_THROWS_WITH(save_npy(missing, t), Catch::Contains(missing));
  REQUIRE_FALSE(fs::exists(tmp / "no_such_dir"));

  // Over an existing file, when the temporary cannot be created: the old file stays intact.
  const std::string path = tmp / "keep.npy";
  save_npy(path, zeros({4}, kInt64));
  const std::string old_bytes = read_bytes(path);
  fs::create_directory(path + ".tmp." + pid);
  REQUIRE_THROWS_AS(save_npy(path, t), IOError);
  REQUIRE(read_bytes(path) == old_bytes);
  REQUIRE(fs::is_directory(path + ".tmp." + pid));  // not ours: left alone
  fs::remove(path + ".tmp." + pid);
  write_bytes(path + ".tmp." + pid, "someone else's temporary");
  REQUIRE_THROWS_AS(save_npy(path, t), IOError);
  REQUIRE(read_bytes(path) == old_bytes);
  REQUIRE(read_bytes(path + ".tmp." + pid) == "someone else's temporary");
  fs::remove(path + ".tmp." + pid);

  // When the final rename fails (the target is a directory): the temporary is removed.
  const std::string dir_target = tmp / "a_dir";
  fs::create_directory(dir_target);
  fs::create_directory(dir_target + "/inside");
  REQUIRE_THROWS_AS(save_npy(dir_target, t), IOError);
  REQUIRE(fs::is_directory(dir_target + "/inside"));
  REQUIRE_FALSE(fs::exists(dir_target + ".tmp." + pid));

  // A successful overwrite replaces the contents and leaves no temporary.
  save_npy(path, t);
  REQUIRE(values(load_npy(path)) == values(t));
  REQUIRE_FALSE(fs::exists(path + ".tmp." + pid));
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.dir)) entries += e.path().string().find(".tmp.") != std::string::npos;
  REQUIRE(entries == 0);

  REQUIRE_THROWS_AS(save_npy(path, Tensor()), ValueError);
}
