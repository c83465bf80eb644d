// Matrix multiply c = a @ b on square float32 matrices from 64 to 2048, in GFLOP/s (2 n^3 per
// call), beside OpenBLAS's cblas_sgemm called directly (the machine's limit for this library's
// GEMM), LibTorch, PyTorch and TensorFlow. tapeflow allocates its output, as the peers do.
// Run: build/benchmarks/bench_matmul [--threads 1,2] [--quick] [--peers ...]
#include <cblas.h>

#include <string>
#include <vector>

#include "common/suite.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
using namespace benchmarks;

namespace {

const std::vector<std::int64_t> kSizes = {64, 128, 256, 512, 1024, 2048};

std::string id(std::int64_t n) { return "mm_" + std::to_string(n); }

std::vector<Case> cases() {
  std::vector<Case> c;
  for (std::int64_t n : kSizes) {
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    c.push_back({id(n), "mm " + std::to_string(n) + " x " + std::to_string(n), flops});
  }
  c.push_back({"mm_1024_bt", "mm 1024, b a transposed view (no copy)",
               2.0 * 1024 * 1024 * 1024});
  // Into an existing output, as the direct cblas_sgemm call writes: no allocation.
  c.push_back({"mm_64_out", "mm_out 64 (into an existing tensor)", 2.0 * 64 * 64 * 64});
  return c;
}

PeerRun run_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  for (std::int64_t n : kSizes) {
    const tf::Tensor a = tf::rand({n, n}) * 2 - 1, b = tf::rand({n, n}) * 2 - 1;
    r.time(id(n), [&] { tf::bench::do_not_optimize(tf::mm(a, b)); });
    if (n == 1024) r.time("mm_1024_bt", [&] { tf::bench::do_not_optimize(tf::mm(a, b.t())); });
    if (n == 64) {
      tf::Tensor out = tf::empty({n, n});
      r.time("mm_64_out", [&] { tf::mm_out(out, a, b); });
    }
  }
  return r.take();
}

// cblas_sgemm into a preallocated output: what the BLAS this build uses can do.
PeerRun run_openblas(const Args& args, int threads) {
  Recorder r("OpenBLAS", args);
  // Once, outside the timed calls: with 2 threads a call to it costs ~25 us in OpenBLAS 0.3.21.
  openblas_set_num_threads(threads);
  for (std::int64_t n : kSizes) {
    std::vector<float> a(static_cast<std::size_t>(n * n), 0.5f), b(a), c(a);
    const int m = static_cast<int>(n);
    r.time(id(n), [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f, a.data(), m, b.data(), m, 0.0f, c.data(), m);
    });
    if (n == 64)
      r.time("mm_64_out", [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1.0f, a.data(), m, b.data(), m, 0.0f, c.data(), m);
      });
    if (n == 1024)
      r.time("mm_1024_bt", [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, m, 1.0f, a.data(), m, b.data(), m, 0.0f, c.data(), m);
      });
  }
  PeerRun run = r.take();
  run.version = openblas_get_config();
  return run;
}

#ifdef TAPEFLOW_BENCH_LIBTORCH
PeerRun run_libtorch(const Args& args) {
  Recorder r("LibTorch", args);
  for (std::int64_t n : kSizes) {
    const torch::Tensor a = torch::rand({n, n}) * 2 - 1, b = torch::rand({n, n}) * 2 - 1;
    r.time(id(n), [&] { tf::bench::do_not_optimize(torch::mm(a, b)); });
    if (n == 1024) r.time("mm_1024_bt", [&] { tf::bench::do_not_optimize(torch::mm(a, b.t())); });
    if (n == 64) {
      torch::Tensor out = torch::empty({n, n});
      r.time("mm_64_out", [&] { torch::mm_out(out, a, b); });
    }
  }
  return finish_libtorch(r);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv, "matmul GFLOP/s from 64 to 2048");
  std::printf("tapeflow matmul, float32; medians of %d samples. ratio > 1: tapeflow faster.\n", args.options().repeats);
  for (int threads : args.threads) {
    const auto columns = measure_columns(args, "matmul", threads, run_tapeflow, LIBTORCH_RUNNER(run_libtorch),
                                         [&] { return run_openblas(args, threads); });
    print_suite("matmul, " + std::to_string(threads) + " thread(s)", Measure::Rate, "GFLOP/s", cases(), columns);
  }
  return 0;
}
