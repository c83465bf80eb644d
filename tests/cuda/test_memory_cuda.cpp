// Devices and memory on cuda:0: the caching allocator in steady state, its statistics,
// empty_cache, out-of-memory, events timing a kernel, and pinned host memory round trips.
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/cuda_test_util.hpp"

using namespace tapeflow;
using cuda_test::kGpu;
using cuda_test::require_close;

namespace {
constexpr std::size_t kMiB = std::size_t{1} << 20;

TensorOptions on_gpu(DType dtype = kFloat32) { return TensorOptions(dtype).device(kGpu); }
}  // namespace

TEST_CASE("device API on a GPU machine", "[cuda]") {
  REQUIRE(cuda::is_built());
  REQUIRE(cuda::is_available());
  const int n = cuda::device_count();
  REQUIRE(n >= 1);
  cuda::set_device(0);
  REQUIRE(cuda::current_device() == 0);
  REQUIRE_NOTHROW(cuda::synchronize());
  REQUIRE_NOTHROW(cuda::synchronize(0));
  REQUIRE_THROWS_AS(cuda::set_device(n), DeviceError);
}

TEST_CASE("a freed block is reused at once on the same stream", "[cuda]") {
  const void* first = nullptr;
  {
    Tensor a = empty({1000}, on_gpu());
    first = a.data_ptr();
  }
  Tensor b = empty({1000}, on_gpu());
  REQUIRE(b.data_ptr() == first);
}

TEST_CASE("steady state: repeated alloc/free of tensors reserves no new memory", "[cuda]") {
  const Tensor x = randn({512, 384}).to(kGpu);
  auto step = [&] {
    Tensor y = x * 2.0f + 1.0f;     // mid-size temporaries (768 KiB: small pool)
    Tensor big = empty({8 * 1024 * 1024}, on_gpu());  // 32 MiB: large pool, own segment
    Tensor z = (y - x).exp();
    Tensor small = ones({7}, on_gpu(kInt64));
    big.fill_(1.0f);
    return z;
  };
  // Warm up the cache with the measured loop's own pattern: `last` keeps the previous result alive
  // while the next step runs, so one more small-pool block is live than in a bare `step()`.
  Tensor last;
  for (int i = 0; i < 3; ++i) last = step();
  last = Tensor();
  cuda::synchronize();
  const std::size_t reserved = cuda::memory_reserved();
  const std::size_t allocated = cuda::memory_allocated();
  for (int i = 0; i < 100; ++i) last = step();
  last = Tensor();
  cuda::synchronize();
  REQUIRE(cuda::memory_reserved() == reserved);
  REQUIRE(cuda::memory_allocated() == allocated);
  // And the values are still right: the reused blocks did not mix up tensors.
  require_close((x.cpu() * 2.0f + 1.0f - x.cpu()).exp(), step(), 1e-5, 1e-6);
}

TEST_CASE("memory statistics follow live tensors and the peak until reset", "[cuda]") {
  cuda::synchronize();
  const std::size_t base = cuda::memory_allocated(0);
  cuda::reset_peak_memory_stats(0);
  REQUIRE(cuda::max_memory_allocated(0) == base);
  {
    Tensor a = empty({1000}, on_gpu());               // 4000 bytes -> 4096
    REQUIRE(cuda::memory_allocated(0) == base + 4096);
    Tensor b = empty({3 * 1024 * 1024}, on_gpu());    // 12 MiB exactly
    REQUIRE(cuda::memory_allocated() == base + 4096 + 12 * kMiB);
    REQUIRE(cuda::memory_reserved() >= cuda::memory_allocated());
  }
  REQUIRE(cuda::memory_allocated() == base);
  REQUIRE(cuda::max_memory_allocated() == base + 4096 + 12 * kMiB);
  REQUIRE(cuda::max_memory_reserved() >= base + 4096 + 12 * kMiB);
  cuda::reset_peak_memory_stats();
  REQUIRE(cuda::max_memory_allocated() == base);
}

TEST_CASE("empty_cache returns unused segments and keeps live tensors intact", "[cuda]") {
  Tensor keep = arange(1000, on_gpu());
  { Tensor big = empty({16 * 1024 * 1024}, on_gpu()); }  // 64 MiB, now cached
  const std::size_t before = cuda::memory_reserved();
  REQUIRE(before >= 64 * kMiB);
  cuda::empty_cache();
  const std::size_t after = cuda::memory_reserved();
  REQUIRE(after + 64 * kMiB <= before);
  REQUIRE(after >= cuda::memory_allocated());
  require_close(arange(1000, TensorOptions(kFloat32)), keep);
}

