// Memory-bound elementwise ops on 16M floats (64 MiB per tensor), in GB/s, beside LibTorch,
// PyTorch and TensorFlow, and against the machine's own limit: a STREAM-style copy (memcpy split
// over the same number of threads). Bytes counted per call: binary ops 3 x 64 MiB, unary 2 x,
// sum 1 x (what must cross the memory bus, as STREAM counts it).
// Run: build/benchmarks/bench_elementwise [--threads 1,2] [--quick] [--peers ...]
#include <emmintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "common/elementwise_cases.hpp"
#include "common/suite.hpp"
#include "tapeflow/tapeflow.hpp"

namespace tf = tapeflow;
using namespace benchmarks;

namespace {

constexpr std::int64_t kN = 16 << 20;
constexpr double kFloatBytes = static_cast<double>(kN) * sizeof(float);

const std::vector<Case> kCases = elementwise_cases(kN);

// STREAM's Copy kernel, c[i] = a[i]: GCC must not turn the loop into a memcpy call (glibc's
// large-copy path streams differently from what an elementwise op does).
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void stream_copy(float* __restrict dst,
                                                                                const float* __restrict src,
                                                                                std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
}

// STREAM Copy with non-temporal stores (what a STREAM build with streaming stores measures):
// the destination is not read before it is written. dst is 64-byte aligned and n a multiple of 4.
void stream_copy_nt(float* dst, const float* src, std::size_t n) {
  for (std::size_t i = 0; i < n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
  _mm_sfence();
}

enum class CopyKind { Memcpy, Stream, StreamNonTemporal };

// kN floats, on 4 KiB pages or (asked with madvise) 2 MiB transparent huge pages, as tapeflow's
// allocator gives blocks of 2 MiB and more: the machine's limit is taken on both.
class CopyBuffer {
 public:
  explicit CopyBuffer(bool huge_pages) : data_(static_cast<float*>(std::aligned_alloc(kHugePage, kFloatBytesInt))) {
    if (!data_) throw std::bad_alloc();
    if (huge_pages) madvise(data_, kFloatBytesInt, MADV_HUGEPAGE);
    else madvise(data_, kFloatBytesInt, MADV_NOHUGEPAGE);
    std::fill(data_, data_ + kN, 1.0f);
  }
  CopyBuffer(const CopyBuffer&) = delete;
  CopyBuffer& operator=(const CopyBuffer&) = delete;
  ~CopyBuffer() { std::free(data_); }
  float* data() const { return data_; }

 private:
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  static constexpr std::size_t kFloatBytesInt = static_cast<std::size_t>(kN) * sizeof(float);
  float* data_;
};

// The machine's limit: the fastest of memcpy, STREAM Copy and STREAM Copy with non-temporal
// stores on 64 MiB, on either page size, split over `threads` threads, counted as read + write.
double copy_bandwidth(const Args& args, int threads) {
  double best = 0;
  for (bool huge_pages : {false, true}) {
    const CopyBuffer src(huge_pages), dst(huge_pages);
    for (CopyKind kind : {CopyKind::Memcpy, CopyKind::Stream, CopyKind::StreamNonTemporal}) {
      const auto copy = [&] {
        std::vector<std::thread> team;
        const std::size_t parts = static_cast<std::size_t>(threads), chunk = static_cast<std::size_t>(kN) / parts;
        const auto part = [&](std::size_t t) {
          const std::size_t begin = t * chunk, end = t + 1 == parts ? static_cast<std::size_t>(kN) : begin + chunk;
          if (kind == CopyKind::Memcpy) std::memcpy(dst.data() + begin, src.data() + begin, (end - begin) * sizeof(float));
          else if (kind == CopyKind::Stream) stream_copy(dst.data() + begin, src.data() + begin, end - begin);
          else stream_copy_nt(dst.data() + begin, src.data() + begin, end - begin);
        };
        for (std::size_t t = 1; t < parts; ++t) team.emplace_back(part, t);
        part(0);
        for (auto& th : team) th.join();
      };
      best = std::max(best, tf::bench::run("copy", copy, args.options(2 * kFloatBytes)).gb_per_second());
    }
  }
  return best;
}

PeerRun run_tapeflow(const Args& args) {
  Recorder r("tapeflow", args);
  tf::Tensor a = tf::rand({kN}) * 2 - 1, b = tf::rand({kN}) * 2 - 1, ones = tf::ones({kN}), c = tf::empty({kN});
  r.time("add", [&] { c = a + b; });
  r.time("mul", [&] { c = a * b; });
  r.time("relu", [&] { c = tf::relu(a); });
  r.time("exp", [&] { c = tf::exp(a); });
  r.time("exp_out", [&] { tf::exp_out(c, a); });
  r.time("sum", [&] { tf::bench::do_not_optimize(a.sum()); });
  r.time("add_inplace", [&] { a.add_(b); });
  r.time("mul_inplace", [&] { a.mul_(ones); });
  r.time("relu_inplace", [&] { a.relu_(); });
  return r.take();
}

#ifdef TAPEFLOW_BENCH_LIBTORCH
PeerRun run_libtorch(const Args& args) {
  Recorder r("LibTorch", args);
  torch::Tensor a = torch::rand({kN}) * 2 - 1, b = torch::rand({kN}) * 2 - 1, ones = torch::ones({kN}),
                c = torch::empty({kN});
  r.time("add", [&] { c = a + b; });
  r.time("mul", [&] { c = a * b; });
  r.time("relu", [&] { c = torch::relu(a); });
  r.time("exp", [&] { c = torch::exp(a); });
  r.time("exp_out", [&] { torch::exp_out(c, a); });
  r.time("sum", [&] { tf::bench::do_not_optimize(a.sum()); });
  r.time("add_inplace", [&] { a.add_(b); });
  r.time("mul_inplace", [&] { a.mul_(ones); });
  r.time("relu_inplace", [&] { a.relu_(); });
  return finish_libtorch(r);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv, "elementwise bandwidth on 16M floats");
  std::printf("tapeflow elementwise bandwidth, 16M float32; medians of %d samples. ratio > 1: tapeflow faster.\n",
              args.options().repeats);
  for (int threads : args.threads) {
    set_threads(threads);
    // The copy is measured before and after the libraries and the higher figure kept: this box's
    // bandwidth drifts (2 threads: 55-150 GB/s over minutes), and one window could flatter either side.
    const double copy_before = copy_bandwidth(args, threads);
    const auto columns = measure_columns(args, "elementwise", threads, run_tapeflow, LIBTORCH_RUNNER(run_libtorch));
    const double copy_after = copy_bandwidth(args, threads), copy = std::max(copy_before, copy_after);
    std::printf("\nmachine limit: copy (best of memcpy, STREAM Copy and STREAM Copy with streaming stores, on 4 KiB "
                "and on 2 MiB pages, %d thread(s)) %.3g GB/s (%.3g before the libraries, %.3g after)\n", threads, copy,
                copy_before, copy_after);
    print_suite("elementwise, " + std::to_string(threads) + " thread(s)", Measure::Rate, "GB/s", kCases, columns,
                [copy](const Case&, const Cell& ours) {
                  return ours.has_value() ? std::to_string(static_cast<int>(100 * ours.value / copy + 0.5)) + "% of copy" : "";
                });
  }
  return 0;
}
