// tapeflow::cuda on the machine the tests run on: without a GPU (or without CUDA in the build)
// it reports no devices and no memory, and what needs a GPU throws a DeviceError that says why.
// With a GPU, argument checks. (GPU behaviour proper: tests/cuda/test_memory_cuda.cpp.)
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <type_traits>

#include "tapeflow/tapeflow.hpp"
#include "core/cuda_api.hpp"

using namespace tapeflow;

namespace {
// Why a GPU cannot be used here, as the errors say it.
const char* no_gpu_reason() { return cuda::is_built() ? "this machine has none" : "tapeflow was built without CUDA"; }
}  // namespace

TEST_CASE("OutOfMemoryError is a DeviceError, so existing handlers catch it") {
  STATIC_REQUIRE(std::is_base_of_v<DeviceError, OutOfMemoryError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, OutOfMemoryError>);
}

TEST_CASE("without a GPU: no devices, no memory in use, nothing to empty") {
  if (cuda::is_available()) return;
  REQUIRE(cuda::device_count() == 0);
  REQUIRE_FALSE(cuda::is_available());
  for (int device : {-1, 0, 3}) {
    REQUIRE(cuda::memory_allocated(device) == 0);
    REQUIRE(cuda::memory_reserved(device) == 0);
    REQUIRE(cuda::max_memory_allocated(device) == 0);
    REQUIRE(cuda::max_memory_reserved(device) == 0);
    REQUIRE_NOTHROW(cuda::reset_peak_memory_stats(device));
  }
  REQUIRE(cuda::memory_allocated() == 0);
  REQUIRE_NOTHROW(cuda::empty_cache());
}

TEST_CASE("without a GPU: what needs one throws DeviceError naming the call and the reason") {
  if (cuda::is_available()) return;
  using Catch::Contains;
  REQUIRE_THROWS_AS(cuda::current_device(), DeviceError);
  REQUIRE_THROWS_WITH(cuda::current_device(), Contains("[cuda::current_device]") && Contains(no_gpu_reason()));
  REQUIRE_THROWS_WITH(cuda::set_device(0), Contains("[cuda::set_device]") && Contains(no_gpu_reason()));
  REQUIRE_THROWS_WITH(cuda::synchronize(), Contains("[cuda::synchronize]") && Contains(no_gpu_reason()));
  REQUIRE_THROWS_WITH(cuda::synchronize(0), Contains(no_gpu_reason()));
  REQUIRE_THROWS_AS(cuda::Event(), DeviceError);
  REQUIRE_THROWS_WITH(cuda::Event(), Contains("[cuda::Event]") && Contains(no_gpu_reason()));
}

TEST_CASE("without a GPU: tensors on Device::cuda(i) fail clearly when made or moved there") {
  if (cuda::is_available()) return;
  using Catch::Contains;
  for (int i : {0, 1, 7}) {
    INFO("cuda:" << i);
    const Device gpu = Device::cuda(i);
    REQUIRE_THROWS_AS(zeros({2}, gpu), DeviceError);
    REQUIRE_THROWS_AS(ones({2, 3}).to(gpu), DeviceError);
    // The message names the device and says what is missing: the backend or the GPU.
    const auto reason = cuda::is_built() ? Contains("no CUDA GPU") : Contains("CUDA backend");
    REQUIRE_THROWS_WITH(zeros({2}, gpu), Contains(gpu.str()) && reason);
    REQUIRE_THROWS_WITH(ones({2}).to(gpu), Contains(gpu.str()) && reason);
  }
}

TEST_CASE("pin_memory needs a GPU, as PyTorch; is_pinned is false for ordinary memory") {
  Tensor t = arange(6, kFloat32).reshape({2, 3});
  REQUIRE_FALSE(t.is_pinned());
  REQUIRE_FALSE(zeros({0}).is_pinned());
  if (cuda::is_available()) return;
  REQUIRE_THROWS_AS(t.pin_memory(), DeviceError);
  REQUIRE_THROWS_WITH(t.pin_memory(), Catch::Contains("[pin_memory]") && Catch::Contains(no_gpu_reason()));
}

TEST_CASE("with a GPU: device arguments are checked against the machine") {
  if (!cuda::is_available()) return;
  const int n = cuda::device_count();
  REQUIRE(n > 0);
  const int current = cuda::current_device();
  REQUIRE(current >= 0);
  REQUIRE(current < n);
  REQUIRE_THROWS_AS(cuda::set_device(n), DeviceError);
  REQUIRE_THROWS_AS(cuda::synchronize(n), DeviceError);
  REQUIRE_THROWS_AS(cuda::memory_allocated(n), DeviceError);
  REQUIRE_THROWS_AS(cuda::memory_reserved(-2), DeviceError);
  REQUIRE(cuda::current_device() == current);
  REQUIRE_THROWS_AS(zeros({2}, Device::cuda(n)), DeviceError);
  REQUIRE_THROWS_WITH(zeros({2}, Device::cuda(n)), Catch::Contains(Device::cuda(n).str()));
}

TEST_CASE("an event must be recorded before it can be timed") {
  if (!cuda::is_available()) return;
  cuda::Event a, b;
  REQUIRE(a.query());  // nothing recorded: nothing to wait for
  REQUIRE_NOTHROW(a.synchronize());
  REQUIRE_THROWS_AS(a.elapsed_time(b), ValueError);
}

TEST_CASE("the DataLoader's pin_memory option is ignored without a GPU, batches unchanged") {
  if (cuda::is_available()) return;
  const Tensor x = arange(20, kFloat32).reshape({10, 2});
  const Tensor y = arange(10, kInt64);
  for (int workers : {0, 2}) {
    data::DataLoader loader(data::TensorDataset(x, y), {.batch_size = 4, .num_workers = workers, .pin_memory = true});
    std::int64_t row = 0;
    for (const data::Batch& batch : loader) {
      REQUIRE_FALSE(batch.data.is_pinned());
      REQUIRE(equal(batch.data, x.slice(0, row, row + batch.data.size(0))));
      REQUIRE(equal(batch.target, y.slice(0, row, row + batch.target.size(0))));
      row += batch.data.size(0);
    }
    REQUIRE(row == 10);
  }
}

namespace {
// Whether a library whose file name contains `name` is mapped into this process.
bool library_mapped(const std::string& name) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(name) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("cuBLAS is opened when a GPU matmul first needs it, not at start-up") {
  // CPU work, matmul included, never needs it: linking it cost every process ~60 ms and ~220 MB.
  // (This file runs no GPU matmul before this test, the last one.)
  const Tensor a = randn({8, 8});
  const Tensor c = mm(a, a) + matmul(a.unsqueeze(0), a);
  REQUIRE(c.size(0) == 1);
  REQUIRE_FALSE(library_mapped("libcublas"));
  if (!cuda::is_built()) {
    REQUIRE_THROWS_AS(detail::load_cublas(), DeviceError);
    return;
  }
  // The toolkit's cuBLAS loads, with every function the backend calls, with or without a GPU.
  REQUIRE_NOTHROW(detail::load_cublas());
  REQUIRE(library_mapped("libcublas.so"));
  REQUIRE_NOTHROW(detail::load_cublas());  // once is enough; again is harmless
  if (!cuda::is_available()) return;
  const Tensor on_gpu = mm(a.to(Device::cuda(0)), a.to(Device::cuda(0))).to(Device::cpu());
  REQUIRE(allclose(on_gpu, mm(a, a), 1e-5, 1e-5));
}
