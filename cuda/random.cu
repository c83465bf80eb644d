// CUDA random kernels: one thread per Philox counter, which computes the counter's block and
// hands it to the draw's emitter (kernels/random_draws.hpp, the CPU's emitters), grid-stride.
#include "random.hpp"

#include "copy.hpp"
#include "cpu/random.hpp"
#include "cuda_check.hpp"
#include "device.hpp"
#include "kernels/random_draws.hpp"

namespace tapeflow::cuda_backend {
namespace {

namespace px = detail::philox;
namespace draws = kernels::draws;

template <class Emit>
__global__ void philox_kernel(Emit emit, std::uint64_t seed, std::uint64_t offset, long long n, long long counters) {
  const long long stride = static_cast<long long>(blockDim.x) * gridDim.x;
  for (long long c = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; c < counters; c += stride) {
    const px::Block blk = px::block(seed, offset + static_cast<std::uint64_t>(c));
    const long long first = c * Emit::kPer;
    const long long left = n - first;
    emit(blk, first, static_cast<int>(left < Emit::kPer ? left : Emit::kPer));
  }
}

// Reserves the counters of out's elements from gen (as the CPU does) and launches the draw.
template <class Emit>
void philox_launch(const Tensor& out, Generator& gen, const Emit& emit) {
  const std::int64_t n = out.numel();
  const std::int64_t counters = draws::counters_for<Emit>(n);
  if (counters == 0) return;
  const Generator::Reservation r = gen.reserve(static_cast<std::uint64_t>(counters));
  const int device = out.device().index();
  DeviceGuard guard(device);
  const LaunchShape shape = launch_shape(counters);
  philox_kernel<<<shape.blocks, shape.threads, 0, current_stream(device)>>>(emit, r.seed, r.offset, n, counters);
  TAPEFLOW_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void uniform(const Tensor& out, double from, double to, Generator& gen) {
  dispatch_floating(out.dtype(), "uniform_", [&]<typename T>() {
    philox_launch(out, gen, draws::uniform_emit<T>(out.data_ptr<T>(), from, to));
  });
}

void normal(const Tensor& out, double mean, double std, Generator& gen) {
  dispatch_floating(out.dtype(), "normal_", [&]<typename T>() {
    philox_launch(out, gen, draws::NormalEmit<T>{out.data_ptr<T>(), static_cast<T>(mean), static_cast<T>(std)});
  });
}

void randint(const Tensor& out, std::int64_t low, std::uint64_t range, Generator& gen) {
  dispatch_numeric(out.dtype(), "randint", [&]<typename T>() {
    philox_launch(out, gen, draws::RandintEmit<T>{out.data_ptr<T>(), low, range});
  });
}

void bernoulli(const Tensor& out, double p, Generator& gen) {
  dispatch(out.dtype(), [&]<typename T>() { philox_launch(out, gen, draws::BernoulliEmit<T>{out.data_ptr<T>(), p}); });
}

void bernoulli(const Tensor& out, const Tensor& p, Generator& gen) {
  dispatch_floating(p.dtype(), "bernoulli", [&]<typename P>() {
    dispatch(out.dtype(), [&]<typename T>() {
      philox_launch(out, gen, draws::BernoulliEmit<T, P>{out.data_ptr<T>(), 0.0, p.data_ptr<P>()});
    });
  });
}

void randperm(const Tensor& out, Generator& gen) {
  const Tensor host = empty(out.shape(), TensorOptions(kInt64));
  cpu::randperm(host, gen);
  copy(out, host);  // from pageable memory: staged before the call returns, so host may go
}

void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, Generator& gen) {
  dispatch_floating(x.dtype(), "dropout", [&]<typename T>() {
    bool* m = mask.defined() ? mask.data_ptr<bool>() : nullptr;
    philox_launch(out, gen,
                  draws::DropoutEmit<T>{out.data_ptr<T>(), m, x.data_ptr<T>(), p, static_cast<T>(1.0 / (1.0 - p))});
  });
}

}  // namespace tapeflow::cuda_backend
