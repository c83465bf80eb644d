// Main for the CUDA test executables: without a visible GPU they exit 77, which meson counts as
// skipped (and prints as SKIP), so a GPU-less CI stays green while the skip stays visible.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "tapeflow/device.hpp"

int main(int argc, char** argv) {
  if (!tapeflow::cuda::is_available()) {
    std::printf("SKIPPED: no CUDA GPU visible (or tapeflow was built without CUDA)\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
