#pragma once
// Shared by the libFuzzer targets: the loaders take paths, so each input is written to one
// scratch file per process (in $TMPDIR, /dev/shm when it exists) and loaded from there.
// tapeflow::Error is the documented answer to a bad file; anything else escapes and is a finding
// (libFuzzer reports uncaught exceptions as crashes; ASan/UBSan report memory errors).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tapeflow/error.hpp"
#include "tapeflow/state_dict.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow_fuzz {

inline const std::string& scratch_path(const char* suffix) {
  static const std::string path = [suffix] {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = tmp ? tmp : (::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    return dir + "/tapeflow_fuzz_" + std::to_string(::getpid()) + suffix;
  }();
  return path;
}

// Reads every byte of a loaded tensor, so that a tensor pointing outside its storage is caught.
inline std::uint8_t touch(const tapeflow::Tensor& t) {
  const tapeflow::Tensor c = t.contiguous();
  const auto* p = static_cast<const std::uint8_t*>(c.data_ptr());
  std::uint8_t acc = 0;
  for (std::size_t i = 0; i < c.nbytes(); ++i) acc ^= p[i];
  return acc;
}
inline std::uint8_t touch(const tapeflow::StateDict& d) {
  std::uint8_t acc = 0;
  for (const auto& item : d) acc ^= touch(item.value());
  return acc;
}

// Writes the input to the scratch file and runs load(path) on it.
template <typename Load>
int load_bytes(const std::uint8_t* data, std::size_t size, const char* suffix, Load load) {
  const std::string& path = scratch_path(suffix);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  try {
    volatile std::uint8_t sink = touch(load(path));
    (void)sink;
  } catch (const tapeflow::Error&) {
    // a typed error naming the problem: the expected outcome for a bad file
  }
  return 0;
}

}  // namespace tapeflow_fuzz
