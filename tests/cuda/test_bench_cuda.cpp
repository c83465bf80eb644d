// tapeflow::bench on a GPU: samples are timed with CUDA events on the stream the work runs on.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

TEST_CASE("CUDA event timing covers the time between the sample's start and stop", "[cuda][bench]") {
  // With an idle stream the begin event completes at once and the end event when recorded, so a
  // host-side sleep inside the sample is part of what the events measure.
  const bench::Result r = bench::run("sleep on cuda:0", [] { std::this_thread::sleep_for(std::chrono::milliseconds(2)); },
                                     {.warmup = 0, .repeats = 3, .iterations = 2, .device = Device::cuda(0)});
  CHECK(r.min >= 1.9e-3);  // events have ~0.5 us resolution
  CHECK(r.max < 1.0);
}
