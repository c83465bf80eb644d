// read_csv and CSVDataset on files written by the test.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;
using data::read_csv;
namespace fs = std::filesystem;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  const fs::path path = fs::temp_directory_path() / ("tapeflow_data_csv_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path.string();
}

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.to(kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace

TEST_CASE("read_csv: header, all columns, spaces, quotes, CRLF, blank lines", "[data][csv]") {
  const std::string path = write_file("basic.csv", "a, b ,c\r\n1,2.5,-3\r\n\r\n4,\"5\",6e1\r\n+7, 0.125 ,8\r\n");
  const Tensor t = read_csv(path, {.dtype = kFloat64});
  REQUIRE(t.dtype() == kFloat64);
  REQUIRE(t.sizes() == Shape{3, 3});
  REQUIRE(values(t) == std::vector<double>{1, 2.5, -3, 4, 5, 60, 7, 0.125, 8});
  // Default dtype float32.
  REQUIRE(read_csv(path).dtype() == kFloat32);
  // Columns by name and by position, in the order asked.
  REQUIRE(values(read_csv(path, {.columns = {"c", "a"}})) == std::vector<double>{-3, 1, 60, 4, 8, 7});
  REQUIRE(values(read_csv(path, {.columns = {1}})) == std::vector<double>{2.5, 5, 0.125});
  fs::remove(path);
}

TEST_CASE("read_csv: no header, other delimiter, integer dtypes", "[data][csv]") {
  const std::string path = write_file("semi.csv", "1;2;3\n-4;5;6\n");
  const Tensor t = read_csv(path, {.header = false, .delimiter = ';', .dtype = kInt64});
  REQUIRE(t.dtype() == kInt64);
  REQUIRE(t.sizes() == Shape{2, 3});
  REQUIRE(values(t) == std::vector<double>{1, 2, 3, -4, 5, 6});
  const Tensor i32 = read_csv(path, {.header = false, .delimiter = ';', .columns = {2, 0}, .dtype = kInt32});
  REQUIRE(i32.dtype() == kInt32);
  REQUIRE(values(i32) == std::vector<double>{3, 1, 6, -4});
  REQUIRE_THROWS_AS(read_csv(path, {.header = false, .delimiter = ';', .columns = {"a"}}), ValueError);
  fs::remove(path);
}

TEST_CASE("read_csv errors name the file, line and column", "[data][csv][errors]") {
  const std::string bad = write_file("bad.csv", "x,y\n1,2\n3,abc\n");
  REQUIRE_THROWS_AS(read_csv(bad), ValueError);
  REQUIRE_THROWS_WITH(read_csv(bad), Catch::Contains(bad) && Catch::Contains("line 3") &&
                                         Catch::Contains("column 2") && Catch::Contains("'y'") &&
                                         Catch::Contains("'abc'"));
  const std::string frac = write_file("frac.csv", "1,2.5\n");
  REQUIRE_THROWS_WITH(read_csv(frac, {.header = false, .dtype = kInt32}),
                      Catch::Contains("line 1") && Catch::Contains("column 2") && Catch::Contains("an integer"));
  const std::string ragged = write_file("ragged.csv", "a,b\n1,2\n3\n");
  REQUIRE_THROWS_WITH(read_csv(ragged), Catch::Contains("line 3") && Catch::Contains("expected 2 fields"));
  const std::string empty_field = write_file("empty.csv", "a,b\n1,\n");
  REQUIRE_THROWS_WITH(read_csv(empty_field), Catch::Contains("line 2") && Catch::Contains("column 2"));
  REQUIRE_THROWS_WITH(read_csv(bad, {.columns = {"z"}}), Catch::Contains("'z'") && Catch::Contains("x, y"));
  REQUIRE_THROWS_AS(read_csv(bad, {.columns = {5}}), IndexError);
  REQUIRE_THROWS_AS(read_csv(bad, {.dtype = kBool}), DTypeError);
  REQUIRE_THROWS_AS(read_csv("/nonexistent/file.csv"), IOError);
  for (const auto& p : {bad, frac, ragged, empty_field}) fs::remove(p);
}

TEST_CASE("CSVDataset splits features and target", "[data][csv]") {
  const std::string path = write_file("ds.csv", "f1,label,f2\n0.5,1,2\n1.5,0,3\n2.5,2,4\n");
  data::CSVDataset ds(path, "label");
  REQUIRE(ds.size() == 3);
  const data::Example e = ds.get(2);
  REQUIRE(values(e.data) == std::vector<double>{2.5, 4});
  REQUIRE(e.target.dtype() == kInt64);
  REQUIRE(e.target.item<std::int64_t>() == 2);
  data::CSVDataset by_position(path, 1, {.columns = {"f2"}}, kFloat32);
  REQUIRE(values(by_position.get(0).data) == std::vector<double>{2});
  REQUIRE(by_position.get(0).target.dtype() == kFloat32);
  data::DataLoader loader(ds, {.batch_size = 2});
  const data::Batch first = *loader.begin();
  REQUIRE(values(first.data) == std::vector<double>{0.5, 2, 1.5, 3});
  REQUIRE(values(first.target) == std::vector<double>{1, 0});
  REQUIRE_THROWS_AS(data::CSVDataset(path, "nope"), ValueError);
  fs::remove(path);
}
