#pragma once
// parallel_for over an index range on the library's thread pool. Work below `grain` elements
// per thread, or a call from inside a pool task, runs inline on the calling thread.
#include <algorithm>
#include <cstdint>
#include <functional>

#include "tapeflow/parallel.hpp"

namespace tapeflow::detail {

// Runs fn(begin, end) on up to `tasks` disjoint pieces of [0, tasks) in parallel.
void run_parallel(std::int64_t tasks, const std::function<void(std::int64_t)>& fn);
bool in_parallel_region();

// Splits [begin, end) into contiguous chunks of at least `grain` and calls fn(b, e) on each.
template <typename F>
void parallel_for(std::int64_t begin, std::int64_t end, std::int64_t grain, F&& fn) {
  const std::int64_t n = end - begin;
  if (n <= 0) return;
  const std::int64_t threads = get_num_threads();
  const std::int64_t pieces = std::min<std::int64_t>(threads, (n + grain - 1) / std::max<std::int64_t>(grain, 1));
  if (pieces <= 1 || in_parallel_region()) {
    fn(begin, end);
    return;
  }
  const std::int64_t chunk = (n + pieces - 1) / pieces;
  run_parallel(pieces, [&](std::int64_t i) {
    const std::int64_t b = begin + i * chunk;
    const std::int64_t e = std::min(end, b + chunk);
    if (b < e) fn(b, e);
  });
}

// Grain sizes: below these, splitting costs more than it gains.
inline constexpr std::int64_t kElementwiseGrain = 32768;

}  // namespace tapeflow::detail
