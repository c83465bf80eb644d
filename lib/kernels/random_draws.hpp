#pragma once
// The random draws of every backend, as emitters over Philox blocks (core/philox.hpp): a draw
// of n elements reserves ceil(n / kPer) counters; counter number c (relative to the
// reservation) yields the elements [c * kPer, c * kPer + count) through emit(block, c * kPer,
// count). The CPU (cpu/random.cpp) and CUDA (cuda/random.cu) loops only hand out counters, so
// both write the same values for the same seed and generator offset.
//
// Bit-exact across backends: uniform, randint, bernoulli, dropout (one rounding of the same
// IEEE operations; products and sums are kept apart on the GPU, where nvcc would fuse them).
// normal differs by the last bits of log/sin/cos between the host's libm and CUDA's.
#include <cmath>
#include <cstdint>
#include <numbers>

#include "core/philox.hpp"
#include "kernels/branchless.hpp"
#include "kernels/host_device.hpp"

namespace tapeflow::kernels::draws {

namespace px = detail::philox;

// Floats take one 32-bit word per element, doubles two (53 bits of mantissa).
template <typename T>
inline constexpr int kWordsPer = sizeof(T) == 4 ? 1 : 2;

// a + b * c rounded twice (the CPU's order), never fused into one FMA.
template <typename T>
TAPEFLOW_HD T add_mul(T a, T b, T c) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) return __fadd_rn(a, __fmul_rn(b, c));
  else return __dadd_rn(a, __dmul_rn(b, c));
#else
  return a + b * c;
#endif
}

// Uniform in [0, 1) from word j (float) or words 2j, 2j+1 (double).
template <typename T>
TAPEFLOW_HD constexpr T uniform01(const px::Block& b, int j) {
  if constexpr (kWordsPer<T> == 1) return px::to_float01(b.w[j]);
  else return px::to_double01(px::join64(b.w[2 * j], b.w[2 * j + 1]));
}

// A uniform in [0, 1) with 32-bit resolution, for comparisons against probabilities in double
// (exact: a 32-bit integer times a power of two).
TAPEFLOW_HD constexpr double word01(std::uint32_t w) { return static_cast<double>(w) * 0x1.0p-32; }

// A pair of standard normals (Box-Muller) from two uniforms, u1 in (0, 1].
template <typename T>
TAPEFLOW_HD void box_muller(T u1, T u2, T& z0, T& z1) {
  using std::cos, std::log, std::sin, std::sqrt;  // the device's own overloads in CUDA code
  const T r = sqrt(T(-2) * log(u1));
  const T theta = T(2) * std::numbers::pi_v<T> * u2;
  z0 = r * cos(theta);
  z1 = r * sin(theta);
}

// The standard normals of one block: float gets two pairs (four words), double one pair (two
// 64-bit values).
template <typename T>
TAPEFLOW_HD void block_normals(const px::Block& b, T (&z)[4 / kWordsPer<T>]) {
  if constexpr (kWordsPer<T> == 1) {
    box_muller<T>(px::to_float01_open0(b.w[0]), px::to_float01(b.w[1]), z[0], z[1]);
    box_muller<T>(px::to_float01_open0(b.w[2]), px::to_float01(b.w[3]), z[2], z[3]);
  } else {
    box_muller<T>(px::to_double01_open0(px::join64(b.w[0], b.w[1])), px::to_double01(px::join64(b.w[2], b.w[3])),
                  z[0], z[1]);
  }
}

// low + floor(u * range / 2^64) from 64 bits u; wraps correctly in uint64 even when the range
// spans all of int64.
TAPEFLOW_HD constexpr std::int64_t randint_value(std::uint64_t bits, std::int64_t low, std::uint64_t range) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + px::mulhi64(bits, range));
}

template <typename T>
TAPEFLOW_HD constexpr T bool_value(bool v) {
  return v ? T(1) : T(0);
}

// ---- emitters: one per draw; out (and mask) are contiguous, element i at out[i] ----

