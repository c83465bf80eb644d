// libFuzzer target for tapeflow::load_safetensors (see fuzz/run_fuzz.sh).
#include <map>
#include <string>

#include "fuzz_util.hpp"
#include "tapeflow/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return tapeflow_fuzz::load_bytes(data, size, ".safetensors", [](const std::string& path) {
    std::map<std::string, std::string> metadata;
    return tapeflow::load_safetensors(path, &metadata);
  });
}
