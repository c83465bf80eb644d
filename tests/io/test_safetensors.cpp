// safetensors: files written by Python's safetensors (tests/io/make_safetensors_fixtures.py)
// checked against the same formulas computed here, a byte-exact comparison with Python's writer,
// save -> load round trips, a corpus of broken and hostile files, and atomic saving.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
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

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  const Tensor c = t.contiguous();
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  const Tensor x = a.contiguous(), y = b.contiguous();
  return x.dtype() == y.dtype() && x.shape() == y.shape() && std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}


StateDict every_kind() {
  StateDict d;
  d.insert("f32", tensor(std::vector<float>{1.5f, -0.0f, std::numeric_limits<float>::infinity(), 3e-38f}, {2, 2}));
  d.insert("f64", tensor(std::vector<double>{M_PI, -1e300, std::numeric_limits<double>::quiet_NaN()}, {3}));
  d.insert("i32", tensor(std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::min(), 7}, {2}));
  d.insert("i64", tensor(std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::max(), -5, 0}, {3, 1}));
  d.insert("bool", tensor(std::vector<bool>{true, false, true}, {3}));
  d.insert("scalar", full({}, 4.25, kFloat64));
  d.insert("empty", zeros({0, 5}, kInt32));
  d.insert("net.layers.0.weight", arange(0.0, 24.0, 1.0, kFloat32).reshape({2, 3, 4}));
  return d;
}

}  // namespace

TEST_CASE("reads a file written by Python's safetensors, every dtype and the metadata") {
  std::map<std::string, std::string> meta;
  const StateDict d = load_safetensors(fixture("all_dtypes.safetensors"), &meta);
  // Same formulas as all_dtypes() in make_safetensors_fixtures.py.
  REQUIRE(d.size() == 8);
  REQUIRE(d["f32"].dtype() == kFloat32);
  REQUIRE(d["f32"].shape() == Shape{2, 3});
  const auto f32 = values_of<float>(d["f32"]);
  for (std::size_t i = 0; i < 6; ++i) REQUIRE(f32[i] == static_cast<float>(i) * 0.5f - 1.25f);
  REQUIRE(values_of<double>(d["f64"]) == std::vector<double>{M_PI, -M_E, 1e-300, 1e300});
  REQUIRE(d["i32"].shape() == Shape{2, 2});
  REQUIRE(values_of<std::int32_t>(d["i32"]) ==
          std::vector<std::int32_t>{std::numeric_limits<std::int32_t>::min(), -1, 0, std::numeric_limits<std::int32_t>::max()});
  REQUIRE(values_of<std::int64_t>(d["i64"]) ==
          std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(), -1, 0, std::numeric_limits<std::int64_t>::max()});
  REQUIRE(d["bool"].dtype() == kBool);
  REQUIRE(values_of<bool>(d["bool"]) == std::vector<bool>{true, false, false, true, true});
  REQUIRE(d["scalar"].dim() == 0);
  REQUIRE(values_of<double>(d["scalar"]) == std::vector<double>{2.5});
  REQUIRE(d["empty"].shape() == Shape{0, 3});
  REQUIRE(d["empty"].dtype() == kFloat32);
  const auto w = values_of<float>(d["layer.0.weight"]);
  REQUIRE(d["layer.0.weight"].shape() == Shape{2, 3, 4});
  for (std::size_t i = 0; i < 24; ++i) REQUIRE(w[i] == static_cast<float>(i) / 8);
  REQUIRE(meta == std::map<std::string, std::string>{{"format", "np"}, {"note", "h\xc3\xa9llo \"quoted\"\n\ttab \xe2\x98\x83"}});

  REQUIRE(load_safetensors(fixture("no_tensors.safetensors")).empty());
}

TEST_CASE("the writer's bytes equal Python's for the same tensors") {
  TempDir tmp;
  const StateDict py = load_safetensors(fixture("small.safetensors"));
  REQUIRE(py.keys() == std::vector<std::string>{"a", "b"});
  StateDict d;
  d.insert("a", arange(0, 3, 1, kInt64));
  d.insert("b", ones({2, 2}, kFloat32));
  save_safetensors(tmp / "ours.safetensors", d, {{"k", "v"}});
  REQUIRE(read_bytes(tmp / "ours.safetensors") == read_bytes(fixture("small.safetensors")));
}

