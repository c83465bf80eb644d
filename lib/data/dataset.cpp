#include "tapeflow/data/dataset.hpp"

namespace tapeflow::data {

namespace {
std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
}  // namespace

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  return splitmix64(splitmix64(splitmix64(seed) ^ a) ^ b);
}

void check_index(const char* op, std::int64_t index, std::int64_t size) {
  if (index < 0 || index >= size) fail<IndexError>(op, "index in [0, ", size, "), but got ", index);
}

}  // namespace tapeflow::data
