// Random factories and in-place draws: validation, output allocation, then the backend's kernels
// (the same values on every backend for one seed). Non-contiguous in-place targets get the
// values a fresh contiguous draw of the same shape would hold (drawn into a temporary, then
// copied).
#include "tapeflow/random.hpp"

#include <cmath>
#include <limits>

#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"

namespace tapeflow {
namespace {

Generator& pick(Generator* gen) { return gen ? *gen : default_generator(); }

void check_floating(const char* op, DType dtype) {
  if (!is_floating_point(dtype)) fail<DTypeError>(op, "expected a floating-point dtype, got ", dtype);
}

Tensor fresh(IntArrayRef shape, const TensorOptions& o) {
  return detail::make_tensor(shape, o.dtype(), o.device());
}

Tensor finish(Tensor t, const TensorOptions& o) {
  if (o.requires_grad()) t.requires_grad_(true);
  return t;
}

// Draws into t in place with draw(contiguous_target) and bumps its version.
template <typename Draw>
Tensor& draw_in_place(const char* op, Tensor& t, const Draw& draw) {
  detail::check_defined(op, t);
  check_floating(op, t.dtype());
  for (std::int64_t d = 0; d < t.dim(); ++d)
    if (t.stride(d) == 0 && t.size(d) > 1)
      fail<ValueError>(op, "cannot write random values into a broadcast (expanded) tensor of shape ", t.shape());
  if (t.is_contiguous()) {
    draw(t);
  } else {
    const Tensor tmp = detail::make_tensor(t.shape(), t.dtype(), t.device());
    draw(tmp);
    kernels::on(t, tmp).copy(t, tmp);
  }
  t.impl()->storage->bump_version();
  return t;
}

// The integer range [lo, hi] a dtype holds exactly (floats: integers up to 2^mantissa).
std::pair<double, double> exact_integer_range(DType dtype) {
  switch (dtype) {
    case kInt32: return {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
    case kFloat32: return {-0x1.0p24, 0x1.0p24};
    case kFloat64: return {-0x1.0p53, 0x1.0p53};
    default: return {-0x1.0p63, 0x1.0p63};
  }
}

}  // namespace

Tensor rand(IntArrayRef shape, TensorOptions o, Generator* gen) {
  check_floating("rand", o.dtype());
  Tensor t = fresh(shape, o);
  kernels::on(t).uniform(t, 0.0, 1.0, pick(gen));
  return finish(t, o);
}

Tensor randn(IntArrayRef shape, TensorOptions o, Generator* gen) {
  check_floating("randn", o.dtype());
  Tensor t = fresh(shape, o);
  kernels::on(t).normal(t, 0.0, 1.0, pick(gen));
  return finish(t, o);
}

Tensor randint(std::int64_t low, std::int64_t high, IntArrayRef shape, TensorOptions o, Generator* gen) {
  if (high <= low) fail<ValueError>("randint", "expected low < high, got low=", low, " high=", high);
  if (o.dtype() == kBool) fail<DTypeError>("randint", "not supported for bool tensors");
  const auto [lo, hi] = exact_integer_range(o.dtype());
  if (static_cast<double>(low) < lo || static_cast<double>(high - 1) > hi)
    fail<ValueError>("randint", "range [", low, ", ", high, ") does not fit in ", o.dtype());
  Tensor t = fresh(shape, o);
  kernels::on(t).randint(t, low, static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low), pick(gen));
  return finish(t, o);
}

Tensor randint(std::int64_t high, IntArrayRef shape, TensorOptions o, Generator* gen) {
  return randint(0, high, shape, o, gen);
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  detail::check_defined("bernoulli", p, "p");
  check_floating("bernoulli", p.dtype());
  const Tensor pc = p.contiguous();
  // The range check reads the probabilities on the host (a device's are copied there once).
  const Tensor host_p = pc.is_cpu() ? pc : pc.to(Device::cpu());
  dispatch_floating(pc.dtype(), "bernoulli", [&]<typename P>() {
    const P* pp = host_p.data_ptr<P>();
    for (std::int64_t i = 0; i < host_p.numel(); ++i)
      if (!(pp[i] >= P(0) && pp[i] <= P(1)))
        fail<ValueError>("bernoulli", "probabilities must be in [0, 1], got ", pp[i], " at flat index ", i);
  });
  Tensor out = detail::make_tensor(p.shape(), p.dtype(), p.device());
  kernels::on(out).bernoulli(out, pc, pick(gen));
  return out;
}

Tensor bernoulli(IntArrayRef shape, double p, TensorOptions o, Generator* gen) {
  if (!(p >= 0.0 && p <= 1.0)) fail<ValueError>("bernoulli", "probability must be in [0, 1], got ", p);
  Tensor t = fresh(shape, o);
  kernels::on(t).bernoulli(t, p, pick(gen));
  return finish(t, o);
}

Tensor randperm(std::int64_t n, TensorOptions o, Generator* gen) {
  if (n < 0) fail<ValueError>("randperm", "n must be non-negative, got ", n);
  if (o.dtype() == kBool) fail<DTypeError>("randperm", "not supported for bool tensors");
  if (static_cast<double>(n) > exact_integer_range(o.dtype()).second + 1)
    fail<ValueError>("randperm", "n=", n, " is too large for ", o.dtype());
  Tensor t = detail::make_tensor({n}, kInt64, o.device());
  kernels::on(t).randperm(t, pick(gen));
  return finish(o.dtype() == kInt64 ? t : t.to(o.dtype()), o);
}

Tensor& uniform_(Tensor& t, double from, double to, Generator* gen) {
  if (!(from <= to) || !std::isfinite(to - from))
    fail<ValueError>("uniform_", "expected finite from <= to, got from=", from, " to=", to);
  return draw_in_place("uniform_", t, [&](const Tensor& dst) { kernels::on(dst).uniform(dst, from, to, pick(gen)); });
}

Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  if (!std::isfinite(mean) || !(std >= 0.0) || !std::isfinite(std))
    fail<ValueError>("normal_", "expected a finite mean and a finite std >= 0, got mean=", mean, " std=", std);
  return draw_in_place("normal_", t, [&](const Tensor& dst) { kernels::on(dst).normal(dst, mean, std, pick(gen)); });
}

}  // namespace tapeflow
