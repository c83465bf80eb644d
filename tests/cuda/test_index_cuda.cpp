// Index ops on cuda:0 against the CPU backend: gather / scatter_add (duplicates accumulate,
// strided and broadcast operands, every numeric dtype, int32 and int64 indices), index_select
// with negative indices, masked_select (broadcast mask), nonzero, one_hot, embedding, their
// gradients, and out-of-range indices raising IndexError (naming the value) with nothing written.
#include <string>
#include <vector>

#include "cuda/cuda_grad_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::random_cpu;
using cuda_test::require_close;
using cuda_test::require_same_grads;

namespace {

Tensor indices(std::int64_t high, IntArrayRef shape, DType dtype = kInt64) {
  return randint(0, high, shape, TensorOptions(dtype));
}

}  // namespace

TEST_CASE("cuda gather and scatter_add: dtypes, index dtypes, duplicates and strided views", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64, kInt32, kInt64})
    for (DType idt : {kInt32, kInt64}) {
      INFO(dtype << " index " << idt);
      const Tensor x = (random_cpu({7, 9, 5}, kFloat64) * 100).to(dtype);
      for (std::int64_t dim : {0, 1, 2}) {
        const Tensor idx = indices(x.size(dim), {4, 6, 3}, idt);  // many duplicates
        require_close(gather(x, dim, idx), gather(x.to(kGpu), dim, idx.to(kGpu)), 0, 0);
        const Tensor src = (random_cpu({4, 6, 3}, kFloat64) * 100).to(dtype);
        // float atomics sum duplicates in another order: a small tolerance for float32.
        const double tol = dtype == kFloat32 ? 1e-4 : 1e-12;
        require_close(scatter_add(x, dim, idx, src), scatter_add(x.to(kGpu), dim, idx.to(kGpu), src.to(kGpu)), tol, tol);
      }
      // Transposed input, broadcast (expanded) index, sliced src.
      const Tensor xt = x.transpose(0, 2);
      const Tensor bidx = indices(xt.size(1), {5, 1, 7}, idt).expand({5, 4, 7});
      require_close(gather(xt, 1, bidx), gather(x.to(kGpu).transpose(0, 2), 1, bidx.to(kGpu)), 0, 0);
      const Tensor big = (random_cpu({5, 8, 7}, kFloat64) * 100).to(dtype);
      const Tensor sidx = indices(9, {5, 4, 7}, idt);
      require_close(scatter_add(xt, 1, sidx, big.slice(1, 0, 8, 2)),
                    scatter_add(x.to(kGpu).transpose(0, 2), 1, sidx.to(kGpu), big.to(kGpu).slice(1, 0, 8, 2)),
                    dtype == kFloat32 ? 1e-4 : 1e-12, 1e-4);
    }
}

TEST_CASE("cuda index_select, masked_select, nonzero and one_hot", "[cuda]") {
  const Tensor x = random_cpu({6, 8, 3}, kFloat32);
  const Tensor idx = tensor(std::vector<std::int64_t>{0, -1, 3, 3, -8, 7});
  require_close(index_select(x, 1, idx), index_select(x.to(kGpu), 1, idx.to(kGpu)), 0, 0);
  require_close(index_select(x, 0, idx.slice(0, 0, 3)), index_select(x.to(kGpu), 0, idx.to(kGpu).slice(0, 0, 3)), 0, 0);
  const Tensor mask = random_cpu({8, 1}, kFloat64) > 0.0;  // broadcast over x's (6, 8, 3)
  require_close(masked_select(x, mask), masked_select(x.to(kGpu), mask.to(kGpu)), 0, 0);
  const Tensor none = full({6, 8, 3}, false, TensorOptions(kBool));
  require_close(masked_select(x, none), masked_select(x.to(kGpu), none.to(kGpu)), 0, 0);
  for (DType dtype : {kFloat32, kInt32, kBool}) {
    const Tensor sparse = (random_cpu({5, 4, 7}, kFloat64) > 0.5).to(dtype);
    require_close(nonzero(sparse), nonzero(sparse.to(kGpu)), 0, 0);
    require_close(nonzero(sparse.transpose(0, 2)), nonzero(sparse.to(kGpu).transpose(0, 2)), 0, 0);
  }
  const Tensor classes = indices(5, {3, 4});
  require_close(one_hot(classes, 7), one_hot(classes.to(kGpu), 7), 0, 0);
  require_close(one_hot(classes.to(kInt32)), one_hot(classes.to(kInt32).to(kGpu)), 0, 0);
}

