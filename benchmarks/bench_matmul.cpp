// Matrix multiply c = a @ b on square float32 matrices from 64 to 2048, in GFLOP/s (2 n^3 per
// call), beside OpenBLAS's cblas_sgemm called directly (the machine's limit for this library's
// GEMM), LibTorch, PyTorch and TensorFlow. tapeflow allocates its output, as the peers do.
// Run: build/benchmarks/bench_matmul [--threads 1,2] [--quick] [--peers ...]
#include <cblas.h>

#include <algorithm>
#include <chrono>
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

// 64 x 64 once more, with tapeflow and cblas_sgemm alternating in short rounds on the same
// operands: a 2 us call is within a few percent of the reference, and machine drift between the
// table's separate runs can be as large as that. Prints the median time of each and the median
// of the per-round ratios.
void interleaved_64(const Args& args, int threads) {
  tf::set_num_threads(threads);
  openblas_set_num_threads(threads);
  const int n = 64, reps = 100, rounds = args.quick ? 101 : 801;
  const tf::Tensor a = tf::rand({n, n}) * 2 - 1, b = tf::rand({n, n}) * 2 - 1;
  tf::Tensor out = tf::empty({n, n});
  const float *pa = a.data_ptr<float>(), *pb = b.data_ptr<float>();
  float* pc = out.data_ptr<float>();
  using Clock = std::chrono::steady_clock;
  auto per_call = [&](auto&& f) {
    const auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) f();
    return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / reps;
  };
  std::vector<double> blas, out_t, mm_t, out_ratio, mm_ratio;
  for (int r = 0; r < rounds; ++r) {
    blas.push_back(per_call([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, pa, n, pb, n, 0.0f, pc, n);
    }));
    out_t.push_back(per_call([&] { tf::mm_out(out, a, b); }));
    mm_t.push_back(per_call([&] { tf::bench::do_not_optimize(tf::mm(a, b)); }));
    out_ratio.push_back(blas.back() / out_t.back());
    mm_ratio.push_back(blas.back() / mm_t.back());
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  std::printf("\n64 x 64 interleaved, %d thread(s), %d rounds of %d calls: cblas_sgemm %.0f ns, "
              "mm_out %.0f ns (%.3fx), mm %.0f ns (%.3fx); ratio: median per round, > 1 tapeflow faster\n",
              threads, rounds, reps, median(blas), median(out_t), median(out_ratio), median(mm_t), median(mm_ratio));
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv, "matmul GFLOP/s from 64 to 2048");
  std::printf("tapeflow matmul, float32; medians of %d samples. ratio > 1: tapeflow faster.\n", args.options().repeats);
  for (int threads : args.threads) {
    const auto columns = measure_columns(args, "matmul", threads, run_tapeflow, LIBTORCH_RUNNER(run_libtorch),
                                         [&] { return run_openblas(args, threads); });
    print_suite("matmul, " + std::to_string(threads) + " thread(s)", Measure::Rate, "GFLOP/s", cases(), columns);
  }
  for (int threads : args.threads) interleaved_64(args, threads);
  return 0;
}
