// Reductions: dims/dtype validation, output shape and dtype, then the backend kernels.
#include "tapeflow/ops/reduce.hpp"

#include <cmath>
#include <limits>

#include "autograd/tape.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"

namespace tapeflow {
namespace {

// max/min cover both the all-elements and the with-dim forms; argmax/argmin/all/any never record.
const bool kRegistered = autograd::register_ops(
    {"sum", "mean", "prod", "amax", "amin", "max", "min", "var", "std", "logsumexp", "norm", "cumsum"});

using autograd::BackwardArgs;
using autograd::Grads;
using DimList = std::vector<std::int64_t>;

void check_input(const char* op, const Tensor& x) { detail::check_defined(op, x); }

void require_floating(const char* op, const Tensor& x) {
  if (!x.is_floating_point())
    fail<DTypeError>(op, "expected a floating-point tensor, got ", x.dtype(), " (convert it with .to(kFloat32))");
}

// Which input dims are reduced, the output shape, and how many elements each output covers.
struct Plan {
  kernels::ReduceMask reduced;
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

// The output shape with keepdim: a reduced gradient reshaped to it broadcasts back over x.
Shape keep_shape(const char* op, const Tensor& x, IntArrayRef dims) {
  return plan_dims(op, x, dims, /*keepdim=*/true).out_shape;
}

// ---- backward formulas (public ops only, so they are differentiable themselves) ----
// g and out arrive reshaped to keep_shape.

// PyTorch's prod backward: out / x without zeros; with zeros, a slice's single zero gets the
// product of the others and everything else in that slice gets 0 (two zeros: all 0). Written so
// that second-order gradients are right too with a single zero per slice.
Tensor prod_backward(const Tensor& g, const Tensor& x, const Tensor& out, std::optional<std::int64_t> dim,
                     const Shape& keep) {
  const Tensor zero = eq(x, 0);
  if (!zero.any().item<bool>()) return g * out / x;
  auto over_slice = [&](const Tensor& t, bool product) {
    if (dim) return product ? prod(t, *dim, true) : sum(t, IntArrayRef(*dim), true);
    return (product ? prod(t) : sum(t)).reshape(keep);
  };
  const Tensor safe = x.masked_fill(zero, 1);
  const Tensor others = over_slice(safe, true);  // product of the non-zeros
  const Tensor zeros_in_slice = over_slice(zero, false);
  const Tensor one_zero = eq(zeros_in_slice, 1);
  // The zero's own value (0, but it carries d/dx_zero for the other positions' gradients).
  const Tensor zero_value = over_slice(where(zero, x, 0), false);
  const Tensor at_zero = where(one_zero, others, 0);
  const Tensor factor = where(eq(zeros_in_slice, 0), 1.0, where(one_zero, zero_value, 0));
  return g * where(zero, at_zero, others / safe * factor);
}

// amax/amin/max/min over dims: the gradient is split evenly among the tied extrema.
Tensor extremum_backward(const Tensor& g, const Tensor& x, const Tensor& out, const DimList& dims) {
  const Tensor mask = eq(x, out).to(x.dtype());
  return mask * (g / mask.sum(dims, true));
}

Tensor norm_backward(const Tensor& g, const Tensor& x, const Tensor& out, double p, const DimList& dims) {
  if (p == 0) return zeros_like(x);
  if (p == 1) return sign(x) * g;
  if (std::isinf(p)) {  // like amax of |x|: split among the ties
    const Tensor mask = eq(abs(x), out).to(x.dtype());
    return sign(x) * mask * (g / mask.sum(dims, true));
  }
  // d|x|_p/dx = sign(x) |x|^(p-1) / |x|_p^(p-1); zero where the norm is zero.
  const Tensor scale = (g / (p == 2 ? out : pow(out, p - 1))).masked_fill(eq(out, 0), 0);
  if (p == 2) return x * scale;
  Tensor scaled = sign(x) * pow(abs(x), p - 1);
  if (p < 1) scaled = scaled.masked_fill(eq(x, 0), 0);
  return scaled * scale;
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

using Kernel = void (kernels::Backend::*)(const Tensor&, const Tensor&, const kernels::ReduceMask&) const;

Tensor reduce_simple(const char* op, Kernel kernel, const Tensor& x, IntArrayRef dims, bool keepdim, DType out_dtype) {
  const Plan p = plan_dims(op, x, dims, keepdim);
  Tensor out = detail::make_tensor(p.out_shape, out_dtype, x.device());
  (kernels::on(out).*kernel)(out, x, p.reduced);
  return out;
}

Tensor extremum(const char* op, Kernel kernel, const Tensor& x, IntArrayRef dims, bool keepdim) {
  check_input(op, x);
  const Plan p = plan_dims(op, x, dims, keepdim);
  require_nonempty(op, x, p);
  Tensor out = detail::make_tensor(p.out_shape, x.dtype(), x.device());
  (kernels::on(out).*kernel)(out, x, p.reduced);
  if (autograd::should_record(x))
    autograd::record(op, {x}, {out}, [x, keep = keep_shape(op, x, dims), d = DimList(dims.begin(), dims.end())](
                                         const BackwardArgs& g) {
      return Grads{extremum_backward(g.grad().reshape(keep), x, g.outputs[0].reshape(keep), d)};
    }, {x, out});
  return out;
}

using IndexKernel = void (kernels::Backend::*)(const Tensor&, const Tensor&, const Tensor&, const kernels::ReduceMask&) const;

std::pair<Tensor, Tensor> extremum_with_index(const char* op, IndexKernel kernel, const Tensor& x, IntArrayRef dims,
                                              bool keepdim, bool want_values) {
  check_input(op, x);
  const Plan p = plan_dims(op, x, dims, keepdim);
  require_nonempty(op, x, p);
  Tensor values = want_values ? detail::make_tensor(p.out_shape, x.dtype(), x.device()) : Tensor();
  Tensor indices = detail::make_tensor(p.out_shape, kInt64, x.device());
  (kernels::on(x).*kernel)(values, indices, x, p.reduced);
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
  kernels::on(out).var(out, x, p.reduced, correction, take_sqrt);
  if (autograd::should_record(x)) {
    // d var = 2 (x - mean) / (N - correction); d std = d var / (2 std).
    const double denom = static_cast<double>(p.count - correction);
    autograd::record(op, {x}, {out}, [x, take_sqrt, denom, keep = keep_shape(op, x, dims),
                                      d = DimList(dims.begin(), dims.end())](const BackwardArgs& g) {
      const Tensor centered = x - mean(x, d, true);
      const Tensor gk = g.grad().reshape(keep);
      return Grads{take_sqrt ? centered * (gk / (g.outputs[0].reshape(keep) * denom)) : centered * (gk * (2.0 / denom))};
    }, take_sqrt ? std::vector<Tensor>{x, out} : std::vector<Tensor>{x});
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, std::optional<DType> dtype) { return sum(x, {}, false, dtype); }

Tensor sum(const Tensor& x, IntArrayRef dims, bool keepdim, std::optional<DType> dtype) {
  check_input("sum", x);
  return with_dtype(x, dtype, [&](const Tensor& in) {
    Tensor out = reduce_simple("sum", &kernels::Backend::sum, in, dims, keepdim, accumulate_dtype(in.dtype()));
    if (autograd::should_record(in))
      autograd::record("sum", {in}, {out}, [keep = keep_shape("sum", in, dims), shape = in.shape()](const BackwardArgs& g) {
        return Grads{g.grad().reshape(keep).expand(shape)};
      });
    return out;
  });
}

Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor mean(const Tensor& x, IntArrayRef dims, bool keepdim) {
  check_input("mean", x);
  require_floating("mean", x);
  Tensor out = reduce_simple("mean", &kernels::Backend::mean, x, dims, keepdim, x.dtype());
  if (autograd::should_record(x)) {
    const double count = out.numel() == 0 ? 1.0 : static_cast<double>(x.numel()) / static_cast<double>(out.numel());
    autograd::record("mean", {x}, {out}, [count, keep = keep_shape("mean", x, dims), shape = x.shape()](const BackwardArgs& g) {
      return Grads{(g.grad() / count).reshape(keep).expand(shape)};
    });
  }
  return out;
}

namespace {
Tensor prod_impl(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  check_input("prod", x);
  const IntArrayRef dims = dim ? IntArrayRef(*dim) : IntArrayRef();
  Tensor out = reduce_simple("prod", &kernels::Backend::prod, x, dims, keepdim, accumulate_dtype(x.dtype()));
  if (autograd::should_record(x))
    autograd::record("prod", {x}, {out}, [x, dim, keep = keep_shape("prod", x, dims)](const BackwardArgs& g) {
      return Grads{prod_backward(g.grad().reshape(keep), x, g.outputs[0].reshape(keep), dim, keep)};
    }, {x, out});
  return out;
}
}  // namespace

Tensor prod(const Tensor& x) { return prod_impl(x, std::nullopt, false); }
Tensor prod(const Tensor& x, std::int64_t dim, bool keepdim) { return prod_impl(x, dim, keepdim); }

Tensor amax(const Tensor& x, IntArrayRef dims, bool keepdim) { return extremum("amax", &kernels::Backend::amax, x, dims, keepdim); }
Tensor amin(const Tensor& x, IntArrayRef dims, bool keepdim) { return extremum("amin", &kernels::Backend::amin, x, dims, keepdim); }
Tensor max(const Tensor& x) { return extremum("max", &kernels::Backend::amax, x, {}, false); }
Tensor min(const Tensor& x) { return extremum("min", &kernels::Backend::amin, x, {}, false); }

namespace {
// Values and indices; only the values record: their gradient goes to the selected positions.
std::pair<Tensor, Tensor> extremum_dim(const char* op, IndexKernel kernel, const Tensor& x, std::int64_t dim,
                                       bool keepdim) {
  auto result = extremum_with_index(op, kernel, x, IntArrayRef(dim), keepdim, true);
  if (autograd::should_record(x)) {
    const Tensor indices = result.second;
    const std::int64_t nd = x.dim(), d = nd == 0 ? 0 : wrap_dim(op, dim, nd);
    autograd::record(op, {x}, {result.first}, [indices, nd, d, keepdim, shape = x.shape()](const BackwardArgs& g) {
      if (nd == 0) return Grads{g.grad()};
      Tensor gk = g.grad(), ik = indices;
      if (!keepdim) {
        gk = gk.unsqueeze(d);
        ik = ik.unsqueeze(d);
      }
      Shape along(static_cast<std::size_t>(nd), 1);
      along[static_cast<std::size_t>(d)] = shape[static_cast<std::size_t>(d)];
      const Tensor positions = arange(shape[static_cast<std::size_t>(d)], TensorOptions(kInt64).device(gk.device()));
      return Grads{eq(positions.reshape(along), ik).to(gk.dtype()) * gk};
    }, {indices});
  }
  return result;
}
}  // namespace

std::pair<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extremum_dim("max", &kernels::Backend::max_with_index, x, dim, keepdim);
}
std::pair<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extremum_dim("min", &kernels::Backend::min_with_index, x, dim, keepdim);
}

Tensor argmax(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extremum("argmax", &kernels::Backend::max_with_index, x, dim, keepdim);
}
Tensor argmin(const Tensor& x, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extremum("argmin", &kernels::Backend::min_with_index, x, dim, keepdim);
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
  Tensor out = reduce_simple("logsumexp", &kernels::Backend::logsumexp, x, dims, keepdim, x.dtype());
  if (autograd::should_record(x))
    autograd::record("logsumexp", {x}, {out}, [x, keep = keep_shape("logsumexp", x, dims)](const BackwardArgs& g) {
      return Grads{exp(x - g.outputs[0].reshape(keep)) * g.grad().reshape(keep)};
    }, {x, out});
  return out;
}

Tensor norm(const Tensor& x, Scalar p, IntArrayRef dims, bool keepdim) {
  check_input("norm", x);
  require_floating("norm", x);
  const double order = p.to_double();
  if (!(order >= 0)) fail<ValueError>("norm", "p must be 0, positive or infinity, got ", order);
  const Plan plan = plan_dims("norm", x, dims, keepdim);
  if (std::isinf(order)) require_nonempty("norm", x, plan);
  Tensor out = detail::make_tensor(plan.out_shape, x.dtype(), x.device());
  kernels::on(out).norm(out, x, plan.reduced, order);
  if (autograd::should_record(x))
    autograd::record("norm", {x}, {out}, [x, order, keep = keep_shape("norm", x, dims),
                                          d = DimList(dims.begin(), dims.end())](const BackwardArgs& g) {
      return Grads{norm_backward(g.grad().reshape(keep), x, g.outputs[0].reshape(keep), order, d)};
    }, {x, out});
  return out;
}

Tensor cumsum(const Tensor& x, std::int64_t dim, std::optional<DType> dtype) {
  check_input("cumsum", x);
  const std::int64_t d = wrap_dim("cumsum", dim, x.dim());
  return with_dtype(x, dtype, [&](const Tensor& in) {
    Tensor out = detail::make_tensor(in.shape(), accumulate_dtype(in.dtype()), in.device());
    kernels::on(out).cumsum(out, in, d);
    // The gradient of a prefix sum is the suffix sum of g: total - prefix + g.
    if (autograd::should_record(in))
      autograd::record("cumsum", {in}, {out}, [d](const BackwardArgs& g) {
        const Tensor go = g.grad();
        return Grads{sum(go, IntArrayRef(d), true) - cumsum(go, d) + go};
      });
    return out;
  });
}

Tensor all(const Tensor& x) {
  check_input("all", x);
  return reduce_simple("all", &kernels::Backend::all, x, {}, false, kBool);
}
Tensor any(const Tensor& x) {
  check_input("any", x);
  return reduce_simple("any", &kernels::Backend::any, x, {}, false, kBool);
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
Tensor Tensor::var(IntArrayRef dims, std::int64_t correction, bool keepdim) const {
  return tapeflow::var(*this, dims, correction, keepdim);
}
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
