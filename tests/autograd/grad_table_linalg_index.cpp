// Gradient-check rows for the linear algebra ops (every matmul shape rule) and the index ops
// (duplicate indices accumulate). Second order for all of them: their backwards are built from
// the same recorded ops.
#include "gradcheck.hpp"

namespace tapeflow::testing {
namespace {

using Inputs = std::vector<Tensor>;

// A row for a two-operand product fn(a, b) of fresh leaves of the given shapes.
GradCase product(const char* op, const char* label, Shape sa, Shape sb, Tensor (*fn)(const Tensor&, const Tensor&)) {
  return {op, label, [sa, sb] { return Inputs{leaf(randn64(sa)), leaf(randn64(sb))}; },
          [fn](const Inputs& x) { return fn(x[0], x[1]); }, /*second_order=*/true};
}

Tensor t_matmul(const Tensor& a, const Tensor& b) { return matmul(a, b); }
Tensor t_mm(const Tensor& a, const Tensor& b) { return mm(a, b); }
Tensor t_bmm(const Tensor& a, const Tensor& b) { return bmm(a, b); }
Tensor t_dot(const Tensor& a, const Tensor& b) { return dot(a, b); }
Tensor t_outer(const Tensor& a, const Tensor& b) { return outer(a, b); }

// Constants made inside a row's fn go to the device of its inputs (test_parity_cuda.cpp runs fn
// on GPU inputs).
Tensor idx(std::vector<std::int64_t> v, Shape shape, Device device) { return tensor(v, shape).to(device); }

// A non-leaf copy of a leaf (scatter_add_ cannot write into a leaf that requires grad), made
// with an index op of this family so the row needs no other family.
Tensor copy_rows(const Tensor& x) { return index_select(x, 0, arange(x.size(0)).to(x.device())); }

const RegisterGradCases rows({
    // ---- matmul: every shape rule ----
    product("matmul", "1-D . 1-D", {4}, {4}, t_matmul),
    product("matmul", "1-D . 2-D", {3}, {3, 5}, t_matmul),
    product("matmul", "2-D . 1-D", {4, 3}, {3}, t_matmul),
    product("matmul", "2-D . 2-D", {4, 3}, {3, 5}, t_matmul),
    product("matmul", "batched 3-D . 3-D", {2, 4, 3}, {2, 3, 5}, t_matmul),
    product("matmul", "broadcast 4-D . 3-D", {2, 1, 4, 3}, {3, 3, 5}, t_matmul),
    product("matmul", "broadcast size-1 batch 3-D . 4-D", {1, 4, 3}, {2, 3, 3, 5}, t_matmul),
    product("matmul", "3-D . 2-D (b summed over the batch)", {2, 4, 3}, {3, 5}, t_matmul),
    product("matmul", "2-D . 3-D (a summed over the batch)", {4, 3}, {2, 3, 5}, t_matmul),
    product("matmul", "1-D . 3-D", {3}, {2, 3, 5}, t_matmul),
    product("matmul", "3-D . 1-D", {2, 4, 3}, {3}, t_matmul),
    product("matmul", "zero-size inner dim", {4, 0}, {0, 3}, t_matmul),
    product("matmul", "zero-size inner dim, 3-D . 2-D", {2, 4, 0}, {0, 3}, t_matmul),
    product("matmul", "zero-size batch, 3-D . 2-D", {0, 4, 3}, {3, 2}, t_matmul),
    {"matmul", "transposed leaves",
     [] { return Inputs{leaf(randn64({3, 4}).t()), leaf(randn64({5, 3}).t())}; },
     [](const Inputs& x) { return matmul(x[0], x[1]); }, true},
    {"matmul", "batched transposed leaves",
     [] { return Inputs{leaf(randn64({2, 3, 4}).transpose(1, 2)), leaf(randn64({5, 3}).t())}; },
     [](const Inputs& x) { return matmul(x[0], x[1]); }, true},
    {"matmul", "only b requires grad",
     [] { return Inputs{randn64({4, 3}), leaf(randn64({3, 2}))}; },
     [](const Inputs& x) { return matmul(x[0], x[1]); }, true},
    {"matmul", "same leaf twice (x @ x)",
     [] { return Inputs{leaf(randn64({3, 3}))}; },
     [](const Inputs& x) { return matmul(x[0], x[0]); }, true},
    {"matmul", "chained x @ W1 @ W2",
     [] { return Inputs{leaf(randn64({4, 3})), leaf(randn64({3, 5})), leaf(randn64({5, 2}))}; },
     [](const Inputs& x) { return matmul(matmul(x[0], x[1]), x[2]); }, true},

    // ---- mm, bmm, dot, outer ----
    product("mm", "2-D . 2-D", {4, 3}, {3, 5}, t_mm),
    {"mm", "transposed leaves",
     [] { return Inputs{leaf(randn64({3, 4}).t()), leaf(randn64({5, 3}).t())}; },
     [](const Inputs& x) { return mm(x[0], x[1]); }, true},
    {"mm", "only a requires grad",
     [] { return Inputs{leaf(randn64({4, 3})), randn64({3, 2})}; },
     [](const Inputs& x) { return mm(x[0], x[1]); }, true},
    product("bmm", "batched", {2, 4, 3}, {2, 3, 5}, t_bmm),
    {"bmm", "transposed batch leaves",
     [] { return Inputs{leaf(randn64({2, 3, 4}).transpose(1, 2)), leaf(randn64({3, 2, 5}).transpose(0, 1))}; },
     [](const Inputs& x) { return bmm(x[0], x[1]); }, true},
    product("dot", "1-D . 1-D", {5}, {5}, t_dot),
    {"dot", "strided leaf",
     [] { return Inputs{leaf(randn64({5, 2}).select(1, 1)), leaf(randn64({5}))}; },
     [](const Inputs& x) { return dot(x[0], x[1]); }, true},
    product("outer", "1-D x 1-D", {4}, {3}, t_outer),
    {"outer", "int64 and float64 operands (promoted)",
     [] { return Inputs{tensor({3, -1, 0, 2}), leaf(randn64({3}))}; },
     [](const Inputs& x) { return outer(x[0], x[1]); }, true},

    // ---- addmm ----
    {"addmm", "broadcast bias (m), beta 0.5, alpha 2",
     [] { return Inputs{leaf(randn64({5})), leaf(randn64({4, 3})), leaf(randn64({3, 5}))}; },
     [](const Inputs& x) { return addmm(x[0], x[1], x[2], 0.5, 2.0); }, true},
    {"addmm", "column bias (n, 1)",
     [] { return Inputs{leaf(randn64({4, 1})), leaf(randn64({4, 3})), leaf(randn64({3, 5}))}; },
     [](const Inputs& x) { return addmm(x[0], x[1], x[2]); }, true},
    {"addmm", "full bias, transposed operands",
     [] { return Inputs{leaf(randn64({4, 5})), leaf(randn64({3, 4}).t()), leaf(randn64({5, 3}).t())}; },
     [](const Inputs& x) { return addmm(x[0], x[1], x[2], -1.5, 0.25); }, true},
    {"addmm", "0-D bias",
     [] { return Inputs{leaf(randn64({})), leaf(randn64({4, 3})), leaf(randn64({3, 5}))}; },
     [](const Inputs& x) { return addmm(x[0], x[1], x[2], 3.0, 1.0); }, true},
    {"addmm", "beta 0 ignores the bias",
     [] { return Inputs{leaf(randn64({5})), leaf(randn64({4, 3})), leaf(randn64({3, 5}))}; },
     [](const Inputs& x) { return addmm(x[0], x[1], x[2], 0.0, 1.0); }, true},

    // ---- index ops (duplicate indices accumulate) ----
    {"index_select", "dim 0, duplicate indices",
     [] { return Inputs{leaf(randn64({5, 3}))}; },
     [](const Inputs& x) { return index_select(x[0], 0, idx({0, 2, 2, 4, 0, 2}, {6}, x[0].device())); }, true},
    {"index_select", "dim 1, negative and int32 indices, transposed leaf",
     [] { return Inputs{leaf(randn64({4, 3}).t())}; },
     [](const Inputs& x) { return index_select(x[0], 1, idx({-1, 1, 3, -1}, {4}, x[0].device()).to(kInt32)); }, true},
    {"index_select", "0-D index",
     [] { return Inputs{leaf(randn64({3, 4}))}; },
     [](const Inputs& x) {
       return index_select(x[0], 1, scalar_tensor(2, TensorOptions(kInt64).device(x[0].device())));
     },
     true},
    {"gather", "dim 1, duplicates, index wider than x",
     [] { return Inputs{leaf(randn64({3, 4}))}; },
     [](const Inputs& x) {
       return gather(x[0], 1, idx({0, 3, 3, 1, 0, 2, 2, 2, 1, 0, 0, 3, 1, 2, 3}, {3, 5}, x[0].device()));
     },
     true},
    {"gather", "dim 0, index smaller than x, transposed leaf",
     [] { return Inputs{leaf(randn64({4, 3}).t())}; },
     [](const Inputs& x) { return gather(x[0], 0, idx({2, 0, 0, 1, 2, 2}, {2, 3}, x[0].device())); }, true},
    {"scatter_add", "duplicates, both differentiable",
     [] { return Inputs{leaf(randn64({4, 3})), leaf(randn64({3, 3}))}; },
     [](const Inputs& x) {
       return scatter_add(x[0], 0, idx({0, 3, 3, 3, 1, 0, 0, 3, 2}, {3, 3}, x[0].device()), x[1]);
     },
     true},
    {"scatter_add", "src larger than index, dim 1",
     [] { return Inputs{leaf(randn64({3, 4})), leaf(randn64({3, 5}))}; },
     [](const Inputs& x) { return scatter_add(x[0], 1, idx({1, 1, 3, 0, 2, 2}, {2, 3}, x[0].device()), x[1]); }, true},
    {"scatter_add_", "in place on a non-leaf, duplicates",
     [] { return Inputs{leaf(randn64({4, 3})), leaf(randn64({2, 3}))}; },
     [](const Inputs& x) {
       Tensor y = copy_rows(x[0]);
       scatter_add_(y, 0, idx({1, 1, 0, 1, 3, 0}, {2, 3}, y.device()), x[1]);
       return y;
     },
     true},
    {"masked_select", "same shape",
     [] { return Inputs{leaf(randn64({3, 4}))}; },
     [](const Inputs& x) {
       const Tensor mask = tensor({{true, false, true, true}, {false, false, false, true}, {true, true, false, false}});
       return masked_select(x[0], mask.to(x[0].device()));
     },
     true},
    {"masked_select", "broadcast mask",
     [] { return Inputs{leaf(randn64({3, 4}))}; },
     [](const Inputs& x) { return masked_select(x[0], tensor({false, true, true, false}).to(x[0].device())); }, true},
    {"masked_select", "broadcast x (gradient summed)",
     [] { return Inputs{leaf(randn64({4}))}; },
     [](const Inputs& x) {
       const Tensor mask = tensor({{true, false, true, true}, {false, true, false, true}, {true, true, false, false}});
       return masked_select(x[0], mask.to(x[0].device()));
     },
     true},
});

}  // namespace
}  // namespace tapeflow::testing
