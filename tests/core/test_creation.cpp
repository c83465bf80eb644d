// Factories against hand-computed values.
#include <catch2/catch.hpp>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

TEST_CASE("zeros/ones/full/eye") {
  Tensor f = full({2, 2}, 2.5, kFloat64);
  for (int i = 0; i < 4; ++i) REQUIRE(f.data_ptr<double>()[i] == 2.5);
  Tensor o = ones({3}, kInt32);
  REQUIRE(o.data_ptr<std::int32_t>()[2] == 1);
  Tensor e = eye(3, 4);
  REQUIRE(e.shape() == Shape{3, 4});
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) REQUIRE(e.data_ptr<float>()[i * 4 + j] == (i == j ? 1.0f : 0.0f));
  REQUIRE(zeros_like(f).dtype() == kFloat64);
  REQUIRE(ones_like(f, kInt64).dtype() == kInt64);
  REQUIRE_THROWS_AS(zeros({2, -1}), ShapeError);
}

TEST_CASE("arange and linspace") {
  Tensor a = arange(5);
  REQUIRE(a.dtype() == kInt64);
  REQUIRE(a.numel() == 5);
  REQUIRE(a.data_ptr<std::int64_t>()[4] == 4);
  Tensor b = arange(1, 2, 0.25);
  REQUIRE(b.dtype() == kFloat32);
  REQUIRE(b.numel() == 4);
  REQUIRE(b.data_ptr<float>()[3] == 1.75f);
  Tensor c = arange(10, 0, -3);
  REQUIRE(c.numel() == 4);
  REQUIRE(c.data_ptr<std::int64_t>()[3] == 1);
  Tensor l = linspace(0, 1, 5, kFloat64);
  for (int i = 0; i < 5; ++i) REQUIRE(l.data_ptr<double>()[i] == Approx(i * 0.25));
  REQUIRE(l.data_ptr<double>()[4] == 1.0);
  REQUIRE_THROWS_AS(arange(0, 5, 0), ValueError);
  REQUIRE_THROWS_AS(arange(5, 0, 1), ValueError);
}

TEST_CASE("tensor from vectors and nested lists") {
  Tensor t = tensor({{1, 2, 3}, {4, 5, 6}});
  REQUIRE(t.shape() == Shape{2, 3});
  REQUIRE(t.dtype() == kInt64);
  REQUIRE(t.data_ptr<std::int64_t>()[5] == 6);
  Tensor f = tensor({{1, 2}, {3.5, 4}});
  REQUIRE(f.dtype() == kFloat32);
  REQUIRE_THROWS_AS(tensor({{1, 2}, {3}}), ShapeError);
  Tensor v = tensor(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2});
  REQUIRE(v.dtype() == kFloat64);
  REQUIRE(v.shape() == Shape{3, 2});
  REQUIRE_THROWS_AS(tensor(std::vector<float>{1, 2, 3}, {2, 2}), ShapeError);
}

TEST_CASE("from_blob wraps memory without copying") {
  std::vector<float> mem = {1, 2, 3, 4, 5, 6};
  Tensor t = from_blob(mem.data(), {2, 3});
  REQUIRE(t.data_ptr<float>() == mem.data());
  t.fill_(9);
  REQUIRE(mem[5] == 9.0f);
  bool deleted = false;
  {
    Tensor d = from_blob(mem.data(), {6}, [&](void*) { deleted = true; });
    Tensor view = d.view({3, 2});
    d = Tensor();
    REQUIRE_FALSE(deleted);
  }
  REQUIRE(deleted);
  Tensor strided = from_blob(mem.data(), {3}, {2});
  REQUIRE(strided.contiguous().data_ptr<float>()[2] == 9.0f);
}
