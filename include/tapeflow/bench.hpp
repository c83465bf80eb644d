#pragma once
// tapeflow::bench: time a callable the way a microbenchmark should be timed.
//
//   auto r = tapeflow::bench::run("add 16M", [&] { c = a + b; },
//                                 {.bytes = 3.0 * 4 * n});   // optional: GB/s
//   std::cout << r << "\n";   // add 16M  1.71 ms  [1.69 .. 1.80]  spread 6.4%  39.2 GB/s
//
// What it does: `warmup` untimed calls (caches, allocator pools, thread start-up); the number
// of calls per sample is calibrated so one sample lasts at least `min_sample_seconds` (so the
// clock's resolution and the call of the clock itself do not matter); then `repeats` samples.
// Statistics are per call, over the samples; quote the median, which ignores the odd sample an
// interrupt or another process spoiled. For a CUDA device each sample is bracketed by events on
// the device's stream and the device is synchronised, so asynchronous kernel launches are
// counted in full and work queued before the sample is not.
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "tapeflow/device.hpp"

namespace tapeflow::bench {

struct Options {
  int warmup = 1;                    // untimed calls before calibrating and measuring
  int repeats = 15;                  // timed samples; statistics are over these
  std::int64_t iterations = 0;       // calls per sample; 0: calibrate to min_sample_seconds
  double min_sample_seconds = 0.01;  // calibration target for the length of one sample
  double bytes = 0;                  // bytes moved by one call, for GB/s (0: not reported)
  double flops = 0;                  // floating-point operations of one call, for GFLOP/s
  Device device = Device::cpu();     // where the callable's work runs
};

struct Result {
  std::string name{};
  std::int64_t iterations = 0;  // calls per sample
  int repeats = 0;              // samples
  // Seconds per call.
  double median = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  double stddev = 0;
  double bytes = 0;  // per call, as given in Options
  double flops = 0;

  double spread() const;            // (max - min) / median: how much the samples disagreed
  double gb_per_second() const;     // bytes / median / 1e9; 0 when bytes were not given
  double gflop_per_second() const;  // flops / median / 1e9; 0 when flops were not given
  std::string str() const;          // the one-line form operator<< prints
};
std::ostream& operator<<(std::ostream& os, const Result& r);

// Formats seconds with a unit that keeps 3 significant digits readable: "115 ns", "2.82 us".
std::string format_seconds(double seconds);

// Keeps the compiler from deleting a computation whose result is otherwise unused.
template <typename T>
inline void do_not_optimize(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

// Times one sample: the wall clock on the CPU; events on the current stream for a CUDA device
// (synchronised before start, so earlier work is not counted, and at stop).
class SampleClock {
 public:
  explicit SampleClock(Device device);
  ~SampleClock();
  SampleClock(const SampleClock&) = delete;
  SampleClock& operator=(const SampleClock&) = delete;
  void start();
  double stop();  // seconds since start()

 private:
  Device device_;
  std::chrono::steady_clock::time_point begin_{};
  void* events_ = nullptr;  // the CUDA backend's event pair; opaque so this header needs no CUDA
};

namespace detail {
void validate(const Options& options);  // throws ValueError naming the bad field
// Calls per sample for a callable whose one call took `seconds` (at least 1).
std::int64_t calibrated_iterations(double seconds, const Options& options);
Result summarize(std::string name, std::vector<double> seconds_per_call, std::int64_t iterations,
                 const Options& options);
}  // namespace detail

// Times fn() and returns the statistics; fn's return value, if any, is ignored.
template <typename Fn>
Result run(std::string name, Fn&& fn, const Options& options = {}) {
  detail::validate(options);
  SampleClock clock(options.device);
  for (int i = 0; i < options.warmup; ++i) fn();
  std::int64_t iterations = options.iterations;
  if (iterations == 0) {
    // One call gives a first guess; a second, longer probe corrects it for calls too short to
    // time alone (where the clock's own cost dominates a single call).
    clock.start();
    fn();
    iterations = detail::calibrated_iterations(clock.stop(), options);
    if (iterations > 1) {
      clock.start();
      for (std::int64_t i = 0; i < iterations; ++i) fn();
      iterations = detail::calibrated_iterations(clock.stop() / static_cast<double>(iterations), options);
    }
  }
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(options.repeats));
  for (int r = 0; r < options.repeats; ++r) {
    clock.start();
    for (std::int64_t i = 0; i < iterations; ++i) fn();
    samples.push_back(clock.stop() / static_cast<double>(iterations));
  }
  return detail::summarize(std::move(name), std::move(samples), iterations, options);
}

}  // namespace tapeflow::bench
