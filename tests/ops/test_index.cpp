// Index ops against plain loops over multi-indices written here.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

using Dims = std::vector<std::int64_t>;

Tensor make(const Dims& shape, DType dt, int seed = 1) {
  std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto r = static_cast<double>((i * 7 + static_cast<std::size_t>(seed) * 5) % 13) - 6.0;
    v[i] = dt == kBool ? static_cast<double>(static_cast<int>(r) % 2 != 0) : r;
  }
  return tensor(v, shape, dt);
}

// Index values in [0, bound) with repeats, in a given dtype and shape.
Tensor make_index(const Dims& shape, std::int64_t bound, DType dt = kInt64, int seed = 3) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(shape_numel(shape)));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<std::int64_t>((i * 5 + static_cast<std::size_t>(seed)) % static_cast<std::size_t>(bound));
  return tensor(v, shape).to(dt);
}

std::vector<double> values(const Tensor& t) {
  const Tensor c = t.contiguous().to(kFloat64);
  const double* p = c.data_ptr<double>();
  return {p, p + c.numel()};
}

Dims unravel(std::int64_t i, const Dims& shape) {
  Dims idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  return idx;
}

std::int64_t ravel(const Dims& idx, const Dims& shape) {
  std::int64_t r = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) r = r * shape[d] + idx[d];
  return r;
}

void require_values(const Tensor& got, const Dims& shape, const std::vector<double>& want) {
  REQUIRE(got.shape() == Shape(shape));
  const auto g = values(got);
  REQUIRE(g.size() == want.size());
  for (std::size_t i = 0; i < g.size(); ++i) REQUIRE(g[i] == want[i]);
}

std::vector<double> ref_gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  const Dims xs = x.shape().vec(), is = index.shape().vec();
  const auto xv = values(x), iv = values(index);
  std::vector<double> out(iv.size());
  for (std::size_t i = 0; i < iv.size(); ++i) {
    Dims idx = unravel(static_cast<std::int64_t>(i), is);
    idx[static_cast<std::size_t>(dim)] = static_cast<std::int64_t>(iv[i]);
    out[i] = xv[static_cast<std::size_t>(ravel(idx, xs))];
  }
  return out;
}

std::vector<double> ref_scatter_add(const Tensor& x, std::int64_t dim, const Tensor& index, const Tensor& src) {
  const Dims xs = x.shape().vec(), is = index.shape().vec(), ss = src.shape().vec();
  auto out = values(x);
  const auto iv = values(index), sv = values(src);
  for (std::size_t i = 0; i < iv.size(); ++i) {
    const Dims pos = unravel(static_cast<std::int64_t>(i), is);
    Dims idx = pos;
    idx[static_cast<std::size_t>(dim)] = static_cast<std::int64_t>(iv[i]);
    out[static_cast<std::size_t>(ravel(idx, xs))] += sv[static_cast<std::size_t>(ravel(pos, ss))];
  }
  return out;
}

const std::vector<DType> kAll{kFloat32, kFloat64, kInt32, kInt64, kBool};
const std::vector<DType> kNumeric{kFloat32, kFloat64, kInt32, kInt64};

}  // namespace

TEST_CASE("gather on every dim, dtype, index dtype and layout") {
  for (DType dt : kAll)
    for (DType it : {kInt64, kInt32})
      for (std::int64_t dim : {0, 1, 2, -1, -2, -3}) {
        INFO(dt << " index " << it << " dim " << dim);
        const std::int64_t d = dim < 0 ? dim + 3 : dim;
        const Tensor x = make({3, 4, 5}, dt);
        Dims is{2, 3, 4};
        is[static_cast<std::size_t>(d)] = 6;  // longer than x along dim is allowed
        const Tensor index = make_index(is, x.size(d), it);
        require_values(gather(x, dim, index), is, ref_gather(x, d, index));
        require_values(x.gather(dim, index), is, ref_gather(x, d, index));
        // non-contiguous input and index
        const Tensor xt = make({5, 4, 3}, dt, 2).permute({2, 1, 0});
        const Tensor it2 = make_index({is[2], is[1], is[0]}, x.size(d), it, 4).permute({2, 1, 0});
        require_values(gather(xt, dim, it2), is, ref_gather(xt, d, it2));
        // broadcast (stride 0) index and a stepped slice of x
        const Tensor xs = make({3, 8, 5}, dt, 5).index({Slice(), Slice(0, 8, 2)});
        const Tensor ib = make_index({1, 1, 1}, x.size(d), it, 6).expand({2, 3, 4});
        require_values(gather(xs, dim, ib), {2, 3, 4}, ref_gather(xs, d, ib));
      }
  // 0-D and empty
  const Tensor s = scalar_tensor(7.0, kFloat64);
  require_values(gather(s, 0, scalar_tensor(0, kInt64)), {}, {7.0});
  require_values(gather(make({3, 4}, kFloat32), 1, zeros({3, 0}, kInt64)), {3, 0}, {});
  // large enough to run in parallel
  const Tensor big = make({300, 257}, kFloat64);
  const Tensor bi = make_index({300, 400}, 257);
  require_values(gather(big, 1, bi), {300, 400}, ref_gather(big, 1, bi));
}

