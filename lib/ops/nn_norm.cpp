// layer_norm and batch_norm: checks, then the backend kernels (lib/cpu/norm.cpp, cuda/norm.cu); and their backward.
#include <cmath>
#include <vector>

#include "autograd/tape.hpp"
#include "kernels/backend.hpp"
#include "ops/nn_common.hpp"
#include "ops/nn_native.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/nn.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow {
namespace {

const bool kRegistered = autograd::register_ops({"layer_norm", "batch_norm"});

void check_eps(const char* op, double eps) {
  if (!(eps >= 0)) fail<ValueError>(op, "eps must be non-negative, got ", eps);
}

// t's dtype-matching contiguous form, or undefined.
Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.contiguous() : t; }

// Backward of y = xhat * w + b with xhat = (x - mean) * rstd, the statistics taken over `dims`
// of x (keepdim shapes) when `batch_stats`, else constants (batch_norm in inference).
//   dx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)),   gxhat = g * w
//   dw = sum(g * xhat) over `other` dims,  db = sum(g) over `other` dims
// The first-order pass runs a fused backend kernel on the forward's statistics. Under create_graph
// it is composed of public ops, with the statistics recomputed from x, so that it is itself
// differentiable in x, w and g (second order).
struct NormBackward {
  std::vector<std::int64_t> dims;   // the dims the statistics reduce over
  std::vector<std::int64_t> other;  // the dims weight/bias gradients reduce over
  Shape param_view;                 // weight/bias reshaped to broadcast against x
  bool batch_stats;
  double eps;
  bool layer;  // layer_norm (rows of the trailing dims) or batch_norm (channels, dim 1)

  Tensor sum_other(const Tensor& t) const { return other.empty() ? t : sum(t, other); }

  autograd::Grads fused(const autograd::BackwardArgs& a, const Tensor& x, const Tensor& weight, const Tensor& mean,
                        const Tensor& rstd) const {
    const Tensor g = a.grad().to(x.dtype()).contiguous(), xc = x.contiguous();
    const Tensor w = weight.defined() ? weight.contiguous() : weight;
    const auto opts = TensorOptions(x.dtype()).device(x.device());
    autograd::Grads out{a.needs(0) ? empty(x.shape(), opts) : Tensor(), Tensor(), Tensor()};
    if (layer) {
      const Shape& ps = param_view;  // normalized_shape
      if (a.needs(1)) out[1] = empty(ps, opts);
      if (a.needs(2)) out[2] = empty(ps, opts);
      const std::int64_t N = shape_numel(ps), M = x.numel() / N;
      kernels::on(x).layer_norm_backward(out[0], out[1], out[2], g, xc, mean.contiguous(), rstd.contiguous(), w, M, N);
    } else {
      const std::int64_t C = x.size(1), N = x.size(0), S = C * N == 0 ? 0 : x.numel() / (N * C);
      if (a.needs(1)) out[1] = empty({C}, opts);
      if (a.needs(2)) out[2] = empty({C}, opts);
      kernels::on(x).batch_norm_backward(out[0], out[1], out[2], g, xc, mean.contiguous(), rstd.contiguous(), w, N, C, S,
                               batch_stats);
    }
    return out;
  }

  autograd::Grads operator()(const autograd::BackwardArgs& a, const Tensor& x, const Tensor& weight, Tensor mean,
                             Tensor rstd) const {
    const Tensor g = a.grad();
    if (x.numel() == 0)
      return {a.needs(0) ? zeros_like(x) : Tensor(), a.needs(1) ? zeros_like(weight) : Tensor(),
              a.needs(2) ? zeros_like(weight.defined() ? weight : sum_other(g)) : Tensor()};
    if (!GradMode::is_enabled()) return fused(a, x, weight, mean, rstd);
    if (batch_stats) {  // create_graph: the statistics as functions of x
      mean = tapeflow::mean(x, dims, /*keepdim=*/true);
      rstd = rsqrt(tapeflow::mean(square(x - mean), dims, /*keepdim=*/true) + eps);
    }
    const Tensor xhat = (x - mean) * rstd;
    const Tensor w = weight.defined() ? weight.reshape(param_view) : Tensor();
    autograd::Grads out(3);
    if (a.needs(0)) {
      const Tensor gxhat = w.defined() ? g * w : g;
      out[0] = batch_stats ? rstd * (gxhat - tapeflow::mean(gxhat, dims, true) -
                                     xhat * tapeflow::mean(gxhat * xhat, dims, true))
                           : gxhat * rstd;
    }
    if (a.needs(1)) out[1] = sum_other(g * xhat);
    if (a.needs(2)) out[2] = sum_other(g);
    return out;
  }
};

}  // namespace

