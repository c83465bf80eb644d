// dropout: a random keep-mask from the default generator, survivors scaled by 1 / (1 - p).
#include "core/tensor_factory.hpp"
#include "cpu/random.hpp"
#include "tapeflow/ops/nn.hpp"

namespace tapeflow {

Tensor dropout(const Tensor& x, double p, bool training) {
  detail::check_defined("dropout", x);
  if (!(p >= 0.0 && p <= 1.0)) fail<ValueError>("dropout", "probability must be in [0, 1], got ", p);
  if (!x.is_floating_point()) fail<DTypeError>("dropout", "expected a floating-point tensor, got ", x.dtype());
  if (!training) return x;
  if (!x.is_cpu()) fail<DeviceError>("dropout", "not supported on ", x.device(), " yet (CPU only)");
  if (p == 1.0) return zeros_like(x);  // everything dropped; 1 / (1 - p) would be infinite
  Tensor out = detail::make_tensor(x.shape(), x.dtype(), x.device());
  cpu::dropout(out, Tensor(), x.contiguous(), p, default_generator());
  return out;
}

}  // namespace tapeflow
