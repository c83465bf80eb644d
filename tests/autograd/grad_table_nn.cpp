// Gradient-check rows for the nn ops: softmax/log_softmax, conv2d (and its two backward ops),
// pooling (and the averages' backward ops), dropout, embedding, layer_norm and batch_norm.
// The backward ops are reached the way autograd reaches them: as the gradient of the forward op,
// taken with create_graph inside fn, so each row checks the backward op's own gradient.
#include <functional>

#include "gradcheck.hpp"

namespace tapeflow::testing {
namespace {

using Inputs = std::vector<Tensor>;

// d<f(x), g>/dx at a fresh leaf x of `shape` (on g's device), recorded (create_graph) so that it
// can be differentiated again with respect to g and whatever f captured. Grad mode is forced on:
// gradcheck evaluates fn under NoGradGuard for its finite differences.
Tensor vjp(IntArrayRef shape, const std::function<Tensor(const Tensor&)>& f, const Tensor& g) {
  EnableGradGuard on;
  Tensor x = leaf(zeros(shape, TensorOptions(kFloat64).device(g.device())));
  return grad({f(x)}, {x}, {g}, std::nullopt, /*create_graph=*/true)[0];
}

struct ConvCfg {
  Shape x, w;
  bool bias;
  Shape stride, padding, dilation;
  std::int64_t groups;
};

Tensor conv(const Tensor& x, const Tensor& w, const Tensor& b, const ConvCfg& c) {
  return conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups);
}

// The output shape of conv2d for c (computed with a no-grad forward pass).
Shape conv_out_shape(const ConvCfg& c) {
  NoGradGuard off;
  return conv(zeros(c.x, kFloat64), zeros(c.w, kFloat64), Tensor(), c).shape();
}

GradCase conv_row(const char* label, ConvCfg c) {
  return {"conv2d", label,
          [c] {
            Inputs in{leaf(randn64(c.x)), leaf(randn64(c.w))};
            if (c.bias) in.push_back(leaf(randn64({c.w[0]})));
            return in;
          },
          [c](const Inputs& in) { return conv(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), c); },
          /*second_order=*/true};
}

// conv2d_backward_input(g, w): inputs w and g.
GradCase conv_input_row(const char* label, ConvCfg c) {
  return {"conv2d_backward_input", label,
          [c] { return Inputs{leaf(randn64(c.w)), leaf(randn64(conv_out_shape(c)))}; },
          [c](const Inputs& in) {
            return vjp(c.x, [&](const Tensor& x) { return conv(x, in[0], Tensor(), c); }, in[1]);
          },
          true};
}

// conv2d_backward_weight(g, x): inputs x and g.
GradCase conv_weight_row(const char* label, ConvCfg c) {
  return {"conv2d_backward_weight", label,
          [c] { return Inputs{leaf(randn64(c.x)), leaf(randn64(conv_out_shape(c)))}; },
          [c](const Inputs& in) {
            return vjp(c.w, [&](const Tensor& w) { return conv(in[0], w, Tensor(), c); }, in[1]);
          },
          true};
}

const ConvCfg kBasic{{2, 3, 5, 5}, {4, 3, 3, 3}, true, {1, 1}, {0, 0}, {1, 1}, 1};
const ConvCfg kStridePad{{2, 2, 6, 5}, {3, 2, 3, 2}, true, {2, 2}, {1, 1}, {1, 1}, 1};
const ConvCfg kDilation{{1, 2, 7, 6}, {2, 2, 2, 3}, false, {1, 1}, {1, 0}, {2, 2}, 1};
const ConvCfg kGroups{{2, 4, 5, 4}, {6, 2, 3, 3}, true, {1, 2}, {1, 1}, {1, 1}, 2};
const ConvCfg kMixed{{1, 4, 7, 7}, {4, 2, 3, 2}, true, {2, 1}, {0, 1}, {2, 1}, 2};
const ConvCfg kPointwise{{2, 3, 3, 4}, {5, 3, 1, 1}, true, {1, 1}, {0, 0}, {1, 1}, 1};
const ConvCfg kPointwiseStride{{1, 2, 5, 5}, {2, 2, 1, 1}, false, {2, 2}, {0, 0}, {1, 1}, 1};