// U[from, to): from + (to - from) u in double, rounded to T; a value that rounds up to `to` is
// replaced by `below`, the largest T under it, so the interval stays half-open.
template <typename T>
struct UniformEmit {
  static constexpr int kPer = 4 / kWordsPer<T>;
  T* out;
  double from, width;
  T hi, below;
  TAPEFLOW_HD void operator()(const px::Block& b, std::int64_t first, int count) const {
    for (int j = 0; j < count; ++j) {
      const T v = static_cast<T>(add_mul(from, width, static_cast<double>(uniform01<T>(b, j))));
      out[first + j] = v < hi ? v : below;
    }
  }
};

// Host side: the emitter of U[from, to) into out.
template <typename T>
UniformEmit<T> uniform_emit(T* out, double from, double to) {
  const T hi = static_cast<T>(to);
  const T below = from < to ? std::nextafter(hi, static_cast<T>(from)) : hi;
  return UniformEmit<T>{out, from, to - from, hi, below};
}

template <typename T>
struct NormalEmit {
  static constexpr int kPer = 4 / kWordsPer<T>;
  T* out;
  T mean, stddev;
  TAPEFLOW_HD void operator()(const px::Block& b, std::int64_t first, int count) const {
    T z[kPer];
    block_normals<T>(b, z);
    for (int j = 0; j < count; ++j) out[first + j] = add_mul(mean, stddev, z[j]);
  }
};

template <typename T>
struct RandintEmit {
  static constexpr int kPer = 2;
  T* out;
  std::int64_t low;
  std::uint64_t range;
  TAPEFLOW_HD void operator()(const px::Block& b, std::int64_t first, int count) const {
    for (int j = 0; j < count; ++j)
      out[first + j] = static_cast<T>(randint_value(px::join64(b.w[2 * j], b.w[2 * j + 1]), low, range));
  }
};

// 1 with probability p (scalar), or p[i] when probs is given.
template <typename T, typename P = double>
struct BernoulliEmit {
  static constexpr int kPer = 4;
  T* out;
  double p;
  const P* probs = nullptr;
  TAPEFLOW_HD void operator()(const px::Block& b, std::int64_t first, int count) const {
    for (int j = 0; j < count; ++j) {
      const double pj = probs ? static_cast<double>(probs[first + j]) : p;
      out[first + j] = bool_value<T>(word01(b.w[j]) < pj);
    }
  }
};

// Keeps x[i] with probability 1 - p, scaled by `scale` (1 / (1 - p)); mask (optional) gets keep.
template <typename T>
struct DropoutEmit {
  static constexpr int kPer = 4;
  T* out;
  bool* mask;
  const T* x;
  double p;
  T scale;
  TAPEFLOW_HD void operator()(const px::Block& b, std::int64_t first, int count) const {
    for (int j = 0; j < count; ++j) {
      const bool keep = word01(b.w[j]) >= p;
      // A coin flip per element: a branch mispredicts half the time (dropout at p = 0.5 ran at
      // three times uniform's cost).
      out[first + j] = branchless_select(keep, x[first + j] * scale, T(0));
      if (mask) mask[first + j] = keep;
    }
  }
};

// The 64-bit words behind randperm's Fisher-Yates swaps: bits[i] picks step i's partner.
struct Bits64Emit {
  static constexpr int kPer = 2;
  std::uint64_t* out;
  TAPEFLOW_HD void operator()(const px::Block& b, std::int64_t first, int count) const {
    for (int j = 0; j < count; ++j) out[first + j] = px::join64(b.w[2 * j], b.w[2 * j + 1]);
  }
};

// The partner of Fisher-Yates step i (i >= 1): uniform in [0, i].
TAPEFLOW_HD constexpr std::int64_t swap_partner(std::uint64_t bits, std::int64_t i) {
  return static_cast<std::int64_t>(px::mulhi64(bits, static_cast<std::uint64_t>(i + 1)));
}

// Counters a draw of n elements reserves.
template <class Emit>
constexpr std::int64_t counters_for(std::int64_t n) {
  return n <= 0 ? 0 : (n + Emit::kPer - 1) / Emit::kPer;
}

}  // namespace tapeflow::kernels::draws
