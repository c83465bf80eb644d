#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), as in
// Random123. Pure functions on 32-bit words with no library dependencies, so that CUDA device
// code can include this header and draw exactly the same streams as the CPU.
//
// Stream layout shared by every backend: a generator with seed s uses key {lo32(s), hi32(s)};
// counter number c (a 64-bit index handed out by Generator::reserve) is the block
// {lo32(c), hi32(c), 0, 0}, and yields four 32-bit words.
#include <cstdint>

#include "kernels/host_device.hpp"  // every function here is constexpr, hence inline

namespace tapeflow::detail::philox {

struct Block {
  std::uint32_t w[4];
};
struct Key {
  std::uint32_t k[2];
};

inline constexpr std::uint32_t kMul0 = 0xD2511F53u;
inline constexpr std::uint32_t kMul1 = 0xCD9E8D57u;
inline constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;  // golden ratio
inline constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;  // sqrt(3) - 1

TAPEFLOW_HD constexpr Block one_round(Block c, Key k) {
  const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c.w[0];
  const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c.w[2];
  const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
  const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
  return Block{{hi1 ^ c.w[1] ^ k.k[0], lo1, hi0 ^ c.w[3] ^ k.k[1], lo0}};
}

// The ten-round bijection of the counter under the key.
TAPEFLOW_HD constexpr Block philox4x32_10(Block c, Key k) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) k = Key{{k.k[0] + kWeyl0, k.k[1] + kWeyl1}};
    c = one_round(c, k);
  }
  return c;
}

TAPEFLOW_HD constexpr Key key_from_seed(std::uint64_t seed) {
  return Key{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}};
}

// The four words of counter number c under seed.
TAPEFLOW_HD constexpr Block block(std::uint64_t seed, std::uint64_t c) {
  return philox4x32_10(Block{{static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(c >> 32), 0u, 0u}},
                       key_from_seed(seed));
}

// ---- turning words into numbers (shared by all backends) ----

// Uniform float in [0, 1) from the top 24 bits.
TAPEFLOW_HD constexpr float to_float01(std::uint32_t w) { return static_cast<float>(w >> 8) * 0x1.0p-24f; }
// Uniform float in (0, 1]: safe for log().
TAPEFLOW_HD constexpr float to_float01_open0(std::uint32_t w) {
  return static_cast<float>((w >> 8) + 1u) * 0x1.0p-24f;
}
TAPEFLOW_HD constexpr std::uint64_t join64(std::uint32_t lo, std::uint32_t hi) {
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}
// Uniform double in [0, 1) and (0, 1] from the top 53 bits.
TAPEFLOW_HD constexpr double to_double01(std::uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }
TAPEFLOW_HD constexpr double to_double01_open0(std::uint64_t x) {
  return static_cast<double>((x >> 11) + 1u) * 0x1.0p-53;
}
// floor(x * n / 2^64): maps 64 random bits onto [0, n) with bias at most n / 2^64.
TAPEFLOW_HD constexpr std::uint64_t mulhi64(std::uint64_t x, std::uint64_t n) {
  const std::uint64_t xl = x & 0xffffffffu, xh = x >> 32, nl = n & 0xffffffffu, nh = n >> 32;
  const std::uint64_t ll = xl * nl, lh = xl * nh, hl = xh * nl, hh = xh * nh;
  const std::uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

}  // namespace tapeflow::detail::philox
