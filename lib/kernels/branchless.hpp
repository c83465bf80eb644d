#pragma once
// c ? a : b without a branch. Compilers turn a plain ?: on floats into a branch, which
// mispredicts half the time when the condition is random (which tap of a pooling window wins,
// whether dropout keeps an element). On the host the choice is made with bit masks; CUDA
// devices predicate a plain ?: already.
#include <bit>
#include <cstdint>
#include <type_traits>

#include "kernels/host_device.hpp"

namespace tapeflow::kernels {

template <typename T>
TAPEFLOW_HD inline T branchless_select(bool c, T a, T b) {
#if defined(__CUDA_ARCH__)
  return c ? a : b;
#else
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "4- or 8-byte values");
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const U m = U(0) - static_cast<U>(c);
  return std::bit_cast<T>((std::bit_cast<U>(a) & m) | (std::bit_cast<U>(b) & ~m));
#endif
}

}  // namespace tapeflow::kernels
