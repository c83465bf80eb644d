// conv2d: checks, output geometry, then the im2col + GEMM kernel in lib/cpu/conv.cpp.
// Its backward is two recorded ops of their own, conv2d_backward_input (col2im of W^T * grad)
// and conv2d_backward_weight (grad * im2col(x)^T). The three are bilinear forms of one another,
// so each one's backward is built from the other two and gradients of any order work.
// conv1d is conv2d on a height-1 view (no recorded op of its own).
#include <climits>

#include "autograd/tape.hpp"
#include "kernels/backend.hpp"
#include "ops/nn_common.hpp"
#include "tapeflow/ops/nn.hpp"
#include "tapeflow/ops/reduce.hpp"

namespace tapeflow {
namespace {

const bool kRegistered = autograd::register_ops({"conv2d", "conv2d_backward_input", "conv2d_backward_weight"});

struct ConvOpts {
  std::array<std::int64_t, 2> s, p, d;
  std::int64_t groups;
};

// Geometry of a (N, groups * Cg, H, W) input under a kH x kW kernel.
kernels::ConvGeom make_geom(std::int64_t Cg, std::int64_t H, std::int64_t W, std::int64_t kH, std::int64_t kW,
                        const ConvOpts& o) {
  kernels::ConvGeom g{Cg, H, W, kH, kW, o.s[0], o.s[1], o.p[0], o.p[1], o.d[0], o.d[1], 0, 0};
  g.Ho = (H + 2 * o.p[0] - (o.d[0] * (kH - 1) + 1)) / o.s[0] + 1;
  g.Wo = (W + 2 * o.p[1] - (o.d[1] * (kW - 1) + 1)) / o.s[1] + 1;
  return g;
}

Tensor conv_forward(const Tensor& input, const Tensor& weight, const Tensor& bias, const ConvOpts& o);
Tensor conv_input_grad(const Tensor& grad, const Tensor& weight, std::int64_t H, std::int64_t W, const ConvOpts& o);
Tensor conv_weight_grad(const Tensor& grad, const Tensor& input, std::int64_t kH, std::int64_t kW, const ConvOpts& o);

// F(x, w, g) = <conv(x, w), g> is linear in each argument; the three ops are its partial
// derivatives, so an upstream gradient u of one is handled by plugging u into the others.
Tensor conv_forward(const Tensor& input, const Tensor& weight, const Tensor& bias, const ConvOpts& o) {
  const std::int64_t N = input.size(0), H = input.size(2), W = input.size(3);
  const std::int64_t Cout = weight.size(0), kH = weight.size(2), kW = weight.size(3);
  const kernels::ConvGeom g = make_geom(weight.size(1), H, W, kH, kW, o);
  Tensor out = detail::make_tensor({N, Cout, g.Ho, g.Wo}, input.dtype(), input.device());
  if (out.numel() > 0)
    kernels::on(out).conv2d_forward(out, input.contiguous(), weight.contiguous(), bias.defined() ? bias.contiguous() : bias, g,
                        o.groups);
  if (autograd::should_record(input, weight, bias))
    autograd::record("conv2d", {input, weight, bias}, {out}, [input, weight, H, W, kH, kW, o](const autograd::BackwardArgs& a) {
      const Tensor gr = a.grad();
      return autograd::Grads{a.needs(0) ? conv_input_grad(gr, weight, H, W, o) : Tensor(),
                             a.needs(1) ? conv_weight_grad(gr, input, kH, kW, o) : Tensor(),
                             a.needs(2) ? sum(gr, {0, 2, 3}) : Tensor()};
    }, /*saved=*/{input, weight});
  return out;
}

Tensor conv_input_grad(const Tensor& grad, const Tensor& weight, std::int64_t H, std::int64_t W, const ConvOpts& o) {
  const std::int64_t N = grad.size(0), Cg = weight.size(1), kH = weight.size(2), kW = weight.size(3);
  const kernels::ConvGeom g = make_geom(Cg, H, W, kH, kW, o);
  Tensor out = detail::make_tensor({N, Cg * o.groups, H, W}, grad.dtype(), grad.device());
  if (out.numel() > 0) kernels::on(out).conv2d_backward_input(out, grad.contiguous(), weight.contiguous(), g, o.groups);
  if (autograd::should_record(grad, weight))
    autograd::record("conv2d_backward_input", {grad, weight}, {out}, [grad, weight, kH, kW, o](const autograd::BackwardArgs& a) {
      const Tensor u = a.grad();  // shaped like conv2d's input
      return autograd::Grads{a.needs(0) ? conv_forward(u, weight, Tensor(), o) : Tensor(),
                             a.needs(1) ? conv_weight_grad(grad, u, kH, kW, o) : Tensor()};
    }, /*saved=*/{grad, weight});
  return out;
}

Tensor conv_weight_grad(const Tensor& grad, const Tensor& input, std::int64_t kH, std::int64_t kW, const ConvOpts& o) {
  const std::int64_t Cout = grad.size(1), Cg = input.size(1) / o.groups, H = input.size(2), W = input.size(3);
  const kernels::ConvGeom g = make_geom(Cg, H, W, kH, kW, o);
  Tensor out = detail::make_tensor({Cout, Cg, kH, kW}, grad.dtype(), grad.device());
  if (out.numel() > 0) kernels::on(out).conv2d_backward_weight(out, grad.contiguous(), input.contiguous(), g, o.groups);
  if (autograd::should_record(grad, input))
    autograd::record("conv2d_backward_weight", {grad, input}, {out}, [grad, input, H, W, o](const autograd::BackwardArgs& a) {
      const Tensor u = a.grad();  // shaped like conv2d's weight
      return autograd::Grads{a.needs(0) ? conv_forward(input, u, Tensor(), o) : Tensor(),
                             a.needs(1) ? conv_input_grad(grad, u, H, W, o) : Tensor()};
    }, /*saved=*/{grad, input});
  return out;
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, std::int64_t groups) {
  const char* op = "conv2d";
  detail::check_defined(op, input);
  detail::check_defined(op, weight, "weight");
  detail::check_floating(op, input);
  detail::check_companion(op, input, weight, "weight");
  if (input.dim() != 3 && input.dim() != 4)
    fail<ShapeError>(op, "expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape ", input.shape());
  if (weight.dim() != 4)
    fail<ShapeError>(op, "expected a 4-D weight (C_out, C_in/groups, kH, kW), got shape ", weight.shape());
  if (input.dim() == 3)  // unbatched, as PyTorch
    return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0);
  const ConvOpts o{detail::pair_arg(op, "stride", stride, 1), detail::pair_arg(op, "padding", padding, 0),
                   detail::pair_arg(op, "dilation", dilation, 1), groups};
  if (groups < 1) fail<ValueError>(op, "groups must be positive, got ", groups);