TEST_CASE("out of memory throws OutOfMemoryError with the sizes, and the allocator stays usable", "[cuda]") {
  Tensor live = ones({1024}, on_gpu());
  const std::int64_t huge = std::int64_t{1} << 40;  // 4 TiB of float32: no GPU has it
  std::string message;
  try {
    Tensor t = empty({huge}, on_gpu());
    FAIL("allocated 4 TiB");
  } catch (const OutOfMemoryError& e) {
    message = e.what();
  }
  INFO(message);
  REQUIRE(message.find("cuda:0") != std::string::npos);
  REQUIRE(message.find("4.00 TiB (4398046511104 bytes)") != std::string::npos);
  REQUIRE(message.find("allocated by tapeflow") != std::string::npos);
  REQUIRE(message.find("reserved") != std::string::npos);
  REQUIRE_THROWS_AS(empty({huge}, on_gpu()), DeviceError);  // and handlers of DeviceError see it
  // Usable afterwards: new tensors, live ones intact.
  Tensor y = live * 3.0f;
  require_close(full({1024}, 3.0f), y);
}

TEST_CASE("events time a kernel on the current stream", "[cuda]") {
  Tensor x = randn({4096, 1024}).to(kGpu);
  cuda::Event start, stop;
  start.record();
  for (int i = 0; i < 20; ++i) x = x * 1.0001f + 0.5f;
  stop.record();
  stop.synchronize();
  REQUIRE(stop.query());
  const double ms = start.elapsed_time(stop);
  // 40 passes over 16 MiB read+write: well above a microsecond, well below a few seconds.
  REQUIRE(ms > 0.001);
  REQUIRE(ms < 5000.0);
  // Recording again moves the event on: an empty interval is (nearly) zero.
  start.record();
  stop.record();
  REQUIRE(start.elapsed_time(stop) < ms);
}

TEST_CASE("pinned host memory: pin_memory copies, is_pinned, round trips to the GPU", "[cuda]") {
  const Tensor t = randn({257, 33});
  Tensor p = t.pin_memory();
  REQUIRE(p.is_pinned());
  REQUIRE_FALSE(t.is_pinned());
  REQUIRE(p.is_cpu());
  REQUIRE(p.data_ptr() != t.data_ptr());
  REQUIRE(equal(p, t));
  REQUIRE(p.pin_memory().data_ptr() == p.data_ptr());  // already pinned: itself
  REQUIRE(t.t().pin_memory().is_contiguous());           // a strided source becomes contiguous
  REQUIRE(equal(t.t().pin_memory(), t.t()));
  // Host -> device from pinned memory, and back.
  require_close(t, p.to(kGpu), 0, 0);
  require_close(t.t(), p.t().to(kGpu), 0, 0);          // strided pinned source
  require_close(t.to(kFloat64), p.to(kGpu, kFloat64), 0, 0);  // with a cast on the GPU
  REQUIRE_THROWS_AS(p.to(kGpu).pin_memory(), DeviceError);  // only CPU tensors can be pinned
}

TEST_CASE("a copy from pinned memory is finished when to() returns", "[cuda]") {
  // Blocking like PyTorch's default (non_blocking=false): writing into the pinned source right
  // after must not change what arrives on the GPU.
  Tensor p = full({1024, 1024}, 1.0f).pin_memory();
  const Tensor g = p.to(kGpu);
  p.fill_(2.0f);
  require_close(full({1024, 1024}, 1.0f), g, 0, 0);
}

TEST_CASE("pinned blocks are reused only after the copies that read them finished", "[cuda]") {
  // A DataLoader-like loop: each batch pinned, copied, then dropped; the block
  // comes back for the next batch, which must not overwrite data a queued copy still reads.
  std::vector<Tensor> on_device, expected;
  for (int i = 0; i < 20; ++i) {
    Tensor batch = full({64, 1024}, static_cast<float>(i));
    expected.push_back(batch);
    on_device.push_back(batch.pin_memory().to(kGpu));  // the pinned tensor dies here
  }
  for (std::size_t i = 0; i < expected.size(); ++i) require_close(expected[i], on_device[i], 0, 0);
}

TEST_CASE("the DataLoader's pin_memory option gives pinned batches that copy to the GPU", "[cuda]") {
  const Tensor x = randn({50, 3});
  const Tensor y = arange(50, kInt64);
  for (int workers : {0, 2}) {
    data::DataLoader loader(data::TensorDataset(x, y), {.batch_size = 8, .num_workers = workers, .pin_memory = true});
    std::int64_t row = 0;
    for (const data::Batch& batch : loader) {
      REQUIRE(batch.data.is_pinned());
      REQUIRE(batch.target.is_pinned());
      const std::int64_t n = batch.data.size(0);
      require_close(x.slice(0, row, row + n), batch.data.to(kGpu), 0, 0);
      require_close(y.slice(0, row, row + n), batch.target.to(kGpu), 0, 0);
      row += n;
    }
    REQUIRE(row == 50);
  }
}
