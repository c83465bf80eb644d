// The recording side of custom autograd functions (autograd_function.hpp).
#include "autograd/tape.hpp"
#include "tapeflow/autograd_function.hpp"
#include "tapeflow/creation.hpp"

namespace tapeflow::autograd::detail {

bool is_tracked(const Tensor& t) { return tracked(t); }

void record_function(const char* name, std::vector<Tensor> inputs, const std::vector<Tensor>& outputs,
                     std::function<std::vector<Tensor>(const std::vector<Tensor>&)> backward,
                     const std::vector<Tensor>& saved) {
  const std::size_t n_inputs = inputs.size();
  record_custom(name, std::move(inputs), outputs,
         [backward = std::move(backward), n_inputs](const BackwardArgs& a) {
           std::vector<Tensor> grads(a.grad_outputs.size());
           for (std::size_t i = 0; i < grads.size(); ++i) grads[i] = a.grad(i);  // zeros where none arrived
           Grads result = backward(grads);
           if (result.size() != n_inputs)
             fail<Error>("Function", "backward returned ", result.size(), " gradients for ", n_inputs,
                         " tensor inputs");
           return result;
         },
         saved);
}

}  // namespace tapeflow::autograd::detail
