// Views share storage and index the right elements: checked against explicit index arithmetic.
#include <catch2/catch.hpp>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {
// Element at a multi-index, read through the view's own strides.
double at(const Tensor& t, std::vector<std::int64_t> idx) {
  std::int64_t off = 0;
  for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * t.stride(static_cast<std::int64_t>(d));
  return static_cast<double>(static_cast<const float*>(t.data_ptr())[off]);
}
Tensor iota(std::vector<std::int64_t> shape) {
  std::vector<float> v(static_cast<std::size_t>(shape_numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return tensor(v, shape);
}
}  // namespace

TEST_CASE("transpose and permute are views with swapped strides") {
  Tensor x = iota({2, 3, 4});
  Tensor y = x.transpose(0, 2);
  REQUIRE(y.shape() == Shape{4, 3, 2});
  REQUIRE_FALSE(y.is_contiguous());
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t j = 0; j < 3; ++j)
      for (std::int64_t k = 0; k < 4; ++k) REQUIRE(at(y, {k, j, i}) == static_cast<double>(i * 12 + j * 4 + k));
  Tensor p = x.permute({1, 2, 0});
  REQUIRE(p.shape() == Shape{3, 4, 2});
  REQUIRE(at(p, {2, 1, 1}) == 12 + 2 * 4 + 1);
  REQUIRE(p.data_ptr() == x.data_ptr());
  Tensor c = p.contiguous();
  REQUIRE(c.is_contiguous());
  REQUIRE(c.data_ptr<float>()[(2 * 4 + 1) * 2 + 1] == 21.0f);
}

TEST_CASE("slicing with steps, select, narrow") {
  Tensor x = iota({10, 6});
  Tensor s = x.index({Slice(1, 9, 3), Slice(std::nullopt, std::nullopt, 2)});
  REQUIRE(s.shape() == Shape{3, 3});
  for (std::int64_t i = 0; i < 3; ++i)
    for (std::int64_t j = 0; j < 3; ++j) REQUIRE(at(s, {i, j}) == static_cast<double>((1 + 3 * i) * 6 + 2 * j));
  Tensor r = x.index({3});
  REQUIRE(r.shape() == Shape{6});
  REQUIRE(at(r, {4}) == 22);
  Tensor n = x.narrow(1, 2, 3);
  REQUIRE(n.shape() == Shape{10, 3});
  REQUIRE(at(n, {5, 0}) == 32);
  Tensor neg = x.index({Slice(-3), -1});
  REQUIRE(neg.shape() == Shape{3});
  REQUIRE(at(neg, {0}) == 7 * 6 + 5);
  REQUIRE(x.index({None, Ellipsis, 0}).shape() == Shape{1, 10});
  REQUIRE_THROWS_AS(x.select(0, 10), IndexError);
  REQUIRE_THROWS_AS(x.narrow(1, 4, 3), IndexError);
  REQUIRE_THROWS_AS(x.index({0, 0, 0}), IndexError);
}

TEST_CASE("view and reshape") {
  Tensor x = iota({4, 6});
  Tensor v = x.view({2, -1, 3});
  REQUIRE(v.shape() == Shape{2, 4, 3});
  REQUIRE(v.data_ptr() == x.data_ptr());
  Tensor t = x.t();
  REQUIRE_THROWS_AS(t.view({24}), ShapeError);
  Tensor r = t.reshape({24});
  REQUIRE(r.is_contiguous());
  REQUIRE(r.data_ptr<float>()[1] == 6.0f);  // column-major order of x
  REQUIRE_THROWS_AS(x.view({5, -1}), ShapeError);
  REQUIRE(x.flatten().shape() == Shape{24});
  REQUIRE(iota({2, 3, 4}).flatten(1).shape() == Shape{2, 12});
  // A sliced view that stays viewable: rows 1..3 of a contiguous matrix.
  Tensor rows = x.narrow(0, 1, 2).view({12});
  REQUIRE(rows.data_ptr<float>()[0] == 6.0f);
}

TEST_CASE("squeeze, unsqueeze, expand") {
  Tensor x = iota({3, 1, 2});
  REQUIRE(x.squeeze().shape() == Shape{3, 2});
  REQUIRE(x.squeeze(1).shape() == Shape{3, 2});
  REQUIRE(x.squeeze(0).shape() == Shape{3, 1, 2});
  REQUIRE(x.unsqueeze(-1).shape() == Shape{3, 1, 2, 1});
  Tensor e = x.expand({2, 3, 4, 2});
  REQUIRE(e.shape() == Shape{2, 3, 4, 2});
  REQUIRE(e.stride(0) == 0);
  REQUIRE(e.stride(2) == 0);
  REQUIRE(at(e, {1, 2, 3, 1}) == 5);
  REQUIRE_THROWS_AS(x.expand({3, 2, 3}), ShapeError);
}

