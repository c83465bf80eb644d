#pragma once
// Tiny timing harness for the benchmarks: median of repeated timed batches, and a table printer
// that puts tapeflow beside its peer with the ratio (peer / tapeflow: above 1 means tapeflow is faster).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace bench {

// Runs fn `iters` times per batch, `batches` times; returns the median seconds per call.
template <typename F>
double median_seconds(F&& fn, int iters, int batches = 7) {
  fn();  // warm up (allocator caches, page faults, thread start-up)
  std::vector<double> t;
  for (int b = 0; b < batches; ++b) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) fn();
    const auto end = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double>(end - start).count() / iters);
  }
  std::nth_element(t.begin(), t.begin() + static_cast<long>(t.size() / 2), t.end());
  return t[t.size() / 2];
}

inline void header(const char* peer) {
  std::printf("%-44s %14s %14s %8s\n", "benchmark", "tapeflow", peer, "ratio");
}

// unit: "ns", "us", "ms" for times (smaller is better), "GB/s", "GFLOP/s" for rates.
inline void row(const std::string& name, double ours, double peer, const char* unit, bool higher_is_better) {
  char a[32], b[32];
  std::snprintf(a, sizeof a, "%.3g %s", ours, unit);
  if (peer > 0) std::snprintf(b, sizeof b, "%.3g %s", peer, unit);
  else std::snprintf(b, sizeof b, "n/a");
  const double ratio = peer > 0 ? (higher_is_better ? ours / peer : peer / ours) : 0.0;
  if (peer > 0) std::printf("%-44s %14s %14s %7.2fx\n", name.c_str(), a, b, ratio);
  else std::printf("%-44s %14s %14s %8s\n", name.c_str(), a, b, "-");
}

}  // namespace bench
