#pragma once
// The one elementwise kernel, generic over a functor and its arity:
//   cpu::map<Out, In...>(f, out, in...)   writes out[i] = f(in...[i]) over out's shape
// Inputs are broadcast to out's shape (stride 0) and may be any strided views; their C++ types
// In... must match their dtypes. When f is in the op list (elementwise_ops.hpp) and all types
// are one floating type, contiguous runs go to the vectorised kernel of the best instruction set
// and strided or broadcast rows are gathered into small buffers for it; everything else runs a
// scalar loop. Large work is split across the pool. All-contiguous same-shape operands skip the
// strided machinery entirely (the small-tensor path: no coalescing, no allocation).
#include <algorithm>
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

// Position of F in the vectorised op list for these types, or -1 (scalar loop only).
template <class F, class Out, class... In>
constexpr int vec_index() {
  if constexpr (std::is_floating_point_v<Out> && (std::is_same_v<Out, In> && ...))
    return index_in<F, VecOps<Out>>::value;
  else
    return -1;
}

// A contiguous run of n elements: vectorised when possible, else a plain loop.
template <class Out, class... In, class F, std::size_t... I>
inline void run_contiguous(const F& f, void* out, const std::array<const void*, sizeof...(In)>& in, std::int64_t n,
                           std::index_sequence<I...>) {
  constexpr int idx = vec_index<F, Out, In...>();
  if constexpr (idx >= 0) {
    if (const VecTable* t = g_vec_table) {
      t->template get<Out>().fns[idx](&f, out, in.data(), n);
      return;
    }
  }
  Out* o = static_cast<Out*>(out);
  const std::tuple<const In*...> p{static_cast<const In*>(in[I])...};
  for (std::int64_t i = 0; i < n; ++i) o[i] = static_cast<Out>(f(std::get<I>(p)[i]...));
}

// A strided row of a vectorised op: chunks of it are gathered into small contiguous buffers
// (broadcast values are repeated once), computed by the vectorised kernel and scattered back,
// so that transposed, stepped and broadcast operands still get the vector math.
template <class Out, class... In, class F, std::size_t... I>
inline void run_gathered_row(const F& f, const std::array<char*, sizeof...(In) + 1>& p,
                             const std::array<std::int64_t, sizeof...(In) + 1>& s, std::int64_t n,
                             std::index_sequence<I...> seq) {
  constexpr std::size_t N = sizeof...(In);
  constexpr std::int64_t kChunk = 256;
  constexpr std::int64_t es = sizeof(Out);  // all operands have this type here
  alignas(64) Out buf[N + 1][kChunk];
  for (std::size_t k = 0; k < N; ++k)
    if (s[k + 1] == 0)
      for (std::int64_t j = 0; j < std::min(kChunk, n); ++j) buf[k][j] = *reinterpret_cast<const Out*>(p[k + 1]);
  for (std::int64_t done = 0; done < n; done += kChunk) {
    const std::int64_t m = std::min(kChunk, n - done);
    std::array<const void*, N> in;
    for (std::size_t k = 0; k < N; ++k) {
      const char* src = p[k + 1] + done * s[k + 1];
      if (s[k + 1] == es) {
        in[k] = src;
      } else {
        if (s[k + 1] != 0)
          for (std::int64_t j = 0; j < m; ++j) buf[k][j] = *reinterpret_cast<const Out*>(src + j * s[k + 1]);
        in[k] = buf[k];
      }
    }
    char* dst = p[0] + done * s[0];
    if (s[0] == es) {
      run_contiguous<Out, In...>(f, dst, in, m, seq);
    } else {
      run_contiguous<Out, In...>(f, buf[N], in, m, seq);
      for (std::int64_t j = 0; j < m; ++j) *reinterpret_cast<Out*>(dst + j * s[0]) = buf[N][j];
    }
  }
}

// A binary op over a row where one input is broadcast (stride 0: a per-channel scale or bias)
// and the other input and the output are contiguous: the vectorised tensor-scalar kernel with
// the broadcast value bound (BindSecond / BindFirst; Add and Mul swap sides), instead of
// repeating the value into a buffer for every row. False when no such kernel exists.
template <class Out, class F>
inline bool run_with_scalar_operand(const F& f, const std::array<char*, 3>& p, const std::array<std::int64_t, 3>& s,
                                    std::int64_t n) {
  constexpr std::int64_t es = sizeof(Out);
  constexpr bool commutative = std::is_same_v<F, Add> || std::is_same_v<F, Mul>;
  using Second = BindSecond<F, Out>;
  using First = std::conditional_t<commutative, Second, BindFirst<F, Out>>;
  if (s[0] != es) return false;
  const auto value = [&](std::size_t k) { return *reinterpret_cast<const Out*>(p[k]); };
  if constexpr (vec_index<Second, Out, Out>() >= 0) {
    if (s[1] == es && s[2] == 0) {
      run_contiguous<Out, Out>(Second{f, value(2)}, p[0], {p[1]}, n, std::index_sequence<0>{});
      return true;
    }
  }
  if constexpr (vec_index<First, Out, Out>() >= 0) {
    if (s[1] == 0 && s[2] == es) {
      run_contiguous<Out, Out>(First{f, value(1)}, p[0], {p[2]}, n, std::index_sequence<0>{});
      return true;
    }
  }
  return false;
}

template <class Out, class... In, class F, std::size_t... I>
inline void run_strided(const F& f, const std::array<char*, sizeof...(In) + 1>& p,
                        const std::array<std::int64_t, sizeof...(In) + 1>& s, std::int64_t n,
                        std::index_sequence<I...> seq) {
  if (s[0] == sizeof(Out) && ((s[I + 1] == sizeof(In)) && ...)) {
    run_contiguous<Out, In...>(f, p[0], {p[I + 1]...}, n, seq);
    return;
  }
  if constexpr (vec_index<F, Out, In...>() >= 0) {
    if constexpr (sizeof...(In) == 2) {
      if (g_vec_table != nullptr && run_with_scalar_operand<Out>(f, p, s, n)) return;
    }
    if (n >= 16 && g_vec_table != nullptr) {
      run_gathered_row<Out, In...>(f, p, s, n, seq);
      return;
    }
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
