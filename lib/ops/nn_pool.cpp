// 2-D pooling ops: option checks and output sizes as PyTorch computes them, and their backward.
// max_pool2d's gradient, max_pool2d_backward, adds the gradient at the argmax of each window (its
// own gradient is then a gather: any order works). The averages' gradients are recorded ops of their
// own, avg_pool2d_backward and adaptive_avg_pool2d_backward, whose backward is the forward
// average again (the two are adjoint linear maps).
#include "autograd/tape.hpp"
#include "kernels/backend.hpp"
#include "ops/nn_common.hpp"
#include "tapeflow/ops/index.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow {
namespace {

const bool kRegistered = autograd::register_ops(
    {"max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward", "adaptive_avg_pool2d",
     "adaptive_avg_pool2d_backward"});

// Input (C, H, W) or (N, C, H, W), floating, with non-empty planes.
void check_pool_input(const char* op, const Tensor& x) {
  detail::check_defined(op, x);
  detail::check_floating(op, x);
  if (x.dim() != 3 && x.dim() != 4)
    fail<ShapeError>(op, "expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape ", x.shape());
  if (x.size(-1) == 0 || x.size(-2) == 0)
    fail<ShapeError>(op, "expected non-empty spatial dims, got input of shape ", x.shape());
}

// Output shape: x's leading dims with the last two replaced.
Shape pooled_shape(const Tensor& x, std::int64_t Ho, std::int64_t Wo) {
  Shape s = x.shape();
  s[s.size() - 2] = Ho;
  s[s.size() - 1] = Wo;
  return s;
}

std::int64_t planes_of(const Tensor& x) { return x.numel() / (x.size(-1) * x.size(-2)); }

// PyTorch's pooling_output_shape; in ceil mode the last window must start inside the input
// or the left padding.
std::int64_t pooled_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d, bool ceil) {
  const std::int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
  std::int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil && (out - 1) * s >= in + p) --out;
  return out;
}

kernels::PoolGeom pool_geom(const char* op, const Tensor& x, IntArrayRef kernel_size, IntArrayRef stride,
                        IntArrayRef padding, IntArrayRef dilation, bool ceil_mode) {
  check_pool_input(op, x);
  const auto k = detail::pair_arg(op, "kernel_size", kernel_size, 1);
  const auto s = stride.empty() ? k : detail::pair_arg(op, "stride", stride, 1);
  const auto p = detail::pair_arg(op, "padding", padding, 0);
  const auto d = detail::pair_arg(op, "dilation", dilation, 1);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2)
    fail<ValueError>(op, "padding ", padding, " must be at most half of kernel_size ", kernel_size);
  kernels::PoolGeom g{x.size(-2), x.size(-1), k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], 0, 0};
  g.Ho = pooled_size(g.H, g.kH, g.sH, g.pH, g.dH, ceil_mode);
  g.Wo = pooled_size(g.W, g.kW, g.sW, g.pW, g.dW, ceil_mode);
  if (g.Ho < 1 || g.Wo < 1)
    fail<ShapeError>(op, "input of shape ", x.shape(), " with kernel_size ", kernel_size, ", padding ", padding,
                     " and dilation ", dilation, " gives an empty output (", g.Ho, ", ", g.Wo, ")");
  return g;
}

// Gradient of max pooling: g added at each output's argmax, a recorded op of its own whose
// backward is its adjoint, a gather of the upstream gradient at the argmax (any order works).
Tensor max_pool_backward(const Tensor& g, const Tensor& indices, const Shape& in_shape) {
  Tensor out = detail::make_tensor(in_shape, g.dtype(), g.device());
  if (out.numel() > 0) kernels::on(out).max_pool2d_backward(out, g.contiguous(), indices, planes_of(out));
  if (autograd::should_record(g))
    autograd::record("max_pool2d_backward", {g}, {out}, [indices](const autograd::BackwardArgs& a) {
      const std::int64_t nd = indices.dim();
      const Tensor u = a.grad().flatten(nd - 2);
      return autograd::Grads{gather(u, nd - 2, indices.flatten(nd - 2)).reshape(indices.shape())};
    });
  return out;
}

void record_max_pool(const Tensor& input, const Tensor& out, const Tensor& indices) {
  autograd::record("max_pool2d", {input}, {out}, [indices, shape = input.shape()](const autograd::BackwardArgs& a) {
    return autograd::Grads{max_pool_backward(a.grad(), indices, shape)};
  });
}

Tensor avg_pool_backward(const Tensor& grad, const Shape& in_shape, const kernels::PoolGeom& g, bool count_include_pad);