  const std::int64_t Cin = input.size(1), H = input.size(2), W = input.size(3);
  const std::int64_t Cout = weight.size(0), Cg = weight.size(1), kH = weight.size(2), kW = weight.size(3);
  if (Cin % groups != 0 || Cout % groups != 0 || Cg * groups != Cin)
    fail<ShapeError>(op, "input of shape ", input.shape(), " and weight of shape ", weight.shape(), " with groups=",
                     groups, ": expected C_in and C_out divisible by groups and weight.size(1) == C_in / groups");
  if (kH == 0 || kW == 0) fail<ShapeError>(op, "kernel size must be positive, got weight of shape ", weight.shape());
  detail::check_vector(op, input, bias, "bias", Cout);
  const std::int64_t ekH = o.d[0] * (kH - 1) + 1, ekW = o.d[1] * (kW - 1) + 1;
  if (H + 2 * o.p[0] < ekH || W + 2 * o.p[1] < ekW)
    fail<ShapeError>(op, "kernel of effective size (", ekH, ", ", ekW, ") is larger than the padded input (",
                     H + 2 * o.p[0], ", ", W + 2 * o.p[1], ") of input shape ", input.shape());
  const kernels::ConvGeom g = make_geom(Cg, H, W, kH, kW, o);
  if (g.col_rows() > INT_MAX || g.col_cols() > INT_MAX || Cout > INT_MAX)
    fail<ValueError>(op, "problem too large for 32-bit BLAS indices: input ", input.shape(), ", weight ",
                     weight.shape());
  return conv_forward(input, weight, bias, o);
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, std::int64_t groups) {
  const char* op = "conv1d";
  detail::check_defined(op, input);
  detail::check_defined(op, weight, "weight");
  if (input.dim() != 2 && input.dim() != 3)
    fail<ShapeError>(op, "expected a 2-D (C, L) or 3-D (N, C, L) input, got shape ", input.shape());
  if (weight.dim() != 3)
    fail<ShapeError>(op, "expected a 3-D weight (C_out, C_in/groups, K), got shape ", weight.shape());
  const auto single = [op](const char* what, IntArrayRef v, std::int64_t min_value) {
    if (v.size() != 1) fail<ValueError>(op, what, " must have one value, got ", v);
    if (v[0] < min_value) fail<ValueError>(op, what, " must be at least ", min_value, ", got ", v);
    return v[0];
  };
  const std::int64_t s = single("stride", stride, 1), p = single("padding", padding, 0),
                     d = single("dilation", dilation, 1);
  if (groups < 1) fail<ValueError>(op, "groups must be positive, got ", groups);
  const std::int64_t Cin = input.size(-2), L = input.size(-1), Cout = weight.size(0), K = weight.size(2);
  if (Cout % groups != 0 || weight.size(1) * groups != Cin)
    fail<ShapeError>(op, "input of shape ", input.shape(), " and weight of shape ", weight.shape(), " with groups=",
                     groups, ": expected C_out divisible by groups and weight.size(1) == C_in / groups");
  if (K > 0 && L + 2 * p < d * (K - 1) + 1)
    fail<ShapeError>(op, "kernel of effective size ", d * (K - 1) + 1, " is larger than the padded input length ",
                     L + 2 * p, " of input shape ", input.shape());
  // (.., C, L) -> (.., C, 1, L) with a (C_out, C_in/g, 1, K) kernel: height is left untouched.
  return conv2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, {1, s}, {0, p}, {1, d}, groups).squeeze(-2);
}

}  // namespace tapeflow
