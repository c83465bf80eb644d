// Reductions: dims/dtype validation, output shape and dtype, then the CPU kernels.
#include "tapeflow/ops/reduce.hpp"

#include <cmath>
#include <limits>

#include "core/tensor_factory.hpp"
#include "cpu/reduce.hpp"

namespace tapeflow {
namespace {

void check_input(const char* op, const Tensor& x) {
  detail::check_defined(op, x);
  if (!x.is_cpu()) fail<DeviceError>(op, "only CPU tensors are supported so far, got a tensor on ", x.device());
}

void require_floating(const char* op, const Tensor& x) {
  if (!x.is_floating_point())
    fail<DTypeError>(op, "expected a floating-point tensor, got ", x.dtype(), " (convert it with .to(kFloat32))");
}

// Which input dims are reduced, the output shape, and how many elements each output covers.
struct Plan {
  cpu::ReduceMask reduced;
  Shape out_shape;
  std::int64_t count = 1;
};

// An empty dims list means every dim. Repeated dims throw ShapeError, out-of-range IndexError.
Plan plan_dims(const char* op, const Tensor& x, IntArrayRef dims, bool keepdim) {
  const std::int64_t nd = x.dim();
  Plan p;
  p.reduced.assign(static_cast<std::size_t>(nd), dims.empty());
  std::vector<bool> seen(static_cast<std::size_t>(std::max<std::int64_t>(nd, 1)), false);
  for (std::int64_t d : dims) {
    const auto w = static_cast<std::size_t>(wrap_dim(op, d, nd));
    if (seen[w]) fail<ShapeError>(op, "dim ", d, " appears more than once in the list of dims ", dims);
    seen[w] = true;
    if (nd > 0) p.reduced[w] = true;
  }
  for (std::size_t d = 0; d < p.reduced.size(); ++d) {
    const std::int64_t size = x.shape()[d];
    if (p.reduced[d]) {
      p.count *= size;
      if (keepdim) p.out_shape.push_back(1);
    } else {
      p.out_shape.push_back(size);
    }
  }
  return p;
}

// max/min/argmax/amax/inf-norm have no identity: reducing zero elements is an error.
void require_nonempty(const char* op, const Tensor& x, const Plan& p) {
  if (p.count == 0)
    fail<IndexError>(op, "cannot perform reduction on a zero-size dimension of a tensor of shape ", x.shape(),
                     ": the operation has no identity");
}

DType accumulate_dtype(DType dt) { return is_floating_point(dt) ? dt : kInt64; }

// sum/cumsum with a requested dtype: cast the input to it first (as PyTorch does) unless the
// natural result already has that dtype, and cast the result back when it differs (int32, bool).
template <typename Run>
Tensor with_dtype(const Tensor& x, std::optional<DType> dtype, Run run) {
  if (!dtype || *dtype == accumulate_dtype(x.dtype())) return run(x);
  Tensor out = run(x.to(*dtype));
  return out.dtype() == *dtype ? out : out.to(*dtype);
}

using Kernel = void (*)(const Tensor&, const Tensor&, const cpu::ReduceMask&);

Tensor reduce_simple(const char* op, Kernel kernel, const Tensor& x, IntArrayRef dims, bool keepdim, DType out_dtype) {
  const Plan p = plan_dims(op, x, dims, keepdim);
  Tensor out = detail::make_tensor(p.out_shape, out_dtype, x.device());
  kernel(out, x, p.reduced);
  return out;
}

Tensor extremum(const char* op, Kernel kernel, const Tensor& x, IntArrayRef dims, bool keepdim) {
  check_input(op, x);
  const Plan p = plan_dims(op, x, dims, keepdim);
  require_nonempty(op, x, p);
  Tensor out = detail::make_tensor(p.out_shape, x.dtype(), x.device());
  kernel(out, x, p.reduced);
  return out;
}

using IndexKernel = void (*)(const Tensor&, const Tensor&, const Tensor&, const cpu::ReduceMask&);

std::pair<Tensor, Tensor> extremum_with_index(const char* op, IndexKernel kernel, const Tensor& x, IntArrayRef dims,
                                              bool keepdim, bool want_values) {
  check_input(op, x);
  const Plan p = plan_dims(op, x, dims, keepdim);
  require_nonempty(op, x, p);
  Tensor values = want_values ? detail::make_tensor(p.out_shape, x.dtype(), x.device()) : Tensor();
  Tensor indices = detail::make_tensor(p.out_shape, kInt64, x.device());
  kernel(values, indices, x, p.reduced);
  return {values, indices};
}

Tensor arg_extremum(const char* op, IndexKernel kernel, const Tensor& x, std::optional<std::int64_t> dim,
                    bool keepdim) {
  check_input(op, x);
  if (x.dtype() == kBool) fail<DTypeError>(op, "not implemented for bool tensors");
  if (dim) return extremum_with_index(op, kernel, x, IntArrayRef(*dim), keepdim, false).second;
  return extremum_with_index(op, kernel, x, {}, keepdim, false).second;
}

Tensor variance(const char* op, const Tensor& x, IntArrayRef dims, std::int64_t correction, bool keepdim,
                bool take_sqrt) {
  check_input(op, x);
  require_floating(op, x);
  const Plan p = plan_dims(op, x, dims, keepdim);
  Tensor out = detail::make_tensor(p.out_shape, x.dtype(), x.device());
  cpu::var(out, x, p.reduced, correction, take_sqrt);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, std::optional<DType> dtype) { return sum(x, {}, false, dtype); }

Tensor sum(const Tensor& x, IntArrayRef dims, bool keepdim, std::optional<DType> dtype) {
  check_input("sum", x);
  return with_dtype(x, dtype, [&](const Tensor& in) {
    return reduce_simple("sum", cpu::sum, in, dims, keepdim, accumulate_dtype(in.dtype()));
  });
}

Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor mean(const Tensor& x, IntArrayRef dims, bool keepdim) {
  check_input("mean", x);
  require_floating("mean", x);
  return reduce_simple("mean", cpu::mean, x, dims, keepdim, x.dtype());
}

Tensor prod(const Tensor& x) {
  check_input("prod", x);
  return reduce_simple("prod", cpu::prod, x, {}, false, accumulate_dtype(x.dtype()));
}

Tensor prod(const Tensor& x, std::int64_t dim, bool keepdim) {
  check_input("prod", x);
  return reduce_simple("prod", cpu::prod, x, IntArrayRef(dim), keepdim, accumulate_dtype(x.dtype()));
}

Tensor amax(const Tensor& x, IntArrayRef dims, bool keepdim) { return extremum("amax", cpu::amax, x, dims, keepdim); }
Tensor amin(const Tensor& x, IntArrayRef dims, bool keepdim) { return extremum("amin", cpu::amin, x, dims, keepdim); }
Tensor max(const Tensor& x) { return extremum("max", cpu::amax, x, {}, false); }
Tensor min(const Tensor& x) { return extremum("min", cpu::amin, x, {}, false); }

std::pair<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extremum_with_index("max", cpu::max_with_index, x, IntArrayRef(dim), keepdim, true);
}
std::pair<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extremum_with_index("min", cpu::min_with_index, x, IntArrayRef(dim), keepdim, true);
}

Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extremum("argmax", cpu::max_with_index, x, dim, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extremum("argmin", cpu::min_with_index, x, dim, keepdim);
}

