// Op-level figures from issue 2, each beside a peer measured in the same run:
//  - per-op cost of c = a + b on 1-element tensors (vs LibTorch when built with it)
//  - add on 16M floats, fresh output and into an existing tensor, in GB/s (vs LibTorch)
//  - 1024x1024 float32 matmul (vs calling cblas_sgemm directly, and LibTorch)
// at 1 and 2 threads. Ratio = how many times faster tapeflow is (higher is better for us).
// Run: build/benchmarks/bench_ops
#include <cblas.h>

#include <cstdio>
#include <cstring>

#include "bench_util.hpp"
#include "tapeflow/tapeflow.hpp"

#ifdef TAPEFLOW_BENCH_LIBTORCH
#include <torch/torch.h>
#endif

namespace tf = tapeflow;

namespace {

void run(int threads) {
  tf::set_num_threads(threads);
#ifdef TAPEFLOW_BENCH_LIBTORCH
  torch::set_num_threads(threads);
  const char* peer = "LibTorch";
#else
  const char* peer = "cblas/loop";
#endif
  std::printf("\n== %d thread%s ==\n", threads, threads > 1 ? "s" : "");
  bench::header(peer);

  {  // Per-op overhead on 1-element tensors.
    tf::Tensor a = tf::ones({1}), b = tf::ones({1}), c;
    const double ours = bench::median_seconds([&] { c = a + b; }, 200000) * 1e9;
    double theirs = 0;
#ifdef TAPEFLOW_BENCH_LIBTORCH
    torch::Tensor ta = torch::ones({1}), tb = torch::ones({1}), tc;
    theirs = bench::median_seconds([&] { tc = ta + tb; }, 200000) * 1e9;
#endif
    bench::row("add, 1 element (c = a + b)", ours, theirs, "ns", false);
  }
  {  // Memory-bound add on 16M floats: 3 x 64 MiB moved per op.
    const std::int64_t n = 16 << 20;
    const double bytes = 3.0 * static_cast<double>(n) * sizeof(float);
    tf::Tensor a = tf::rand({n}), b = tf::rand({n}), c = tf::empty({n});
    const double fresh = bytes / bench::median_seconds([&] { tf::Tensor r = a + b; }, 5) / 1e9;
    const double out = bytes / bench::median_seconds([&] { tf::add_out(c, a, b); }, 5) / 1e9;
    double tfresh = 0, tout = 0;
#ifdef TAPEFLOW_BENCH_LIBTORCH
    torch::Tensor ta = torch::rand({n}), tb = torch::rand({n}), tc = torch::empty({n});
    tfresh = bytes / bench::median_seconds([&] { torch::Tensor r = ta + tb; }, 5) / 1e9;
    tout = bytes / bench::median_seconds([&] { torch::add_out(tc, ta, tb); }, 5) / 1e9;
#else
    std::vector<float> x(static_cast<std::size_t>(n)), y(x), z(x);
    tout = bytes / bench::median_seconds([&] {
      for (std::int64_t i = 0; i < n; ++i) z[static_cast<std::size_t>(i)] = x[static_cast<std::size_t>(i)] + y[static_cast<std::size_t>(i)];
    }, 5) / 1e9;
#endif
    bench::row("add, 16M floats, fresh output", fresh, tfresh, "GB/s", true);
    bench::row("add_out, 16M floats, existing output", out, tout, "GB/s", true);
  }
  {  // GEMM: against the BLAS call it wraps.
    const std::int64_t n = 1024;
    const double flops = 2.0 * n * n * n;
    tf::Tensor a = tf::rand({n, n}), b = tf::rand({n, n}), c = tf::empty({n, n});
    const double ours = flops / bench::median_seconds([&] { tf::mm_out(c, a, b); }, 3) / 1e9;
    const double ours_t = flops / bench::median_seconds([&] { tf::mm_out(c, a, b.t()); }, 3) / 1e9;
    const int blas_threads = threads;
    const double direct = flops / bench::median_seconds([&] {
      openblas_set_num_threads(blas_threads);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n), static_cast<int>(n),
                  static_cast<int>(n), 1.0f, a.data_ptr<float>(), static_cast<int>(n), b.data_ptr<float>(),
                  static_cast<int>(n), 0.0f, c.data_ptr<float>(), static_cast<int>(n));
    }, 3) / 1e9;
    std::printf("%-44s %14s %14s\n", "", "", "(cblas_sgemm)");
    bench::row("mm_out 1024^3 float32 vs direct cblas_sgemm", ours, direct, "GFLOP/s", true);
    bench::row("mm_out with b transposed (no copy) vs sgemm", ours_t, direct, "GFLOP/s", true);
#ifdef TAPEFLOW_BENCH_LIBTORCH
    torch::Tensor ta = torch::rand({n, n}), tb = torch::rand({n, n}), tc = torch::empty({n, n});
    const double theirs = flops / bench::median_seconds([&] { torch::mm_out(tc, ta, tb); }, 3) / 1e9;
    bench::row("mm_out 1024^3 float32 vs LibTorch", ours, theirs, "GFLOP/s", true);
#endif
  }
}

}  // namespace

int main(int argc, char** argv) {
  int max_threads = 2;
  if (argc > 1) max_threads = std::atoi(argv[1]);
  std::printf("tapeflow op benchmarks (median of 7 batches). ratio > 1: tapeflow faster.\n");
  for (int t = 1; t <= max_threads; t *= 2) run(t);
  return 0;
}
