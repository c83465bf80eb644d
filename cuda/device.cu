// Devices and streams: the device count is probed once, the current stream is kept per device.
#include "device.hpp"

#include <algorithm>
#include <array>
#include <atomic>

#include "cuda_check.hpp"

namespace tapeflow::cuda_backend {
namespace {

constexpr int kMaxDevices = 64;

// Per device: the current stream (nullptr: the legacy default stream) and its multiprocessor count.
struct DeviceState {
  std::atomic<cudaStream_t> stream{nullptr};
  std::atomic<int> multiprocessors{0};
};
std::array<DeviceState, kMaxDevices>& states() {
  static std::array<DeviceState, kMaxDevices> s;
  return s;
}

}  // namespace

int device_count() noexcept {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the error so later calls start clean
      return 0;
    }
    return std::min(n, kMaxDevices);
  }();
  return count;
}

void check_device(const char* op, Device device) {
  if (!device.is_cuda()) fail<DeviceError>(op, "expected a CUDA device, got ", device);
  const int n = device_count();
  if (n == 0) fail<DeviceError>(op, "device ", device, " requested, but this machine has no CUDA GPU (or no driver)");
  if (device.index() < 0 || device.index() >= n)
    fail<DeviceError>(op, "device ", device, " requested, but this machine has ", n, " CUDA device(s): cuda:0 to cuda:",
                      n - 1);
}

DeviceGuard::DeviceGuard(int index) {
  TAPEFLOW_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != index) TAPEFLOW_CUDA_CHECK(cudaSetDevice(index));
}

DeviceGuard::~DeviceGuard() {
  int now = -1;
  if (cudaGetDevice(&now) == cudaSuccess && now != previous_) cudaSetDevice(previous_);
}

cudaStream_t current_stream(int device) { return states()[static_cast<std::size_t>(device)].stream.load(); }

void set_current_stream(int device, cudaStream_t stream) { states()[static_cast<std::size_t>(device)].stream = stream; }

LaunchShape launch_shape(long long n, unsigned threads) {
  int device = 0;
  TAPEFLOW_CUDA_CHECK(cudaGetDevice(&device));
  auto& sms = states()[static_cast<std::size_t>(device)].multiprocessors;
  if (sms.load() == 0) {
    int count = 0;
    TAPEFLOW_CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device));
    sms = count;
  }
  // Enough blocks for every item, capped at 32 resident-sized waves per SM (grid-stride covers the rest).
  const long long wanted = (n + threads - 1) / threads;
  const long long cap = static_cast<long long>(sms.load()) * 32;
  return {static_cast<unsigned>(std::max<long long>(1, std::min(wanted, cap))), threads};
}

}  // namespace tapeflow::cuda_backend
