// The CUDA backend: the kernel interface (lib/kernels/backend.hpp) on NVIDIA GPUs, forwarding
// each family to its kernels in cuda/<family>.cu.
#include "allocator.hpp"
#include "conv.hpp"
#include "copy.hpp"
#include "device.hpp"
#include "gemm.hpp"
#include "index.hpp"
#include "kernels/backend.hpp"
#include "loss.hpp"
#include "norm.hpp"
#include "optim_update.hpp"
#include "pool.hpp"
#include "random.hpp"
#include "reduce.hpp"
#include "softmax.hpp"

namespace tapeflow::kernels {
namespace {

class CudaBackend final : public Backend {
 public:
  void* allocate(std::size_t nbytes, Device device) const override {
    return cuda_backend::allocate(nbytes, device.index());
  }
  void deallocate(void* p, std::size_t nbytes, Device device) const override {
    cuda_backend::deallocate(p, nbytes, device.index());
  }
  void copy(const Tensor& dst, const Tensor& src) const override { cuda_backend::copy(dst, src); }
  void fill(const Tensor& dst, Scalar value) const override { cuda_backend::fill(dst, value); }

  // ---- reductions (cuda/reduce.cu) ----
  void sum(const Tensor& out, const Tensor& x, const ReduceMask& r) const override { cuda_backend::sum(out, x, r); }
  void prod(const Tensor& out, const Tensor& x, const ReduceMask& r) const override { cuda_backend::prod(out, x, r); }
  void mean(const Tensor& out, const Tensor& x, const ReduceMask& r) const override { cuda_backend::mean(out, x, r); }
  void var(const Tensor& out, const Tensor& x, const ReduceMask& r, std::int64_t correction,
           bool take_sqrt) const override {
    cuda_backend::var(out, x, r, correction, take_sqrt);
  }
  void logsumexp(const Tensor& out, const Tensor& x, const ReduceMask& r) const override {
    cuda_backend::logsumexp(out, x, r);
  }
  void norm(const Tensor& out, const Tensor& x, const ReduceMask& r, double p) const override {
    cuda_backend::norm(out, x, r, p);
  }
  void amax(const Tensor& out, const Tensor& x, const ReduceMask& r) const override { cuda_backend::amax(out, x, r); }
  void amin(const Tensor& out, const Tensor& x, const ReduceMask& r) const override { cuda_backend::amin(out, x, r); }
  void max_with_index(const Tensor& values, const Tensor& indices, const Tensor& x,
                      const ReduceMask& r) const override {
    cuda_backend::max_with_index(values, indices, x, r);
  }
  void min_with_index(const Tensor& values, const Tensor& indices, const Tensor& x,
                      const ReduceMask& r) const override {
    cuda_backend::min_with_index(values, indices, x, r);
  }
  void all(const Tensor& out, const Tensor& x, const ReduceMask& r) const override { cuda_backend::all(out, x, r); }
  void any(const Tensor& out, const Tensor& x, const ReduceMask& r) const override { cuda_backend::any(out, x, r); }
  void cumsum(const Tensor& out, const Tensor& x, std::int64_t d) const override { cuda_backend::cumsum(out, x, d); }

  // ---- matmul (cuda/gemm.cu) ----
  void gemm(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, const Scalar& alpha, const GemmOperand& a,
            const GemmOperand& b, const Scalar& beta, const GemmOperand& c, const GemmBatch& batch) const override {
    cuda_backend::gemm(dtype, m, n, k, alpha, a, b, beta, c, batch);
  }

