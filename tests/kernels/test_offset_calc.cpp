// The index math of the CUDA elementwise kernels (kernels::OffsetCalc, host and device code),
// run on the CPU: for broadcast, transposed, sliced and coalescable operands, the byte offsets
// of every linear index must be the ones a plain row-major walk over the views gives.
#include <catch2/catch.hpp>

#include <cstdint>

#include "kernels/offset_calc.hpp"
#include "tapeflow/tapeflow.hpp"

using namespace tapeflow;

namespace {

// Byte offset of the multi-index of `linear` in t broadcast to `shape` (row-major, independent
// of any coalescing).
std::int64_t reference_offset(const Tensor& t, IntArrayRef shape, std::int64_t linear) {
  const std::int64_t es = static_cast<std::int64_t>(element_size(t.dtype()));
  const std::size_t nd = shape.size(), td = static_cast<std::size_t>(t.dim());
  std::int64_t off = 0;
  for (std::size_t d = nd; d-- > 0;) {
    const std::int64_t i = linear % shape[d];
    linear /= shape[d];
    if (d >= nd - td) {
      const std::size_t k = d - (nd - td);
      if (t.size(static_cast<std::int64_t>(k)) != 1) off += i * t.stride(static_cast<std::int64_t>(k)) * es;
    }
  }
  return off;
}

template <class Index>
void check_offsets(const Tensor& out, const Tensor& a, const Tensor& b) {
  auto ops = detail::make_operands<3>(out.shape(), {&out, &a, &b});
  detail::coalesce(ops);
  kernels::OffsetCalc<3, Index> oc;
  REQUIRE(kernels::make_offset_calc(ops, oc));
  const char* base[] = {static_cast<const char*>(out.data_ptr()), static_cast<const char*>(a.data_ptr()),
                        static_cast<const char*>(b.data_ptr())};
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    const auto off = oc.get(static_cast<Index>(i));
    const Tensor* t[] = {&out, &a, &b};
    for (int k = 0; k < 3; ++k) {
      INFO("operand " << k << ", element " << i);
      REQUIRE(ops.data[static_cast<std::size_t>(k)] + static_cast<std::int64_t>(off[static_cast<std::size_t>(k)]) ==
              base[k] + reference_offset(*t[k], out.shape(), i));
    }
  }
}

}  // namespace

TEST_CASE("OffsetCalc gives every operand's byte offset for each linear index", "[kernels]") {
  const Tensor out = zeros({4, 5, 6});
  const Tensor contiguous = zeros({4, 5, 6});
  const Tensor transposed = zeros({6, 5, 4}).permute({2, 1, 0});
  const Tensor row = zeros({6});                       // broadcast over the two leading dims
  const Tensor column = zeros({4, 1, 1}, kFloat64);    // another dtype, broadcast inner dims
  const Tensor sliced = zeros({8, 5, 12}).slice(0, 1, 8, 2).slice(2, 0, 12, 2);
  check_offsets<std::uint32_t>(out, contiguous, transposed);
  check_offsets<std::uint32_t>(out, row, column);
  check_offsets<long long>(out, sliced, transposed);
  check_offsets<long long>(out.permute({1, 0, 2}), row, sliced.permute({1, 0, 2}));
}

TEST_CASE("coalesced contiguous operands need a single dim", "[kernels]") {
  const Tensor a = zeros({3, 4, 5}), b = zeros({3, 4, 5}), c = zeros({3, 4, 5});
  auto ops = detail::make_operands<3>(a.shape(), {&a, &b, &c});
  detail::coalesce(ops);
  kernels::OffsetCalc<3, std::uint32_t> oc;
  REQUIRE(kernels::make_offset_calc(ops, oc));
  CHECK(oc.dims == 1);
  CHECK(oc.sizes[0] == 60);
  CHECK(oc.strides[0][1] == 4);
}

TEST_CASE("32-bit offsets are refused when an extent does not fit", "[kernels]") {
  // A broadcast view reaching past 2^31 bytes: stride of one row times the row count.
  const Tensor big_row = zeros({1});
  const Tensor out = zeros({2, 3});
  auto ops = detail::make_operands<2>(out.shape(), {&out, &big_row});
  ops.strides[1][0] = std::int64_t{1} << 31;  // as if rows were 2 GiB apart
  kernels::OffsetCalc<2, std::uint32_t> narrow;
  CHECK_FALSE(kernels::make_offset_calc(ops, narrow));
  kernels::OffsetCalc<2, long long> wide;
  CHECK(kernels::make_offset_calc(ops, wide));
  CHECK(wide.get(3)[1] == (std::int64_t{1} << 31));
}
