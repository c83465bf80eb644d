// .npz: archives written by np.savez and np.savez_compressed (tests/io/make_safetensors_fixtures.py,
// same formulas as test_safetensors.cpp), round trips, broken archives, and atomic saving.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using namespace tapeflow_test;
namespace fs = std::filesystem;

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

}  // namespace

TEST_CASE("reads archives written by np.savez and np.savez_compressed") {
  for (const char* name : {"all_dtypes.npz", "all_dtypes_compressed.npz"}) {
    INFO(name);
    const StateDict d = load_npz(fixture(name));
    // all_dtypes() in make_safetensors_fixtures.py, in its order.
    REQUIRE(d.keys() == std::vector<std::string>{"f32", "f64", "i32", "i64", "bool", "scalar", "empty", "layer.0.weight"});
    const auto f32 = values_of<float>(d["f32"]);
    REQUIRE(d["f32"].shape() == Shape{2, 3});
    for (std::size_t i = 0; i < 6; ++i) REQUIRE(f32[i] == static_cast<float>(i) * 0.5f - 1.25f);
    REQUIRE(values_of<double>(d["f64"]) == std::vector<double>{M_PI, -M_E, 1e-300, 1e300});
    REQUIRE(values_of<std::int32_t>(d["i32"]) == std::vector<std::int32_t>{INT32_MIN, -1, 0, INT32_MAX});
    REQUIRE(values_of<std::int64_t>(d["i64"]) == std::vector<std::int64_t>{INT64_MIN, -1, 0, INT64_MAX});
    REQUIRE(values_of<bool>(d["bool"]) == std::vector<bool>{true, false, false, true, true});
    REQUIRE(d["scalar"].dim() == 0);
    REQUIRE(values_of<double>(d["scalar"]) == std::vector<double>{2.5});
    REQUIRE(d["empty"].shape() == Shape{0, 3});
    const auto w = values_of<float>(d["layer.0.weight"]);
    for (std::size_t i = 0; i < 24; ++i) REQUIRE(w[i] == static_cast<float>(i) / 8);
  }
}

TEST_CASE("save_npz then load_npz round-trips, non-contiguous and empty included") {
  TempDir tmp;
  StateDict d;
  d.insert("b", arange(0.0, 12.0, 1.0, kFloat64).reshape({3, 4}).t());
  d.insert("a", tensor(std::vector<std::int32_t>{-7, 8}, {2}));
  d.insert("flags", tensor(std::vector<bool>{true, false}, {2}));
  d.insert("scalar", full({}, 1.5, kFloat32));
  d.insert("empty", zeros({0}, kInt64));
  save_npz(tmp / "x.npz", d);
  const StateDict back = load_npz(tmp / "x.npz");
  REQUIRE(back.keys() == d.keys());
  for (const auto& item : d) REQUIRE(bit_equal(back[item.key()], item.value()));
  save_npz(tmp / "none.npz", StateDict{});
  REQUIRE(load_npz(tmp / "none.npz").empty());
}

TEST_CASE("broken archives throw IOError naming the file and the problem") {
  const std::map<std::string, std::string> expected{
      {"not_zip", "no end-of-central-directory record"},
      {"truncated", "no end-of-central-directory record"},
      {"bad_crc", "member 'f32.npy': CRC mismatch"},
      {"bomb", "more than deflate can produce"},
  };
  for (const auto& [name, phrase] : expected) {
    INFO(name);
    const std::string path = fixture("bad_npz/" + name + ".npz");
    REQUIRE_THROWS_AS(load_npz(path), IOError);
    REQUIRE_THROWS_WITH(load_npz(path), Catch::Contains(path) && Catch::Contains(phrase));
  }
  REQUIRE_THROWS_AS(load_npz(fixture("no_such.npz")), IOError);
}

TEST_CASE("save_npz is atomic and rejects undefined tensors") {
  TempDir tmp;
  const std::string path = tmp / "keep.npz";
  StateDict old_state;
  old_state.insert("w", ones({3}));
  save_npz(path, old_state);
  const std::string old_bytes = read_bytes(path);
  StateDict bad;
  bad.insert("u", Tensor());
  REQUIRE_THROWS_AS(save_npz(path, bad), IOError);
  fs::create_directory(path + ".tmp." + std::to_string(::getpid()));
  REQUIRE_THROWS_AS(save_npz(path, old_state), IOError);
  REQUIRE(read_bytes(path) == old_bytes);
}