  // ---- index (cuda/index.cu) ----
  void check_index_range(const char* op, const Tensor& index, std::int64_t dim, std::int64_t size) const override {
    cuda_backend::check_index_range(op, index, dim, size);
  }
  void gather(const Tensor& out, const Tensor& x_view, const Tensor& index, std::int64_t dim_stride) const override {
    cuda_backend::gather(out, x_view, index, dim_stride);
  }
  void scatter_add(const Tensor& x_view, const Tensor& index, const Tensor& src, std::int64_t dim,
                   std::int64_t dim_stride) const override {
    cuda_backend::scatter_add(x_view, index, src, dim, dim_stride);
  }
  void one_hot(const Tensor& out, const Tensor& indices) const override { cuda_backend::one_hot(out, indices); }
  std::int64_t count_nonzero(const Tensor& x) const override { return cuda_backend::count_nonzero(x); }
  void nonzero_indices(const Tensor& out, const Tensor& x) const override { cuda_backend::nonzero_indices(out, x); }

  // ---- conv2d (cuda/conv.cu) ----
  void conv2d_forward(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                      const ConvGeom& g, std::int64_t groups) const override {
    cuda_backend::conv2d_forward(out, input, weight, bias, g, groups);
  }
  void conv2d_backward_input(const Tensor& grad_input, const Tensor& grad, const Tensor& weight, const ConvGeom& g,
                             std::int64_t groups) const override {
    cuda_backend::conv2d_backward_input(grad_input, grad, weight, g, groups);
  }
  void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad, const Tensor& input, const ConvGeom& g,
                              std::int64_t groups) const override {
    cuda_backend::conv2d_backward_weight(grad_weight, grad, input, g, groups);
  }