TEST_CASE("scatter_add accumulates duplicates, in place and out of place") {
  for (DType dt : kNumeric)
    for (DType it : {kInt64, kInt32})
      for (std::int64_t dim : {0, 1, 2, -1, -3}) {
        INFO(dt << " index " << it << " dim " << dim);
        const std::int64_t d = dim < 0 ? dim + 3 : dim;
        const Tensor x = make({3, 4, 5}, dt);
        Dims is{2, 3, 4};
        is[static_cast<std::size_t>(d)] = 7;  // more entries than x has along dim: duplicates
        const Tensor index = make_index(is, x.size(d), it);
        const Tensor src = make({7, 7, 14}, dt, 2).index({Slice(), Slice(), Slice(0, 14, 2)});  // strided
        const auto want = ref_scatter_add(x, d, index, src);
        const auto before = values(x);
        require_values(scatter_add(x, dim, index, src), {3, 4, 5}, want);
        require_values(x.scatter_add(dim, index, src), {3, 4, 5}, want);
        require_values(x, {3, 4, 5}, before);  // out of place leaves x alone
        Tensor y = x.clone();
        const auto v0 = y.impl()->storage->version();
        Tensor& r = scatter_add_(y, dim, index, src);
        REQUIRE(&r == &y);
        REQUIRE(y.impl()->storage->version() > v0);
        require_values(y, {3, 4, 5}, want);
        // in place through a transposed view: the base storage sees the sums
        Tensor base = make({5, 4, 3}, dt, 3);
        Tensor view = base.permute({2, 1, 0});
        const auto want_v = ref_scatter_add(view, d, index, src);
        scatter_add_(view, dim, index, src.transpose(0, 2).contiguous().transpose(0, 2));
        require_values(view, {3, 4, 5}, want_v);
        require_values(base.permute({2, 1, 0}), {3, 4, 5}, want_v);
      }
  // large: split across threads along a dim other than the scattered one
  for (std::int64_t dim : {0, 1}) {
    const Tensor x = make({64, 600}, kFloat64);
    const Dims is = dim == 1 ? Dims{64, 1200} : Dims{200, 600};
    const Tensor index = make_index(is, x.size(dim));
    const Tensor src = make(is, kFloat64, 4);
    require_values(scatter_add(x, dim, index, src), {64, 600}, ref_scatter_add(x, dim, index, src));
  }
  // integers wrap around instead of overflowing
  const Tensor big = full({1}, std::numeric_limits<std::int32_t>::max(), kInt32);
  const Tensor r = scatter_add(big, 0, zeros({1}, kInt64), ones({1}, kInt32));
  REQUIRE(r.item<std::int32_t>() == std::numeric_limits<std::int32_t>::min());
}

TEST_CASE("scatter_add of whole rows: an index broadcast along the row, a row or one value added") {
  // The embedding backward's form: index (n, 1) expanded to (n, D) along dim 0, the source a row
  // per index or one broadcast value (the gradient of a sum); rows repeat.
  for (DType dt : kNumeric)
    for (std::int64_t n : {6, 3000}) {  // 3000 x 40: split across threads along the row
      INFO(dt << " n " << n);
      const std::int64_t D = 40;
      const Tensor x = make({50, D}, dt);
      const Tensor index = make_index({n, 1}, 50).expand({n, D});
      const Tensor rows = make({n, D}, dt, 2);
      require_values(scatter_add(x, 0, index, rows), {50, D}, ref_scatter_add(x, 0, index, rows));
      const Tensor one = full({1, 1}, 3, dt).expand({n, D});
      require_values(scatter_add(x, 0, index, one), {50, D}, ref_scatter_add(x, 0, index, one));
    }
}

