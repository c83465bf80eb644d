#pragma once
// The contiguous loop of the fused optimizer updates, and its copies compiled per instruction set
// (isa_kernels.cpp): the rules of optim_update_rules.hpp are per-element scalar code that the
// compiler vectorises, 4 floats wide at the library's baseline (SSE2) and 16 in the AVX-512 unit.
// optim_update.cpp calls the copy of the instruction set the elementwise kernels use.
#include <cstdint>

#include "cpu/elementwise_ops.hpp"  // TypeList, index_in
#include "cpu/optim_update_rules.hpp"

namespace tapeflow::cpu {
namespace {  // internal linkage: each instruction set's unit keeps its own copy

// The operands never overlap; saying so (restrict) lets the compiler vectorise the loop.
template <typename T, typename Rule, typename... S>
inline void contiguous_update(const Rule& rule, std::int64_t begin, std::int64_t end, T* __restrict p,
                              const T* __restrict g, S* __restrict... state) {
  const Rule local = rule;  // a copy the stores cannot alias: its scalars stay in registers
  for (std::int64_t i = begin; i < end; ++i) local(p[i], g[i], state[i]...);
}

}  // namespace

// A rule with its number of state operands: one entry of the per-ISA table.
template <class Rule, int States>
struct UpdateEntry {};

template <class T>
using UpdateOps = TypeList<UpdateEntry<optim_rules::SGDRule<T>, 0>, UpdateEntry<optim_rules::SGDRule<T>, 1>,
                           UpdateEntry<optim_rules::AdamRule<T>, 2>, UpdateEntry<optim_rules::AdamRule<T>, 3>,
                           UpdateEntry<optim_rules::RMSpropRule<T, false, false>, 1>,
                           UpdateEntry<optim_rules::RMSpropRule<T, true, false>, 2>,
                           UpdateEntry<optim_rules::RMSpropRule<T, false, true>, 2>,
                           UpdateEntry<optim_rules::RMSpropRule<T, true, true>, 3>,
                           UpdateEntry<optim_rules::AdagradRule<T>, 1>>;

// rule(p[i], g[i], state[k][i]...) for i in [begin, end); rule points at the Rule.
using UpdateFn = void (*)(const void* rule, std::int64_t begin, std::int64_t end, void* p, const void* g,
                          void* const* state);

struct UpdateTable {
  UpdateFn f32[UpdateOps<float>::size];
  UpdateFn f64[UpdateOps<double>::size];
  template <class T>
  const UpdateFn* get() const {
    if constexpr (std::is_same_v<T, float>) return f32;
    else return f64;
  }
};

}  // namespace tapeflow::cpu
