// The thread pool behind parallel_for (lib/core/parallel.cpp): every index is visited exactly once
// and its writes are visible when parallel_for returns, back to back many times (the caller polls
// for the workers before sleeping, the workers poll for the next job); an exception from any task
// reaches the caller and the pool keeps working; a parallel_for inside a task runs inline;
// set_num_threads takes effect on the next call.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "core/parallel.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

TEST_CASE("parallel_for visits every index once and its writes are visible on return") {
  const int saved = get_num_threads();
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    INFO("threads " << threads);
    std::vector<int> hits(10000, 0);
    for (int round = 1; round <= 2000; ++round) {  // back to back: no sleep between jobs
      const std::int64_t n = 1 + (round * 37) % 10000;
      detail::parallel_for(0, n, 64, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)] += 1;
      });
      // Read right away: a task still running, or a write not yet visible, shows up here.
      std::int64_t sum = 0;
      for (std::int64_t i = 0; i < n; ++i) sum += hits[static_cast<std::size_t>(i)];
      REQUIRE(sum == n * round);
      for (std::int64_t i = n; i < 10000; ++i) hits[static_cast<std::size_t>(i)] += 1;  // keep counts level
    }
  }
  set_num_threads(saved);
}

TEST_CASE("an exception in a task reaches the caller, and the pool keeps working") {
  const int saved = get_num_threads();
  set_num_threads(2);
  for (int round = 0; round < 50; ++round) {
    REQUIRE_THROWS_AS(detail::parallel_for(0, 1000, 10,
                                           [&](std::int64_t b, std::int64_t) {
                                             if (b > 0) throw std::runtime_error("task failed");
                                           }),
                      std::runtime_error);
    std::atomic<std::int64_t> total{0};
    detail::parallel_for(0, 1000, 10, [&](std::int64_t b, std::int64_t e) { total += e - b; });
    REQUIRE(total.load() == 1000);
  }
  set_num_threads(saved);
}

TEST_CASE("a parallel_for inside a task runs inline on that task's thread") {
  const int saved = get_num_threads();
  set_num_threads(2);
  // No Catch2 assertions inside tasks (they may run on a worker thread): counters instead.
  std::atomic<std::int64_t> inner_total{0}, nested_regions{0}, outside_region{0};
  detail::parallel_for(0, 4, 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      if (!detail::in_parallel_region()) ++outside_region;
      detail::parallel_for(0, 100, 1, [&](std::int64_t ib, std::int64_t ie) {
        ++nested_regions;
        inner_total += ie - ib;
      });
    }
  });
  REQUIRE(outside_region.load() == 0);
  REQUIRE(inner_total.load() == 400);
  REQUIRE(nested_regions.load() == 4);  // one inline call per outer index, never split
  REQUIRE_FALSE(detail::in_parallel_region());
  set_num_threads(saved);
}
