// The convolution kernels of each instruction-set table this CPU can run (conv_kernels.hpp),
// against float64 loops over their definitions: row counts and lengths that hit every remainder
// block, negative shifts, and the promise that nothing past the last output is written.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cpu/elementwise.hpp"
#include "cpu/isa_tables.hpp"

using namespace tapeflow::cpu;

namespace {

using isa_test::tables;

template <class T>
std::vector<T> random_values(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(u(rng));
  return v;
}

template <class T>
double tolerance() {
  return std::is_same_v<T, float> ? 2e-5 : 1e-12;
}

// Planes of `length` values with `front` readable values before each tap's first read.
struct Layout {
  std::int64_t planes, taps, front, stride;
  std::vector<std::int64_t> shift;
};

Layout make_layout(std::int64_t planes, std::int64_t taps, std::int64_t n, std::mt19937& rng) {
  Layout l{planes, taps, 40, 0, {}};
  std::uniform_int_distribution<std::int64_t> s(-l.front, 30);
  for (std::int64_t t = 0; t < taps; ++t) l.shift.push_back(s(rng));
  l.stride = l.front + n + 30 + 64;  // room for the largest shift and the read past the end
  return l;
}

template <class T>
void check_shifted_sum(const ConvKernels<T>& k, std::mt19937& rng) {
  for (std::int64_t rows : {1, 3, 4, 5, 8, 9, 11, 17})
    for (std::int64_t n : {1, 7, 16, 17, 31, 48, 49, 100}) {
      const std::int64_t planes = 1 + rows % 3, taps = 1 + (n + rows) % 5;
      const Layout l = make_layout(planes, taps, n, rng);
      const std::vector<T> in = random_values<T>(static_cast<std::size_t>(planes * l.stride), rng);
      // w[r][k][tap] at r * w_row + k * w_plane + w_tap[t], taps used in a shuffled order.
      const std::int64_t w_plane = taps + 1, w_row = planes * w_plane + 2;
      std::vector<std::int64_t> w_tap(static_cast<std::size_t>(taps));
      for (std::int64_t t = 0; t < taps; ++t) w_tap[t] = (t * 2 + 1) % taps;
      const std::vector<T> w = random_values<T>(static_cast<std::size_t>(rows * w_row), rng);
      const std::int64_t ldo = n + 5;
      const T sentinel = T(12345);
      std::vector<T> out(static_cast<std::size_t>(rows * ldo), sentinel);
      const ShiftedPlanes<T> x{in.data() + l.front, l.stride, planes, l.shift.data(), taps};
      k.shifted_sum(x, w.data(), w_row, w_plane, w_tap.data(), out.data(), ldo, rows, n);
      INFO("rows " << rows << " n " << n << " planes " << planes << " taps " << taps);
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t p = 0; p < n; ++p) {
          double want = 0;
          for (std::int64_t c = 0; c < planes; ++c)
            for (std::int64_t t = 0; t < taps; ++t)
              want += double(w[r * w_row + c * w_plane + w_tap[t]]) * double(in[l.front + c * l.stride + l.shift[t] + p]);
          REQUIRE(std::fabs(double(out[r * ldo + p]) - want) <= tolerance<T>() * (1 + std::fabs(want)));
        }
        for (std::int64_t p = n; p < ldo; ++p) REQUIRE(out[r * ldo + p] == sentinel);
      }
    }
}

template <class T>
void check_shifted_outer(const ConvKernels<T>& k, std::mt19937& rng) {
  for (std::int64_t pairs_wanted : {1, 4, 5, 9, 10, 13, 19})
    for (std::int64_t col_vectors : {1, 2, 3})
      for (std::int64_t n : {1, 9, 40}) {
        const std::int64_t taps = 1 + pairs_wanted % 4, planes = (pairs_wanted + taps - 1) / taps;
        const std::int64_t images = 1 + (pairs_wanted + n) % 3;
        const std::int64_t cols = col_vectors * kConvLanes<T>, ldg = cols + kConvLanes<T>, ld_acc = cols + 3;
        const Layout l = make_layout(planes, taps, n, rng);
        const std::int64_t in_image = planes * l.stride + 7, g_image = n * ldg + 5;
        const std::vector<T> in = random_values<T>(static_cast<std::size_t>(images * in_image), rng);
        const std::vector<T> g = random_values<T>(static_cast<std::size_t>(images * g_image), rng);
        std::vector<T> acc = random_values<T>(static_cast<std::size_t>(planes * taps * ld_acc), rng);
        const std::vector<T> before = acc;
        const ShiftedPlanes<T> x{in.data() + l.front, l.stride, planes, l.shift.data(), taps};
        k.shifted_outer(x, g.data(), ldg, cols, acc.data(), ld_acc, n, images, in_image, g_image);
        INFO("planes " << planes << " taps " << taps << " cols " << cols << " n " << n << " images " << images);
        for (std::int64_t c = 0; c < planes; ++c)
          for (std::int64_t t = 0; t < taps; ++t)
            for (std::int64_t j = 0; j < ld_acc; ++j) {
              const std::size_t at = static_cast<std::size_t>((c * taps + t) * ld_acc + j);
              if (j >= cols) {  // past the columns: untouched
                REQUIRE(acc[at] == before[at]);
                continue;
              }
              double want = before[at];
              for (std::int64_t i = 0; i < images; ++i)
                for (std::int64_t p = 0; p < n; ++p)
                  want += double(g[i * g_image + p * ldg + j]) *
                          double(in[i * in_image + l.front + c * l.stride + l.shift[t] + p]);
              REQUIRE(std::fabs(double(acc[at]) - want) <= tolerance<T>() * (1 + std::fabs(want)));
            }
      }
}

}  // namespace

TEST_CASE("conv kernels: shifted_sum and shifted_outer on every instruction set, float32 and float64") {
  const auto all = tables();
  REQUIRE(!all.empty());
  std::mt19937 rng(7);
  for (const auto& [isa, table] : all) {
    INFO("instruction set " << isa);
    check_shifted_sum<float>(table->f32.conv, rng);
    check_shifted_sum<double>(table->f64.conv, rng);
    check_shifted_outer<float>(table->f32.conv, rng);
    check_shifted_outer<double>(table->f64.conv, rng);
  }
}
