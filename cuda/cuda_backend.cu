// The CUDA backend: the kernel interface (lib/kernels/backend.hpp) on NVIDIA GPUs. Families not
// yet ported throw a DeviceError naming the op, so a missing kernel is never a silent wrong answer.
#include "allocator.hpp"
#include "copy.hpp"
#include "device.hpp"
#include "kernels/backend.hpp"
#include "loss.hpp"
#include "optim_update.hpp"
#include "random.hpp"

namespace tapeflow::kernels {
namespace {

[[noreturn]] void not_yet(const char* op) {
  fail<DeviceError>(op,
                    "is not implemented on CUDA devices yet (tapeflow's CUDA backend is in progress); "
                    "run it on the CPU: .to(Device::cpu())");
}

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
  void sum(const Tensor&, const Tensor&, const ReduceMask&) const override { not_yet("sum"); }
  void prod(const Tensor&, const Tensor&, const ReduceMask&) const override { not_yet("prod"); }
  void mean(const Tensor&, const Tensor&, const ReduceMask&) const override { not_yet("mean"); }
  void var(const Tensor&, const Tensor&, const ReduceMask&, std::int64_t, bool) const override { not_yet("var"); }
  void logsumexp(const Tensor&, const Tensor&, const ReduceMask&) const override { not_yet("logsumexp"); }
  void norm(const Tensor&, const Tensor&, const ReduceMask&, double) const override { not_yet("norm"); }
  void amax(const Tensor&, const Tensor&, const ReduceMask&) const override { not_yet("amax"); }
  void amin(const Tensor&, const Tensor&, const ReduceMask&) const override { not_yet("amin"); }
  void max_with_index(const Tensor&, const Tensor&, const Tensor&, const ReduceMask&) const override {
    not_yet("max_with_index");
  }
  void min_with_index(const Tensor&, const Tensor&, const Tensor&, const ReduceMask&) const override {
    not_yet("min_with_index");
  }
  void all(const Tensor&, const Tensor&, const ReduceMask&) const override { not_yet("all"); }
  void any(const Tensor&, const Tensor&, const ReduceMask&) const override { not_yet("any"); }
  void cumsum(const Tensor&, const Tensor&, std::int64_t) const override { not_yet("cumsum"); }

  // ---- matmul (cuda/gemm.cu) ----
  void gemm(DType, std::int64_t, std::int64_t, std::int64_t, Scalar, const GemmOperand&, const GemmOperand&, Scalar,
            const GemmOperand&, GemmBatch) const override {
    not_yet("gemm");
  }

  // ---- index (cuda/index.cu) ----
  void check_index_range(const char*, const Tensor&, std::int64_t, std::int64_t) const override {
    not_yet("check_index_range");
  }
  void gather(const Tensor&, const Tensor&, const Tensor&, std::int64_t) const override { not_yet("gather"); }
  void scatter_add(const Tensor&, const Tensor&, const Tensor&, std::int64_t, std::int64_t) const override {
    not_yet("scatter_add");
  }
  void one_hot(const Tensor&, const Tensor&) const override { not_yet("one_hot"); }
  std::int64_t count_nonzero(const Tensor&) const override { not_yet("count_nonzero"); }
  void nonzero_indices(const Tensor&, const Tensor&) const override { not_yet("nonzero_indices"); }

  // ---- conv2d (cuda/conv.cu) ----
  void conv2d_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const ConvGeom&,
                      std::int64_t) const override {
    not_yet("conv2d_forward");
  }
  void conv2d_backward_input(const Tensor&, const Tensor&, const Tensor&, const ConvGeom&,
                             std::int64_t) const override {
    not_yet("conv2d_backward_input");
  }
  void conv2d_backward_weight(const Tensor&, const Tensor&, const Tensor&, const ConvGeom&,
                              std::int64_t) const override {
    not_yet("conv2d_backward_weight");
  }

  // ---- pooling (cuda/pool.cu) ----
  void max_pool2d(const Tensor&, const Tensor&, const Tensor&, std::int64_t, const PoolGeom&) const override {
    not_yet("max_pool2d");
  }
  void max_pool2d_backward(const Tensor&, const Tensor&, const Tensor&, std::int64_t) const override {
    not_yet("max_pool2d_backward");
  }
  void avg_pool2d(const Tensor&, const Tensor&, std::int64_t, const PoolGeom&, bool) const override {
    not_yet("avg_pool2d");
  }
  void avg_pool2d_backward(const Tensor&, const Tensor&, std::int64_t, const PoolGeom&, bool) const override {
    not_yet("avg_pool2d_backward");
  }
  void adaptive_avg_pool2d(const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                           std::int64_t) const override {
    not_yet("adaptive_avg_pool2d");
  }
  void adaptive_avg_pool2d_backward(const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t,
                                    std::int64_t, std::int64_t) const override {
    not_yet("adaptive_avg_pool2d_backward");
  }

  // ---- softmax (cuda/softmax.cu) ----
  void softmax(const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t, bool) const override {
    not_yet("softmax");
  }

  // ---- normalisation (cuda/norm.cu) ----
  void layer_norm(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                  std::int64_t, std::int64_t, double) const override {
    not_yet("layer_norm");
  }
  void layer_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                           const Tensor&, const Tensor&, std::int64_t, std::int64_t) const override {
    not_yet("layer_norm_backward");
  }
  void channel_moments(const Tensor&, const Tensor&, const Tensor&, std::int64_t, std::int64_t,
                       std::int64_t) const override {
    not_yet("channel_moments");
  }
  void inverse_std(const Tensor&, const Tensor&, double) const override { not_yet("inverse_std"); }
  void channel_normalize(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                         std::int64_t, std::int64_t, std::int64_t) const override {
    not_yet("channel_normalize");
  }
  void momentum_update(const Tensor&, const Tensor&, double, double) const override { not_yet("momentum_update"); }
  void batch_norm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                           const Tensor&, const Tensor&, std::int64_t, std::int64_t, std::int64_t,
                           bool) const override {
    not_yet("batch_norm_backward");
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
