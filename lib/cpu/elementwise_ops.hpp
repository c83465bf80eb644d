#pragma once
// The op list: which functors get vectorised contiguous kernels, compiled once per instruction
// set (isa_kernels.cpp). A functor missing here still works everywhere,
// through the scalar loop; adding it here is all it takes to vectorise it.
// Also the table of type-erased kernels that each instruction-set unit fills in.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cpu/conv_kernels.hpp"
#include "cpu/functors.hpp"
#include "cpu/row_kernels.hpp"

namespace tapeflow::cpu {

template <class... F>
struct TypeList {
  static constexpr std::size_t size = sizeof...(F);
};

// Position of F in L, or -1.
template <class F, class L>
struct index_in;
template <class F, class... Fs>
struct index_in<F, TypeList<Fs...>> {
  static constexpr int value = [] {
    constexpr bool hits[] = {std::is_same_v<F, Fs>..., false};
    for (std::size_t i = 0; i < sizeof...(Fs); ++i)
      if (hits[i]) return static_cast<int>(i);
    return -1;
  }();
};

// Vectorised functors for floating element type T (each used with T in and T out).
template <class T>
using VecOps = TypeList<
    // unary
    Neg, Abs, Sign, Square, Exp, Log, Log1p, Expm1, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu, Silu, Gelu,
    GeluDerivative, GeluTanh, Floor, Ceil, Round, LeakyRelu<T>, Elu<T>, Softplus<T>, Clamp<T>,
    // binary
    Add, Sub, Mul, Div, AddScaled<T>, Pow, Maximum, Minimum, ReluBackward,
    // tensor-scalar
    BindSecond<Add, T>, BindSecond<Sub, T>, BindSecond<Mul, T>, BindSecond<Div, T>, BindSecond<Pow, T>,
    BindSecond<Maximum, T>, BindSecond<Minimum, T>, BindFirst<Sub, T>, BindFirst<Div, T>, BindFirst<Pow, T>>;

// out[i] = f(in0[i], in1[i], ...) over n contiguous elements; f points at the functor.
using ContigFn = void (*)(const void* f, void* out, const void* const* in, std::int64_t n);

// The sum of n contiguous values, accumulated in double lanes (the reduction's own precision).
using SumFn = double (*)(const void* p, std::int64_t n);
// acc[j] += rows[r][j] for r < rows, j < len, rows `stride` elements apart, in row order (the
// outer reduction, e.g. a sum over the batch dim; bit-identical to the scalar loop).
using SumRowsFn = void (*)(const void* p, std::int64_t stride, std::int64_t rows, std::int64_t len, double* acc);

template <class T>
struct VecTableFor {
  ContigFn fns[VecOps<T>::size];
  SumFn sum;
  SumRowsFn sum_rows;
  RowKernels<T> rows;
  ConvKernels<T> conv;
};
struct UpdateTable;  // optimizer loops of the same instruction set (optim_update_isa.hpp)

// Philox blocks of counters [counter, counter + count), count <= kPhiloxBatch, word j of block i at
// words[j * kPhiloxBatch + i]: bit-identical to detail::philox::block (philox_simd.hpp).
inline constexpr std::int64_t kPhiloxBatch = 64;
using PhiloxFn = void (*)(std::uint64_t seed, std::uint64_t counter, std::int64_t count, std::uint32_t* words);

struct VecTable {
  VecTableFor<float> f32;
  VecTableFor<double> f64;
  const char* name;  // the instruction set, for diagnostics
  const UpdateTable* updates;
  PhiloxFn philox;
  template <class T>
  const VecTableFor<T>& get() const {
    if constexpr (std::is_same_v<T, float>) return f32;
    else return f64;
  }
};

// One table per instruction set (defined in the per-ISA units, x86-64 only).
const VecTable& vec_table_sse2();
const VecTable& vec_table_avx2();
const VecTable& vec_table_avx512();

// The table of instruction set `isa` ("sse2", "avx2", "avx512"), or null when this CPU (or
// build) cannot run it: tests check every instruction set the machine has.
const VecTable* vec_table_named(const char* isa);

// How many bytes ahead a map over runs from memory prefetches its inputs: 2 KiB on Intel CPUs,
// 8 KiB on others (elementwise.cpp says why). Reductions prefetch 8 KiB ahead everywhere.
extern const std::int64_t g_map_prefetch_bytes;

}  // namespace tapeflow::cpu
