// matmul on cuda:0 (cuBLAS for float32/float64, the integer kernel for int32/int64) against the
// CPU backend: sizes 1..300 including odd ones, transposed views read in place, batched and
// broadcast batches, addmm's alpha/beta, mm_out into a transposed output, and the gradients.
// Tolerances: float64 1e-10 relative; float32 1e-4 relative + 1e-4 * sqrt(k) absolute (cuBLAS
// and OpenBLAS sum in different orders; TF32 is off, so the error is float32 rounding only);
// integers exact (wrap-around on both backends).
#include <cmath>
#include <limits>
#include <vector>

#include "cuda/cuda_grad_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::random_cpu;
using cuda_test::require_close;

namespace {

double atol_for(DType dtype, std::int64_t k) {
  return dtype == kFloat64 ? 1e-10 : 1e-4 * std::sqrt(static_cast<double>(k) + 1);
}
double rtol_for(DType dtype) { return dtype == kFloat64 ? 1e-10 : 1e-4; }

struct Dims {
  std::int64_t m, n, k;
};
const std::vector<Dims> kSizes = {{1, 1, 1},   {1, 7, 3},     {17, 1, 5},    {2, 3, 1},    {33, 65, 31},
                                  {64, 64, 64}, {128, 96, 200}, {300, 257, 129}, {299, 1, 300}, {5, 300, 2}};

}  // namespace

TEST_CASE("cuda matmul: float sizes 1..300 and every storage order of the operands", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64})
    for (const Dims& d : kSizes) {
      const Tensor a = random_cpu({d.m, d.k}, dtype), b = random_cpu({d.k, d.n}, dtype);
      const Tensor at = random_cpu({d.k, d.m}, dtype), bt = random_cpu({d.n, d.k}, dtype);
      const Tensor ga = a.to(kGpu), gb = b.to(kGpu), gat = at.to(kGpu), gbt = bt.to(kGpu);
      const double rt = rtol_for(dtype), tol = atol_for(dtype, d.k);
      INFO(dtype << " m " << d.m << " n " << d.n << " k " << d.k);
      require_close(matmul(a, b), matmul(ga, gb), rt, tol);
      require_close(matmul(at.t(), b), matmul(gat.t(), gb), rt, tol);        // A column-major
      require_close(matmul(a, bt.t()), matmul(ga, gbt.t()), rt, tol);        // B column-major
      require_close(matmul(at.t(), bt.t()), matmul(gat.t(), gbt.t()), rt, tol);
      // A stepped slice has no BLAS layout: the op layer copies it (same on both backends).
      const Tensor wide = random_cpu({d.m, 2 * d.k}, dtype);
      require_close(matmul(wide.slice(1, 0, 2 * d.k, 2), b), matmul(wide.to(kGpu).slice(1, 0, 2 * d.k, 2), gb), rt,
                    tol);
    }
}

TEST_CASE("cuda matmul: vectors, batches, broadcast batches and transposed batches", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    const double rt = rtol_for(dtype), tol = atol_for(dtype, 40);
    INFO(dtype);
    const Tensor v = random_cpu({40}, dtype), w = random_cpu({40}, dtype), m = random_cpu({40, 9}, dtype);
    require_close(matmul(v, m), matmul(v.to(kGpu), m.to(kGpu)), rt, tol);          // vector @ matrix
    require_close(matmul(m.t(), v), matmul(m.to(kGpu).t(), v.to(kGpu)), rt, tol);  // matrix @ vector
    require_close(matmul(v, w), matmul(v.to(kGpu), w.to(kGpu)), rt, tol);          // dot
    const Tensor a = random_cpu({6, 13, 40}, dtype), b = random_cpu({6, 40, 11}, dtype);
    require_close(bmm(a, b), bmm(a.to(kGpu), b.to(kGpu)), rt, tol);
    require_close(matmul(a, m), matmul(a.to(kGpu), m.to(kGpu)), rt, tol);  // (B, m, k) @ (k, n)
    require_close(matmul(m.t(), b), matmul(m.to(kGpu).t(), b.to(kGpu)), rt, tol);  // (n, k) @ (B, k, m)
    // Broadcast batch dims: (3, 1, m, k) @ (4, k, n) -> (3, 4, m, n), stride 0 on each side.
    const Tensor p = random_cpu({3, 1, 7, 40}, dtype), q = random_cpu({4, 40, 5}, dtype);
    require_close(matmul(p, q), matmul(p.to(kGpu), q.to(kGpu)), rt, tol);
    // Transposed batch matrices (mT of a batch), and a permuted batch dim.
    const Tensor bt = random_cpu({6, 11, 40}, dtype);
    require_close(matmul(a, bt.transpose(-2, -1)), matmul(a.to(kGpu), bt.to(kGpu).transpose(-2, -1)), rt, tol);
    const Tensor perm = random_cpu({13, 6, 40}, dtype);
    require_close(matmul(perm.permute({1, 0, 2}), b), matmul(perm.to(kGpu).permute({1, 0, 2}), b.to(kGpu)), rt, tol);
    // Empty inner dimension (the tiled kernel, not cuBLAS): zeros, or beta * C for addmm (even with
    // an infinite alpha); a NaN in C is dropped when beta == 0, as BLAS.
    const Tensor e1 = random_cpu({4, 0}, dtype), e2 = random_cpu({0, 3}, dtype);
    require_close(matmul(e1, e2), matmul(e1.to(kGpu), e2.to(kGpu)));
    const Tensor c = random_cpu({4, 3}, dtype), nan_c = full({4, 3}, std::nan(""), TensorOptions(dtype));
    require_close(addmm(c, e1, e2, 0.5), addmm(c.to(kGpu), e1.to(kGpu), e2.to(kGpu), 0.5));
    const double inf = std::numeric_limits<double>::infinity();
    require_close(addmm(c, e1, e2, 0.5, inf), addmm(c.to(kGpu), e1.to(kGpu), e2.to(kGpu), 0.5, inf));
    require_close(addmm(nan_c, e1, e2, 0.0), addmm(nan_c.to(kGpu), e1.to(kGpu), e2.to(kGpu), 0.0));
  }
}