// Constants made inside a row's fn go to the device of its inputs (test_parity_cuda.cpp runs fn
// on GPU inputs).
Tensor idx(std::vector<std::int64_t> v, Shape shape, Device device) { return tensor(v, shape).to(device); }

GradCase softmax_row(const char* op, const char* label, std::function<Tensor()> make, std::int64_t dim) {
  const bool log = std::string(op) == "log_softmax";
  return {op, label, [make] { return Inputs{leaf(make())}; },
          [log, dim](const Inputs& in) { return log ? log_softmax(in[0], dim) : softmax(in[0], dim); }, true};
}

// A pooling row: fn of one leaf of shape s (or a non-contiguous one).
GradCase pool_row(const char* op, const char* label, std::function<Tensor()> make,
                  std::function<Tensor(const Tensor&)> fn) {
  return {op, label, [make] { return Inputs{leaf(make())}; }, [fn](const Inputs& in) { return fn(in[0]); }, true};
}

// The gradient of a pooling fn at a fresh input of shape s, as a function of the output grad.
GradCase pool_backward_row(const char* op, const char* label, Shape s, std::function<Tensor(const Tensor&)> fn) {
  return {op, label,
          [s, fn] {
            Shape out;
            {
              NoGradGuard off;
              out = fn(zeros(s, kFloat64)).shape();
            }
            return Inputs{leaf(randn64(out))};
          },
          [s, fn](const Inputs& in) { return vjp(s, fn, in[0]); }, true};
}

// max pooling's gradient at a fixed random input x (no ties), as a function of the output grad.
GradCase max_pool_backward_row(const char* label, Shape s, std::function<Tensor(const Tensor&)> fn) {
  return {"max_pool2d_backward", label,
          [s, fn] {
            Tensor x = randn64(s), out;
            {
              NoGradGuard off;
              out = fn(x);
            }
            return Inputs{x, leaf(randn64(out.shape()))};
          },
          [fn](const Inputs& in) {
            EnableGradGuard on;
            Tensor x = in[0].detach().requires_grad_(true);
            return grad({fn(x)}, {x}, {in[1]}, std::nullopt, /*create_graph=*/true)[0];
          },
          true};
}

Tensor dropout_fixed(const Tensor& x, double p) {
  manual_seed(7);  // the same mask at every evaluation
  return dropout(x, p, true);
}

