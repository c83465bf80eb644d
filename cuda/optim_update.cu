// CUDA optimizer updates: one grid-stride kernel applies an update rule (the CPU's, from
// cpu/optim_update_rules.hpp) to param[i], grad[i], state[i]... Contiguous operands go straight
// to the kernel; others (a parameter that is a strided view) are updated in contiguous copies
// that are written back, as the rule needs every operand at the same flat index.
#include "optim_update.hpp"

#include <tuple>

#include "copy.hpp"
#include "cuda_check.hpp"
#include "device.hpp"

namespace tapeflow::cuda_backend {
namespace {

using namespace cpu::optim_rules;

template <class T, class Rule, class... S>
__global__ void update_kernel(Rule rule, long long n, T* __restrict__ p, const T* __restrict__ g,
                              S* __restrict__... state) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n; i += stride)
    rule(p[i], g[i], state[i]...);
}

template <class T, class Rule, class... State>
void launch(const Rule& rule, const Tensor& param, const Tensor& grad, const State&... state) {
  const int device = param.device().index();
  DeviceGuard guard(device);
  const LaunchShape shape = launch_shape(param.numel());
  update_kernel<T><<<shape.blocks, shape.threads, 0, current_stream(device)>>>(
      rule, static_cast<long long>(param.numel()), param.data_ptr<T>(), grad.data_ptr<T>(),
      state.template data_ptr<T>()...);
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
}

// Applies rule(param[i], grad[i], state[i]...) to every element, in the rule's operand order.
template <class T, class Rule, class... State>
void update_each(const Rule& rule, const Tensor& param, const Tensor& grad, const State&... state) {
  if (param.numel() == 0) return;
  if (param.is_contiguous() && grad.is_contiguous() && (state.is_contiguous() && ...)) {
    launch<T>(rule, param, grad, state...);
    return;
  }
  const Tensor p = param.contiguous(), g = grad.contiguous();
  const std::tuple<decltype(state.contiguous())...> s{state.contiguous()...};
  std::apply([&](const auto&... sc) { launch<T>(rule, p, g, sc...); }, s);
  if (!p.is_same(param)) copy(param, p);
  std::apply([&](const auto&... sc) { ((sc.is_same(state) ? void() : copy(state, sc)), ...); }, s);
}

// Calls f.template operator()<a, b>() with the runtime flags as template arguments.
template <class F>
void with_flags(bool a, bool b, const F& f) {
  if (a) b ? f.template operator()<true, true>() : f.template operator()<true, false>();
  else b ? f.template operator()<false, true>() : f.template operator()<false, false>();
}

// (t) when Keep, else (): an optional operand in a list built at compile time.
template <bool Keep>
auto keep_if(const Tensor& t) {
  if constexpr (Keep) return std::tuple<const Tensor&>(t);
  else return std::tuple<>();
}

}  // namespace

void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, bool first_step,
                const cpu::SGDUpdate& u) {
  dispatch_floating(param.dtype(), "SGD", [&]<typename T>() {
    const SGDRule<T> rule(u, first_step);
    if (momentum_buffer.defined()) update_each<T>(rule, param, grad, momentum_buffer);
    else update_each<T>(rule, param, grad);
  });
}

void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const Tensor& max_exp_avg_sq, const cpu::AdamUpdate& u) {
  dispatch_floating(param.dtype(), "Adam", [&]<typename T>() {
    const AdamRule<T> rule(u);
    if (max_exp_avg_sq.defined()) update_each<T>(rule, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq);
    else update_each<T>(rule, param, grad, exp_avg, exp_avg_sq);
  });
}

void rmsprop_update(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                    const Tensor& momentum_buffer, const cpu::RMSpropUpdate& u) {
  dispatch_floating(param.dtype(), "RMSprop", [&]<typename T>() {
    // The rule's operands: square_avg, then grad_avg when centered, then the momentum buffer.
    with_flags(grad_avg.defined(), momentum_buffer.defined(), [&]<bool Centered, bool Momentum>() {
      std::apply([&](const auto&... extra) {
        update_each<T>(RMSpropRule<T, Centered, Momentum>(u), param, grad, square_avg, extra...);
      }, std::tuple_cat(keep_if<Centered>(grad_avg), keep_if<Momentum>(momentum_buffer)));
    });
  });
}

void adagrad_update(const Tensor& param, const Tensor& grad, const Tensor& sum, const cpu::AdagradUpdate& u) {
  dispatch_floating(param.dtype(), "Adagrad",
                    [&]<typename T>() { update_each<T>(AdagradRule<T>(u), param, grad, sum); });
}

}  // namespace tapeflow::cuda_backend
