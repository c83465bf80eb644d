#pragma once
// Custom ops with their own backward, like torch::autograd::Function:
//
//   struct Cube : tapeflow::Function<Cube> {
//     static tapeflow::Tensor forward(tapeflow::AutogradContext* ctx, const tapeflow::Tensor& x) {
//       ctx->save_for_backward({x});
//       return x * x * x;
//     }
//     static std::vector<tapeflow::Tensor> backward(tapeflow::AutogradContext* ctx,
//                                                   const std::vector<tapeflow::Tensor>& grad_outputs) {
//       auto x = ctx->get_saved_variables()[0];
//       return {grad_outputs[0] * 3 * x * x};
//     }
//   };
//   Tensor y = Cube::apply(x);
//
// forward runs with recording off; backward returns one gradient per Tensor argument of forward
// (undefined for those without one) and is recorded when create_graph is on.
#include <any>
#include <functional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "tapeflow/autograd.hpp"

namespace tapeflow {

class AutogradContext {
 public:
  // Tensors backward needs; modifying one in place before backward makes backward throw.
  void save_for_backward(std::vector<Tensor> tensors) { saved_ = std::move(tensors); }
  const std::vector<Tensor>& get_saved_variables() const { return saved_; }
  // Whether input i (counting Tensor arguments of forward) needs a gradient.
  bool needs_input_grad(std::size_t i) const { return i < needs_input_grad_.size() && needs_input_grad_[i]; }
  // Anything else backward needs (sizes, flags, ...).
  std::unordered_map<std::string, std::any> saved_data;

 private:
  template <typename> friend struct Function;
  std::vector<Tensor> saved_;
  std::vector<bool> needs_input_grad_;
};

namespace autograd::detail {
// Records a custom function's entry (implemented in lib/autograd/function.cpp).
void record_function(const char* name, std::vector<Tensor> inputs, const std::vector<Tensor>& outputs,
                     std::function<std::vector<Tensor>(const std::vector<Tensor>&)> backward,
                     const std::vector<Tensor>& saved);
bool is_tracked(const Tensor& t);

inline void collect(std::vector<Tensor>& out, const Tensor& t) { out.push_back(t); }
inline void collect(std::vector<Tensor>& out, const std::vector<Tensor>& ts) { out.insert(out.end(), ts.begin(), ts.end()); }
template <typename T>
void collect(std::vector<Tensor>&, const T&) {}  // non-tensor arguments
}  // namespace autograd::detail

template <typename T>
struct Function {
  template <typename... Args>
  static auto apply(Args&&... args) {
    auto ctx = std::make_shared<AutogradContext>();
    std::vector<Tensor> inputs;
    (autograd::detail::collect(inputs, args), ...);
    for (const Tensor& t : inputs) ctx->needs_input_grad_.push_back(autograd::detail::is_tracked(t));
    using Result = decltype(T::forward(ctx.get(), std::forward<Args>(args)...));
    Result result = [&] {
      NoGradGuard no_grad;
      return T::forward(ctx.get(), std::forward<Args>(args)...);
    }();
    bool record = GradMode::is_enabled();
    if (record) {
      record = false;
      for (bool b : ctx->needs_input_grad_) record = record || b;
    }
    if (record) {
      std::vector<Tensor> outputs;
      if constexpr (std::is_same_v<Result, Tensor>) outputs = {result};
      else outputs = result;
      autograd::detail::record_function(
          typeid(T).name(), inputs, outputs,
          [ctx](const std::vector<Tensor>& grads) { return T::backward(ctx.get(), grads); }, ctx->saved_);
    }
    return result;
  }
};

}  // namespace tapeflow
