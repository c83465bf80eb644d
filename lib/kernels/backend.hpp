#pragma once
// The kernel interface every device implements, by op family. The op layer (lib/ops) validates,
// allocates and records; then it calls `kernels::on(tensor).family_kernel(...)`, and never
// branches on the device itself. The CPU backend (lib/cpu/cpu_backend.cpp) forwards to the
// kernels in lib/cpu; the CUDA backend (cuda/cuda_backend.cu) to those in cuda/.
//
// Elementwise maps over functors are templates and so are not here: see kernels/map.hpp.
// Every tensor handed to a kernel lives on that backend's device (the op layer checks), except
// for copy(), which also moves data between the host and a device.
#include <cstddef>
#include <cstdint>

#include "cpu/optim_update_rules.hpp"
#include "kernels/params.hpp"
#include "tapeflow/random.hpp"
#include "tapeflow/tensor.hpp"

namespace tapeflow::kernels {

class Backend {
 public:
  virtual ~Backend() = default;

  // ---- memory ----
  virtual void* allocate(std::size_t nbytes, Device device) const = 0;
  virtual void deallocate(void* p, std::size_t nbytes, Device device) const = 0;

  // ---- copy and fill (lib/cpu/copy.hpp) ----
  // dst[...] = cast(src[...]), src broadcast to dst's shape; either may be on the host.
  virtual void copy(const Tensor& dst, const Tensor& src) const = 0;
  virtual void fill(const Tensor& dst, Scalar value) const = 0;

  // ---- reductions (lib/cpu/reduce.hpp): out is a fresh contiguous tensor of the kept dims ----
  virtual void sum(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const = 0;
  virtual void prod(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const = 0;
  virtual void mean(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const = 0;
  virtual void var(const Tensor& out, const Tensor& x, const ReduceMask& reduced, std::int64_t correction,
                   bool take_sqrt) const = 0;
  virtual void logsumexp(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const = 0;
  virtual void norm(const Tensor& out, const Tensor& x, const ReduceMask& reduced, double p) const = 0;
  virtual void amax(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const = 0;
  virtual void amin(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const = 0;
  virtual void max_with_index(const Tensor& values, const Tensor& indices, const Tensor& x,
                              const ReduceMask& reduced) const = 0;
  virtual void min_with_index(const Tensor& values, const Tensor& indices, const Tensor& x,
                              const ReduceMask& reduced) const = 0;
  virtual void all(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const = 0;
  virtual void any(const Tensor& out, const Tensor& x, const ReduceMask& reduced) const = 0;
  virtual void cumsum(const Tensor& out, const Tensor& x, std::int64_t dim) const = 0;

  // ---- matmul (lib/cpu/gemm.hpp): C = alpha A @ B + beta C over a batch of strided matrices;
  // every operand satisfies blas_layout(...).ok (kernels/params.hpp) ----
  // alpha and beta by reference: read in place, never copied through the stack (see Scalar).
  virtual void gemm(DType dtype, std::int64_t m, std::int64_t n, std::int64_t k, const Scalar& alpha,
                    const GemmOperand& a, const GemmOperand& b, const Scalar& beta, const GemmOperand& c,
                    const GemmBatch& batch) const = 0;

  // ---- index (lib/cpu/index.hpp) ----
  virtual void check_index_range(const char* op, const Tensor& index, std::int64_t dim, std::int64_t size) const = 0;
  virtual void gather(const Tensor& out, const Tensor& x_view, const Tensor& index, std::int64_t dim_stride) const = 0;
  virtual void scatter_add(const Tensor& x_view, const Tensor& index, const Tensor& src, std::int64_t dim,
                           std::int64_t dim_stride) const = 0;
  virtual void one_hot(const Tensor& out, const Tensor& indices) const = 0;
  virtual std::int64_t count_nonzero(const Tensor& x) const = 0;
  virtual void nonzero_indices(const Tensor& out, const Tensor& x) const = 0;

  // ---- conv2d and pooling (lib/cpu/conv.hpp, lib/cpu/pool.hpp) ----
  virtual void conv2d_forward(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                              const ConvGeom& g, std::int64_t groups) const = 0;
  virtual void conv2d_backward_input(const Tensor& grad_input, const Tensor& grad, const Tensor& weight,
                                     const ConvGeom& g, std::int64_t groups) const = 0;
  virtual void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad, const Tensor& input,
                                      const ConvGeom& g, std::int64_t groups) const = 0;
  virtual void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& x, std::int64_t planes,
                          const PoolGeom& g) const = 0;
  virtual void max_pool2d_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& indices,
                                   std::int64_t planes) const = 0;
  virtual void avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, const PoolGeom& g,
                          bool count_include_pad) const = 0;
  virtual void avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes,
                                   const PoolGeom& g, bool count_include_pad) const = 0;
  virtual void adaptive_avg_pool2d(const Tensor& out, const Tensor& x, std::int64_t planes, std::int64_t H,
                                   std::int64_t W, std::int64_t Ho, std::int64_t Wo) const = 0;
  virtual void adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad, std::int64_t planes,
                                            std::int64_t H, std::int64_t W, std::int64_t Ho,
                                            std::int64_t Wo) const = 0;

  // ---- softmax and normalisation (lib/cpu/softmax.hpp, lib/cpu/norm.hpp) ----
  virtual void softmax(const Tensor& out, const Tensor& x, std::int64_t outer, std::int64_t n, std::int64_t inner,
                       bool log) const = 0;
  virtual void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x,
                          const Tensor& weight, const Tensor& bias, std::int64_t M, std::int64_t N,
                          double eps) const = 0;
  virtual void layer_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                                   const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& weight, std::int64_t M, std::int64_t N) const = 0;
  virtual void channel_moments(const Tensor& mean, const Tensor& var, const Tensor& x, std::int64_t N, std::int64_t C,
                               std::int64_t S) const = 0;
  virtual void inverse_std(const Tensor& rstd, const Tensor& var, double eps) const = 0;
  virtual void channel_normalize(const Tensor& out, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                 const Tensor& weight, const Tensor& bias, std::int64_t N, std::int64_t C,
                                 std::int64_t S) const = 0;
  virtual void momentum_update(const Tensor& running, const Tensor& stat, double momentum, double factor) const = 0;
  virtual void batch_norm_backward(const Tensor& grad_x, const Tensor& grad_weight, const Tensor& grad_bias,
                                   const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& weight, std::int64_t N, std::int64_t C, std::int64_t S,
                                   bool training) const = 0;

