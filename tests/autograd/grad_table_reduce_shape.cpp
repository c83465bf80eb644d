// Gradient-check rows for reductions (lib/ops/reduce.cpp), shape ops (lib/ops/shape.cpp) and
// the copies to/clone (lib/core/tensor.cpp). Reductions and views are also checked at second
// order; views through a square (y * y) so that their backward's own backward is exercised.
#include <limits>

#include "gradcheck.hpp"

namespace tapeflow::testing {
namespace {

using Inputs = std::vector<Tensor>;
using Fn = std::function<Tensor(const Tensor&)>;

// A one-input row: x -> f(x), with x made by `make`.
GradCase unary(const char* op, const char* label, std::function<Tensor()> make, Fn f, bool second = true,
               double atol = 1e-6, double rtol = 1e-5) {
  return {op, label, [make] { return Inputs{make()}; },
          [f](const Inputs& x) { return f(x[0]); }, second, atol, rtol};
}

std::function<Tensor()> normal(Shape s) { return [s] { return leaf(randn64(s)); }; }
// Non-contiguous leaves: a transposed matrix, and a permuted 3-D tensor.
std::function<Tensor()> transposed(Shape s) { return [s] { return leaf(randn64({s[1], s[0]}).t()); }; }
std::function<Tensor()> permuted3(Shape s) { return [s] { return leaf(randn64({s[2], s[0], s[1]}).permute({1, 2, 0})); }; }
// Values in +-[0.5, 2] with random signs, away from zero.
std::function<Tensor()> signed_away_from_zero(Shape s) {
  return [s] {
    Tensor mag = uniform64(s, 0.5, 2.0);
    Tensor sgn = where(randn64(s) > 0, ones(s, kFloat64), -1.0);
    return leaf(mag * sgn);
  };
}
// Given values (float64 leaf) with a shape.
std::function<Tensor()> values(std::vector<double> v, Shape s) {
  return [v, s] { return leaf(tensor(v, s, kFloat64)); };
}

// Rows of a view op: plain, and squared so second order passes through the view's backward.
void view_rows(std::vector<GradCase>& rows, const char* op, const char* label, std::function<Tensor()> make, Fn f) {
  rows.push_back(unary(op, label, make, f));
  rows.push_back(unary(op, (std::string(label) + ", squared").c_str(), make, [f](const Tensor& x) {
    Tensor y = f(x);
    return y * y;
  }));
}

std::vector<GradCase> reduce_rows() {
  std::vector<GradCase> r;
  // sum / mean
  r.push_back(unary("sum", "all", normal({3, 4}), [](const Tensor& x) { return x.sum() * x.sum(); }));
  r.push_back(unary("sum", "dim 1", normal({3, 4}), [](const Tensor& x) { return x.sum({1}); }));
  r.push_back(unary("sum", "dims {0, 2} keepdim, permuted leaf", permuted3({2, 3, 4}),
                    [](const Tensor& x) { return square(x.sum({0, 2}, true)); }));
  r.push_back(unary("sum", "dim -1, transposed leaf", transposed({3, 5}), [](const Tensor& x) { return x.sum({-1}); }));
  r.push_back(unary("sum", "0-d input", normal({}), [](const Tensor& x) { return x.sum() * x; }));
  r.push_back(unary("mean", "all", normal({3, 4}), [](const Tensor& x) { return square(x.mean()); }));
  r.push_back(unary("mean", "dim 0 keepdim", normal({3, 4}), [](const Tensor& x) { return x.mean({0}, true); }));
  r.push_back(unary("mean", "dims {-1, 0}, permuted leaf", permuted3({2, 3, 4}),
                    [](const Tensor& x) { return square(x.mean({-1, 0})); }));
  // prod
  r.push_back(unary("prod", "all, no zeros", signed_away_from_zero({2, 3}), [](const Tensor& x) { return x.prod(); }));
  r.push_back(unary("prod", "dim 1, no zeros", signed_away_from_zero({3, 4}), [](const Tensor& x) { return x.prod(1); }));
  r.push_back(unary("prod", "dim 0 keepdim, transposed leaf", [] {
    return leaf(uniform64({4, 3}, 0.5, 1.5).t());
  }, [](const Tensor& x) { return x.prod(0, true); }));
  r.push_back(unary("prod", "all, a single zero", values({1.5, 0.0, -2.0, 0.7, 1.2, -0.9}, {2, 3}),
                    [](const Tensor& x) { return x.prod(); }));
  r.push_back(unary("prod", "dim 1, one zero in some rows", values({1.5, 0.0, -2.0, 0.7, 1.2, -0.9, 0.0, 2.0, 1.1}, {3, 3}),
                    [](const Tensor& x) { return x.prod(1); }));
  r.push_back(unary("prod", "dim 0, two zeros in a column (first order)",
                    values({0.0, 1.3, 0.0, -0.8, 1.1, 0.6}, {3, 2}), [](const Tensor& x) { return x.prod(0); }, false));
  // extrema (random values: no ties)
  r.push_back(unary("amax", "dim 1", normal({3, 5}), [](const Tensor& x) { return amax(x, {1}); }));
  r.push_back(unary("amax", "all, keepdim", normal({3, 4}), [](const Tensor& x) { return amax(x, {}, true); }));
  r.push_back(unary("amax", "dims {0, 2}, permuted leaf", permuted3({2, 3, 4}),
                    [](const Tensor& x) { return square(amax(x, {0, 2})); }));
  r.push_back(unary("amin", "dim 0 keepdim", normal({4, 3}), [](const Tensor& x) { return amin(x, {0}, true); }));
  r.push_back(unary("amin", "all, transposed leaf", transposed({3, 4}), [](const Tensor& x) { return amin(x); }));
  r.push_back(unary("max", "all", normal({3, 4}), [](const Tensor& x) { return square(x.max()); }));
  r.push_back(unary("max", "dim 1 values", normal({3, 5}), [](const Tensor& x) { return x.max(1).first; }));
  r.push_back(unary("max", "dim 0 keepdim values, transposed leaf", transposed({4, 3}),
                    [](const Tensor& x) { return square(x.max(0, true).first); }));
  r.push_back(unary("max", "dim -1 of 3-D", normal({2, 3, 4}), [](const Tensor& x) { return x.max(-1).first; }));
  r.push_back(unary("min", "all", normal({3, 4}), [](const Tensor& x) { return x.min(); }));
  r.push_back(unary("min", "dim 1 values", normal({3, 5}), [](const Tensor& x) { return square(x.min(1).first); }));
  r.push_back(unary("min", "dim 0 keepdim", normal({4, 2}), [](const Tensor& x) { return x.min(0, true).first; }));
  // var / std
  r.push_back(unary("var", "all", normal({3, 4}), [](const Tensor& x) { return x.var(); }));
  r.push_back(unary("var", "dim 1", normal({3, 5}), [](const Tensor& x) { return x.var({1}); }));
  r.push_back(unary("var", "dims {0, 2} correction 0 keepdim, permuted leaf", permuted3({3, 2, 4}),
                    [](const Tensor& x) { return x.var({0, 2}, 0, true); }));
  r.push_back(unary("std", "all", normal({3, 4}), [](const Tensor& x) { return x.std(); }));
  r.push_back(unary("std", "dim 0, transposed leaf", transposed({4, 3}), [](const Tensor& x) { return x.std({0}); }));
  r.push_back(unary("std", "dim -1 correction 0 keepdim", normal({2, 5}), [](const Tensor& x) { return x.std({-1}, 0, true); }));
  // logsumexp
  r.push_back(unary("logsumexp", "dim 1", normal({3, 4}), [](const Tensor& x) { return x.logsumexp({1}); }));
  r.push_back(unary("logsumexp", "dims {0, 1} keepdim, transposed leaf", transposed({3, 4}),
                    [](const Tensor& x) { return x.logsumexp({0, 1}, true); }));
  r.push_back(unary("logsumexp", "dim 0 of 3-D", normal({3, 2, 2}), [](const Tensor& x) { return x.logsumexp({0}); }));
  // norm
  r.push_back(unary("norm", "p=2 all", normal({3, 4}), [](const Tensor& x) { return x.norm(); }));
  r.push_back(unary("norm", "p=2 dim 1 keepdim, transposed leaf", transposed({3, 4}),
                    [](const Tensor& x) { return x.norm(2, {1}, true); }));
  r.push_back(unary("norm", "p=1 dim 0", signed_away_from_zero({3, 4}), [](const Tensor& x) { return x.norm(1, {0}); }));
  r.push_back(unary("norm", "p=3 dim 1", signed_away_from_zero({3, 4}), [](const Tensor& x) { return x.norm(3, {1}); }));
  r.push_back(unary("norm", "p=1.5 all", signed_away_from_zero({2, 3}), [](const Tensor& x) { return x.norm(1.5); }));
  r.push_back(unary("norm", "p=0.5 dim 1", signed_away_from_zero({2, 3}), [](const Tensor& x) { return x.norm(0.5, {1}); }));
  r.push_back(unary("norm", "p=inf dim 1", normal({3, 4}), [](const Tensor& x) {
    return x.norm(std::numeric_limits<double>::infinity(), {1});
  }));
  r.push_back(unary("norm", "p=0 (zero gradient)", signed_away_from_zero({2, 3}), [](const Tensor& x) { return x.norm(0); }));
  // cumsum
  r.push_back(unary("cumsum", "dim 0", normal({4, 3}), [](const Tensor& x) { return x.cumsum(0); }));
  r.push_back(unary("cumsum", "dim -1, transposed leaf, squared", transposed({3, 5}),
                    [](const Tensor& x) { return square(x.cumsum(-1)); }));
  r.push_back(unary("cumsum", "1-D", normal({6}), [](const Tensor& x) { return cumsum(x, 0); }));
  return r;
}

std::vector<GradCase> shape_rows() {
  std::vector<GradCase> r;
  view_rows(r, "view", "{3,4} -> {2,6}", normal({3, 4}), [](const Tensor& x) { return x.view({2, -1}); });
  view_rows(r, "view", "t() of a vector", normal({5}), [](const Tensor& x) { return x.t(); });
  view_rows(r, "reshape", "a view", normal({2, 3, 2}), [](const Tensor& x) { return x.reshape({6, 2}); });
  view_rows(r, "reshape", "a copy (transposed leaf)", transposed({3, 4}), [](const Tensor& x) { return x.reshape({12}); });
  view_rows(r, "reshape", "flatten(1) of a permuted leaf", permuted3({2, 3, 4}), [](const Tensor& x) { return x.flatten(1); });
  view_rows(r, "transpose", "dims 0, 2", normal({2, 3, 4}), [](const Tensor& x) { return x.transpose(0, 2); });
  view_rows(r, "transpose", "t() of a transposed leaf", transposed({3, 4}), [](const Tensor& x) { return x.t(); });
  view_rows(r, "permute", "{2, 0, 1}", normal({2, 3, 4}), [](const Tensor& x) { return x.permute({2, 0, 1}); });
  view_rows(r, "squeeze", "all", normal({3, 1, 4, 1}), [](const Tensor& x) { return x.squeeze(); });
  view_rows(r, "squeeze", "dim 1", normal({3, 1, 4}), [](const Tensor& x) { return x.squeeze(1); });
  view_rows(r, "unsqueeze", "dim -1 of a transposed leaf", transposed({3, 4}), [](const Tensor& x) { return x.unsqueeze(-1); });
  view_rows(r, "expand", "{3,1} -> {2,3,4}", normal({3, 1}), [](const Tensor& x) { return x.expand({2, 3, 4}); });
  view_rows(r, "expand", "broadcast_to with -1", normal({1, 4}), [](const Tensor& x) { return x.broadcast_to({3, -1}); });
  view_rows(r, "expand", "expand_as", normal({3}), [](const Tensor& x) {
    return x.expand_as(zeros({2, 3}, TensorOptions(kFloat64).device(x.device())));
  });
  view_rows(r, "slice", "step 2", normal({7, 3}), [](const Tensor& x) { return x.slice(0, 1, std::nullopt, 2); });
  view_rows(r, "slice", "negative start, dim 1, transposed leaf", transposed({4, 5}),
            [](const Tensor& x) { return x.slice(1, -3, -1); });
  view_rows(r, "slice", "narrow", normal({3, 6}), [](const Tensor& x) { return x.narrow(1, 2, 3); });
  view_rows(r, "slice", "index with slices, None and Ellipsis", normal({4, 5, 3}),
            [](const Tensor& x) { return x.index({Slice(1, std::nullopt, 2), None, Ellipsis, Slice(0, 2)}); });
  view_rows(r, "select", "dim 1", normal({3, 4}), [](const Tensor& x) { return x.select(1, 2); });
  view_rows(r, "select", "negative index through operator[]", normal({3, 4}), [](const Tensor& x) { return x[-1]; });
  view_rows(r, "select", "index with integers", permuted3({3, 4, 2}), [](const Tensor& x) { return x.index({1, Ellipsis, 0}); });
  // split/chunk/unbind: pieces used with different weights so each lands in its own place.
  view_rows(r, "split", "split into uneven pieces", normal({5, 3}), [](const Tensor& x) {
    auto parts = x.split(2);
    return cat({parts[2] * 3.0, parts[0], parts[1] * -1.0});
  });
  view_rows(r, "split", "chunk along dim 1", normal({2, 6}), [](const Tensor& x) {
    auto parts = x.chunk(3, 1);
    return parts[0] * parts[2] + parts[1];
  });
  view_rows(r, "split", "split by sizes, one piece unused, transposed leaf", transposed({3, 5}), [](const Tensor& x) {
    auto parts = x.split(IntArrayRef{1, 3, 1}, 1);
    return cat({parts[2], parts[0] * parts[2]}, 1);
  });
  view_rows(r, "unbind", "unbind dim 0", normal({3, 4}), [](const Tensor& x) {
    auto rows = x.unbind();
    return rows[0] * rows[1] - rows[2] * 2.0;
  });
  view_rows(r, "unbind", "unbind dim -1 of a permuted leaf, one piece unused", permuted3({2, 3, 3}), [](const Tensor& x) {
    auto parts = x.unbind(-1);
    return parts[0] + parts[2] * 3.0;
  });
  view_rows(r, "clone", "contiguous() of a transposed leaf", transposed({3, 4}), [](const Tensor& x) { return x.contiguous(); });
  view_rows(r, "clone", "clone", normal({2, 3}), [](const Tensor& x) { return x.clone(); });
  // to(float32): small values so that rounding to float32 does not spoil finite differences.
  r.push_back(unary("to", "float64 -> float32 -> float64", [] { return leaf(uniform64({2, 3}, -1e-3, 1e-3)); },
                    [](const Tensor& x) { return x.to(kFloat32).to(kFloat64); }, true, 1e-3, 1e-3));
  // cat and stack (stack is unsqueeze + cat)
  r.push_back({"cat", "dim 0, three inputs", [] { return Inputs{leaf(randn64({2, 3})), leaf(randn64({1, 3})), leaf(randn64({3, 3}))}; },
               [](const Inputs& x) { return cat({x[0], x[1], x[2]}, 0); }, true});
  r.push_back({"cat", "dim 1, transposed leaf, one constant, squared",
               [] { return Inputs{leaf(randn64({3, 2}).t()), randn64({2, 4}), leaf(randn64({2, 1}))}; },
               [](const Inputs& x) { return square(cat({x[0], x[1], x[2]}, -1)); }, true});
  r.push_back({"cat", "with a skipped 1-D empty input", [] { return Inputs{leaf(randn64({3})), leaf(randn64({0})), leaf(randn64({2}))}; },
               [](const Inputs& x) { return cat({x[0], x[1], x[2]}); }, true});
  r.push_back({"cat", "stack along dim 1, squared", [] { return Inputs{leaf(randn64({2, 3})), leaf(randn64({3, 2}).t())}; },
               [](const Inputs& x) { return square(stack({x[0], x[1]}, 1)); }, true});
  // slice_backward is the backward of slice/select: differentiate a gradient with respect to
  // the incoming gradient (its own backward slices again).
  r.push_back({"slice_backward", "gradient of a strided slice, as a function of the output gradient",
               [] { return Inputs{leaf(randn64({2, 3}))}; },
               [](const Inputs& in) {
                 EnableGradGuard on;
                 Tensor x = zeros({2, 6}, TensorOptions(kFloat64).device(in[0].device())).requires_grad_();
                 Tensor y = x.slice(1, 1, std::nullopt, 2);
                 Tensor g = grad({y}, {x}, {in[0]}, std::nullopt, /*create_graph=*/true)[0];
                 return g * g;
               }, true});
  r.push_back({"slice_backward", "gradient of select",
               [] { return Inputs{leaf(randn64({4}))}; },
               [](const Inputs& in) {
                 EnableGradGuard on;
                 Tensor x = zeros({3, 4}, TensorOptions(kFloat64).device(in[0].device())).requires_grad_();
                 return grad({x[1]}, {x}, {in[0]}, std::nullopt, /*create_graph=*/true)[0];
               }, true});
  return r;
}

const RegisterGradCases reduce_cases(reduce_rows());
const RegisterGradCases shape_cases(shape_rows());

}  // namespace
}  // namespace tapeflow::testing
