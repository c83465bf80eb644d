#pragma once
// The index dtypes of the index kernels (gather, scatter_add, range checks, one_hot): int32 and
// int64, turned into a compile-time type for every backend's kernels.
#include <cstdint>
#include <type_traits>

#include "tapeflow/dtype.hpp"

namespace tapeflow::kernels {

template <typename T>
constexpr bool is_index_type = std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t>;

// Calls f.template operator()<I>() for an int32/int64 index dtype (the op layer checks; any
// other dtype throws DTypeError).
template <typename F>
void dispatch_index(DType dt, F&& f) {
  dispatch(dt, [&]<typename I>() {
    if constexpr (is_index_type<I>) f.template operator()<I>();
    else fail<DTypeError>("index", "index must be int64 or int32, got ", dt);
  });
}

}  // namespace tapeflow::kernels
