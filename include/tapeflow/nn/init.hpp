#pragma once
// nn::init: in-place initialisers for parameters, as torch.nn.init (PyTorch 1.13 formulas).
// Each one fills the tensor it is given without recording on the tape (it runs under
// NoGradGuard, so parameters that require grad can be filled) and returns that same tensor:
//   nn::init::kaiming_normal_(conv->weight, 0.0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU);
//   nn::init::zeros_(conv->bias);
// Draws use the default generator (seed it with manual_seed for reproducible initialisation).
#include <cstdint>
#include <utility>

#include "tapeflow/tensor.hpp"

namespace tapeflow::nn::init {

// The nonlinearity a layer feeds, which sets the gain of the xavier/kaiming schemes.
enum class Nonlinearity {
  Linear, Conv1D, Conv2D, Conv3D, ConvTranspose1D, ConvTranspose2D, ConvTranspose3D,
  Sigmoid, Tanh, ReLU, LeakyReLU, SELU
};
// Which fan kaiming_* preserves: FanIn the variance of the forward pass, FanOut the backward's.
enum class FanMode { FanIn, FanOut };

// The recommended gain (PyTorch's table): 1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for
// relu, sqrt(2 / (1 + slope^2)) for leaky_relu (param = negative slope, default 0.01), 3/4 for selu.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

// (fan_in, fan_out) of a weight of 2 or more dims: size(1) * receptive field and
// size(0) * receptive field, the receptive field being the product of dims 2 and up.
// Throws ValueError for fewer than 2 dims.
std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

Tensor uniform_(Tensor tensor, double a = 0.0, double b = 1.0);   // U(a, b)
Tensor normal_(Tensor tensor, double mean = 0.0, double std = 1.0);  // N(mean, std^2)
Tensor constant_(Tensor tensor, double value);
Tensor ones_(Tensor tensor);
Tensor zeros_(Tensor tensor);

// Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)); N(0, gain^2 * 2 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0);
Tensor xavier_normal_(Tensor tensor, double gain = 1.0);

// He: std = gain(nonlinearity, a) / sqrt(fan); U(-sqrt(3) std, sqrt(3) std) or N(0, std^2).
// `a` is the negative slope of a leaky_relu (used only when nonlinearity is LeakyReLU, the
// default, as in PyTorch).
Tensor kaiming_uniform_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
Tensor kaiming_normal_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);

// A (semi-)orthogonal matrix scaled by gain (Saxe et al.): the tensor viewed as
// (size(0), numel / size(0)) gets orthonormal rows or columns, whichever are fewer. As PyTorch,
// it is the Q of the QR decomposition of a standard normal matrix, with signs making R's
// diagonal positive. Needs 2 or more dims.
Tensor orthogonal_(Tensor tensor, double gain = 1.0);

}  // namespace tapeflow::nn::init