TEST_CASE("cuda embedding: forward, padding_idx and the weight gradient", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    const Tensor w = random_cpu({11, 6}, dtype);
    const Tensor ids = indices(11, {4, 5});
    require_close(embedding(w, ids), embedding(w.to(kGpu), ids.to(kGpu)), 0, 0);
    require_close(embedding(w.t().contiguous().t(), ids), embedding(w.to(kGpu).t().contiguous().t(), ids.to(kGpu)), 0,
                  0);
    const double tol = dtype == kFloat32 ? 1e-5 : 1e-12;
    require_same_grads([&](const std::vector<Tensor>& t) { return embedding(t[0], t[1], 3); }, {w, ids},
                       {true, false}, tol, tol);
    require_same_grads([&](const std::vector<Tensor>& t) { return gather(t[0], 1, t[1]); },
                       {random_cpu({4, 9}, dtype), indices(9, {4, 12})}, {true, false}, tol, tol);
    require_same_grads([&](const std::vector<Tensor>& t) { return index_select(t[0], 0, t[1]); },
                       {random_cpu({7, 3}, dtype), indices(7, {10})}, {true, false}, tol, tol);
    require_same_grads([&](const std::vector<Tensor>& t) { return masked_select(t[0], t[1]); },
                       {random_cpu({7, 3}, dtype), random_cpu({7, 3}, kFloat64) > 0.0}, {true, false}, tol, tol);
  }
}

TEST_CASE("cuda index errors: out-of-range indices raise IndexError naming the value, nothing written", "[cuda]") {
  const Tensor x = random_cpu({3, 4}, kFloat32).to(kGpu);
  try {
    gather(x, 1, tensor(std::vector<std::int64_t>{0, 5, 1}, {1, 3}).to(kGpu));
    FAIL("no throw");
  } catch (const IndexError& e) {
    REQUIRE(std::string(e.what()).find("[gather]") == 0);
    REQUIRE(std::string(e.what()).find("index 5") != std::string::npos);
  }
  Tensor y = x.clone();
  const Tensor before = y.to(Device::cpu());
  REQUIRE_THROWS_AS(scatter_add_(y, 1, tensor(std::vector<std::int64_t>{0, -1}, {1, 2}).to(kGpu),
                                 random_cpu({1, 2}, kFloat32).to(kGpu)),
                    IndexError);
  require_close(before, y, 0, 0);
  try {
    index_select(x, 0, tensor(std::vector<std::int64_t>{1, -4}).to(kGpu));
    FAIL("no throw");
  } catch (const IndexError& e) {
    REQUIRE(std::string(e.what()).find("index -4") != std::string::npos);
  }
  try {
    embedding(x, tensor(std::vector<std::int64_t>{1, 3}).to(kGpu));
    FAIL("no throw");
  } catch (const IndexError& e) {
    REQUIRE(std::string(e.what()).find("index 3 is out of range for 3 embeddings") != std::string::npos);
  }
  REQUIRE_THROWS_AS(one_hot(tensor(std::vector<std::int64_t>{0, 4}).to(kGpu), 4), IndexError);
  // The device is usable after an error (no sticky CUDA state).
  const Tensor ok = indices(4, {3, 2});
  require_close(gather(x.to(Device::cpu()), 1, ok), gather(x, 1, ok.to(kGpu)), 0, 0);
}
