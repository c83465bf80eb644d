// The CPU backend: the kernel interface (kernels/backend.hpp) forwarded to the kernels in lib/cpu.
#include "core/cpu_allocator.hpp"
#include "cpu/conv.hpp"
#include "cpu/copy.hpp"
#include "cpu/gemm.hpp"
#include "cpu/index.hpp"
#include "cpu/loss.hpp"
#include "cpu/norm.hpp"
#include "cpu/optim_update.hpp"
#include "cpu/pool.hpp"
#include "cpu/random.hpp"
#include "cpu/reduce.hpp"
#include "cpu/softmax.hpp"
#include "kernels/backend.hpp"

namespace tapeflow::kernels {
namespace {

class CpuBackend final : public Backend {
 public:
  void* allocate(std::size_t nbytes, Device) const override { return cpu_allocator::allocate(nbytes); }
  void deallocate(void* p, std::size_t nbytes, Device) const override { cpu_allocator::deallocate(p, nbytes); }
  void copy(const Tensor& dst, const Tensor& src) const override { cpu::copy(dst, src); }
  void fill(const Tensor& dst, Scalar value) const override { cpu::fill(dst, value); }
  void sum(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const override { cpu::sum(out, x, reduced); }
  void prod(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const override {
    cpu::prod(out, x, reduced);
  }
  void mean(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const override {
    cpu::mean(out, x, reduced);
  }
  void var(const Tensor& out, const Tensor& x, const ReduceMask& reduced, std::int64_t correction,
           bool take_sqrt) const override {
    cpu::var(out, x, reduced, correction, take_sqrt);
  }
  void logsumexp(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const override {
    cpu::logsumexp(out, x, reduced);
  }
  void norm(const Tensor& out, const Tensor& x, const ReduceMask& reduced, double p) const override {
    cpu::norm(out, x, reduced, p);
  }
  void amax(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const override {
    cpu::amax(out, x, reduced);
  }
  void amin(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const override {
    cpu::amin(out, x, reduced);
  }
  void max_with_index(const Tensor& values, const Tensor& indices, const Tensor& x,
                      const ReduceMask& reduced) const override {
    cpu::max_with_index(values, indices, x, reduced);
  }
  void min_with_index(const Tensor& values, const Tensor& indices, const Tensor& x,
                      const ReduceMask& reduced) const override {
    cpu::min_with_index(values, indices, x, reduced);
  }
  void all(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const override { cpu::all(out, x, reduced); }
  void any(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const override { cpu::any(out, x, reduced); }
  void cumsum(const Tensor& out, const Tensor& x, std::int64_t dim) const override { cpu::cumsum(out, x, dim); }
  void gemm(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, const Scalar& alpha, const GemmOperand& a,
            const GemmOperand& b, const Scalar& beta, const GemmOperand& c, const GemmBatch& batch) const override {
    cpu::gemm(dtype, m, n, k, alpha, a, b, beta, c, batch);
  }
  void check_index_range(const char* op, const Tensor& index, std::int64_t dim, std::int64_t size) const override {
    cpu::check_index_range(op, index, dim, size);
  }
  void gather(const Tensor& out, const Tensor& x_view, const Tensor& index, std::int64_t dim_stride) const override {
    cpu::gather(out, x_view, index, dim_stride);
  }
  void scatter_add(const Tensor& x_view, const Tensor& index, const Tensor& src, std::int64_t dim,
                   std::int64_t dim_stride) const override {
    cpu::scatter_add(x_view, index, src, dim, dim_stride);
  }
  void one_hot(const Tensor& out, const Tensor& indices) const override { cpu::one_hot(out, indices); }
  std::int64_t count_nonzero(const Tensor& x) const override { return cpu::count_nonzero(x); }
  void nonzero_indices(const Tensor& out, const Tensor& x) const override { cpu::nonzero_indices(out, x); }
  void conv2d_forward(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                      const ConvGeom& g, std::int64_t groups) const override {
    cpu::conv2d_forward(out, input, weight, bias, g, groups);
  }
  void conv2d_backward_input(const Tensor& grad_input, const Tensor& grad, const Tensor& weight, const ConvGeom& g,
                             std::int64_t groups) const override {
    cpu::conv2d_backward_input(grad_input, grad, weight, g, groups);
  }
  void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad, const Tensor& input, const ConvGeom& g,
                              std::int64_t groups) const override {
    cpu::conv2d_backward_weight(grad_weight, grad, input, g, groups);
  }
  void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, std::int64_t planes,
                  const PoolGeom& g) const override {
    cpu::max_pool2d(out, indices, x, planes, g);
  }
  void max_pool2d_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& indices,
                           std::int64_t planes) const override {
    cpu::max_pool2d_backward(grad_input, grad, indices, planes);
  }
  void avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, const PoolGeom& g,
                  bool count_include_pad) const override {
    cpu::avg_pool2d(out, x, planes, g, count_include_pad);
  }
  void avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, const PoolGeom& g,
                           bool count_include_pad) const override {
    cpu::avg_pool2d_backward(grad_input, grad, planes, g, count_include_pad);
  }
  void adaptive_avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, std::int64_t H, std::int64_t W,
                           std::int64_t Ho, std::int64_t Wo) const override {
    cpu::adaptive_avg_pool2d(out, x, planes, H, W, Ho, Wo);
  }
  void adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, std::int64_t H,
                                    std::int64_t W, std::int64_t Ho, std::int64_t Wo) const override {
    cpu::adaptive_avg_pool2d_backward(grad_input, grad, planes, H, W, Ho, Wo);
  }
  void softmax(const Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner,
               bool log) const override {
    cpu::softmax(out, x, outer, n, inner, log);
  }
  void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                  const Tensor& bias, std::int64_t M, std::int64_t N, double eps) const override {
    cpu::layer_norm(out, mean, rstd, x, weight, bias, M, N, eps);
  }
  void layer_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                           const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                           std::int64_t M, std::int64_t N) const override {
    cpu::layer_norm_backward(grad_x, grad_weight, grad_bias, g, x, mean, rstd, weight, M, N);
  }
  void channel_moments(const Tensor& mean, const Tensor& var, const Tensor& x, std::int64_t N, std::int64_t C,
                       std::int64_t S) const override {
    cpu::channel_moments(mean, var, x, N, C, S);
  }
  void inverse_std(const Tensor& rstd, const Tensor& var, double eps) const override {
    cpu::inverse_std(rstd, var, eps);
  }
  void channel_normalize(const Tensor& out, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                         const Tensor& weight, const Tensor& bias, std::int64_t N, std::int64_t C,
                         std::int64_t S) const override {
    cpu::channel_normalize(out, x, mean, rstd, weight, bias, N, C, S);
  }
  void momentum_update(const Tensor& running, const Tensor& stat, double momentum, double factor) const override {
    cpu::momentum_update(running, stat, momentum, factor);
  }
  void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                           const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                           std::int64_t N, std::int64_t C, std::int64_t S, bool training) const override {
    cpu::batch_norm_backward(grad_x, grad_weight, grad_bias, g, x, mean, rstd, weight, N, C, S, training);
  }
  double class_target_weight(const ClassTargets& c, const Tensor& target, const Tensor& weight) const override {
    return cpu::class_target_weight(c, target, weight);
  }
  void class_loss(const ClassTargets& c, const Tensor& input, const Tensor& target, const Tensor& weight,
                  bool from_logits, const Tensor& per_sample, const Tensor& stats) const override {
    cpu::class_loss(c, input, target, weight, from_logits, per_sample.data_ptr<double>(), stats);
  }
  void class_loss_backward(const ClassTargets& c, const Tensor& grad_input, const Tensor& input, const Tensor& target,
                           const Tensor& weight, const Tensor& stats, double scale, const Tensor& grad_output,
                           bool from_logits) const override {
    cpu::class_loss_backward(c, grad_input, input, target, weight, stats, scale, grad_output, from_logits);
  }
  void class_loss_coefficients(const ClassTargets& c, const Tensor& target, const Tensor& weight, double scale,
                               const Tensor& a, const Tensor& sums) const override {
    cpu::class_loss_coefficients(c, target, weight, scale, a, sums);
  }
  void binary_cross_entropy(const char* op, const Tensor& out, const Tensor& x, const Tensor& t) const override {
    cpu::binary_cross_entropy(op, out, x, t);
  }
  void binary_cross_entropy_with_logits(const Tensor& out, const Tensor& x, const Tensor& t,
                                        const Tensor& pos_weight) const override {
    cpu::binary_cross_entropy_with_logits(out, x, t, pos_weight);
  }
  void uniform(const Tensor& out, double from, double to, Generator& gen) const override {
    cpu::uniform(out, from, to, gen);
  }
  void normal(const Tensor& out, double mean, double std, Generator& gen) const override {
    cpu::normal(out, mean, std, gen);
  }
  void randint(const Tensor& out, std::int64_t low, std::uint64_t range, Generator& gen) const override {
    cpu::randint(out, low, range, gen);
  }
  void bernoulli(const Tensor& out, double p, Generator& gen) const override { cpu::bernoulli(out, p, gen); }
  void bernoulli(const Tensor& out, const Tensor& p, Generator& gen) const override { cpu::bernoulli(out, p, gen); }
  void randperm(const Tensor& out, Generator& gen) const override { cpu::randperm(out, gen); }
  void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, Generator& gen) const override {
    cpu::dropout(out, mask, x, p, gen);
  }
  void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, bool first_step,
                  const cpu::SGDUpdate& u) const override {
    cpu::sgd_update(param, grad, momentum_buffer, first_step, u);
  }
  void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                   const Tensor& max_exp_avg_sq, const cpu::AdamUpdate& u) const override {
    cpu::adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, u);
  }
  void rmsprop_update(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                      const Tensor& momentum_buffer, const cpu::RMSpropUpdate& u) const override {
    cpu::rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, u);
  }
  void adagrad_update(const Tensor& param, const Tensor& grad, const Tensor& sum,
                      const cpu::AdagradUpdate& u) const override {
    cpu::adagrad_update(param, grad, sum, u);
  }
};

}  // namespace

const Backend& cpu_backend() {
  static const CpuBackend backend;
  return backend;
}

}  // namespace tapeflow::kernels
