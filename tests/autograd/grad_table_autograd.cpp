// Gradient-check rows for the autograd layer's own ops (checkpoint).
#include "gradcheck.hpp"

namespace tapeflow::testing {
namespace {

// d/dx x^3 = 3x^2, as a custom function so this row does not depend on other families.
struct CubeFn : Function<CubeFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, const std::vector<Tensor>& g) {
    const Tensor& x = ctx->get_saved_variables()[0];
    return {g[0] * x * x * 3.0};
  }
};

const RegisterGradCases rows({
    {"checkpoint", "segment replayed in backward",
     [] { return std::vector<Tensor>{leaf(randn64({3, 4}))}; },
     [](const std::vector<Tensor>& x) {
       return checkpoint([](const std::vector<Tensor>& in) { return std::vector<Tensor>{CubeFn::apply(in[0])}; }, x)[0];
     }},
});

}  // namespace
}  // namespace tapeflow::testing
