#include "cpu/copy.hpp"

#include <cstring>

#include "core/strided_loop.hpp"
#include "cpu/transpose_copy.hpp"

namespace tapeflow::cpu {

template <typename To, typename From>
static To cast_value(From v) {
  if constexpr (std::is_same_v<To, bool>) return v != From(0);
  else return static_cast<To>(v);
}

void copy(const Tensor& dst, const Tensor& src) {
  const DType dt = dst.dtype(), st = src.dtype();
  if (dt == st && dst.is_contiguous() && src.is_contiguous() && dst.shape() == src.shape()) {
    detail::parallel_copy_bytes(dst.data_ptr(), src.data_ptr(), dst.nbytes());
    return;
  }
  if (transpose_copy(dst, src)) return;
  auto ops = detail::make_operands<2>(dst.shape(), {&dst, &src});
  dispatch(dt, [&]<typename D>() {
    dispatch(st, [&]<typename S>() {
      detail::strided_for_each(ops, [](const std::array<char*, 2>& p, const std::array<std::int64_t, 2>& s,
                                       std::int64_t n) {
        char* d = p[0];
        const char* x = p[1];
        if (s[0] == sizeof(D) && s[1] == sizeof(S)) {
          D* dd = reinterpret_cast<D*>(d);
          const S* xx = reinterpret_cast<const S*>(x);
          for (std::int64_t i = 0; i < n; ++i) dd[i] = cast_value<D>(xx[i]);
        } else if (s[0] == sizeof(D) && s[1] == 0) {
          // A broadcast source (the expanded gradient of a sum): a vectorisable fill.
          D* dd = reinterpret_cast<D*>(d);
          const D v = cast_value<D>(*reinterpret_cast<const S*>(x));
          for (std::int64_t i = 0; i < n; ++i) dd[i] = v;
        } else {
          for (std::int64_t i = 0; i < n; ++i, d += s[0], x += s[1])
            *reinterpret_cast<D*>(d) = cast_value<D>(*reinterpret_cast<const S*>(x));
        }
      });
    });
  });
}

void fill(const Tensor& dst, Scalar value) {
  auto ops = detail::make_operands<1>(dst.shape(), {&dst});
  dispatch(dst.dtype(), [&]<typename T>() {
    const T v = value.to<T>();
    detail::strided_for_each(ops, [v](const std::array<char*, 1>& p, const std::array<std::int64_t, 1>& s,
                                      std::int64_t n) {
      char* d = p[0];
      if (s[0] == sizeof(T)) {
        T* dd = reinterpret_cast<T*>(d);
        for (std::int64_t i = 0; i < n; ++i) dd[i] = v;
      } else {
        for (std::int64_t i = 0; i < n; ++i, d += s[0]) *reinterpret_cast<T*>(d) = v;
      }
    });
  });
}

}  // namespace tapeflow::cpu