Tensor var(const Tensor& x, IntArrayRef dims, std::int64_t correction, bool keepdim) {
  return variance("var", x, dims, correction, keepdim, false);
}
Tensor std(const Tensor& x, IntArrayRef dims, std::int64_t correction, bool keepdim) {
  return variance("std", x, dims, correction, keepdim, true);
}

Tensor logsumexp(const Tensor& x, IntArrayRef dims, bool keepdim) {
  check_input("logsumexp", x);
  require_floating("logsumexp", x);
  return reduce_simple("logsumexp", cpu::logsumexp, x, dims, keepdim, x.dtype());
}

Tensor norm(const Tensor& x, Scalar p, IntArrayRef dims, bool keepdim) {
  check_input("norm", x);
  require_floating("norm", x);
  const double order = p.to_double();
  if (!(order >= 0)) fail<ValueError>("norm", "p must be 0, positive or infinity, got ", order);
  const Plan plan = plan_dims("norm", x, dims, keepdim);
  if (std::isinf(order)) require_nonempty("norm", x, plan);
  Tensor out = detail::make_tensor(plan.out_shape, x.dtype(), x.device());
  cpu::norm(out, x, plan.reduced, order);
  return out;
}

Tensor cumsum(const Tensor& x, std::int64_t dim, std::optional<DType> dtype) {
  check_input("cumsum", x);
  const std::int64_t d = wrap_dim("cumsum", dim, x.dim());
  return with_dtype(x, dtype, [&](const Tensor& in) {
    Tensor out = detail::make_tensor(in.shape(), accumulate_dtype(in.dtype()), in.device());
    cpu::cumsum(out, in, d);
    return out;
  });
}