namespace detail {

std::tuple<Tensor, Tensor, Tensor> native_layer_norm(const Tensor& x, IntArrayRef normalized_shape,
                                                     const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  check_defined(op, x);
  check_floating(op, x);
  check_eps(op, eps);
  const std::int64_t k = static_cast<std::int64_t>(normalized_shape.size());
  if (k == 0) fail<ValueError>(op, "normalized_shape must have at least one dim");
  bool match = x.dim() >= k;
  for (std::int64_t i = 0; match && i < k; ++i) match = x.size(x.dim() - k + i) == normalized_shape[static_cast<std::size_t>(i)];
  if (!match)
    fail<ShapeError>(op, "normalized_shape ", normalized_shape, " does not match the trailing dims of input shape ",
                     x.shape());
  for (const auto& [t, what] : {std::pair{weight, "weight"}, std::pair{bias, "bias"}}) {
    if (!t.defined()) continue;
    check_companion(op, x, t, what);
    if (!(t.shape() == normalized_shape))
      fail<ShapeError>(op, what, " of shape ", t.shape(), " does not match normalized_shape ", normalized_shape);
  }
  const std::int64_t N = shape_numel(normalized_shape), M = N == 0 ? 0 : x.numel() / N;
  Shape stat_shape = x.shape();
  for (std::int64_t i = x.dim() - k; i < x.dim(); ++i) stat_shape[static_cast<std::size_t>(i)] = 1;
  Tensor out = make_tensor(x.shape(), x.dtype(), x.device());
  Tensor mean = make_tensor(stat_shape, x.dtype(), x.device());
  Tensor rstd = make_tensor(stat_shape, x.dtype(), x.device());
  if (M > 0)
    kernels::on(out).layer_norm(out, mean, rstd, x.contiguous(), contiguous_or_undefined(weight), contiguous_or_undefined(bias), M,
                    N, eps);
  else if (mean.numel() > 0) {  // rows with nothing to normalise: undefined statistics
    mean.fill_(NAN);
    rstd.fill_(NAN);
  }
  return {out, mean, rstd};
}

std::tuple<Tensor, Tensor, Tensor> native_batch_norm(const Tensor& x, const Tensor& running_mean,
                                                     const Tensor& running_var, const Tensor& weight,
                                                     const Tensor& bias, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  check_defined(op, x);
  check_floating(op, x);
  check_eps(op, eps);
  if (x.dim() < 2) fail<ShapeError>(op, "expected an input of shape (N, C, ...), got ", x.shape());
  const std::int64_t N = x.size(0), C = x.size(1);
  check_vector(op, x, running_mean, "running_mean", C);
  check_vector(op, x, running_var, "running_var", C);
  check_vector(op, x, weight, "weight", C);
  check_vector(op, x, bias, "bias", C);
  std::int64_t spatial = 1;
  for (std::int64_t i = 2; i < x.dim(); ++i) spatial *= x.size(i);
  const std::int64_t count = N * spatial;
  Tensor mean, var;
  if (training) {
    if (count <= 1)
      fail<ValueError>(op, "expected more than 1 value per channel when training, got input of shape ", x.shape());
    mean = make_tensor({C}, x.dtype(), x.device());
    var = make_tensor({C}, x.dtype(), x.device());
    if (C > 0) kernels::on(mean).channel_moments(mean, var, x.contiguous(), N, C, spatial);
    // Running statistics: updated in place (a copy for non-contiguous ones, copied back).
    const auto update = [&](const Tensor& running, const Tensor& stat, double factor) {
      if (!running.defined()) return;
      Tensor r = running.contiguous();
      kernels::on(r).momentum_update(r, stat, momentum, factor);
      if (r.is_same(running)) running.impl()->storage->bump_version();
      else Tensor(running).copy_(r);
    };
    update(running_mean, mean, 1.0);
    update(running_var, var, static_cast<double>(count) / static_cast<double>(count - 1));
  } else {
    if (!running_mean.defined() || !running_var.defined())
      fail<ValueError>(op, "running_mean and running_var must be defined in inference mode");
    mean = running_mean.contiguous();
    var = running_var.contiguous();
  }
  Tensor rstd = make_tensor({C}, x.dtype(), x.device());
  if (C > 0) kernels::on(rstd).inverse_std(rstd, var, eps);
  Tensor out = make_tensor(x.shape(), x.dtype(), x.device());
  if (out.numel() > 0)
    kernels::on(out).channel_normalize(out, x.contiguous(), mean, rstd, contiguous_or_undefined(weight),
                           contiguous_or_undefined(bias), N, C, spatial);
  return {out, mean, rstd};
}

}  // namespace detail

Tensor layer_norm(const Tensor& x, IntArrayRef normalized_shape, const Tensor& weight, const Tensor& bias, double eps) {
  auto [out, mean, rstd] = detail::native_layer_norm(x, normalized_shape, weight, bias, eps);
  if (autograd::should_record(x, weight, bias)) {
    const std::int64_t k = static_cast<std::int64_t>(normalized_shape.size());
    NormBackward nb{{}, {}, Shape(normalized_shape), true, eps, /*layer=*/true};
    for (std::int64_t d = 0; d < x.dim(); ++d) (d < x.dim() - k ? nb.other : nb.dims).push_back(d);
    std::vector<Tensor> saved{x};
    if (weight.defined()) saved.push_back(weight);
    autograd::record("layer_norm", {x, weight, bias}, {out},
                     [nb, x, weight, mean, rstd](const autograd::BackwardArgs& a) { return nb(a, x, weight, mean, rstd); },
                     saved);
  }
  return out;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  auto [out, mean, rstd] =
      detail::native_batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps);
  if (autograd::should_record(x, weight, bias)) {
    // Per-channel (C) statistics and parameters, viewed as (1, C, 1, ...) against x.
    Shape view(static_cast<std::size_t>(x.dim()), 1);
    view[1] = x.size(1);
    NormBackward nb{{}, {}, view, training, eps, /*layer=*/false};
    for (std::int64_t d = 0; d < x.dim(); ++d)
      if (d != 1) nb.dims.push_back(d);
    nb.other = nb.dims;
    std::vector<Tensor> saved{x};
    if (weight.defined()) saved.push_back(weight);
    if (!training) saved.insert(saved.end(), {mean, rstd});  // the running statistics, maybe shared
    autograd::record("batch_norm", {x, weight, bias}, {out},
                     [nb, x, weight, mean = mean.reshape(view), rstd = rstd.reshape(view)](
                         const autograd::BackwardArgs& a) { return nb(a, x, weight, mean, rstd); },
                     saved);
  }
  return out;
}

}  // namespace tapeflow
