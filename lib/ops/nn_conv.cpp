// conv2d: checks, output geometry, then the im2col + GEMM kernel in lib/cpu/conv.cpp.
#include <climits>

#include "cpu/conv.hpp"
#include "ops/nn_common.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow {

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
  const auto s = detail::pair_arg(op, "stride", stride, 1);
  const auto p = detail::pair_arg(op, "padding", padding, 0);
  const auto d = detail::pair_arg(op, "dilation", dilation, 1);
  if (groups < 1) fail<ValueError>(op, "groups must be positive, got ", groups);

  const std::int64_t N = input.size(0), Cin = input.size(1), H = input.size(2), W = input.size(3);
  const std::int64_t Cout = weight.size(0), Cg = weight.size(1), kH = weight.size(2), kW = weight.size(3);
  if (Cin % groups != 0 || Cout % groups != 0 || Cg * groups != Cin)
    fail<ShapeError>(op, "input of shape ", input.shape(), " and weight of shape ", weight.shape(), " with groups=",
                     groups, ": expected C_in and C_out divisible by groups and weight.size(1) == C_in / groups");
  if (kH == 0 || kW == 0) fail<ShapeError>(op, "kernel size must be positive, got weight of shape ", weight.shape());
  detail::check_vector(op, input, bias, "bias", Cout);
  const std::int64_t ekH = d[0] * (kH - 1) + 1, ekW = d[1] * (kW - 1) + 1;
  if (H + 2 * p[0] < ekH || W + 2 * p[1] < ekW)
    fail<ShapeError>(op, "kernel of effective size (", ekH, ", ", ekW, ") is larger than the padded input (",
                     H + 2 * p[0], ", ", W + 2 * p[1], ") of input shape ", input.shape());

  cpu::ConvGeom g{Cg, H, W, kH, kW, s[0], s[1], p[0], p[1], d[0], d[1], 0, 0};
  g.Ho = (H + 2 * p[0] - ekH) / s[0] + 1;
  g.Wo = (W + 2 * p[1] - ekW) / s[1] + 1;
  if (g.col_rows() > INT_MAX || g.col_cols() > INT_MAX || Cout > INT_MAX)
    fail<ValueError>(op, "problem too large for 32-bit BLAS indices: input ", input.shape(), ", weight ",
                     weight.shape());
  Tensor out = detail::make_tensor({N, Cout, g.Ho, g.Wo}, input.dtype(), input.device());
  if (out.numel() == 0) return out;
  cpu::conv2d_forward(out, input.contiguous(), weight.contiguous(), bias.defined() ? bias.contiguous() : bias, g,
                      groups);
  return out;
}

}  // namespace tapeflow
