// The index math of the CUDA reductions (kernels::ReducePlan, host and device code), run on the
// CPU: for random shapes, masks and layouts (contiguous, permuted, stepped slices, broadcast
// strides, size-0 and size-1 dims), the plan's output bases and reduced offsets must address
// exactly the elements a brute-force row-major walk over the view gives, and a float64 sum
// through the plan must equal the brute-force sum.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/reduce_plan.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

// A random view of float64 data: random rank and sizes, then permuted, sliced with a step, or
// with a dim broadcast (stride 0).
Tensor random_view(std::mt19937& rng) {
  std::uniform_int_distribution<int> rank_d(0, 4), size_d(0, 4), coin(0, 3);
  const int rank = rank_d(rng);
  Shape shape;
  for (int d = 0; d < rank; ++d) shape.push_back(coin(rng) == 0 ? size_d(rng) : 1 + size_d(rng));
  Tensor x = randn(shape, kFloat64);
  if (rank == 0) return x;
  std::uniform_int_distribution<int> dim_d(0, rank - 1);
  if (coin(rng) == 0) {  // permute
    std::vector<std::int64_t> perm(static_cast<std::size_t>(rank));
    for (int d = 0; d < rank; ++d) perm[static_cast<std::size_t>(d)] = d;
    std::shuffle(perm.begin(), perm.end(), rng);
    x = x.permute(perm);
  }
  if (coin(rng) == 0) {  // stepped slice
    const int d = dim_d(rng);
    x = x.slice(d, 0, std::nullopt, 2);
  }
  if (coin(rng) == 0) {  // broadcast one dim: size 1 expanded to 3 (stride 0)
    const int d = dim_d(rng);
    if (x.size(d) > 0) {
      Shape to = x.shape();
      to[static_cast<std::size_t>(d)] = 3;
      x = x.slice(d, 0, 1).expand(to);
    }
  }
  return x;
}

kernels::ReduceMask random_mask(std::mt19937& rng, std::int64_t rank) {
  std::uniform_int_distribution<int> coin(0, 1);
  kernels::ReduceMask m(static_cast<std::size_t>(rank));
  for (auto&& b : m) b = coin(rng) == 1;
  return m;
}

// Element offsets (in elements) of the view: per output (kept dims row-major), the offsets of its
// reduced positions (reduced dims row-major in logical order).
std::vector<std::vector<std::int64_t>> brute_offsets(const Tensor& x, const kernels::ReduceMask& mask) {
  std::vector<std::size_t> kept, red;
  for (std::size_t d = 0; d < mask.size(); ++d) (mask[d] ? red : kept).push_back(d);
  auto walk = [&](const std::vector<std::size_t>& dims) {
    std::vector<std::int64_t> offs{0};
    for (std::size_t d : dims) {
      std::vector<std::int64_t> next;
      for (std::int64_t o : offs)
        for (std::int64_t i = 0; i < x.shape()[d]; ++i) next.push_back(o + i * x.strides()[d]);
      offs = next;
    }
    return offs;
  };
  const std::vector<std::int64_t> bases = walk(kept), within = walk(red);
  std::vector<std::vector<std::int64_t>> out;
  for (std::int64_t b : bases) {
    std::vector<std::int64_t> row;
    for (std::int64_t w : within) row.push_back(b + w);
    out.push_back(row);
  }
  return out;
}

}  // namespace