TEST_CASE("index_select copies rows, for any dim and layout") {
  for (DType dt : kAll)
    for (std::int64_t dim : {0, 1, 2, -1}) {
      INFO(dt << " dim " << dim);
      const std::int64_t d = dim < 0 ? dim + 3 : dim;
      for (const Tensor& x : {make({3, 4, 5}, dt), make({5, 4, 3}, dt, 2).permute({2, 1, 0}),
                              make({3, 8, 5}, dt, 3).index({Slice(), Slice(0, 8, 2)})}) {
        const Tensor idx = tensor(std::vector<std::int64_t>{2, 0, -1, 2, 1});
        Dims is{3, 4, 5};
        is[static_cast<std::size_t>(d)] = 5;
        // the same selection as a gather with an expanded index (negative wrapped)
        std::vector<std::int64_t> wrapped{2, 0, x.size(d) - 1, 2, 1};
        Dims ishape(3, 1);
        ishape[static_cast<std::size_t>(d)] = 5;
        const Tensor gidx = tensor(wrapped, ishape).expand(is);
        require_values(index_select(x, dim, idx), is, ref_gather(x, d, gidx));
        require_values(x.index_select(dim, idx.to(kInt32)), is, ref_gather(x, d, gidx));
      }
    }
  // 0-D index, 0-D input, empty index
  const Tensor x = make({4, 3}, kFloat32);
  require_values(index_select(x, 0, scalar_tensor(2, kInt64)), {1, 3}, values(x[2]));
  require_values(index_select(scalar_tensor(5.0), 0, scalar_tensor(0, kInt64)), {}, {5.0});
  require_values(index_select(scalar_tensor(5.0), 0, tensor(std::vector<std::int64_t>{0, 0})), {2}, {5.0, 5.0});
  require_values(index_select(x, 1, zeros({0}, kInt64)), {4, 0}, {});
  // large (parallel) row copies and per-element selection along the last dim
  const Tensor emb = make({2000, 64}, kFloat32);
  const Tensor rows = make_index({3000}, 2000);
  Tensor gi = rows.reshape({3000, 1}).expand({3000, 64});
  require_values(index_select(emb, 0, rows), {3000, 64}, ref_gather(emb, 0, gi));
  const Tensor cols = make_index({100}, 64);
  gi = cols.reshape({1, 100}).expand({2000, 100});
  require_values(index_select(emb, 1, cols), {2000, 100}, ref_gather(emb, 1, gi));
}

TEST_CASE("one_hot") {
  const Tensor idx = tensor(std::vector<std::int64_t>{1, 0, 3, 1, 2, 0}, {2, 3});
  const Tensor oh = one_hot(idx);
  REQUIRE(oh.dtype() == kInt64);
  std::vector<double> want(24, 0.0);
  const std::vector<std::int64_t> v{1, 0, 3, 1, 2, 0};
  for (std::size_t i = 0; i < v.size(); ++i) want[i * 4 + static_cast<std::size_t>(v[i])] = 1;
  require_values(oh, {2, 3, 4}, want);
  const Tensor oh6 = one_hot(idx.t(), 6);  // non-contiguous, explicit classes
  std::vector<double> want6(36, 0.0);
  const auto tv = values(idx.t());
  for (std::size_t i = 0; i < tv.size(); ++i) want6[i * 6 + static_cast<std::size_t>(tv[i])] = 1;
  require_values(oh6, {3, 2, 6}, want6);
  require_values(one_hot(idx.to(kInt32), 4), {2, 3, 4}, want);
  require_values(one_hot(zeros({0}, kInt64), 3), {0, 3}, {});
  require_values(one_hot(scalar_tensor(2, kInt64)), {3}, {0, 0, 1});
  REQUIRE_THROWS_AS(one_hot(tensor(std::vector<std::int64_t>{0, -1})), IndexError);
  REQUIRE_THROWS_AS(one_hot(tensor(std::vector<std::int64_t>{0, 4}), 4), IndexError);
  REQUIRE_THROWS_AS(one_hot(zeros({0}, kInt64)), ValueError);
  REQUIRE_THROWS_AS(one_hot(idx, -2), ValueError);
  REQUIRE_THROWS_AS(one_hot(idx.to(kFloat32)), DTypeError);
  REQUIRE_THROWS_AS(one_hot(Tensor()), ValueError);
}