TEST_CASE("save then load round-trips every dtype, 0-d and empty tensors, and metadata") {
  TempDir tmp;
  const StateDict d = every_kind();
  const std::map<std::string, std::string> meta{
      {"quote\"back\\slash", "ctrl \x01\x1f\n\r\t\b\f"}, {"unicode \xe2\x98\x83", "\xf0\x9f\x98\x80"}, {"empty", ""}};
  save_safetensors(tmp / "x.safetensors", d, meta);
  std::map<std::string, std::string> back_meta{{"stale", "entry"}};
  const StateDict back = load_safetensors(tmp / "x.safetensors", &back_meta);
  REQUIRE(back.keys() == d.keys());  // dict order is kept
  for (const auto& item : d) REQUIRE(bit_equal(back[item.key()], item.value()));
  REQUIRE(back_meta == meta);

  const std::string bytes = read_bytes(tmp / "x.safetensors");
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  REQUIRE(n % 8 == 0);  // the data starts 8-byte aligned, as the Rust writer pads it
  REQUIRE(bytes[8] == '{');

  save_safetensors(tmp / "none.safetensors", StateDict{});
  std::map<std::string, std::string> none_meta{{"stale", "entry"}};
  REQUIRE(load_safetensors(tmp / "none.safetensors", &none_meta).empty());
  REQUIRE(none_meta.empty());
}

TEST_CASE("non-contiguous and requires-grad tensors are saved in logical order") {
  TempDir tmp;
  const Tensor base = arange(0.0, 12.0, 1.0, kFloat64).reshape({3, 4});
  StateDict d;
  d.insert("t", base.t());
  d.insert("strided", base.slice(1, 0, 4, 2));
  d.insert("grad", ones({2}, kFloat32).requires_grad_());
  save_safetensors(tmp / "x.safetensors", d);
  const StateDict back = load_safetensors(tmp / "x.safetensors");
  REQUIRE(back["t"].shape() == Shape{4, 3});
  REQUIRE(values_of<double>(back["t"]) == std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  REQUIRE(values_of<double>(back["strided"]) == std::vector<double>{0, 2, 4, 6, 8, 10});
  REQUIRE(values_of<float>(back["grad"]) == std::vector<float>{1, 1});
}

TEST_CASE("bool bytes other than 0 and 1 load as true") {
  TempDir tmp;
  const std::string header = "{\"b\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  write_bytes(tmp / "b.safetensors", bytes + header + std::string("\x00\x02\xff", 3));
  REQUIRE(values_of<bool>(load_safetensors(tmp / "b.safetensors")["b"]) == std::vector<bool>{false, true, true});
}

TEST_CASE("broken and hostile files throw IOError naming the file and the problem") {
  // Every file of the corpus, with a phrase its message must contain.
  const std::map<std::string, std::string> expected{
      {"empty_file", "truncated (0 bytes"},
      {"short_size", "truncated (5 bytes"},
      {"truncated_header", "exceeds the file"},
      {"truncated_data", "outside the data buffer"},
      {"trailing_bytes", "cover"},
      {"header_size_huge", "exceeds the limit"},
      {"header_size_over_limit", "exceeds the limit"},
      {"header_size_past_file", "exceeds the file"},
      {"not_json_start", "does not start with '{'"},
      {"invalid_json", "malformed header (expected '}'"},
      {"trailing_comma", "malformed header (expected a string"},
      {"text_after_json", "text after the closing"},
      {"bad_escape", "unknown escape"},
      {"invalid_utf8", "not valid UTF-8"},
      {"metadata_not_string", "is not a string"},
      {"duplicate_key", "duplicate key 'a'"},
      {"missing_field", "lacks 'dtype', 'shape' or 'data_offsets'"},
      {"unknown_dtype", "unsupported dtype 'F33'"},
      {"unsupported_dtype_f16", "unsupported dtype 'F16'"},
      {"negative_shape", "negative integer"},
      {"fractional_shape", "fraction"},
      {"shape_overflow", "overflows"},
      {"integer_too_large", "integer too large"},
      {"absurd_rank", "100 dimensions"},
      {"shape_size_mismatch", "needs 36 bytes"},
      {"offsets_out_of_range", "outside the data buffer"},
      {"offsets_reversed", "end < begin"},
      {"offsets_wrong_count", "must be [begin, end]"},
      {"overlapping", "'a' and 'b' overlap"},
      {"gap", "unused bytes [4, 8)"},
      {"hostile_size", "outside the data buffer"},
  };
  std::size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(fixture("bad_safetensors"))) {
    const std::string path = entry.path().string();
    const std::string name = entry.path().stem().string();
    INFO(name);
    REQUIRE(expected.count(name) == 1);
    REQUIRE_THROWS_AS(load_safetensors(path), IOError);
    REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) && Catch::Contains(expected.at(name)));
    ++seen;
  }
  REQUIRE(seen == expected.size());

  REQUIRE_THROWS_AS(load_safetensors(fixture("no_such_file.safetensors")), IOError);
  REQUIRE_THROWS_WITH(load_safetensors(fixture("no_such_file.safetensors")), Catch::Contains("cannot open"));
  REQUIRE_THROWS_WITH(load_safetensors(fixture("bad_safetensors")), Catch::Contains("not a regular file"));
}

