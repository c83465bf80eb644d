// libFuzzer target for tapeflow::load_npy (see fuzz/run_fuzz.sh).
#include <map>
#include <string>

#include "fuzz_util.hpp"
#include "tapeflow/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tapeflow_fuzz::load_bytes(data, size, ".npy", [](const std::string& path) {
    return tapeflow::load_npy(path);
  });
}