TEST_CASE("reduce plan addresses the elements a brute-force walk gives", "[kernels][reduce]") {
  manual_seed(7);
  std::mt19937 rng(11);
  int checked_empty = 0, checked_broadcast = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const Tensor x = random_view(rng);
    const kernels::ReduceMask mask = random_mask(rng, x.dim());
    const bool keep_order = trial % 2 == 0;
    INFO("shape " << x.shape() << " strides " << x.strides() << " keep_order " << keep_order);
    const auto es = static_cast<std::int64_t>(sizeof(double));
    const kernels::ReducePlan plan = kernels::make_reduce_plan("test", x.shape(), x.strides(), es, mask, keep_order);
    const auto expected = brute_offsets(x, mask);
    std::int64_t kept_count = 1, red_count = 1;
    for (std::size_t d = 0; d < mask.size(); ++d) (mask[d] ? red_count : kept_count) *= x.shape()[d];
    REQUIRE(plan.outputs == kept_count);
    REQUIRE(plan.reduced == red_count);
    REQUIRE(static_cast<std::int64_t>(expected.size()) == kept_count);
    if (kept_count == 0 || red_count == 0) ++checked_empty;
    for (std::int64_t s : x.strides()) checked_broadcast += s == 0;
    const double* data = x.data_ptr<double>();
    for (std::int64_t o = 0; o < plan.outputs; ++o) {
      const auto& want = expected[static_cast<std::size_t>(o)];
      std::vector<std::int64_t> got;
      double sum = 0, brute_sum = 0;
      for (std::int64_t k = 0; k < plan.reduced; ++k) {
        const std::int64_t bytes = plan.out_offset(o) + plan.red_offset(k);
        // The 32-bit index path must agree with the 64-bit one.
        REQUIRE(kernels::ReducePlan::offset_of(plan.red, false, k) == plan.red_offset(k));
        REQUIRE(kernels::ReducePlan::offset_of(plan.out, false, o) == plan.out_offset(o));
        REQUIRE(bytes % es == 0);
        got.push_back(bytes / es);
        sum += data[bytes / es];
      }
      for (std::int64_t w : want) brute_sum += data[w];
      if (keep_order) {
        REQUIRE(got == want);  // positions are row-major in logical order (argmax relies on it)
      } else {
        std::vector<std::int64_t> a = got, b = want;
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        REQUIRE(a == b);
      }
      REQUIRE(sum == Approx(brute_sum).margin(1e-12));
    }
  }
  CHECK(checked_empty > 0);      // the generator did produce empty reductions and outputs
  CHECK(checked_broadcast > 0);  // and broadcast (stride 0) inputs
}

TEST_CASE("reduce plan merges dims and orders reduced strides", "[kernels][reduce]") {
  const auto es = static_cast<std::int64_t>(sizeof(float));
  SECTION("a contiguous row reduction is one kept and one reduced dim") {
    const auto p = kernels::make_reduce_plan("test", Shape{4, 5, 6}, Shape{30, 6, 1}, es, {false, true, true}, false);
    CHECK(p.out.dims == 1);
    CHECK(p.red.dims == 1);
    CHECK(p.out_inner_stride == 30 * es);
    CHECK(p.red_inner_stride == es);
  }
  SECTION("a column reduction has contiguous outputs") {
    const auto p = kernels::make_reduce_plan("test", Shape{7, 9}, Shape{9, 1}, es, {true, false}, false);
    CHECK(p.out_inner_stride == es);
    CHECK(p.red_inner_stride == 9 * es);
  }
  SECTION("kept dims merge across a reduced dim between them") {
    // (2, 3, 4) reducing dim 1 of a (2, 1, 4) tensor broadcast along dim 1: kept dims 0 and 2 are
    // stride 4 and 1, so they merge into one dim of 8.
    const auto p = kernels::make_reduce_plan("test", Shape{2, 3, 4}, Shape{4, 0, 1}, es, {false, true, false}, false);
    CHECK(p.out.dims == 1);
    CHECK(p.outputs == 8);
    CHECK(p.red_offset(2) == 0);
  }
  SECTION("reduced dims sort by decreasing stride unless order must be kept") {
    // A transposed (3, 5) view of a (5, 3) tensor: strides (1, 3).
    const auto sorted = kernels::make_reduce_plan("test", Shape{3, 5}, Shape{1, 3}, es, {true, true}, false);
    CHECK(sorted.red_inner_stride == es);
    const auto kept = kernels::make_reduce_plan("test", Shape{3, 5}, Shape{1, 3}, es, {true, true}, true);
    CHECK(kept.red_inner_stride == 3 * es);
    CHECK(kept.red_offset(1) == 3 * es);  // position 1 is element (0, 1)
  }
}

