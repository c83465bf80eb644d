// Gradient-check rows for the losses: the recorded ops (cross_entropy and nll_loss over class
// indices, binary_cross_entropy, binary_cross_entropy_with_logits), first and second order, and
// rows for the composed losses (labelled by loss name), whose gradients come from their parts.
#include "gradcheck.hpp"

namespace tapeflow::testing {
namespace {

using Inputs = std::vector<Tensor>;
namespace F = nn::functional;
using nn::Reduction;

// Targets and weights made inside a row's fn go to the device of its input (test_parity_cuda.cpp
// runs fn on GPU inputs).
Tensor idx(std::vector<std::int64_t> v, Shape shape, Device device) { return tensor(v, shape).to(device); }
Tensor weights(std::vector<double> v, Device device) { return tensor(v, TensorOptions(kFloat64)).to(device); }

// A row differentiating fn with respect to one leaf made by make.
GradCase one(const char* op, const char* label, std::function<Tensor()> make, std::function<Tensor(const Tensor&)> fn) {
  return {op, label, [make] { return Inputs{leaf(make())}; }, [fn](const Inputs& in) { return fn(in[0]); }, true};
}

// A row differentiating fn with respect to both input and target.
GradCase two(const char* op, const char* label, std::function<Inputs()> make,
             std::function<Tensor(const Tensor&, const Tensor&)> fn) {
  return {op, label,
          [make] {
            Inputs in = make();
            for (Tensor& t : in) leaf(t);
            return in;
          },
          [fn](const Inputs& in) { return fn(in[0], in[1]); }, true};
}

Inputs probabilities_pair(Shape shape) { return {uniform64(shape, 0.05, 0.95), uniform64(shape, 0.0, 1.0)}; }
Inputs logits_pair(Shape shape) { return {randn64(shape, 2.0), uniform64(shape, 0.0, 1.0)}; }

const RegisterGradCases rows({
    // ---- cross_entropy (fused, class indices) ----
    one("cross_entropy", "mean, (N, C)", [] { return randn64({4, 5}); },
        [](const Tensor& x) { return F::cross_entropy(x, idx({0, 3, 4, 1}, {4}, x.device())); }),
    one("cross_entropy", "sum, weight, ignore_index, label_smoothing 0.2", [] { return randn64({5, 4}); },
        [](const Tensor& x) {
          return F::cross_entropy(x, idx({0, -100, 3, 2, 2}, {5}, x.device()),
                                  {.weight = weights({0.5, 1.5, 1.0, 2.0}, x.device()), .reduction = Reduction::Sum,
                                   .label_smoothing = 0.2});
        }),
    one("cross_entropy", "weighted mean, label smoothing, ignore_index 1", [] { return randn64({4, 3}); },
        [](const Tensor& x) {
          return F::cross_entropy(x, idx({1, 0, 2, 1}, {4}, x.device()),
                                  {.weight = weights({0.3, 1.0, 2.5}, x.device()), .ignore_index = 1,
                                   .label_smoothing = 0.1});
        }),
    one("cross_entropy", "none, K-dim (N, C, d1, d2) with ignored targets", [] { return randn64({2, 4, 3, 2}); },
        [](const Tensor& x) {
          return F::cross_entropy(x, idx({0, 1, 2, 3, -100, 1, 3, 3, 0, -100, 2, 1}, {2, 3, 2}, x.device()),
                                  {.reduction = Reduction::None});
        }),
    one("cross_entropy", "1-D input, 0-D target, weight, smoothing", [] { return randn64({6}); },
        [](const Tensor& x) {
          return F::cross_entropy(x, idx({4}, {}, x.device()),
                                  {.weight = weights({1, 2, 3, 4, 5, 6}, x.device()), .label_smoothing = 0.3});
        }),
    one("cross_entropy", "transposed input, none", [] { return randn64({5, 3}).t(); },
        [](const Tensor& x) {
          return F::cross_entropy(x, idx({4, 0, 2}, {3}, x.device()), {.reduction = Reduction::None});
        }),
    one("cross_entropy", "large logits", [] { return randn64({3, 4}, 30.0); },
        [](const Tensor& x) {
          return F::cross_entropy(x, idx({1, 1, 3}, {3}, x.device()), {.label_smoothing = 0.05});
        }),

    // ---- nll_loss (its gradient is constant: the second order is zero) ----
    one("nll_loss", "weighted mean with ignore_index", [] { return randn64({5, 4}); },
        [](const Tensor& x) {
          return F::nll_loss(x, idx({3, -100, 0, 1, 3}, {5}, x.device()),
                             {.weight = weights({0.5, 1.5, 1.0, 2.0}, x.device())});
        }),
    one("nll_loss", "none, K-dim", [] { return randn64({2, 3, 4}); },
        [](const Tensor& x) {
          return F::nll_loss(x, idx({0, 1, 2, 2, 1, 0, 0, 0}, {2, 4}, x.device()), {.reduction = Reduction::None});
        }),
    one("nll_loss", "sum of log_softmax (second order through log_softmax)", [] { return randn64({4, 5}); },
        [](const Tensor& x) {
          return F::nll_loss(log_softmax(x, 1), idx({4, 0, 0, 2}, {4}, x.device()), {.reduction = Reduction::Sum});
        }),

    // ---- binary_cross_entropy (input and target) ----
    two("binary_cross_entropy", "mean", [] { return probabilities_pair({3, 4}); },
        [](const Tensor& x, const Tensor& t) { return F::binary_cross_entropy(x, t); }),
    two("binary_cross_entropy", "none, broadcast weight", [] { return probabilities_pair({2, 3}); },
        [](const Tensor& x, const Tensor& t) {
          return F::binary_cross_entropy(x, t,
                                         {.weight = weights({0.5, 1.0, 2.0}, x.device()), .reduction = Reduction::None});
        }),
    {"binary_cross_entropy", "sum, transposed input",
     [] { return Inputs{leaf(uniform64({4, 3}, 0.05, 0.95).t()), uniform64({3, 4}, 0.0, 1.0)}; },
     [](const Inputs& in) { return F::binary_cross_entropy(in[0], in[1], {.reduction = Reduction::Sum}); }, true},

    // ---- binary_cross_entropy_with_logits (input and target) ----
    two("binary_cross_entropy_with_logits", "mean", [] { return logits_pair({3, 4}); },
        [](const Tensor& x, const Tensor& t) { return F::binary_cross_entropy_with_logits(x, t); }),
    two("binary_cross_entropy_with_logits", "none, pos_weight", [] { return logits_pair({2, 3}); },
        [](const Tensor& x, const Tensor& t) {
          return F::binary_cross_entropy_with_logits(
              x, t, {.reduction = Reduction::None, .pos_weight = weights({0.5, 2.0, 3.0}, x.device())});
        }),
    two("binary_cross_entropy_with_logits", "sum, weight and pos_weight", [] { return logits_pair({3, 2}); },
        [](const Tensor& x, const Tensor& t) {
          return F::binary_cross_entropy_with_logits(
              x, t, {.weight = weights({1.5, 0.5}, x.device()), .reduction = Reduction::Sum,
                     .pos_weight = weights({2.0, 0.25}, x.device())});
        }),

    // ---- composed losses ----
    two("cross_entropy", "class probabilities (composed), weight, smoothing",
        [] { return Inputs{randn64({3, 4}), uniform64({3, 4}, 0.0, 1.0)}; },
        [](const Tensor& x, const Tensor& t) {
          return F::cross_entropy(x, t, {.weight = weights({1, 2, 0.5, 1}, x.device()), .label_smoothing = 0.1});
        }),
    two("mse_loss", "none", [] { return Inputs{randn64({3, 4}), randn64({3, 4})}; },
        [](const Tensor& x, const Tensor& t) { return F::mse_loss(x, t, Reduction::None); }),
    two("l1_loss", "mean", [] { return Inputs{randn64({3, 4}), randn64({3, 4})}; },
        [](const Tensor& x, const Tensor& t) { return F::l1_loss(x, t); }),
    two("smooth_l1_loss", "beta 0.7, none", [] { return Inputs{randn64({3, 4}), randn64({3, 4})}; },
        [](const Tensor& x, const Tensor& t) { return F::smooth_l1_loss(x, t, Reduction::None, 0.7); }),
    two("huber_loss", "delta 0.6, sum", [] { return Inputs{randn64({3, 4}), randn64({3, 4})}; },
        [](const Tensor& x, const Tensor& t) { return F::huber_loss(x, t, Reduction::Sum, 0.6); }),
    two("kl_div", "batchmean", [] { return Inputs{randn64({3, 4}), uniform64({3, 4}, 0.1, 1.0)}; },
        [](const Tensor& x, const Tensor& t) { return F::kl_div(x, t, {.reduction = nn::KLDivReduction::BatchMean}); }),
    two("kl_div", "log_target, none", [] { return Inputs{randn64({3, 4}), randn64({3, 4})}; },
        [](const Tensor& x, const Tensor& t) {
          return F::kl_div(x, t, {.reduction = nn::KLDivReduction::None, .log_target = true});
        }),
});

}  // namespace
}  // namespace tapeflow::testing
