// Gradient-check rows for the elementwise ops: broadcasting ((3,1) with (1,4), 0-d operands),
// non-contiguous leaves (transposed, stepped), tensor-scalar forms, ties of maximum/minimum and
// the in-place variants. Second order for every smooth op (their backwards are public ops).
#include "gradcheck.hpp"

namespace tapeflow::testing {
namespace {

using Inputs = std::vector<Tensor>;
using Fn1 = std::function<Tensor(const Tensor&)>;
using Fn2 = std::function<Tensor(const Tensor&, const Tensor&)>;

// Leaves of several layouts (all float64).
Tensor transposed(std::int64_t rows, std::int64_t cols) { return leaf(randn64({cols, rows}).t()); }
Tensor stepped(std::int64_t rows, std::int64_t cols) { return leaf(randn64({rows, 2 * cols}).slice(1, 0, 2 * cols, 2)); }
Tensor positive(IntArrayRef shape) { return leaf(uniform64(shape, 0.5, 2.0)); }
Tensor positive_transposed(std::int64_t rows, std::int64_t cols) { return leaf(uniform64({cols, rows}, 0.5, 2.0).t()); }

// Rows of a one-input op on a contiguous, a transposed and a stepped leaf (values from gen).
std::vector<GradCase> unary_rows(const char* op, Fn1 fn, bool second_order = true, bool positive_only = false) {
  auto call = [fn](const Inputs& x) { return fn(x[0]); };
  if (positive_only)
    return {{op, "contiguous (3,4), positive", [] { return Inputs{positive({3, 4})}; }, call, second_order},
            {op, "transposed, positive", [] { return Inputs{positive_transposed(3, 4)}; }, call, second_order}};
  return {{op, "contiguous (3,4)", [] { return Inputs{leaf(randn64({3, 4}))}; }, call, second_order},
          {op, "transposed (3,4)", [] { return Inputs{transposed(3, 4)}; }, call, second_order},
          {op, "stepped slice (2,3)", [] { return Inputs{stepped(2, 3)}; }, call, second_order}};
}

// Rows of a two-input op: same shapes, (3,1) with (1,4), a 0-d operand, transposed operands.
// In-place ops keep self's shape, so for them only the second operand is broadcast.
std::vector<GradCase> binary_rows(const char* op, Fn2 fn, bool positive_a = false, bool inplace = false) {
  auto call = [fn](const Inputs& x) { return fn(x[0], x[1]); };
  auto a = [positive_a](IntArrayRef s) { return positive_a ? positive(s) : leaf(randn64(s)); };
  std::vector<GradCase> rows{
      {op, "same shape (3,4)", [a] { return Inputs{a({3, 4}), leaf(randn64({3, 4}))}; }, call, true},
      {op, "(3,4) with broadcast (1,4)", [a] { return Inputs{a({3, 4}), leaf(randn64({1, 4}))}; }, call, true},
      {op, "0-d second operand", [a] { return Inputs{a({2, 3}), leaf(randn64({}))}; }, call, true},
      {op, "transposed operands",
       [positive_a] { return Inputs{positive_a ? positive_transposed(3, 4) : transposed(3, 4), transposed(3, 4)}; },
       call, true},
      {op, "only the first requires grad", [a] { return Inputs{a({3, 4}), randn64({1, 4})}; }, call, true},
      {op, "only the second requires grad", [a] { return Inputs{a({3, 4}).detach(), leaf(randn64({3, 4}))}; }, call,
       true}};
  if (!inplace) {
    rows.push_back({op, "broadcast (3,1) with (1,4)", [a] { return Inputs{a({3, 1}), leaf(randn64({1, 4}))}; }, call, true});
    rows.push_back({op, "0-d first operand", [a] { return Inputs{a({}), leaf(randn64({2, 3}))}; }, call, true});
  }
  return rows;
}

// An in-place op applied to a non-leaf copy of x (a leaf cannot be modified in place).
Fn1 inplace(std::function<void(Tensor&)> f) {
  return [f](const Tensor& x) {
    Tensor y = x * 1.0;
    f(y);
    return y;
  };
}
Fn2 inplace2(std::function<void(Tensor&, const Tensor&)> f) {
  return [f](const Tensor& x, const Tensor& o) {
    Tensor y = x * 1.0;
    f(y, o);
    return y;
  };
}

// Exact gelu's derivative as a graph (create_graph), so that its own backward is checked.
Tensor gelu_grad_graph(const Tensor& x0) {
  EnableGradGuard on;  // the finite differences run under NoGradGuard
  Tensor x = x0.requires_grad() ? x0 : x0.detach().requires_grad_(true);
  return grad({gelu(x).sum()}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
}

// relu's gradient for an upstream gradient g, as a graph: linear in g, flat in x.
Tensor relu_grad_graph(const Tensor& g, const Tensor& x0) {
  EnableGradGuard on;
  Tensor x = x0.requires_grad() ? x0 : x0.detach().requires_grad_(true);
  return grad({relu(x)}, {x}, {g}, std::nullopt, /*create_graph=*/true)[0];
}

std::vector<GradCase> all_rows() {
  std::vector<GradCase> rows;
  auto put = [&rows](std::vector<GradCase> r) { rows.insert(rows.end(), r.begin(), r.end()); };

  // ---- binary ----
  put(binary_rows("add", [](const Tensor& a, const Tensor& b) { return a + b; }));
  put(binary_rows("add", [](const Tensor& a, const Tensor& b) { return add(a, b, 0.5); }));
  put(binary_rows("sub", [](const Tensor& a, const Tensor& b) { return a - b; }));
  put(binary_rows("sub", [](const Tensor& a, const Tensor& b) { return sub(a, b, 2.5); }));
  put(binary_rows("mul", [](const Tensor& a, const Tensor& b) { return a * b; }));
  put(binary_rows("div", [](const Tensor& a, const Tensor& b) { return b / (a + 3.0); }));
  put(binary_rows("pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, /*positive_a=*/true));
  put(binary_rows("maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }));
  put(binary_rows("minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }));
  // Ties: central differences see exactly the half/half split.
  for (const char* op : {"maximum", "minimum"})
    rows.push_back({op, "ties split the gradient half/half",
                    [] { return Inputs{leaf(tensor({1.0, 2.0, -3.0, 4.0}, kFloat64)), leaf(tensor({1.0, 0.5, -3.0, 5.0}, kFloat64))}; },
                    [op](const Inputs& x) { return std::string(op) == "maximum" ? maximum(x[0], x[1]) : minimum(x[0], x[1]); },
                    false});
  // Mixed dtypes: a float32 operand's gradient comes back as float32.
  rows.push_back({"mul", "float64 leaf times a float32 constant", [] { return Inputs{leaf(randn64({3, 4})), randn({3, 4})}; },
                  [](const Inputs& x) { return x[0] * x[1]; }, true});

  // ---- tensor-scalar ----
  put(unary_rows("add", [](const Tensor& x) { return x + 1.5; }));
  put(unary_rows("add", [](const Tensor& x) { return add(x, 2, 3); }));
  put(unary_rows("sub", [](const Tensor& x) { return sub(x, 1.5, 2); }));
  put(unary_rows("rsub", [](const Tensor& x) { return 2.0 - x; }));
  put(unary_rows("mul", [](const Tensor& x) { return x * -1.5; }));
  put(unary_rows("div", [](const Tensor& x) { return x / 4; }));
  put(unary_rows("div", [](const Tensor& x) { return 3.0 / x; }, true, true));
  put(unary_rows("pow", [](const Tensor& x) { return pow(x, 3); }));
  put(unary_rows("pow", [](const Tensor& x) { return pow(x, 2); }));
  put(unary_rows("pow", [](const Tensor& x) { return pow(x, 0); }));
  put(unary_rows("pow", [](const Tensor& x) { return pow(x, 0.5); }, true, true));
  put(unary_rows("pow", [](const Tensor& x) { return pow(x, -1.7); }, true, true));
  put(unary_rows("pow", [](const Tensor& x) { return pow(2.5, x); }));
  put(unary_rows("pow", [](const Tensor& x) { return pow(0, x * x + 0.5); }));  // no gradient for base 0

  // ---- unary ----
  put(unary_rows("neg", [](const Tensor& x) { return -x; }));
  put(unary_rows("abs", [](const Tensor& x) { return abs(x); }));
  put(unary_rows("exp", [](const Tensor& x) { return exp(x); }));
  put(unary_rows("log", [](const Tensor& x) { return log(x); }, true, true));
  put(unary_rows("log1p", [](const Tensor& x) { return log1p(x); }, true, true));
  put(unary_rows("expm1", [](const Tensor& x) { return expm1(x); }));
  put(unary_rows("sqrt", [](const Tensor& x) { return sqrt(x); }, true, true));
  put(unary_rows("rsqrt", [](const Tensor& x) { return rsqrt(x); }, true, true));
  put(unary_rows("square", [](const Tensor& x) { return square(x); }));
  put(unary_rows("sin", [](const Tensor& x) { return sin(x); }));
  put(unary_rows("cos", [](const Tensor& x) { return cos(x); }));
  put(unary_rows("tanh", [](const Tensor& x) { return tanh(x); }));
  put(unary_rows("sigmoid", [](const Tensor& x) { return sigmoid(x); }));
  put(unary_rows("relu", [](const Tensor& x) { return relu(x); }));
  put(unary_rows("leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.2); }));
  put(unary_rows("elu", [](const Tensor& x) { return elu(x, 1.3); }));
  put(unary_rows("gelu", [](const Tensor& x) { return gelu(x); }));
  put(unary_rows("gelu", [](const Tensor& x) { return gelu(x, /*tanh_approximation=*/true); }));
  put(unary_rows("gelu_backward", gelu_grad_graph));
  rows.push_back({"relu_backward", "upstream gradient and relu's input both tracked",
                  [] { return Inputs{leaf(randn64({3, 4})), leaf(randn64({3, 4}))}; },
                  [](const Inputs& x) { return relu_grad_graph(x[0], x[1]); }, true});
  rows.push_back({"relu_backward", "transposed upstream gradient",
                  [] { return Inputs{transposed(3, 4), leaf(randn64({3, 4}))}; },
                  [](const Inputs& x) { return relu_grad_graph(x[0], x[1]); }, true});
  put(unary_rows("silu", [](const Tensor& x) { return silu(x); }));
  put(unary_rows("softplus", [](const Tensor& x) { return softplus(x); }));
  put(unary_rows("softplus", [](const Tensor& x) { return softplus(x, 2.0, 1.0); }));  // linear above x = 0.5
  put(unary_rows("clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.7); }));
  put(unary_rows("clamp", [](const Tensor& x) { return clamp(x, std::nullopt, 0.3); }));
  put(unary_rows("clamp", [](const Tensor& x) { return clamp(x, -0.2, std::nullopt); }));
  for (const char* op : {"sign", "floor", "ceil", "round"})
    put(unary_rows(op, [op](const Tensor& x) {
      const std::string o = op;
      const Tensor y = x * 3.0;
      return o == "sign" ? sign(y) : o == "floor" ? floor(y) : o == "ceil" ? ceil(y) : round(y);
    }, /*second_order=*/false));

  // ---- where / masked_fill (the condition and mask get no gradient) ----
  rows.push_back({"where", "broadcast (3,1) and (1,4) under a (3,4) condition",
                  [] { return Inputs{randn64({3, 4}) > 0, leaf(randn64({3, 1})), leaf(randn64({1, 4}))}; },
                  [](const Inputs& x) { return where(x[0], x[1], x[2]); }, true});
  rows.push_back({"where", "transposed operands",
                  [] { return Inputs{randn64({3, 4}) > 0, transposed(3, 4), transposed(3, 4)}; },
                  [](const Inputs& x) { return where(x[0], x[1], x[2]); }, true});
  rows.push_back({"where", "scalar second operand", [] { return Inputs{randn64({3, 4}) > 0, leaf(randn64({3, 4}))}; },
                  [](const Inputs& x) { return where(x[0], x[1], 2.0); }, true});
  rows.push_back({"where", "scalar first operand", [] { return Inputs{randn64({3, 4}) > 0, leaf(randn64({1, 4}))}; },
                  [](const Inputs& x) { return where(x[0], -1.0, x[1]); }, true});
  rows.push_back({"masked_fill", "mask broadcast (1,4)", [] { return Inputs{leaf(randn64({3, 4})), randn64({1, 4}) > 0}; },
                  [](const Inputs& x) { return masked_fill(x[0], x[1], 5.0); }, true});
  rows.push_back({"masked_fill", "input broadcast (1,4) to the mask's (3,4)",
                  [] { return Inputs{transposed(1, 4), randn64({3, 4}) > 0}; },
                  [](const Inputs& x) { return masked_fill(x[0], x[1], -2.0); }, true});

  // ---- in place ----
  put(binary_rows("add_", inplace2([](Tensor& y, const Tensor& o) { y.add_(o, 1.5); }), false, true));
  put(unary_rows("add_", inplace([](Tensor& y) { y.add_(2.0); })));
  put(binary_rows("sub_", inplace2([](Tensor& y, const Tensor& o) { y.sub_(o); }), false, true));
  put(unary_rows("sub_", inplace([](Tensor& y) { y.sub_(2.0); })));
  put(binary_rows("mul_", inplace2([](Tensor& y, const Tensor& o) { y.mul_(o); }), false, true));
  put(unary_rows("mul_", inplace([](Tensor& y) { y.mul_(-3.0); })));
  put(unary_rows("mul_", inplace([](Tensor& y) { y.mul_(y); })));  // the operand is self
  put(binary_rows("div_", inplace2([](Tensor& y, const Tensor& o) { y.div_(o + 3.0); }), false, true));
  put(unary_rows("div_", inplace([](Tensor& y) { y.div_(4.0); })));
  put(unary_rows("div_", inplace([](Tensor& y) { y.add_(3.0).div_(y); })));  // the operand is self: 1
  put(unary_rows("clamp_", inplace([](Tensor& y) { y.clamp_(-0.5, 0.6); })));
  put(unary_rows("relu_", inplace([](Tensor& y) { y.relu_(); })));
  put(unary_rows("neg_", inplace([](Tensor& y) { y.neg_(); })));
  put(unary_rows("exp_", inplace([](Tensor& y) { y.exp_(); })));
  put(unary_rows("sqrt_", inplace([](Tensor& y) { y.sqrt_(); }), true, true));
  rows.push_back({"masked_fill_", "mask broadcast (1,4)", [] { return Inputs{transposed(3, 4), randn64({1, 4}) > 0}; },
                  [](const Inputs& x) {
                    Tensor y = x[0] * 1.0;
                    y.masked_fill_(x[1], 7.0);
                    return y;
                  }, true});
  rows.push_back({"copy_", "broadcast (1,4) source into (3,4); the old values get zeros",
                  [] { return Inputs{leaf(randn64({3, 4})), leaf(randn64({1, 4}))}; },
                  [](const Inputs& x) {
                    Tensor y = x[0] * 2.0;
                    y.copy_(x[1]);
                    return y * x[0];
                  }, true});
  rows.push_back({"copy_", "transposed source", [] { return Inputs{leaf(randn64({3, 4})), transposed(3, 4)}; },
                  [](const Inputs& x) {
                    Tensor y = x[0] * 1.0;
                    y.copy_(x[1]);
                    return y;
                  }, true});
  rows.push_back({"fill_", "fill_ and zero_ cut the gradient to the old values",
                  [] { return Inputs{leaf(randn64({3, 4}))}; },
                  [](const Inputs& x) {
                    Tensor y = x[0] * 1.0, z = x[0] * 1.0;
                    y.fill_(2.0);
                    z.zero_();
                    return y * x[0] + z;
                  }, true});
  // Chains of in-place ops on one tensor.
  rows.push_back({"mul_", "chain y = x * 2; y += 1; y *= w; y.exp_()",
                  [] { return Inputs{leaf(randn64({3, 4}, 0.5)), leaf(randn64({1, 4}, 0.5))}; },
                  [](const Inputs& x) {
                    Tensor y = x[0] * 2;
                    y.add_(1);
                    y.mul_(x[1]);
                    y.exp_();
                    return y;
                  }, true});
  return rows;
}

const RegisterGradCases rows(all_rows());

}  // namespace
}  // namespace tapeflow::testing