Tensor avg_pool_forward(const Tensor& x, const kernels::PoolGeom& g, bool count_include_pad) {
  Tensor out = detail::make_tensor(pooled_shape(x, g.Ho, g.Wo), x.dtype(), x.device());
  if (out.numel() > 0) kernels::on(out).avg_pool2d(out, x.contiguous(), planes_of(x), g, count_include_pad);
  if (autograd::should_record(x))
    autograd::record("avg_pool2d", {x}, {out}, [g, count_include_pad, shape = x.shape()](const autograd::BackwardArgs& a) {
      return autograd::Grads{avg_pool_backward(a.grad(), shape, g, count_include_pad)};
    });
  return out;
}

Tensor avg_pool_backward(const Tensor& grad, const Shape& in_shape, const kernels::PoolGeom& g, bool count_include_pad) {
  Tensor out = detail::make_tensor(in_shape, grad.dtype(), grad.device());
  if (out.numel() > 0) kernels::on(out).avg_pool2d_backward(out, grad.contiguous(), planes_of(out), g, count_include_pad);
  if (autograd::should_record(grad))
    autograd::record("avg_pool2d_backward", {grad}, {out}, [g, count_include_pad](const autograd::BackwardArgs& a) {
      return autograd::Grads{avg_pool_forward(a.grad(), g, count_include_pad)};
    });
  return out;
}

Tensor adaptive_backward(const Tensor& grad, const Shape& in_shape);

Tensor adaptive_forward(const Tensor& x, std::int64_t Ho, std::int64_t Wo) {
  Tensor out = detail::make_tensor(pooled_shape(x, Ho, Wo), x.dtype(), x.device());
  if (out.numel() > 0) kernels::on(out).adaptive_avg_pool2d(out, x.contiguous(), planes_of(x), x.size(-2), x.size(-1), Ho, Wo);
  if (autograd::should_record(x))
    autograd::record("adaptive_avg_pool2d", {x}, {out}, [shape = x.shape()](const autograd::BackwardArgs& a) {
      return autograd::Grads{adaptive_backward(a.grad(), shape)};
    });
  return out;
}

Tensor adaptive_backward(const Tensor& grad, const Shape& in_shape) {
  Tensor out = detail::make_tensor(in_shape, grad.dtype(), grad.device());
  const std::int64_t Ho = grad.size(-2), Wo = grad.size(-1);
  if (out.numel() > 0)
    kernels::on(out).adaptive_avg_pool2d_backward(out, grad.contiguous(), planes_of(out), out.size(-2), out.size(-1), Ho, Wo);
  if (autograd::should_record(grad))
    autograd::record("adaptive_avg_pool2d_backward", {grad}, {out}, [Ho, Wo](const autograd::BackwardArgs& a) {
      return autograd::Grads{adaptive_forward(a.grad(), Ho, Wo)};
    });
  return out;
}

}  // namespace

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                                                  IntArrayRef padding, IntArrayRef dilation, bool ceil_mode) {
  const kernels::PoolGeom g = pool_geom("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode);
  const Shape shape = pooled_shape(input, g.Ho, g.Wo);
  Tensor out = detail::make_tensor(shape, input.dtype(), input.device());
  Tensor indices = detail::make_tensor(shape, kInt64, input.device());
  if (out.numel() > 0) kernels::on(out).max_pool2d(out, indices, input.contiguous(), planes_of(input), g);
  if (autograd::should_record(input)) record_max_pool(input, out, indices);
  return {out, indices};
}

Tensor max_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                  IntArrayRef dilation, bool ceil_mode) {
  if (autograd::should_record(input))  // the backward needs the argmax indices
    return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode).first;
  const kernels::PoolGeom g = pool_geom("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode);
  Tensor out = detail::make_tensor(pooled_shape(input, g.Ho, g.Wo), input.dtype(), input.device());
  if (out.numel() > 0) kernels::on(out).max_pool2d(out, Tensor(), input.contiguous(), planes_of(input), g);
  return out;
}

Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                  bool ceil_mode, bool count_include_pad) {
  const std::int64_t one = 1;
  const kernels::PoolGeom g = pool_geom("avg_pool2d", input, kernel_size, stride, padding, one, ceil_mode);
  return avg_pool_forward(input, g, count_include_pad);
}

Tensor adaptive_avg_pool2d(const Tensor& input, IntArrayRef output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_pool_input(op, input);
  const auto o = detail::pair_arg(op, "output_size", output_size, 0);
  return adaptive_forward(input, o[0], o[1]);
}

}  // namespace tapeflow