  // ---- pooling (cuda/pool.cu) ----
  void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, std::int64_t planes,
                  const PoolGeom& g) const override {
    cuda_backend::max_pool2d(out, indices, x, planes, g);
  }
  void max_pool2d_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& indices,
                           std::int64_t planes) const override {
    cuda_backend::max_pool2d_backward(grad_input, grad, indices, planes);
  }
  void avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, const PoolGeom& g,
                  bool count_include_pad) const override {
    cuda_backend::avg_pool2d(out, x, planes, g, count_include_pad);
  }
  void avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, const PoolGeom& g,
                           bool count_include_pad) const override {
    cuda_backend::avg_pool2d_backward(grad_input, grad, planes, g, count_include_pad);
  }
  void adaptive_avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, std::int64_t H, std::int64_t W,
                           std::int64_t Ho, std::int64_t Wo) const override {
    cuda_backend::adaptive_avg_pool2d(out, x, planes, H, W, Ho, Wo);
  }
  void adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes, std::int64_t H,
                                    std::int64_t W, std::int64_t Ho, std::int64_t Wo) const override {
    cuda_backend::adaptive_avg_pool2d_backward(grad_input, grad, planes, H, W, Ho, Wo);
  }

  // ---- softmax (cuda/softmax.cu) ----
  void softmax(const Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner,
               bool log) const override {
    cuda_backend::softmax(out, x, outer, n, inner, log);
  }

  // ---- normalisation (cuda/norm.cu) ----
  void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                  const Tensor& bias, std::int64_t M, std::int64_t N, double eps) const override {
    cuda_backend::layer_norm(out, mean, rstd, x, weight, bias, M, N, eps);
  }
  void layer_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                           const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                           std::int64_t M, std::int64_t N) const override {
    cuda_backend::layer_norm_backward(grad_x, grad_weight, grad_bias, g, x, mean, rstd, weight, M, N);
  }
  void channel_moments(const Tensor& mean, const Tensor& var, const Tensor& x, std::int64_t N, std::int64_t C,
                       std::int64_t S) const override {
    cuda_backend::channel_moments(mean, var, x, N, C, S);
  }
  void inverse_std(const Tensor& rstd, const Tensor& var, double eps) const override {
    cuda_backend::inverse_std(rstd, var, eps);
  }
  void channel_normalize(const Tensor& out, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                         const Tensor& weight, const Tensor& bias, std::int64_t N, std::int64_t C,
                         std::int64_t S) const override {
    cuda_backend::channel_normalize(out, x, mean, rstd, weight, bias, N, C, S);
  }
  void momentum_update(const Tensor& running, const Tensor& stat, double momentum, double factor) const override {
    cuda_backend::momentum_update(running, stat, momentum, factor);
  }
  void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias, const Tensor& g,
                           const Tensor& x, const Tensor& mean, const Tensor& rstd, const Tensor& weight,
                           std::int64_t N, std::int64_t C, std::int64_t S, bool training) const override {
    cuda_backend::batch_norm_backward(grad_x, grad_weight, grad_bias, g, x, mean, rstd, weight, N, C, S, training);
  }

  // ---- losses (cuda/loss.cu) ----
  double class_target_weight(const ClassTargets& c, const Tensor& target, const Tensor& weight) const override {
    return cuda_backend::class_target_weight(c, target, weight);
  }
  void class_loss(const ClassTargets& c, const Tensor& input, const Tensor& target, const Tensor& weight,
                  bool from_logits, const Tensor& per_sample, const Tensor& stats) const override {
    cuda_backend::class_loss(c, input, target, weight, from_logits, per_sample, stats);
  }
  void class_loss_backward(const ClassTargets& c, const Tensor& grad_input, const Tensor& input, const Tensor& target,
                           const Tensor& weight, const Tensor& stats, double scale, const Tensor& grad_output,
                           bool from_logits) const override {
    cuda_backend::class_loss_backward(c, grad_input, input, target, weight, stats, scale, grad_output, from_logits);
  }
  void class_loss_coefficients(const ClassTargets& c, const Tensor& target, const Tensor& weight, double scale,
                               const Tensor& a, const Tensor& sums) const override {
    cuda_backend::class_loss_coefficients(c, target, weight, scale, a, sums);
  }
  void binary_cross_entropy(const char* op, const Tensor& out, const Tensor& x, const Tensor& t) const override {
    cuda_backend::binary_cross_entropy(op, out, x, t);
  }
  void binary_cross_entropy_with_logits(const Tensor& out, const Tensor& x, const Tensor& t,
                                        const Tensor& pos_weight) const override {
    cuda_backend::binary_cross_entropy_with_logits(out, x, t, pos_weight);
  }

  // ---- random numbers (cuda/random.cu) ----
  void uniform(const Tensor& out, double from, double to, Generator& gen) const override {
    cuda_backend::uniform(out, from, to, gen);
  }
  void normal(const Tensor& out, double mean, double std, Generator& gen) const override {
    cuda_backend::normal(out, mean, std, gen);
  }
  void randint(const Tensor& out, std::int64_t low, std::uint64_t range, Generator& gen) const override {
    cuda_backend::randint(out, low, range, gen);
  }
  void bernoulli(const Tensor& out, double p, Generator& gen) const override { cuda_backend::bernoulli(out, p, gen); }
  void bernoulli(const Tensor& out, const Tensor& p, Generator& gen) const override {
    cuda_backend::bernoulli(out, p, gen);
  }
  void randperm(const Tensor& out, Generator& gen) const override { cuda_backend::randperm(out, gen); }
  void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, Generator& gen) const override {
    cuda_backend::dropout(out, mask, x, p, gen);
  }

  // ---- optimizer updates (cuda/optim_update.cu) ----
  void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, bool first_step,
                  const cpu::SGDUpdate& u) const override {
    cuda_backend::sgd_update(param, grad, momentum_buffer, first_step, u);
  }
  void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                   const Tensor& max_exp_avg_sq, const cpu::AdamUpdate& u) const override {
    cuda_backend::adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, u);
  }
  void rmsprop_update(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                      const Tensor& momentum_buffer, const cpu::RMSpropUpdate& u) const override {
    cuda_backend::rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, u);
  }
  void adagrad_update(const Tensor& param, const Tensor& grad, const Tensor& sum,
                      const cpu::AdagradUpdate& u) const override {
    cuda_backend::adagrad_update(param, grad, sum, u);
  }
};

}  // namespace

const Backend& cuda_device_backend(Device device) {
  static const CudaBackend backend;
  cuda_backend::check_device("device", device);
  return backend;
}

}  // namespace tapeflow::kernels
