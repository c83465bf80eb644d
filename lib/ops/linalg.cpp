// Linear algebra ops: shape rules and checks here, the arithmetic in cpu::gemm. Every op reduces
// to one batched GEMM; operands BLAS can read through their strides are never copied.
#include "tapeflow/ops/linalg.hpp"

#include <algorithm>
#include <atomic>

#include "autograd/tape.hpp"
#include "core/tensor_factory.hpp"
#include "kernels/backend.hpp"
#include "tapeflow/creation.hpp"
#include "tapeflow/ops/elementwise.hpp"

namespace tapeflow {
namespace detail {

// Internal test hook: operands copied because BLAS could not read their layout.
std::atomic<std::int64_t> g_linalg_operand_copies{0};
std::int64_t linalg_operand_copies() { return g_linalg_operand_copies.load(); }

}  // namespace detail
namespace {

const bool kRegistered = autograd::register_ops({"matmul", "mm", "bmm", "addmm", "dot", "outer"});

// Backward of every product: the matrix transpose of the last two dims, a view (BLAS reads it
// through its strides, so the backward GEMMs copy nothing).
Tensor mT(const Tensor& t) { return t.transpose(-2, -1); }

// Only floating-point products are differentiable (integer ones never record).
template <typename... Ts>
bool records(const Tensor& out, const Ts&... ins) {
  return autograd::should_record(ins...) && out.is_floating_point();
}

// Runs f with recording off: the 1-D promotions and copies a forward makes are internal views,
// not tape entries (the op records itself once, with the user's operands).
template <typename F>
Tensor untracked(F&& f) {
  NoGradGuard internal;
  return f();
}

// Gradients of the two operands of a 2-D product a @ b with upstream g, each computed in its
// operand's layout: a column-major operand (a transposed view, such as Linear's weight.t()) gets
// the transpose of a row-major product, (g^T a)^T instead of a^T g. The same numbers, but the
// gradient that flows back through the transpose is contiguous, so it lands in .grad() uncopied.
bool column_major(const Tensor& t) { return t.stride(-2) == 1 && t.stride(-1) != 1 && t.size(-2) > 1; }
Tensor mm_grad_a(const Tensor& g, const Tensor& a, const Tensor& b) {
  return column_major(a) ? mT(tapeflow::mm(b, mT(g))) : tapeflow::mm(g, mT(b));
}
Tensor mm_grad_b(const Tensor& g, const Tensor& a, const Tensor& b) {
  return column_major(b) ? mT(tapeflow::mm(mT(g), a)) : tapeflow::mm(mT(a), g);
}

// Scales a gradient by a Scalar factor, skipping the multiply for 1.
Tensor scaled(const Tensor& g, Scalar s) { return s.to_double() == 1.0 ? g : g * s; }

void check_pair(const char* op, const Tensor& a, const Tensor& b) {
  detail::check_defined(op, a, "first operand");
  detail::check_defined(op, b, "second operand");
  detail::check_same_device(op, a, b);
  if (a.dtype() != b.dtype())
    fail<DTypeError>(op, "expected both operands to have the same dtype, got ", a.dtype(), " and ", b.dtype());
  if (a.dtype() == kBool) fail<DTypeError>(op, "not supported for bool tensors");
}

void check_dims(const char* op, const Tensor& a, const Tensor& b, std::int64_t nd) {
  if (a.dim() != nd || b.dim() != nd)
    fail<ShapeError>(op, "expected ", nd, "-D operands, got shapes ", a.shape(), " and ", b.shape());
}

[[noreturn]] void inner_mismatch(const char* op, const Tensor& a, const Tensor& b) {
  fail<ShapeError>(op, a.shape(), " @ ", b.shape(), ": inner dimensions differ");
}

// check_pair, check_dims(2) and the inner sizes of a 2-D product a @ b: one pass over the impls
// when every check passes (each tiny matmul pays this), the failing check's message otherwise.
void check_matrix_pair(const char* op, const Tensor& a, const Tensor& b) {
  const TensorImpl *ai = a.impl(), *bi = b.impl();
  if (ai && bi && ai->dtype == bi->dtype && ai->dtype != kBool && ai->sizes.size() == 2 && bi->sizes.size() == 2 &&
      ai->sizes[1] == bi->sizes[0] && ai->storage->device() == bi->storage->device())
    return;
  check_pair(op, a, b);
  check_dims(op, a, b, 2);
  inner_mismatch(op, a, b);
}

// True when BLAS can read t's matrices through their strides. Integer GEMM packs its operands
// anyway, so it takes any layout.
bool gemm_readable(const TensorImpl& t) {
  const std::size_t nd = t.sizes.size();
  const std::int64_t* strides = t.strides.data();
  if (strides[nd - 1] == 1 && strides[nd - 2] >= t.sizes[nd - 1]) return true;  // row-major, the common case
  if (!is_floating_point(t.dtype) || t.numel == 0) return true;
  return kernels::blas_layout(t.sizes[nd - 2], t.sizes[nd - 1], strides[nd - 2], strides[nd - 1]).ok;
}

// A contiguous copy of an operand BLAS cannot read (of the un-broadcast tensor, so broadcast
// batch dims stay free).
Tensor gemm_copy(const Tensor& t) {
  detail::g_linalg_operand_copies.fetch_add(1, std::memory_order_relaxed);
  NoGradGuard internal;  // a private copy for BLAS, not a tape entry
  return t.contiguous();
}

// Element strides of t's batch dims (all but the last two) aligned right to `batch`, 0 where
// t is broadcast.
Shape batch_strides(const Tensor& t, IntArrayRef batch) {
  const std::size_t nd = batch.size(), td = static_cast<std::size_t>(t.dim()) - 2;
  Shape s(nd, 0);
  for (std::size_t i = 0; i < td; ++i) {
    const std::size_t o = nd - td + i;
    s[o] = t.shape()[i] == 1 && batch[o] != 1 ? 0 : t.strides()[i];
  }
  return s;
}

// The last two sizes' strides of t and its data, as GEMM reads them.
kernels::GemmOperand gemm_operand(const TensorImpl& t) {
  const std::size_t n = t.sizes.size();
  return kernels::GemmOperand{t.data(), t.strides[n - 2], t.strides[n - 1]};
}

const kernels::GemmBatch kSingleMatrix{};

// run_gemm's batched or copying case, out of line so the single-matrix path stays short.
[[gnu::noinline]] void run_gemm_general(const Tensor& a_in, const Tensor& b_in, const Tensor& out,
                                        const Scalar& alpha, const Scalar& beta) {
  Tensor a_copy, b_copy;
  const Tensor& a = gemm_readable(*a_in.impl()) ? a_in : (a_copy = gemm_copy(a_in));
  const Tensor& b = gemm_readable(*b_in.impl()) ? b_in : (b_copy = gemm_copy(b_in));
  const TensorImpl &ai = *a.impl(), &oi = *out.impl();
  const std::size_t bd = oi.sizes.size() - 2;
  kernels::GemmBatch batch;
  batch.sizes = Shape(IntArrayRef(oi.sizes.data(), bd));
  batch.strides = {batch_strides(a, batch.sizes), batch_strides(b, batch.sizes), batch_strides(out, batch.sizes)};
  kernels::on(out).gemm(oi.dtype, oi.sizes[bd], oi.sizes[bd + 1], ai.sizes.back(), alpha, gemm_operand(ai),
                        gemm_operand(*b.impl()), beta, gemm_operand(oi), batch);
}

// out[i] = alpha * a[i] @ b[i] + beta * out[i] over out's batch dims (a's and b's broadcast to them).
// Every tiny matmul runs this: two matrices BLAS reads as stored go straight to the backend, with
// sizes and strides read from the impls (the callers checked the tensors are defined).
void run_gemm(const Tensor& a, const Tensor& b, const Tensor& out, const Scalar& alpha, const Scalar& beta) {
  const TensorImpl &ai = *a.impl(), &bi = *b.impl(), &oi = *out.impl();
  if (oi.sizes.size() != 2 || !gemm_readable(ai) || !gemm_readable(bi))
    return run_gemm_general(a, b, out, alpha, beta);
  kernels::on(oi).gemm(oi.dtype, oi.sizes[0], oi.sizes[1], ai.sizes[1], alpha, gemm_operand(ai), gemm_operand(bi),
                       beta, gemm_operand(oi), kSingleMatrix);
}

// Broadcast of the batch dims of a (..., n, k) and b (..., k, m); a0/b0 name the user's operands.
Shape broadcast_batch(const char* op, const Tensor& a, const Tensor& b, const Tensor& a0, const Tensor& b0) {
  const std::int64_t ad = a.dim() - 2, bd = b.dim() - 2, nd = std::max(ad, bd);
  Shape out(static_cast<std::size_t>(nd), 1);
  for (std::int64_t i = 0; i < nd; ++i) {
    const std::int64_t sa = i - (nd - ad) >= 0 ? a.size(i - (nd - ad)) : 1;
    const std::int64_t sb = i - (nd - bd) >= 0 ? b.size(i - (nd - bd)) : 1;
    if (sa != sb && sa != 1 && sb != 1)
      fail<ShapeError>(op, a0.shape(), " @ ", b0.shape(), ": batch dimensions cannot be broadcast");
    out[static_cast<std::size_t>(i)] = sa == 1 ? sb : sa;
  }
  return out;
}

// The product of a (..., n, k) and b (..., k, m) with broadcast batch dims, in a fresh tensor.
Tensor batched_product(const char* op, const Tensor& a, const Tensor& b, const Tensor& a0, const Tensor& b0) {
  if (a.size(-1) != b.size(-2)) inner_mismatch(op, a0, b0);
  Shape shape = broadcast_batch(op, a, b, a0, b0);
  shape.push_back(a.size(-2));
  shape.push_back(b.size(-1));
  Tensor out = detail::make_tensor(shape, a.dtype(), a.device());
  run_gemm(a, b, out, 1, 0);
  return out;
}

void check_alpha_beta(const char* op, DType dtype, Scalar beta, Scalar alpha) {
  if (!is_floating_point(dtype) && (beta.is_floating_point() || alpha.is_floating_point()))
    fail<ValueError>(op, "beta and alpha must be integers for ", dtype, " tensors, got ", beta.to_double(), " and ",
                     alpha.to_double());
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_pair("matmul", a, b);
  if (a.dim() == 0 || b.dim() == 0)
    fail<ShapeError>("matmul", "both operands need at least 1 dim, got shapes ", a.shape(), " and ", b.shape());
  // 1-D operands become a row (left) or a column (right), removed again from the result.
  Tensor out = untracked([&] {
    const Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
    const Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
    Tensor r = batched_product("matmul", a2, b2, a, b);
    if (a.dim() > 1 && b.dim() > 1) return r;
    Shape shape(IntArrayRef(r.shape().data(), r.shape().size() - 2));
    if (a.dim() > 1) shape.push_back(a2.size(-2));
    if (b.dim() > 1) shape.push_back(b2.size(-1));
    return r.view(shape);
  });
  if (records(out, a, b))
    autograd::record("matmul", {a, b}, {out}, [a, b](const autograd::BackwardArgs& g) {
      if (a.dim() == 2 && b.dim() == 2)
        return autograd::Grads{g.needs(0) ? mm_grad_a(g.grad(), a, b) : Tensor(),
                               g.needs(1) ? mm_grad_b(g.grad(), a, b) : Tensor()};
      // Redo the 1-D promotions on the gradient and the operands, and undo them on the results;
      // broadcast batch dims are summed by the engine (sum_to).
      const Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
      const Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
      Tensor g2 = g.grad();
      if (b.dim() == 1) g2 = g2.unsqueeze(-1);
      if (a.dim() == 1) g2 = g2.unsqueeze(-2);
      Tensor ga, gb;
      if (g.needs(0)) {
        ga = tapeflow::matmul(g2, mT(b2));
        if (a.dim() == 1) ga = ga.squeeze(-2);
      }
      if (g.needs(1) && b.dim() == 2 && a2.dim() > 2) {
        // A matrix shared by a batch (a linear layer on (..., n, k) inputs): one GEMM over the
        // flattened batch, a^T (k, B*n) @ g (B*n, m), instead of B products summed afterwards.
        const std::int64_t k = a2.size(-1), m = g2.size(-1);
        std::int64_t rows = 1;  // batch * n, counted (not numel / k: k may be 0)
        for (std::int64_t d = 0; d + 1 < a2.dim(); ++d) rows *= a2.size(d);
        gb = tapeflow::matmul(mT(a2.reshape({rows, k})), g2.reshape({rows, m}));  // a's batch is the output's
      } else if (g.needs(1)) {
        gb = tapeflow::matmul(mT(a2), g2);
        if (b.dim() == 1) gb = gb.squeeze(-1);
      }
      return autograd::Grads{ga, gb};
    }, /*saved=*/{a, b});
  return out;
}

Tensor mm(const Tensor& a, const Tensor& b) {
  check_matrix_pair("mm", a, b);
  // Two matrices need none of batched_product's broadcasting (this is the tiny-matmul path).
  const TensorImpl &ai = *a.impl(), &bi = *b.impl();
  Tensor out = detail::make_tensor({ai.sizes[0], bi.sizes[1]}, ai.dtype, ai.storage->device());
  run_gemm(a, b, out, 1, 0);
  if (records(out, a, b))
    autograd::record("mm", {a, b}, {out}, [a, b](const autograd::BackwardArgs& g) {
      return autograd::Grads{g.needs(0) ? mm_grad_a(g.grad(), a, b) : Tensor(),
                             g.needs(1) ? mm_grad_b(g.grad(), a, b) : Tensor()};
    }, /*saved=*/{a, b});
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_pair("bmm", a, b);
  check_dims("bmm", a, b, 3);
  if (a.size(0) != b.size(0)) fail<ShapeError>("bmm", a.shape(), " @ ", b.shape(), ": batch sizes differ");
  Tensor out = batched_product("bmm", a, b, a, b);
  if (records(out, a, b))
    autograd::record("bmm", {a, b}, {out}, [a, b](const autograd::BackwardArgs& g) {
      return autograd::Grads{g.needs(0) ? tapeflow::bmm(g.grad(), mT(b)) : Tensor(),
                             g.needs(1) ? tapeflow::bmm(mT(a), g.grad()) : Tensor()};
    }, /*saved=*/{a, b});
  return out;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  check_pair("dot", a, b);
  check_dims("dot", a, b, 1);
  if (a.size(0) != b.size(0)) fail<ShapeError>("dot", a.shape(), " and ", b.shape(), ": sizes differ");
  Tensor out = untracked([&] { return batched_product("dot", a.unsqueeze(0), b.unsqueeze(1), a, b).view(IntArrayRef{}); });
  if (records(out, a, b))
    autograd::record("dot", {a, b}, {out}, [a, b](const autograd::BackwardArgs& g) {
      return autograd::Grads{g.needs(0) ? g.grad() * b : Tensor(), g.needs(1) ? g.grad() * a : Tensor()};
    }, /*saved=*/{a, b});
  return out;
}

Tensor outer(const Tensor& a, const Tensor& b) {
  detail::check_defined("outer", a, "first operand");
  detail::check_defined("outer", b, "second operand");
  // Like PyTorch (outer is a broadcast multiply there), mixed dtypes promote.
  const DType dt = promote_types(a.dtype(), b.dtype());
  const Tensor ap = a.to(dt), bp = b.to(dt);
  check_pair("outer", ap, bp);
  check_dims("outer", a, b, 1);
  Tensor out = untracked([&] { return batched_product("outer", ap.unsqueeze(1), bp.unsqueeze(0), a, b); });
  // d/da = g @ b, d/db = a @ g (1-D matmuls). Recorded on the promoted operands: a promoted
  // input's gradient goes back through the recorded dtype conversion.
  if (records(out, ap, bp))
    autograd::record("outer", {ap, bp}, {out}, [ap, bp](const autograd::BackwardArgs& g) {
      return autograd::Grads{g.needs(0) ? tapeflow::matmul(g.grad(), bp) : Tensor(),
                             g.needs(1) ? tapeflow::matmul(ap, g.grad()) : Tensor()};
    }, /*saved=*/{ap, bp});
  return out;
}

Tensor addmm(const Tensor& bias, const Tensor& a, const Tensor& b, Scalar beta, Scalar alpha) {
  check_pair("addmm", a, b);
  check_dims("addmm", a, b, 2);
  detail::check_defined("addmm", bias, "bias");
  detail::check_same_device("addmm", bias, a);
  if (bias.dtype() != a.dtype())
    fail<DTypeError>("addmm", "expected bias of dtype ", a.dtype(), " like the operands, got ", bias.dtype());
  check_alpha_beta("addmm", a.dtype(), beta, alpha);
  if (a.size(1) != b.size(0)) inner_mismatch("addmm", a, b);
  const Shape shape{a.size(0), b.size(1)};
  if (bias.dim() > 2 || !(broadcast_shapes("addmm", bias.shape(), shape) == shape))
    fail<ShapeError>("addmm", "bias of shape ", bias.shape(), " does not broadcast to the product's shape ", shape);
  Tensor out = detail::make_tensor(shape, a.dtype(), a.device());
  // beta == 0 ignores bias entirely (NaN included), as in PyTorch.
  const bool use_bias = beta.to_double() != 0.0;
  if (use_bias) kernels::on(out, bias).copy(out, bias);
  run_gemm(a, b, out, alpha, use_bias ? beta : Scalar(0));
  if (records(out, bias, a, b))
    autograd::record("addmm", {bias, a, b}, {out}, [bias_shape = bias.shape(), a, b, beta, alpha, use_bias](
                                                       const autograd::BackwardArgs& g) {
      // The bias gradient keeps the product's shape: the engine sums it down to the bias's.
      Tensor gbias;
      if (g.needs(0)) gbias = use_bias ? scaled(g.grad(), beta) : zeros(bias_shape, TensorOptions(g.grad().dtype()).device(g.grad().device()));
      return autograd::Grads{gbias, g.needs(1) ? scaled(mm_grad_a(g.grad(), a, b), alpha) : Tensor(),
                             g.needs(2) ? scaled(mm_grad_b(g.grad(), a, b), alpha) : Tensor()};
    }, /*saved=*/{a, b});
  return out;
}

Tensor& mm_out(Tensor& out, const Tensor& a, const Tensor& b) {
  check_matrix_pair("mm_out", a, b);
  detail::check_defined("mm_out", out, "out");
  // Like PyTorch: out= variants write into a caller's tensor and cannot be differentiated.
  if (autograd::should_record(a, b, out))
    fail<Error>("mm_out", "out= arguments don't support automatic differentiation, but one of the arguments "
                "requires grad; call mm() instead, or run under NoGradGuard");
  detail::check_same_device("mm_out", out, a);
  // Read through the impls: this is the call that matches a bare sgemm, so every check counts.
  const TensorImpl &ai = *a.impl(), &bi = *b.impl(), &oi = *out.impl();
  const std::int64_t m = ai.sizes[0], n = bi.sizes[1];
  if (oi.dtype != ai.dtype) fail<DTypeError>("mm_out", "out has dtype ", oi.dtype, ", expected ", ai.dtype);
  if (oi.sizes.size() != 2 || oi.sizes[0] != m || oi.sizes[1] != n)
    fail<ShapeError>("mm_out", "out has shape ", oi.sizes, ", expected ", Shape{m, n});
  // Writing straight into out needs a layout GEMM can write and no overlap with the inputs.
  const Storage* st = oi.storage.get();
  const bool direct = kernels::blas_layout(m, n, oi.strides[0], oi.strides[1]).ok && st != ai.storage.get() &&
                      st != bi.storage.get();
  if (direct) {
    run_gemm(a, b, out, 1, 0);
  } else {
    const Tensor tmp = batched_product("mm_out", a, b, a, b);
    kernels::on(out, tmp).copy(out, tmp);
  }
  oi.storage->bump_version();
  return out;
}

Tensor Tensor::matmul(const Tensor& o) const { return tapeflow::matmul(*this, o); }
Tensor Tensor::mm(const Tensor& o) const { return tapeflow::mm(*this, o); }
Tensor Tensor::bmm(const Tensor& o) const { return tapeflow::bmm(*this, o); }
Tensor Tensor::dot(const Tensor& o) const { return tapeflow::dot(*this, o); }

}  // namespace tapeflow
