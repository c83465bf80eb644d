// CPU random kernels over Philox blocks. One engine (philox_for) hands each counter's four words
// to a per-kernel emitter together with the index of the first element they produce; the work
// is split over counters, so chunking never changes which words an element gets.
#include "cpu/random.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "core/parallel.hpp"
#include "core/philox.hpp"

namespace tapeflow::cpu {
namespace {

namespace px = detail::philox;

// Reserves ceil(n / kPer) counters from gen and calls emit(block, first, count) for each, where
// the block's words produce elements [first, first + count), count == kPer except at the end.
template <int kPer, typename Emit>
void philox_for(Generator& gen, std::int64_t n, const Emit& emit) {
  if (n <= 0) return;
  const std::int64_t counters = (n + kPer - 1) / kPer;
  const Generator::Reservation r = gen.reserve(static_cast<std::uint64_t>(counters));
  detail::parallel_for(0, counters, detail::kElementwiseGrain / kPer, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t c = b; c < e; ++c) {
      const px::Block blk = px::block(r.seed, r.offset + static_cast<std::uint64_t>(c));
      const std::int64_t first = c * kPer;
      emit(blk, first, static_cast<int>(std::min<std::int64_t>(kPer, n - first)));
    }
  });
}

// Floats take one word per element, doubles two (53 bits of mantissa).
template <typename T>
constexpr int kWordsPer = sizeof(T) == 4 ? 1 : 2;

template <typename T>
T uniform01(const px::Block& b, int j) {
  if constexpr (kWordsPer<T> == 1) return px::to_float01(b.w[j]);
  else return px::to_double01(px::join64(b.w[2 * j], b.w[2 * j + 1]));
}

// A pair of standard normals (Box-Muller) from two uniforms, u1 in (0, 1].
template <typename T>
void box_muller(T u1, T u2, T& z0, T& z1) {
  const T r = std::sqrt(T(-2) * std::log(u1));
  const T theta = T(2) * std::numbers::pi_v<T> * u2;
  z0 = r * std::cos(theta);
  z1 = r * std::sin(theta);
}

template <typename T>
T to_value(bool v) {
  return v ? T(1) : T(0);
}

// A uniform in [0, 1) with 32-bit resolution, for comparisons against probabilities in double.
inline double word01(std::uint32_t w) { return static_cast<double>(w) * 0x1.0p-32; }

}  // namespace

void uniform(const Tensor& out, double from, double to, Generator& gen) {
  dispatch_floating(out.dtype(), "uniform_", [&]<typename T>() {
    T* o = out.data_ptr<T>();
    const double width = to - from;
    const T hi = static_cast<T>(to);
    // Rounding to T can land on `to`; step back below it so the interval stays half-open.
    const T below = from < to ? std::nextafter(hi, static_cast<T>(from)) : hi;
    constexpr int kPer = 4 / kWordsPer<T>;
    philox_for<kPer>(gen, out.numel(), [&](const px::Block& b, std::int64_t first, int count) {
      for (int j = 0; j < count; ++j) {
        const T v = static_cast<T>(from + width * static_cast<double>(uniform01<T>(b, j)));
        o[first + j] = v < hi ? v : below;
      }
    });
  });
}

void normal(const Tensor& out, double mean, double std, Generator& gen) {
  dispatch_floating(out.dtype(), "normal_", [&]<typename T>() {
    T* o = out.data_ptr<T>();
    const T m = static_cast<T>(mean), s = static_cast<T>(std);
    constexpr int kPer = 4 / kWordsPer<T>;  // float: 2 pairs of words; double: 1 pair of 64-bit values
    philox_for<kPer>(gen, out.numel(), [&](const px::Block& b, std::int64_t first, int count) {
      T z[kPer];
      if constexpr (kWordsPer<T> == 1) {
        box_muller<T>(px::to_float01_open0(b.w[0]), px::to_float01(b.w[1]), z[0], z[1]);
        box_muller<T>(px::to_float01_open0(b.w[2]), px::to_float01(b.w[3]), z[2], z[3]);
      } else {
        box_muller<T>(px::to_double01_open0(px::join64(b.w[0], b.w[1])), px::to_double01(px::join64(b.w[2], b.w[3])),
                      z[0], z[1]);
      }
      for (int j = 0; j < count; ++j) o[first + j] = m + s * z[j];
    });
  });
}

void randint(const Tensor& out, std::int64_t low, std::uint64_t range, Generator& gen) {
  dispatch_numeric(out.dtype(), "randint", [&]<typename T>() {
    T* o = out.data_ptr<T>();
    philox_for<2>(gen, out.numel(), [&](const px::Block& b, std::int64_t first, int count) {
      for (int j = 0; j < count; ++j) {
        const std::uint64_t k = px::mulhi64(px::join64(b.w[2 * j], b.w[2 * j + 1]), range);
        // low + k wraps correctly in uint64 even when the range spans all of int64.
        o[first + j] = static_cast<T>(static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + k));
      }
    });
  });
}

void bernoulli(const Tensor& out, double p, Generator& gen) {
  dispatch(out.dtype(), [&]<typename T>() {
    T* o = out.data_ptr<T>();
    philox_for<4>(gen, out.numel(), [&](const px::Block& b, std::int64_t first, int count) {
      for (int j = 0; j < count; ++j) o[first + j] = to_value<T>(word01(b.w[j]) < p);
    });
  });
}

void bernoulli(const Tensor& out, const Tensor& p, Generator& gen) {
  dispatch_floating(p.dtype(), "bernoulli", [&]<typename P>() {
    const P* pp = p.data_ptr<P>();
    dispatch(out.dtype(), [&]<typename T>() {
      T* o = out.data_ptr<T>();
      philox_for<4>(gen, out.numel(), [&](const px::Block& b, std::int64_t first, int count) {
        for (int j = 0; j < count; ++j)
          o[first + j] = to_value<T>(word01(b.w[j]) < static_cast<double>(pp[first + j]));
      });
    });
  });
}

void randperm(const Tensor& out, Generator& gen) {
  const std::int64_t n = out.numel();
  std::int64_t* o = out.data_ptr<std::int64_t>();
  // Draw the swap positions in parallel, then run Fisher-Yates: step i swaps with j in [0, i].
  std::vector<std::uint64_t> bits(static_cast<std::size_t>(n));
  philox_for<2>(gen, n, [&](const px::Block& b, std::int64_t first, int count) {
    for (int j = 0; j < count; ++j) bits[static_cast<std::size_t>(first + j)] = px::join64(b.w[2 * j], b.w[2 * j + 1]);
  });
  for (std::int64_t i = 0; i < n; ++i) o[i] = i;
  for (std::int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(px::mulhi64(bits[static_cast<std::size_t>(i)], static_cast<std::uint64_t>(i + 1)));
    std::swap(o[i], o[j]);
  }
}

void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, Generator& gen) {
  dispatch_floating(x.dtype(), "dropout", [&]<typename T>() {
    T* o = out.data_ptr<T>();
    const T* xx = x.data_ptr<T>();
    bool* m = mask.defined() ? mask.data_ptr<bool>() : nullptr;
    const T scale = static_cast<T>(1.0 / (1.0 - p));
    philox_for<4>(gen, out.numel(), [&](const px::Block& b, std::int64_t first, int count) {
      for (int j = 0; j < count; ++j) {
        const bool keep = word01(b.w[j]) >= p;
        o[first + j] = keep ? xx[first + j] * scale : T(0);
        if (m) m[first + j] = keep;
      }
    });
  });
}

}  // namespace tapeflow::cpu