const RegisterGradCases rows({
    // ---- softmax / log_softmax ----
    softmax_row("softmax", "last dim", [] { return randn64({3, 5}); }, -1),
    softmax_row("softmax", "middle dim of 3-D", [] { return randn64({2, 4, 3}); }, 1),
    softmax_row("softmax", "dim 0, transposed input", [] { return randn64({4, 3}).t(); }, 0),
    softmax_row("softmax", "1-D", [] { return randn64({6}); }, 0),
    softmax_row("softmax", "0-D", [] { return randn64({}); }, 0),
    softmax_row("log_softmax", "last dim", [] { return randn64({3, 5}); }, -1),
    softmax_row("log_softmax", "middle dim of 3-D", [] { return randn64({2, 4, 3}); }, 1),
    softmax_row("log_softmax", "dim 1, transposed input", [] { return randn64({4, 3}).t(); }, 1),
    softmax_row("log_softmax", "large logits", [] { return randn64({2, 5}, 30.0); }, 1),

    // ---- conv2d and its backward ops ----
    conv_row("3x3, bias", kBasic),
    conv_row("stride 2, padding 1, 3x2 kernel", kStridePad),
    conv_row("dilation 2, no bias", kDilation),
    conv_row("groups 2, stride (1, 2)", kGroups),
    conv_row("groups 2, stride (2, 1), padding (0, 1), dilation (2, 1)", kMixed),
    conv_row("1x1 kernel (pointwise fast path)", kPointwise),
    conv_row("1x1 kernel, stride 2", kPointwiseStride),
    {"conv2d", "through conv1d: stride 2, padding 1, dilation 2, groups 2, bias",
     [] { return Inputs{leaf(randn64({2, 4, 9})), leaf(randn64({6, 2, 3})), leaf(randn64({6}))}; },
     [](const Inputs& in) { return conv1d(in[0], in[1], in[2], 2, 1, 2, 2); }, true},
    {"conv2d", "non-contiguous input and weight",
     [] {
       return Inputs{leaf(randn64({2, 5, 5, 3}).permute({0, 3, 1, 2})), leaf(randn64({3, 3, 2, 4}).transpose(0, 3)),
                     leaf(randn64({4}))};
     },
     [](const Inputs& in) { return conv2d(in[0], in[1], in[2], {1, 1}, {1, 1}); }, true},
    {"conv2d", "unbatched 3-D input",
     [] { return Inputs{leaf(randn64({2, 4, 4})), leaf(randn64({3, 2, 2, 2})), leaf(randn64({3}))}; },
     [](const Inputs& in) { return conv2d(in[0], in[1], in[2], {2, 2}, {1, 1}); }, true},
    {"conv2d", "only the weight requires grad",
     [] { return Inputs{randn64({1, 2, 4, 4}), leaf(randn64({2, 2, 3, 3}))}; },
     [](const Inputs& in) { return conv2d(in[0], in[1]); }, true},
    conv_input_row("3x3", kBasic),
    conv_input_row("stride 2, padding 1", kStridePad),
    conv_input_row("dilation 2", kDilation),
    conv_input_row("groups 2", kGroups),
    conv_input_row("groups 2, mixed options", kMixed),
    conv_input_row("1x1 kernel", kPointwise),
    conv_weight_row("3x3", kBasic),
    conv_weight_row("stride 2, padding 1", kStridePad),
    conv_weight_row("dilation 2", kDilation),
    conv_weight_row("groups 2", kGroups),
    conv_weight_row("groups 2, mixed options", kMixed),
    conv_weight_row("1x1 kernel", kPointwise),

    // ---- max pooling (inputs from randn: no ties) ----
    pool_row("max_pool2d", "2x2", [] { return randn64({2, 3, 4, 6}); },
             [](const Tensor& x) { return max_pool2d(x, {2}); }),
    pool_row("max_pool2d", "3x3, stride 2, padding 1", [] { return randn64({1, 2, 7, 6}); },
             [](const Tensor& x) { return max_pool2d(x, {3}, {2}, {1}); }),
    pool_row("max_pool2d", "dilation 2", [] { return randn64({1, 2, 7, 7}); },
             [](const Tensor& x) { return max_pool2d(x, {2, 3}, {1, 2}, {0}, {2}); }),
    pool_row("max_pool2d", "ceil_mode", [] { return randn64({1, 2, 5, 7}); },
             [](const Tensor& x) { return max_pool2d(x, {2}, {2}, {0}, {1}, true); }),
    pool_row("max_pool2d", "overlapping windows, non-contiguous input",
             [] { return randn64({2, 6, 5, 3}).permute({0, 3, 1, 2}); },
             [](const Tensor& x) { return max_pool2d(x, {3}, {1}); }),
    pool_row("max_pool2d", "unbatched 3-D input", [] { return randn64({2, 4, 4}); },
             [](const Tensor& x) { return max_pool2d(x, {2}); }),
    pool_row("max_pool2d", "max_pool2d_with_indices values", [] { return randn64({2, 2, 5, 5}); },
             [](const Tensor& x) { return max_pool2d_with_indices(x, {3}, {2}, {1}).first; }),

    max_pool_backward_row("2x2", {2, 3, 4, 6}, [](const Tensor& x) { return max_pool2d(x, {2}); }),
    max_pool_backward_row("3x3, stride 1 (overlapping windows share an argmax)", {1, 2, 5, 5},
                          [](const Tensor& x) { return max_pool2d(x, {3}, {1}); }),
    max_pool_backward_row("3x3, stride 2, padding 1", {1, 2, 7, 6},
                          [](const Tensor& x) { return max_pool2d(x, {3}, {2}, {1}); }),

    // ---- average pooling ----
    pool_row("avg_pool2d", "2x2", [] { return randn64({2, 3, 4, 6}); },
             [](const Tensor& x) { return avg_pool2d(x, {2}); }),
    pool_row("avg_pool2d", "3x3, stride 2, padding 1 (count_include_pad)", [] { return randn64({1, 2, 7, 6}); },
             [](const Tensor& x) { return avg_pool2d(x, {3}, {2}, {1}); }),
    pool_row("avg_pool2d", "padding 1, count_include_pad false", [] { return randn64({1, 2, 5, 6}); },
             [](const Tensor& x) { return avg_pool2d(x, {3}, {2}, {1}, false, false); }),
    pool_row("avg_pool2d", "ceil_mode, padding (1, 0)", [] { return randn64({1, 2, 6, 7}); },
             [](const Tensor& x) { return avg_pool2d(x, {3, 2}, {2}, {1, 0}, true); }),
    pool_row("avg_pool2d", "ceil_mode, count_include_pad false", [] { return randn64({2, 1, 5, 5}); },
             [](const Tensor& x) { return avg_pool2d(x, {2}, {2}, {1}, true, false); }),
    pool_row("avg_pool2d", "non-contiguous, unbatched", [] { return randn64({5, 4, 3}).permute({2, 0, 1}); },
             [](const Tensor& x) { return avg_pool2d(x, {2}, {1}); }),
    pool_backward_row("avg_pool2d_backward", "2x2", {2, 3, 4, 6}, [](const Tensor& x) { return avg_pool2d(x, {2}); }),
    pool_backward_row("avg_pool2d_backward", "3x3, stride 2, padding 1, ceil_mode", {1, 2, 6, 7},
                      [](const Tensor& x) { return avg_pool2d(x, {3}, {2}, {1}, true); }),
    pool_backward_row("avg_pool2d_backward", "count_include_pad false", {1, 2, 5, 6},
                      [](const Tensor& x) { return avg_pool2d(x, {3}, {2}, {1}, false, false); }),
    pool_row("adaptive_avg_pool2d", "5x7 -> 3x2 (uneven windows)", [] { return randn64({2, 2, 5, 7}); },
             [](const Tensor& x) { return adaptive_avg_pool2d(x, {3, 2}); }),
    pool_row("adaptive_avg_pool2d", "global (1, 1)", [] { return randn64({2, 3, 4, 3}); },
             [](const Tensor& x) { return adaptive_avg_pool2d(x, {1}); }),
    pool_row("adaptive_avg_pool2d", "upsampling 3x3 -> 5x4, non-contiguous",
             [] { return randn64({3, 3, 2}).permute({2, 0, 1}); },
             [](const Tensor& x) { return adaptive_avg_pool2d(x, {5, 4}); }),
    pool_backward_row("adaptive_avg_pool2d_backward", "5x7 -> 3x2", {2, 2, 5, 7},
                      [](const Tensor& x) { return adaptive_avg_pool2d(x, {3, 2}); }),
    pool_backward_row("adaptive_avg_pool2d_backward", "3x3 -> 5x4", {1, 2, 3, 3},
                      [](const Tensor& x) { return adaptive_avg_pool2d(x, {5, 4}); }),

    // ---- dropout (the mask fixed by seeding inside fn) ----
    {"dropout", "p = 0.3", [] { return Inputs{leaf(randn64({4, 5}))}; },
     [](const Inputs& in) { return dropout_fixed(in[0], 0.3); }, true},
    {"dropout", "p = 0.5, transposed input", [] { return Inputs{leaf(randn64({5, 4}).t())}; },
     [](const Inputs& in) { return dropout_fixed(in[0], 0.5); }, true},
    {"dropout", "p = 0 (identity)", [] { return Inputs{leaf(randn64({3, 3}))}; },
     [](const Inputs& in) { return dropout_fixed(in[0], 0.0); }, true},
    {"dropout", "p = 1 (all dropped)", [] { return Inputs{leaf(randn64({3, 3}))}; },
     [](const Inputs& in) { return dropout_fixed(in[0], 1.0); }, true},

    // ---- embedding (repeated indices accumulate) ----
    {"embedding", "2-D indices with repeats", [] { return Inputs{leaf(randn64({6, 4}))}; },
     [](const Inputs& in) { return embedding(in[0], idx({1, 3, 3, 0, 5, 1}, {2, 3}, in[0].device())); }, true},
    {"embedding", "transposed weight, int32 indices", [] { return Inputs{leaf(randn64({3, 5}).t())}; },
     [](const Inputs& in) { return embedding(in[0], idx({4, 4, 4, 2}, {4}, in[0].device()).to(kInt32)); }, true},
    {"embedding", "0-D index", [] { return Inputs{leaf(randn64({4, 3}))}; },
     [](const Inputs& in) { return embedding(in[0], idx({2}, {}, in[0].device())); }, true},
    // The padding row gets no gradient by design (not the derivative finite differences see), so
    // it is held constant here; the other rows' gradients must be unaffected by the masking.
    {"embedding", "padding_idx (negative) looked up, padding row constant",
     [] { return Inputs{leaf(randn64({4, 3}))}; },
     [](const Inputs& in) {
       const Tensor w = cat({in[0], full({1, 3}, 0.5, TensorOptions(kFloat64).device(in[0].device()))});
       return embedding(w, idx({4, 1, 4, 0, 3, 1}, {2, 3}, w.device()), -1);
     },
     true},

    // embedding's backward op, as a function of the upstream gradient (its own gradient is a
    // lookup); repeated indices accumulate, padding rows stay zero.
    {"embedding_backward", "gradient of the weight, repeats", [] { return Inputs{leaf(randn64({2, 3, 4}))}; },
     [](const Inputs& in) {
       return vjp({6, 4}, [](const Tensor& w) { return embedding(w, idx({1, 3, 3, 0, 5, 1}, {2, 3}, w.device())); },
                  in[0]);
     },
     true},
    {"embedding_backward", "padding_idx", [] { return Inputs{leaf(randn64({5, 3}))}; },
     [](const Inputs& in) {
       return vjp({4, 3}, [](const Tensor& w) { return embedding(w, idx({2, 0, 2, 3, 1}, {5}, w.device()), 2); },
                  in[0]);
     },
     true},

    // ---- layer_norm ----
    {"layer_norm", "last dim, weight and bias",
     [] { return Inputs{leaf(randn64({3, 4, 5})), leaf(randn64({5})), leaf(randn64({5}))}; },
     [](const Inputs& in) { return layer_norm(in[0], {5}, in[1], in[2]); }, true},
    {"layer_norm", "two dims, no affine", [] { return Inputs{leaf(randn64({3, 4, 5}))}; },
     [](const Inputs& in) { return layer_norm(in[0], {4, 5}); }, true},
    {"layer_norm", "all dims, weight only, non-contiguous",
     [] { return Inputs{leaf(randn64({5, 3}).t()), leaf(randn64({3, 5}))}; },
     [](const Inputs& in) { return layer_norm(in[0], {3, 5}, in[1]); }, true},
    {"layer_norm", "bias only, eps 0.1",
     [] { return Inputs{leaf(randn64({2, 6})), leaf(randn64({6}))}; },
     [](const Inputs& in) { return layer_norm(in[0], {6}, Tensor(), in[1], 0.1); }, true},

    // ---- batch_norm ----
    {"batch_norm", "training, 4-D, affine, running stats",
     [] { return Inputs{leaf(randn64({4, 3, 2, 2})), leaf(randn64({3})), leaf(randn64({3}))}; },
     [](const Inputs& in) {
       const TensorOptions f64 = TensorOptions(kFloat64).device(in[0].device());
       Tensor rm = zeros({3}, f64), rv = ones({3}, f64);
       return batch_norm(in[0], rm, rv, in[1], in[2], true);
     },
     true},
    {"batch_norm", "training, 2-D (N, C), no affine", [] { return Inputs{leaf(randn64({5, 4}))}; },
     [](const Inputs& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }, true},
    {"batch_norm", "training, 3-D non-contiguous, weight only",
     [] { return Inputs{leaf(randn64({3, 2, 4}).permute({2, 1, 0})), leaf(randn64({2}))}; },
     [](const Inputs& in) { return batch_norm(in[0], Tensor(), Tensor(), in[1], Tensor(), true, 0.1, 1e-3); }, true},
    {"batch_norm", "inference with running stats",
     [] {
       return Inputs{leaf(randn64({3, 2, 2, 3})), leaf(randn64({2})), leaf(randn64({2})), randn64({2}),
                     uniform64({2}, 0.5, 2.0)};
     },
     [](const Inputs& in) { return batch_norm(in[0], in[3], in[4], in[1], in[2], false); }, true},
});

}  // namespace
}  // namespace tapeflow::testing
