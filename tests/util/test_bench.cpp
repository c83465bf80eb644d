// tapeflow::bench: statistics against hand-computed values, the call counts the harness makes,
// calibration, units, and errors for bad options or devices this build/machine cannot time.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

TEST_CASE("summarize: median, min, max, mean and sample stddev per call", "[bench]") {
  const bench::Options o{.bytes = 1e9, .flops = 4e9};
  const bench::Result r = bench::detail::summarize("x", {5, 1, 3, 2, 4}, 10, o);
  CHECK(r.name == "x");
  CHECK(r.iterations == 10);
  CHECK(r.repeats == 5);
  CHECK(r.median == 3);
  CHECK(r.min == 1);
  CHECK(r.max == 5);
  CHECK(r.mean == 3);
  CHECK(r.stddev == Approx(std::sqrt(2.5)).epsilon(1e-15));  // sum of squares 10 over n - 1
  CHECK(r.spread() == Approx(4.0 / 3.0));
  CHECK(r.gb_per_second() == Approx(1e9 / 3 / 1e9));
  CHECK(r.gflop_per_second() == Approx(4e9 / 3 / 1e9));
  // An even number of samples takes the mean of the middle two.
  CHECK(bench::detail::summarize("y", {4, 1, 3, 2}, 1, {}).median == 2.5);
  // Rates are 0 (not reported) when no bytes or flops were given.
  CHECK(bench::detail::summarize("z", {1}, 1, {}).gb_per_second() == 0);
}

TEST_CASE("run calls the callable warmup + repeats x iterations times when iterations are fixed", "[bench]") {
  std::int64_t calls = 0;
  const bench::Result r = bench::run("count", [&] { ++calls; }, {.warmup = 2, .repeats = 3, .iterations = 7});
  CHECK(calls == 2 + 3 * 7);
  CHECK(r.iterations == 7);
  CHECK(r.repeats == 3);
  CHECK(r.min <= r.median);
  CHECK(r.median <= r.max);
}

TEST_CASE("calibration: a sample lasts at least min_sample_seconds", "[bench]") {
  CHECK(bench::detail::calibrated_iterations(1e-3, {.min_sample_seconds = 0.01}) == 10);
  CHECK(bench::detail::calibrated_iterations(2.0, {.min_sample_seconds = 0.01}) == 1);
  CHECK(bench::detail::calibrated_iterations(0.0, {}) == 1'000'000'000);  // below the clock's resolution
  // A callable that busy-waits 200 us: about 25 calls fill a 5 ms sample, and the median per call
  // is at least the wait (the clock cannot run backwards).
  const auto spin = [] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    while (std::chrono::steady_clock::now() < until) {
    }
  };
  const bench::Result r = bench::run("spin", spin, {.repeats = 3, .min_sample_seconds = 0.005});
  CHECK(r.median >= 200e-6);
  CHECK(r.iterations >= 1);
  CHECK(r.iterations <= 25);
  CHECK(static_cast<double>(r.iterations) * r.max >= 0.005 * 0.5);
}

TEST_CASE("a sleeping callable is timed at no less than its sleep", "[bench]") {
  const bench::Result r = bench::run("sleep", [] { std::this_thread::sleep_for(std::chrono::milliseconds(2)); },
                                     {.warmup = 0, .repeats = 3, .iterations = 2});
  CHECK(r.min >= 2e-3);
}

TEST_CASE("units: seconds scaled to ns/us/ms/s with 3 significant digits, rates in the line", "[bench]") {
  CHECK(bench::format_seconds(1.15e-7) == "115 ns");
  CHECK(bench::format_seconds(2.82e-6) == "2.82 us");
  CHECK(bench::format_seconds(0.0123) == "12.3 ms");
  CHECK(bench::format_seconds(1.5) == "1.5 s");
  const bench::Result r = bench::detail::summarize("add", {0.5e-3, 0.5e-3, 0.5e-3}, 1, {.bytes = 3e6});
  std::ostringstream os;
  os << r;
  CHECK(os.str() == "add  500 us  [500 us .. 500 us]  spread 0.0%  6 GB/s");
}

TEST_CASE("do_not_optimize accepts values and tensors", "[bench]") {
  int calls = 0;
  bench::run("keep", [&] {
    ++calls;
    bench::do_not_optimize(calls * 2);
    bench::do_not_optimize(ones({2}));
  }, {.warmup = 0, .repeats = 1, .iterations = 3});
  CHECK(calls == 3);
}

TEST_CASE("bad options and unavailable devices throw typed errors naming the field", "[bench]") {
  const auto noop = [] {};
  CHECK_THROWS_WITH(bench::run("x", noop, {.repeats = 0}), Catch::Contains("[bench::run] repeats must be >= 1, got 0"));
  CHECK_THROWS_AS(bench::run("x", noop, {.warmup = -1}), ValueError);
  CHECK_THROWS_AS(bench::run("x", noop, {.iterations = -5}), ValueError);
  CHECK_THROWS_WITH(bench::run("x", noop, {.min_sample_seconds = 0}), Catch::Contains("min_sample_seconds"));
  CHECK_THROWS_WITH(bench::run("x", noop, {.bytes = -1}), Catch::Contains("bytes must be >= 0"));
  // A GPU index this machine does not have (every machine lacks GPU 99).
  CHECK_THROWS_AS(bench::run("x", noop, {.device = Device::cuda(99)}), DeviceError);
  if (!cuda::is_available()) {
    CHECK_THROWS_WITH(bench::run("x", noop, {.device = Device::cuda(0)}), Catch::Contains("cuda:0"));
  }
}