TEST_CASE("chunk, split, unbind, cat, stack") {
  Tensor x = iota({5, 2});
  auto parts = x.chunk(2);
  REQUIRE(parts.size() == 2);
  REQUIRE(parts[0].shape() == Shape{3, 2});
  REQUIRE(parts[1].shape() == Shape{2, 2});
  auto sp = x.split(IntArrayRef{1, 4});
  REQUIRE(sp[1].shape() == Shape{4, 2});
  Tensor c = cat({parts[1], parts[0]}, 0);
  REQUIRE(c.shape() == Shape{5, 2});
  REQUIRE(c.data_ptr<float>()[0] == 6.0f);
  REQUIRE(c.data_ptr<float>()[4] == 0.0f);
  Tensor s = stack({x.t(), x.t()}, 1);
  REQUIRE(s.shape() == Shape{2, 2, 5});
  REQUIRE(s.contiguous().data_ptr<float>()[5 + 2] == 4.0f);  // s[0][1][2] = x.t()[0][2] = x[2][0]
  REQUIRE(x.unbind(1).size() == 2);
  REQUIRE_THROWS_AS(cat({x, iota({2, 3})}, 0), ShapeError);
  Tensor mixed = cat({tensor({1, 2}), tensor({0.5})});
  REQUIRE(mixed.dtype() == kFloat32);
  REQUIRE(mixed.data_ptr<float>()[2] == 0.5f);
}

// contiguous() of a permuted view against the element each output position names, computed
// from the view's own strides; shapes cover the tiled transpose path (odd sizes, several planes,
// a broadcast source, 1-, 4- and 8-byte elements) and layouts it must leave alone.
namespace {
template <typename T>
void check_contiguous_copy(const Tensor& view) {
  const Tensor c = view.contiguous();
  REQUIRE(c.is_contiguous());
  REQUIRE(c.shape() == view.shape());
  const T* src = view.data_ptr<T>();  // the view's first element
  const T* out = c.data_ptr<T>();
  const std::int64_t nd = view.dim();
  std::vector<std::int64_t> idx(static_cast<std::size_t>(nd), 0);
  for (std::int64_t i = 0; i < view.numel(); ++i) {
    std::int64_t off = 0;
    for (std::int64_t d = 0; d < nd; ++d) off += idx[static_cast<std::size_t>(d)] * view.stride(d);
    REQUIRE(out[i] == src[off]);
    for (std::int64_t d = nd; d-- > 0;) {
      if (++idx[static_cast<std::size_t>(d)] < view.size(d)) break;
      idx[static_cast<std::size_t>(d)] = 0;
    }
  }
}
}  // namespace

TEST_CASE("contiguous() of transposed and permuted views copies every element to its place") {
  manual_seed(3);
  const Tensor x4 = rand({5, 17, 9, 33});
  check_contiguous_copy<float>(x4.transpose(1, 3));
  check_contiguous_copy<float>(x4.permute({0, 2, 3, 1}));  // NCHW -> NHWC
  check_contiguous_copy<float>(x4.permute({3, 2, 1, 0}));
  check_contiguous_copy<float>(x4.permute({2, 0, 3, 1}));
  check_contiguous_copy<float>(rand({300, 129}).t());  // one plane, split in row blocks
  check_contiguous_copy<float>(rand({3, 2}).t());       // too small for tiles
  check_contiguous_copy<float>(rand({64, 1, 40}).expand({64, 5, 40}).transpose(0, 2));  // broadcast source
  check_contiguous_copy<double>(rand({33, 70}, TensorOptions(kFloat64)).t());
  check_contiguous_copy<std::int64_t>(randint(0, 1000, {19, 6, 23}).permute({2, 1, 0}));
  check_contiguous_copy<std::int32_t>(randint(0, 1000, {19, 45}).to(kInt32).t());
  check_contiguous_copy<bool>((rand({40, 70}) > 0.5).t());
  check_contiguous_copy<float>(x4.narrow(3, 1, 30).transpose(1, 3));  // strided rows
  check_contiguous_copy<float>(tensor(2.5f).expand({37, 5}));            // one value everywhere
  Tensor d = zeros({6, 9});
  d.copy_(tensor(std::int64_t{7}).expand({6, 9}));  // a broadcast fill with a dtype conversion
  for (std::int64_t i = 0; i < d.numel(); ++i) REQUIRE(d.data_ptr<float>()[i] == 7.0f);
}