  // ---- losses (lib/cpu/loss.hpp); per_sample: contiguous float64, one value per target ----
  virtual double class_target_weight(const ClassTargets& c, const Tensor& target, const Tensor& weight) const = 0;
  virtual void class_loss(const ClassTargets& c, const Tensor& input, const Tensor& target, const Tensor& weight,
                          bool from_logits, const Tensor& per_sample, const Tensor& stats) const = 0;
  virtual void class_loss_backward(const ClassTargets& c, const Tensor& grad_input, const Tensor& input,
                                   const Tensor& target, const Tensor& weight, const Tensor& stats, double scale,
                                   const Tensor& grad_output, bool from_logits) const = 0;
  virtual void class_loss_coefficients(const ClassTargets& c, const Tensor& target, const Tensor& weight,
                                       double scale, const Tensor& a, const Tensor& sums) const = 0;
  virtual void binary_cross_entropy(const char* op, const Tensor& out, const Tensor& x, const Tensor& t) const = 0;
  virtual void binary_cross_entropy_with_logits(const Tensor& out, const Tensor& x, const Tensor& t,
                                                const Tensor& pos_weight) const = 0;

  // ---- random numbers (lib/cpu/random.hpp): the same bits on every backend for one seed ----
  virtual void uniform(const Tensor& out, double from, double to, Generator& gen) const = 0;
  virtual void normal(const Tensor& out, double mean, double std, Generator& gen) const = 0;
  virtual void randint(const Tensor& out, std::int64_t low, std::uint64_t range, Generator& gen) const = 0;
  virtual void bernoulli(const Tensor& out, double p, Generator& gen) const = 0;
  virtual void bernoulli(const Tensor& out, const Tensor& p, Generator& gen) const = 0;
  virtual void randperm(const Tensor& out, Generator& gen) const = 0;
  virtual void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, Generator& gen) const = 0;

  // ---- fused optimizer updates (lib/cpu/optim_update.hpp) ----
  virtual void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, bool first_step,
                          const cpu::SGDUpdate& u) const = 0;
  virtual void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                           const Tensor& max_exp_avg_sq, const cpu::AdamUpdate& u) const = 0;
  virtual void rmsprop_update(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                              const Tensor& grad_avg, const Tensor& momentum_buffer,
                              const cpu::RMSpropUpdate& u) const = 0;
  virtual void adagrad_update(const Tensor& param, const Tensor& grad, const Tensor& sum,
                              const cpu::AdagradUpdate& u) const = 0;
};

// The CPU backend, and the backend of `device` (DeviceError when this build or machine lacks it).
const Backend& cpu_backend();
const Backend& on(Device device);
inline const Backend& on(const Tensor& t) { return t.is_cpu() ? cpu_backend() : on(t.device()); }
inline const Backend& on(const TensorImpl& t) {
  const Device device = t.storage->device();
  return device.is_cpu() ? cpu_backend() : on(device);
}
// copy() between devices runs on the backend of the non-CPU side.
inline const Backend& on(const Tensor& dst, const Tensor& src) { return on(dst.is_cpu() ? src : dst); }

}  // namespace tapeflow::kernels
