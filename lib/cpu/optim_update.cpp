// CPU optimizer updates: the rules of optim_update_rules.hpp applied element by element over
// param, grad and state. Contiguous operands take a flat loop split over the thread pool, compiled
// for the instruction set the elementwise kernels use (optim_update_isa.hpp); others go through
// the strided iteration engine (which also splits large work).
#include "cpu/optim_update.hpp"

#include <array>
#include <cstdint>
#include <tuple>
#include <utility>

#include "core/parallel.hpp"
#include "core/strided_loop.hpp"
#include "cpu/elementwise.hpp"
#include "cpu/optim_update_isa.hpp"

namespace tapeflow::cpu {
namespace {

using namespace optim_rules;

// The contiguous loop of the chosen instruction set, or the baseline copy without one.
template <typename T, typename Rule, typename... S>
void contiguous_run(const Rule& rule, std::int64_t begin, std::int64_t end, T* p, const T* g, S*... state) {
  constexpr int idx = index_in<UpdateEntry<Rule, sizeof...(S)>, UpdateOps<T>>::value;
  static_assert(idx >= 0, "add the rule to UpdateOps (optim_update_isa.hpp)");
  if (const VecTable* t = g_vec_table) {
    void* const s[] = {static_cast<void*>(state)..., nullptr};
    t->updates->get<T>()[idx](&rule, begin, end, p, g, s);
    return;
  }
  contiguous_update<T>(rule, begin, end, p, g, state...);
}

// Element i of a strided row: ptrs/strides of param, grad, state... (strides in bytes).
template <typename T, typename Rule, std::size_t N, std::size_t... K>
void update_at(const Rule& rule, const std::array<char*, N>& ptrs, const std::array<std::int64_t, N>& strides,
               std::int64_t i, std::index_sequence<K...>) {
  const auto at = [&](std::size_t k) { return ptrs[k] + i * strides[k]; };
  rule(*reinterpret_cast<T*>(at(0)), *reinterpret_cast<const T*>(at(1)), *reinterpret_cast<T*>(at(K + 2))...);
}

// Applies rule(param[i], grad[i], state[i]...) to every element. The state tensors follow the
// rule's operand order.
template <typename T, typename Rule, typename... State>
void update_each(const Rule& rule, const Tensor& param, const Tensor& grad, const State&... state) {
  constexpr std::size_t N = 2 + sizeof...(State);
  const std::int64_t n = param.numel();
  if (n == 0) return;
  if (param.is_contiguous() && grad.is_contiguous() && (state.is_contiguous() && ...)) {
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    const std::array<T*, sizeof...(State)> s{state.template data_ptr<T>()...};
    detail::parallel_for(0, n, detail::kElementwiseGrain, [&](std::int64_t b, std::int64_t e) {
      std::apply([&](auto*... s_ptrs) { contiguous_run<T>(rule, b, e, p, g, s_ptrs...); }, s);
    });
    return;
  }
  auto ops = detail::make_operands<N>(param.shape(), {&param, &grad, &state...});
  detail::strided_for_each(std::move(ops), [&](const std::array<char*, N>& ptrs,
                                               const std::array<std::int64_t, N>& strides, std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) update_at<T>(rule, ptrs, strides, i, std::index_sequence_for<State...>{});
  });
}

}  // namespace

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, bool first_step,
                const SGDUpdate& u) {
  dispatch_floating(param.dtype(), "SGD", [&]<typename T>() {
    const SGDRule<T> rule(u, first_step);
    if (momentum_buffer.defined())
      update_each<T>(rule, param, grad, momentum_buffer);
    else
      update_each<T>(rule, param, grad);
  });
}

void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const Tensor& max_exp_avg_sq, const AdamUpdate& u) {
  dispatch_floating(param.dtype(), "Adam", [&]<typename T>() {
    const AdamRule<T> rule(u);
    if (max_exp_avg_sq.defined())
      update_each<T>(rule, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq);
    else
      update_each<T>(rule, param, grad, exp_avg, exp_avg_sq);
  });
}

void rmsprop_update(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                    const Tensor& momentum_buffer, const RMSpropUpdate& u) {
  dispatch_floating(param.dtype(), "RMSprop", [&]<typename T>() {
    const bool centered = grad_avg.defined(), momentum = momentum_buffer.defined();
    if (centered && momentum)
      update_each<T>(RMSpropRule<T, true, true>(u), param, grad, square_avg, grad_avg, momentum_buffer);
    else if (centered)
      update_each<T>(RMSpropRule<T, true, false>(u), param, grad, square_avg, grad_avg);
    else if (momentum)
      update_each<T>(RMSpropRule<T, false, true>(u), param, grad, square_avg, momentum_buffer);
    else
      update_each<T>(RMSpropRule<T, false, false>(u), param, grad, square_avg);
  });
}

void adagrad_update(const Tensor& param, const Tensor& grad, const Tensor& sum, const AdagradUpdate& u) {
  dispatch_floating(param.dtype(), "Adagrad",
                    [&]<typename T>() { update_each<T>(AdagradRule<T>(u), param, grad, sum); });
}

}  // namespace tapeflow::cpu