TEST_CASE("nonzero returns (count, dim) int64 indices in row-major order") {
  for (DType dt : kAll) {
    INFO(dt);
    const Tensor x = make({4, 3, 5}, dt).permute({1, 0, 2});  // non-contiguous
    const auto xv = values(x);
    std::vector<double> want;
    for (std::size_t i = 0; i < xv.size(); ++i)
      if (xv[i] != 0.0)
        for (std::int64_t c : unravel(static_cast<std::int64_t>(i), {3, 4, 5})) want.push_back(static_cast<double>(c));
    const Tensor nz = nonzero(x);
    REQUIRE(nz.dtype() == kInt64);
    require_values(nz, {static_cast<std::int64_t>(want.size() / 3), 3}, want);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  require_values(nonzero(tensor(std::vector<double>{0.0, -0.0, nan, 2.0})), {2, 1}, {2, 3});
  require_values(nonzero(scalar_tensor(3.0)), {1, 0}, {});
  require_values(nonzero(scalar_tensor(0.0)), {0, 0}, {});
  require_values(nonzero(zeros({2, 0})), {0, 2}, {});
  require_values(nonzero(zeros({3, 3})), {0, 2}, {});
  REQUIRE_THROWS_AS(nonzero(Tensor()), ValueError);
}

TEST_CASE("masked_select") {
  const Tensor x = make({2, 3}, kFloat32);
  const Tensor m = tensor(std::vector<bool>{true, false, true});
  const auto xv = values(x);
  require_values(masked_select(x, m), {4}, {xv[0], xv[2], xv[3], xv[5]});
  REQUIRE_THROWS_AS(masked_select(x, make({2, 3}, kInt64)), DTypeError);
  REQUIRE_THROWS_AS(masked_select(x, full({4}, true, kBool)), ShapeError);
}

TEST_CASE("index op errors are typed and name the values") {
  const Tensor x = make({3, 4}, kFloat32);
  try {
    gather(x, 1, tensor(std::vector<std::int64_t>{0, 5, 1}, {1, 3}));
    FAIL("no throw");
  } catch (const IndexError& e) {
    const std::string msg = e.what();
    REQUIRE(msg.find("[gather]") == 0);
    REQUIRE(msg.find("index 5") != std::string::npos);
  }
  REQUIRE_THROWS_AS(gather(x, 1, tensor(std::vector<std::int64_t>{-1}, {1, 1})), IndexError);
  REQUIRE_THROWS_AS(gather(x, 1, make_index({3}, 4)), ShapeError);         // dims differ
  REQUIRE_THROWS_AS(gather(x, 1, make_index({4, 2}, 4)), ShapeError);      // larger off dim
  REQUIRE_THROWS_AS(gather(x, 1, make({3, 2}, kFloat32)), DTypeError);
  REQUIRE_THROWS_AS(gather(x, 2, make_index({3, 2}, 4)), IndexError);      // bad dim
  REQUIRE_THROWS_AS(gather(x, -3, make_index({3, 2}, 4)), IndexError);
  REQUIRE_THROWS_AS(gather(Tensor(), 0, make_index({3, 2}, 4)), ValueError);
  // scatter_add
  Tensor y = make({3, 4}, kFloat32);
  const auto before = values(y);
  const Tensor bad = tensor(std::vector<std::int64_t>{0, 1, 4, 2}, {2, 2});
  try {
    scatter_add_(y, 1, bad, make({2, 2}, kFloat32));
    FAIL("no throw");
  } catch (const IndexError& e) {
    REQUIRE(std::string(e.what()).find("index 4") != std::string::npos);
  }
  require_values(y, {3, 4}, before);  // nothing written
  const Tensor idx = make_index({2, 2}, 3);
  REQUIRE_THROWS_AS(scatter_add_(y, 1, idx, make({2, 2}, kFloat64)), DTypeError);
  REQUIRE_THROWS_AS(scatter_add_(y, 1, idx.to(kFloat32), make({2, 2}, kFloat32)), DTypeError);
  REQUIRE_THROWS_AS(scatter_add_(y, 1, idx, make({2, 1}, kFloat32)), ShapeError);   // src too small
  REQUIRE_THROWS_AS(scatter_add_(y, 1, idx, make({2}, kFloat32)), ShapeError);      // src dims
  REQUIRE_THROWS_AS(scatter_add_(y, 1, make_index({4, 2}, 3), make({4, 2}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(scatter_add_(y, 1, make_index({2}, 3), make({2, 2}, kFloat32)), ShapeError);
  REQUIRE_THROWS_AS(scatter_add_(y, 2, idx, make({2, 2}, kFloat32)), IndexError);
  Tensor flags = full({3, 4}, true, kBool);
  REQUIRE_THROWS_AS(scatter_add_(flags, 1, idx, full({2, 2}, true, kBool)), DTypeError);
  Tensor expanded = make({1, 4}, kFloat32).expand({3, 4});
  REQUIRE_THROWS_AS(scatter_add_(expanded, 1, idx, make({2, 2}, kFloat32)), ValueError);
  REQUIRE_THROWS_AS(scatter_add(x, 0, make_index({2, 2}, 3), Tensor()), ValueError);
  // index_select
  REQUIRE_THROWS_AS(index_select(x, 0, make_index({2, 2}, 3)), ShapeError);
  REQUIRE_THROWS_AS(index_select(x, 0, tensor(std::vector<std::int64_t>{3})), IndexError);
  REQUIRE_THROWS_AS(index_select(x, 0, tensor(std::vector<std::int64_t>{-4})), IndexError);
  REQUIRE_THROWS_AS(index_select(x, 0, make({2}, kFloat32)), DTypeError);
  REQUIRE_THROWS_AS(index_select(x, 2, make_index({2}, 3)), IndexError);
}
