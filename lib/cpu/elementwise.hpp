#pragma once
// The one elementwise kernel, generic over a functor and its arity:
//   cpu::map<Out, In...>(f, out, in...)   writes out[i] = f(in...[i]) over out's shape
// Inputs are broadcast to out's shape (stride 0) and may be any strided views; their C++ types
// In... must match their dtypes. Contiguous runs go to the vectorised kernel of the best
// instruction set when f is in the op list (elementwise_ops.hpp) and all types are one
// floating type; everything else runs a scalar loop. Large work is split across the pool.
#include <array>
#include <tuple>
#include <utility>

#include "core/strided_loop.hpp"
#include "cpu/elementwise_ops.hpp"

namespace tapeflow::cpu {

// The vectorised kernels of the best instruction set this CPU has (null before static
// initialisation or off x86-64: the scalar loop is used then).
extern const VecTable* g_vec_table;
// Name of the instruction set chosen ("avx512bw", "fma3<avx2>", "sse2" or "scalar").
const char* simd_arch_name();

namespace detail_ew {

// A contiguous run of n elements: vectorised when possible, else a plain loop.
template <class Out, class... In, class F, std::size_t... I>
inline void run_contiguous(const F& f, void* out, const std::array<const void*, sizeof...(In)>& in, std::int64_t n,
                           std::index_sequence<I...>) {
  if constexpr (std::is_floating_point_v<Out> && (std::is_same_v<Out, In> && ...)) {
    constexpr int idx = index_in<F, VecOps<Out>>::value;
    if constexpr (idx >= 0) {
      if (const VecTable* t = g_vec_table) {
        t->template get<Out>().fns[idx](&f, out, in.data(), n);
        return;
      }
    }
  }
  Out* o = static_cast<Out*>(out);
  const std::tuple<const In*...> p{static_cast<const In*>(in[I])...};
  for (std::int64_t i = 0; i < n; ++i) o[i] = static_cast<Out>(f(std::get<I>(p)[i]...));
}

template <class Out, class... In, class F, std::size_t... I>
inline void run_strided(const F& f, const std::array<char*, sizeof...(In) + 1>& p,
                        const std::array<std::int64_t, sizeof...(In) + 1>& s, std::int64_t n,
                        std::index_sequence<I...> seq) {
  if (s[0] == sizeof(Out) && ((s[I + 1] == sizeof(In)) && ...)) {
    run_contiguous<Out, In...>(f, p[0], {p[I + 1]...}, n, seq);
    return;
  }
  char* o = p[0];
  std::array<const char*, sizeof...(In)> q{p[I + 1]...};
  for (std::int64_t i = 0; i < n; ++i) {
    *reinterpret_cast<Out*>(o) = static_cast<Out>(f(*reinterpret_cast<const In*>(q[I])...));
    o += s[0];
    ((q[I] += s[I + 1]), ...);
  }
}

}  // namespace detail_ew

template <class Out, class... In, class F, class... Ts>
void map(const F& f, const Tensor& out, const Ts&... in) {
  static_assert(sizeof...(In) == sizeof...(Ts) && sizeof...(In) >= 1, "one C++ type per input");
  constexpr std::size_t N = sizeof...(In);
  using Seq = std::make_index_sequence<N>;
  const TensorImpl& o = *out.impl();
  const std::int64_t n = o.numel;
  if (n == 0) return;
  // Fast path: all operands contiguous with out's shape (no broadcasting, no coalescing work).
  if (out.is_contiguous() && ((in.impl()->sizes == o.sizes && in.is_contiguous()) && ...)) {
    char* const po = static_cast<char*>(o.data());
    const std::array<const char*, N> pi{static_cast<const char*>(in.impl()->data())...};
    detail::parallel_for(0, n, detail::kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
      [&]<std::size_t... I>(std::index_sequence<I...> seq) {
        detail_ew::run_contiguous<Out, In...>(f, po + b * std::int64_t{sizeof(Out)},
                                              {pi[I] + b * std::int64_t{sizeof(In)}...}, e - b, seq);
      }(Seq{});
    });
    return;
  }
  auto ops = detail::make_operands<N + 1>(o.sizes, {&out, &in...});
  detail::strided_for_each(ops, [&f](const std::array<char*, N + 1>& p, const std::array<std::int64_t, N + 1>& s,
                                     std::int64_t count) {
    detail_ew::run_strided<Out, In...>(f, p, s, count, Seq{});
  });
}

}  // namespace tapeflow::cpu