Tensor all(const Tensor& x) {
  check_input("all", x);
  return reduce_simple("all", cpu::all, x, {}, false, kBool);
}
Tensor any(const Tensor& x) {
  check_input("any", x);
  return reduce_simple("any", cpu::any, x, {}, false, kBool);
}

// ---- Tensor methods ----
Tensor Tensor::sum(std::optional<DType> dtype) const { return tapeflow::sum(*this, dtype); }
Tensor Tensor::sum(IntArrayRef dims, bool keepdim, std::optional<DType> dtype) const {
  return tapeflow::sum(*this, dims, keepdim, dtype);
}
Tensor Tensor::mean() const { return tapeflow::mean(*this); }
Tensor Tensor::mean(IntArrayRef dims, bool keepdim) const { return tapeflow::mean(*this, dims, keepdim); }
Tensor Tensor::prod() const { return tapeflow::prod(*this); }
Tensor Tensor::prod(std::int64_t dim, bool keepdim) const { return tapeflow::prod(*this, dim, keepdim); }
Tensor Tensor::max() const { return tapeflow::max(*this); }
std::pair<Tensor, Tensor> Tensor::max(std::int64_t dim, bool keepdim) const { return tapeflow::max(*this, dim, keepdim); }
Tensor Tensor::min() const { return tapeflow::min(*this); }
std::pair<Tensor, Tensor> Tensor::min(std::int64_t dim, bool keepdim) const { return tapeflow::min(*this, dim, keepdim); }
Tensor Tensor::argmax(std::optional<std::int64_t> dim, bool keepdim) const { return tapeflow::argmax(*this, dim, keepdim); }
Tensor Tensor::argmin(std::optional<std::int64_t> dim, bool keepdim) const { return tapeflow::argmin(*this, dim, keepdim); }
Tensor Tensor::var(std::int64_t correction) const { return tapeflow::var(*this, {}, correction, false); }
Tensor Tensor::var(IntArrayRef dims, std::int64_t correction, bool keepdim) const {
  return tapeflow::var(*this, dims, correction, keepdim);
}
Tensor Tensor::std(std::int64_t correction) const { return tapeflow::std(*this, {}, correction, false); }
Tensor Tensor::std(IntArrayRef dims, std::int64_t correction, bool keepdim) const {
  return tapeflow::std(*this, dims, correction, keepdim);
}
Tensor Tensor::logsumexp(IntArrayRef dims, bool keepdim) const { return tapeflow::logsumexp(*this, dims, keepdim); }
Tensor Tensor::norm(Scalar p) const { return tapeflow::norm(*this, p, {}, false); }
Tensor Tensor::norm(Scalar p, IntArrayRef dims, bool keepdim) const { return tapeflow::norm(*this, p, dims, keepdim); }
Tensor Tensor::cumsum(std::int64_t dim) const { return tapeflow::cumsum(*this, dim); }
Tensor Tensor::all() const { return tapeflow::all(*this); }
Tensor Tensor::any() const { return tapeflow::any(*this); }

}  // namespace tapeflow