TEST_CASE("cuda matmul: addmm alpha/beta and mm_out into a transposed output", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    const double rt = rtol_for(dtype), tol = atol_for(dtype, 31);
    const Tensor bias = random_cpu({17, 23}, dtype), a = random_cpu({17, 31}, dtype), b = random_cpu({31, 23}, dtype);
    require_close(addmm(bias, a, b, 0.5, -2.0), addmm(bias.to(kGpu), a.to(kGpu), b.to(kGpu), 0.5, -2.0), rt, tol);
    require_close(addmm(bias, a, b, 0.0, 1.5), addmm(bias.to(kGpu), a.to(kGpu), b.to(kGpu), 0.0, 1.5), rt, tol);
    Tensor out_c = random_cpu({23, 17}, dtype).t(), out_g = out_c.to(kGpu);
    out_g = out_g.t().contiguous().t();  // the same column-major layout on the GPU
    mm_out(out_c, a, b);
    mm_out(out_g, a.to(kGpu), b.to(kGpu));
    require_close(out_c, out_g, rt, tol);
  }
}

TEST_CASE("cuda matmul: integers wrap around exactly like the CPU", "[cuda]") {
  for (DType dtype : {kInt32, kInt64}) {
    const Tensor a = randint(-1000000, 1000000, {37, 53}, TensorOptions(dtype));
    const Tensor b = randint(-1000000, 1000000, {53, 29}, TensorOptions(dtype));
    INFO(dtype);
    require_close(matmul(a, b), matmul(a.to(kGpu), b.to(kGpu)), 0, 0);
    require_close(matmul(a.t().contiguous().t(), b.t().contiguous().t()),
                  matmul(a.to(kGpu).t().contiguous().t(), b.to(kGpu).t().contiguous().t()), 0, 0);
    const Tensor p = randint(-50, 50, {3, 1, 5, 20}, TensorOptions(dtype)), q = randint(-50, 50, {2, 20, 4}, TensorOptions(dtype));
    require_close(matmul(p, q), matmul(p.to(kGpu), q.to(kGpu)), 0, 0);
  }
}

TEST_CASE("cuda matmul: gradients of mm, bmm and a transposed operand", "[cuda]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    const double rt = rtol_for(dtype), tol = atol_for(dtype, 64);
    cuda_test::require_same_grads([](const std::vector<Tensor>& t) { return matmul(t[0], t[1]); },
                                  {random_cpu({19, 33}, dtype), random_cpu({33, 27}, dtype)}, {true, true}, rt, tol);
    cuda_test::require_same_grads([](const std::vector<Tensor>& t) { return matmul(t[0], t[1].t()); },
                                  {random_cpu({19, 33}, dtype), random_cpu({27, 33}, dtype)}, {true, true}, rt, tol);
    cuda_test::require_same_grads([](const std::vector<Tensor>& t) { return bmm(t[0], t[1]); },
                                  {random_cpu({4, 9, 16}, dtype), random_cpu({4, 16, 5}, dtype)}, {true, true}, rt,
                                  tol);
  }
}
