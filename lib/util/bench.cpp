// tapeflow::bench: statistics, formatting and the per-device sample clock.
#include "tapeflow/bench.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <ostream>

#include "tapeflow/error.hpp"

#ifdef TAPEFLOW_WITH_CUDA
namespace tapeflow::cuda_backend {
void* event_timer_create(int device);
void event_timer_start(void* timer);
double event_timer_stop(void* timer);
void event_timer_destroy(void* timer) noexcept;
}  // namespace tapeflow::cuda_backend
#endif

namespace tapeflow::bench {

namespace {
constexpr std::int64_t kMaxIterations = 1'000'000'000;

std::string format_rate(double value, const char* unit) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3g %s", value, unit);
  return buf;
}
}  // namespace

std::string format_seconds(double seconds) {
  const double a = std::fabs(seconds);
  const char* unit = "s";
  double scaled = seconds;
  if (a < 1e-6) { scaled = seconds * 1e9; unit = "ns"; }
  else if (a < 1e-3) { scaled = seconds * 1e6; unit = "us"; }
  else if (a < 1) { scaled = seconds * 1e3; unit = "ms"; }
  return format_rate(scaled, unit);
}

double Result::spread() const { return median > 0 ? (max - min) / median : 0.0; }
double Result::gb_per_second() const { return bytes > 0 && median > 0 ? bytes / median / 1e9 : 0.0; }
double Result::gflop_per_second() const { return flops > 0 && median > 0 ? flops / median / 1e9 : 0.0; }

std::string Result::str() const {
  std::string s = name + "  " + format_seconds(median) + "  [" + format_seconds(min) + " .. " +
                  format_seconds(max) + "]";
  char buf[48];
  std::snprintf(buf, sizeof buf, "  spread %.1f%%", spread() * 100.0);
  s += buf;
  if (bytes > 0) s += "  " + format_rate(gb_per_second(), "GB/s");
  if (flops > 0) s += "  " + format_rate(gflop_per_second(), "GFLOP/s");
  return s;
}

std::ostream& operator<<(std::ostream& os, const Result& r) { return os << r.str(); }

namespace detail {

void validate(const Options& o) {
  if (o.warmup < 0) fail<ValueError>("bench::run", "warmup must be >= 0, got ", o.warmup);
  if (o.repeats < 1) fail<ValueError>("bench::run", "repeats must be >= 1, got ", o.repeats);
  if (o.iterations < 0) fail<ValueError>("bench::run", "iterations must be >= 0 (0: calibrate), got ", o.iterations);
  if (!(o.min_sample_seconds > 0) || !std::isfinite(o.min_sample_seconds))
    fail<ValueError>("bench::run", "min_sample_seconds must be positive and finite, got ", o.min_sample_seconds);
  if (!(o.bytes >= 0) || !std::isfinite(o.bytes)) fail<ValueError>("bench::run", "bytes must be >= 0, got ", o.bytes);
  if (!(o.flops >= 0) || !std::isfinite(o.flops)) fail<ValueError>("bench::run", "flops must be >= 0, got ", o.flops);
}

std::int64_t calibrated_iterations(double seconds, const Options& o) {
  if (!(seconds > 0)) return kMaxIterations;  // too fast for the clock: as many as allowed
  const double n = std::ceil(o.min_sample_seconds / seconds);
  return static_cast<std::int64_t>(std::clamp(n, 1.0, static_cast<double>(kMaxIterations)));
}

Result summarize(std::string name, std::vector<double> t, std::int64_t iterations, const Options& o) {
  Result r;
  r.name = std::move(name);
  r.iterations = iterations;
  r.repeats = static_cast<int>(t.size());
  r.bytes = o.bytes;
  r.flops = o.flops;
  std::sort(t.begin(), t.end());
  const std::size_t n = t.size();
  r.median = n % 2 == 1 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  r.min = t.front();
  r.max = t.back();
  r.mean = std::accumulate(t.begin(), t.end(), 0.0) / static_cast<double>(n);
  double squares = 0;
  for (double x : t) squares += (x - r.mean) * (x - r.mean);
  r.stddev = n > 1 ? std::sqrt(squares / static_cast<double>(n - 1)) : 0.0;
  return r;
}

}  // namespace detail

SampleClock::SampleClock(Device device) : device_(device) {
  if (!device.is_cuda()) return;
#ifdef TAPEFLOW_WITH_CUDA
  if (device.index() < 0 || device.index() >= cuda::device_count())
    fail<DeviceError>("bench::run", "device ", device, " requested, but this machine has ",
                      cuda::device_count(), " CUDA device(s)");
  events_ = cuda_backend::event_timer_create(device.index());
#else
  fail<DeviceError>("bench::run", "device ", device,
                    " requested, but this build of tapeflow has no CUDA backend (built without nvcc)");
#endif
}

SampleClock::~SampleClock() {
#ifdef TAPEFLOW_WITH_CUDA
  if (events_ != nullptr) cuda_backend::event_timer_destroy(events_);
#endif
}

void SampleClock::start() {
#ifdef TAPEFLOW_WITH_CUDA
  if (events_ != nullptr) return cuda_backend::event_timer_start(events_);
#endif
  begin_ = std::chrono::steady_clock::now();
}

double SampleClock::stop() {
#ifdef TAPEFLOW_WITH_CUDA
  if (events_ != nullptr) return cuda_backend::event_timer_stop(events_);
#endif
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
}

}  // namespace tapeflow::bench
