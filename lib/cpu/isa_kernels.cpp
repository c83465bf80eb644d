// The CPU's vectorised kernels for one instruction set: elementwise ops, row kernels (softmax,
// losses, layer_norm) and optimizer loops. lib/meson.build compiles this one file once per
// instruction set, with TAPEFLOW_EW_ISA = sse2 | avx2 | avx512 and that set's -m flags;
// elementwise.cpp picks one table at run time. Everything a unit compiles for its instruction set
// has internal linkage or is templated on the xsimd arch, so the linker cannot swap one set's code
// for another's (the optimizer loops flatten their rules into them for the same reason).
#include "cpu/elementwise_simd.hpp"
#include "cpu/conv_kernels_simd.hpp"
#include "cpu/philox_simd.hpp"
#include "cpu/optim_update_isa.hpp"
#include "cpu/row_kernels_simd.hpp"

#if XSIMD_WITH_AVX512BW
#define TAPEFLOW_ISA_ARCH xsimd::avx512bw
#define TAPEFLOW_ISA_LABEL "avx512bw"
#elif XSIMD_WITH_FMA3_AVX2
#define TAPEFLOW_ISA_ARCH xsimd::fma3<xsimd::avx2>
#define TAPEFLOW_ISA_LABEL "fma3<avx2>"
#else
#define TAPEFLOW_ISA_ARCH xsimd::sse2
#define TAPEFLOW_ISA_LABEL "sse2"
#endif

namespace tapeflow::cpu {
namespace {

using Arch = TAPEFLOW_ISA_ARCH;

// No FMA contraction in the optimizer loops: parameters then round as on the baseline and strided
// paths, whatever the instruction set (the rest of the unit keeps it: xsimd's AVX-512 fma needs it).
template <class T, class Rule, int States>
__attribute__((flatten, optimize("fp-contract=off"))) void update_entry(const void* rule, std::int64_t begin,
                                                                        std::int64_t end, void* p, const void* g,
                                                                        void* const* state) {
  const Rule& r = *static_cast<const Rule*>(rule);
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    contiguous_update<T>(r, begin, end, static_cast<T*>(p), static_cast<const T*>(g), static_cast<T*>(state[K])...);
  }(std::make_index_sequence<States>{});
}

template <class T, class Rule, int States>
constexpr UpdateFn update_fn(UpdateEntry<Rule, States>) {
  return &update_entry<T, Rule, States>;
}

template <class T, class... E>
constexpr void fill_updates(UpdateFn* out, TypeList<E...>) {
  std::size_t k = 0;
  ((out[k++] = update_fn<T>(E{})), ...);
}

template <class T, class... F>
constexpr VecTableFor<T> make_table(TypeList<F...>) {
  return VecTableFor<T>{{entry_for<Arch, T, F>()...}, &contig_sum<Arch, T>, &sum_rows<Arch, T>, make_row_kernels<Arch, T>(),
                        make_conv_kernels<Arch, T>()};
}

const UpdateTable& update_table() {
  static const UpdateTable table = [] {
    UpdateTable t{};
    fill_updates<float>(t.f32, UpdateOps<float>{});
    fill_updates<double>(t.f64, UpdateOps<double>{});
    return t;
  }();
  return table;
}

}  // namespace

#define TAPEFLOW_ISA_CAT2(a, b) a##b
#define TAPEFLOW_ISA_CAT(a, b) TAPEFLOW_ISA_CAT2(a, b)
const VecTable& TAPEFLOW_ISA_CAT(vec_table_, TAPEFLOW_EW_ISA)() {
  static const VecTable table{make_table<float>(VecOps<float>{}), make_table<double>(VecOps<double>{}),
                              TAPEFLOW_ISA_LABEL, &update_table(), &philox_blocks<Arch>};
  return table;
}

}  // namespace tapeflow::cpu
