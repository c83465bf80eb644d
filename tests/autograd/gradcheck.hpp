#pragma once
// Gradient checking against central finite differences in float64, and the table of cases:
// each op family registers its rows from its own file (grad_table_<family>.cpp) with
//   static const tapeflow::testing::RegisterGradCases rows({ {...}, {...} });
// test_gradcheck.cpp runs every row and fails when a registered differentiable op has no row.
#include <functional>
#include <string>
#include <vector>

#include "tapeflow/tapeflow.hpp"

namespace tapeflow::testing {

struct GradCase {
  std::string op;     // the registered op name this row covers (autograd::differentiable_ops())
  std::string label;  // what is special about it ("broadcast", "transposed input", ...)
  // Fresh float64 inputs; those with requires_grad() are differentiated. Make non-contiguous
  // leaves with e.g. `auto x = randn({3, 4}, kFloat64).t(); x.requires_grad_(true);`.
  std::function<std::vector<Tensor>()> inputs;
  // fn also runs on inputs moved to a GPU (device_parity): any tensor it makes itself (indices,
  // masks, targets, weights, zeros...) goes on the device of its inputs, e.g.
  // `tensor(v, shape).to(x.device())` or `zeros(s, TensorOptions(kFloat64).device(x.device()))`.
  std::function<Tensor(const std::vector<Tensor>&)> fn;
  bool second_order = false;  // also check the gradient of the gradient
  double atol = 1e-6;
  double rtol = 1e-5;
};

std::vector<GradCase>& grad_cases();

struct RegisterGradCases {
  RegisterGradCases(std::vector<GradCase> cases);
};

// Helpers for inputs.
Tensor leaf(Tensor t);                                 // t.requires_grad_(true)
Tensor randn64(IntArrayRef shape, double scale = 1.0);  // N(0, scale^2), float64
Tensor uniform64(IntArrayRef shape, double lo, double hi);

// Checks d(sum(fn(x) * v))/dx against finite differences for a fixed random v. Returns "" when
// they agree, else a report of the worst element.
std::string gradcheck(const GradCase& c);
// Checks the gradient of x -> sum_i <dL/dx_i, u_i> (built with create_graph) the same way.
std::string gradgradcheck(const GradCase& c);

// Runs c on the CPU and again with its inputs moved to `device` (new leaves there, the same
// random streams), and compares the outputs and the gradients of sum(fn(x) * v) with respect to
// every differentiable input: each must be on `device`, with the CPU's shape and dtype, and within
// atol + rtol |cpu| (NaN where the CPU has NaN, the same infinities). Returns "" when they agree,
// else what differs or what was thrown (and where); it never throws. tests/cuda/test_parity_cuda.cpp
// runs it on cuda:0; test_gradcheck.cpp on a second CPU device, so that fn making a tensor on the
// default device fails without a GPU too.
std::string device_parity(const GradCase& c, Device device, double rtol, double atol);

}  // namespace tapeflow::testing