TEST_CASE("reduce launch covers every (output, position) pair exactly once", "[kernels][reduce]") {
  // Simulates the grid of the CUDA reduce kernel thread by thread (kernels::thread_work is the
  // kernel's own index math) for row, column, strided and empty reductions, small and large.
  struct Case {
    Shape sizes, strides;
    kernels::ReduceMask mask;
  };
  const std::vector<Case> cases = {
      {{7, 300}, {300, 1}, {false, true}},           // rows
      {{3000, 5}, {5, 1}, {true, false}},            // columns, few outputs: the range is split
      {{100000}, {1}, {true}},                       // one output split across many blocks
      {{64, 3}, {3, 1}, {false, true}},              // short rows: narrow lanes
      {{4, 5, 6}, {1, 4, 20}, {true, false, true}},  // strided both ways
      {{0, 5}, {5, 1}, {true, false}},               // empty reduction
      {{9, 40}, {0, 1}, {true, false}},              // broadcast reduced dim
  };
  for (const Case& c : cases) {
    for (int sms : {1, 8, 132}) {
      INFO("sizes " << c.sizes << " strides " << c.strides << " sms " << sms);
      const auto plan = kernels::make_reduce_plan("test", c.sizes, c.strides, 4, c.mask, false);
      const kernels::ReduceLaunch l = kernels::choose_reduce_launch(plan, 4, sms);
      const unsigned threads = l.bx * l.by;
      REQUIRE(threads % 32 == 0);
      REQUIRE(threads <= 512);
      REQUIRE((l.bx & (l.bx - 1)) == 0);
      REQUIRE(l.chunks <= 65535);
      REQUIRE(l.smem_values >= (l.split_x ? (l.bx > 32 ? l.by * 32 : 0) : l.bx * l.by));
      std::vector<int> hits(static_cast<std::size_t>(plan.outputs * plan.reduced), 0);
      std::vector<int> leaders(static_cast<std::size_t>(plan.outputs * l.chunks), 0);
      for (long long bxi = 0; bxi < l.out_blocks; ++bxi)
        for (unsigned byi = 0; byi < l.chunks; ++byi)
          for (unsigned ty = 0; ty < l.by; ++ty)
            for (unsigned tx = 0; tx < l.bx; ++tx) {
              const auto w = kernels::thread_work(plan, l.split_x, l.chunk_len, l.bx, l.by, tx, ty,
                                                  static_cast<unsigned>(bxi), byi);
              if (w.o >= plan.outputs) continue;
              if (w.lane == 0) ++leaders[static_cast<std::size_t>(w.o * l.chunks + byi)];
              for (long long k = w.k0; k < w.k1; k += w.step) ++hits[static_cast<std::size_t>(w.o * plan.reduced + k)];
            }
      REQUIRE(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
      REQUIRE(std::all_of(leaders.begin(), leaders.end(), [](int h) { return h == 1; }));
    }
  }
  // The layouts the kernel picks: columns read 32 neighbouring outputs per block; one big output
  // is split across many blocks.
  const auto columns = kernels::make_reduce_plan("test", Shape{3000, 5}, Shape{5, 1}, 4, {true, false}, false);
  CHECK_FALSE(kernels::choose_reduce_launch(columns, 4, 132).split_x);
  const auto whole = kernels::make_reduce_plan("test", Shape{1 << 22}, Shape{1}, 4, {true}, false);
  const auto wl = kernels::choose_reduce_launch(whole, 4, 132);
  CHECK(wl.split_x);
  CHECK(wl.chunks >= 132);
}