TEST_CASE("bad arguments to save throw IOError and write nothing") {
  TempDir tmp;
  const std::string path = tmp / "x.safetensors";
  StateDict reserved;
  reserved.insert("__metadata__", zeros({1}));
  REQUIRE_THROWS_WITH(save_safetensors(path, reserved), Catch::Contains("reserved"));
  StateDict undefined;
  undefined.insert("u", Tensor());
  REQUIRE_THROWS_AS(save_safetensors(path, undefined), IOError);
  StateDict bad_name;
  bad_name.insert("\xff", zeros({1}));
  REQUIRE_THROWS_WITH(save_safetensors(path, bad_name), Catch::Contains("tensor name is not valid UTF-8"));
  REQUIRE_THROWS_WITH(save_safetensors(path, StateDict{}, {{"k", "\xc0\x80"}}), Catch::Contains("not valid UTF-8"));
  REQUIRE_FALSE(fs::exists(path));
  REQUIRE(fs::is_empty(tmp.dir));
}

TEST_CASE("save is atomic: a failed save leaves the previous file intact") {
  TempDir tmp;
  const std::string pid = std::to_string(::getpid());
  const std::string path = tmp / "keep.safetensors";
  StateDict old_state;
  old_state.insert("w", arange(0.0, 4.0, 1.0, kFloat32));
  save_safetensors(path, old_state);
  const std::string old_bytes = read_bytes(path);
  StateDict big;
  big.insert("w", zeros({1 << 20}, kFloat64));  // 8 MiB

  // Into a directory that does not exist.
  const std::string missing = tmp / "no_such_dir/x.safetensors";
  REQUIRE_THROWS_WITH(save_safetensors(missing, big), Catch::Contains(missing));

  // The temporary cannot be created.
  fs::create_directory(path + ".tmp." + pid);
  REQUIRE_THROWS_AS(save_safetensors(path, big), IOError);
  REQUIRE(read_bytes(path) == old_bytes);
  fs::remove(path + ".tmp." + pid);

  // The disk fills up midway (simulated with a 1 MiB file size limit): EFBIG, not a signal.
  struct rlimit saved;
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 1 << 20;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  bool threw = false;
  std::string message;
  try {
    save_safetensors(path, big);
  } catch (const IOError& e) {
    threw = true;
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  REQUIRE(threw);
  REQUIRE_THAT(message, Catch::Contains("cannot write") && Catch::Contains(path));
  REQUIRE(read_bytes(path) == old_bytes);
  REQUIRE(bit_equal(load_safetensors(path)["w"], old_state["w"]));
  REQUIRE_FALSE(fs::exists(path + ".tmp." + pid));

  // A successful overwrite replaces the file and leaves no temporary.
  save_safetensors(path, big);
  REQUIRE(bit_equal(load_safetensors(path)["w"], big["w"]));
  std::size_t temporaries = 0;
  for (const auto& e : fs::directory_iterator(tmp.dir)) temporaries += e.path().string().find(".tmp.") != std::string::npos;
  REQUIRE(temporaries == 0);
}
