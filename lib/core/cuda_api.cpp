// tapeflow::cuda (include/tapeflow/cuda.hpp): checks arguments and forwards to the CUDA backend
// (lib/core/cuda_api.hpp) in CUDA builds; without CUDA it answers as PyTorch does on a machine
// without GPUs (no devices, no memory in use) and throws where a GPU is needed.
#include "core/cuda_api.hpp"

#include <utility>

#include "tapeflow/cuda.hpp"
#include "tapeflow/error.hpp"

namespace tapeflow {
namespace {

#ifdef TAPEFLOW_WITH_CUDA
constexpr bool kBuiltWithCuda = true;
#else
constexpr bool kBuiltWithCuda = false;
#endif

// Throws unless a GPU can be used: the build has CUDA and the machine a GPU.
void require_gpu(const char* op) {
  if (!kBuiltWithCuda)
    fail<DeviceError>(op, "needs a CUDA GPU, but tapeflow was built without CUDA (configure with -Dcuda=enabled "
                      "on a machine with nvcc)");
  if (cuda::device_count() == 0) fail<DeviceError>(op, "needs a CUDA GPU, but this machine has none (or no driver)");
}

// The device a `device` argument names (-1: the current one), checked against the machine.
int resolve_device(const char* op, int device) {
  require_gpu(op);
  if (device == -1) return cuda::current_device();
  const int n = cuda::device_count();
  if (device < 0 || device >= n)
    fail<DeviceError>(op, "device ", device, " requested, but this machine has ", n, " CUDA device(s): 0 to ", n - 1);
  return device;
}

// Memory statistics of a device; all zero when no GPU memory can be in use (no CUDA, no GPU).
detail::BlockCacheStats stats_of(const char* op, int device) {
  if (!cuda::is_available()) return {};
#ifdef TAPEFLOW_WITH_CUDA
  return cuda_backend::memory_stats(resolve_device(op, device));
#else
  (void)op, (void)device;
  return {};
#endif
}

}  // namespace

namespace cuda {

int device_count() {
#ifdef TAPEFLOW_WITH_CUDA
  return cuda_backend::device_count();
#else
  return 0;
#endif
}

bool is_built() { return kBuiltWithCuda; }

bool is_available() { return device_count() > 0; }

int current_device() {
  require_gpu("cuda::current_device");
#ifdef TAPEFLOW_WITH_CUDA
  return cuda_backend::current_device();
#endif
  return 0;
}

void set_device(int device) {
  require_gpu("cuda::set_device");
  if (device == -1) return;  // PyTorch: a negative device is a no-op
#ifdef TAPEFLOW_WITH_CUDA
  cuda_backend::set_device(resolve_device("cuda::set_device", device));
#endif
}

void synchronize(int device) {
  const int d = resolve_device("cuda::synchronize", device);
#ifdef TAPEFLOW_WITH_CUDA
  cuda_backend::synchronize(d);
#else
  (void)d;
#endif
}

std::size_t memory_allocated(int device) { return stats_of("cuda::memory_allocated", device).allocated; }
std::size_t memory_reserved(int device) { return stats_of("cuda::memory_reserved", device).reserved; }
std::size_t max_memory_allocated(int device) { return stats_of("cuda::max_memory_allocated", device).max_allocated; }
std::size_t max_memory_reserved(int device) { return stats_of("cuda::max_memory_reserved", device).max_reserved; }

void reset_peak_memory_stats(int device) {
  if (!is_available()) return;
#ifdef TAPEFLOW_WITH_CUDA
  cuda_backend::reset_peak_memory_stats(resolve_device("cuda::reset_peak_memory_stats", device));
#else
  (void)device;
#endif
}

void empty_cache() {
#ifdef TAPEFLOW_WITH_CUDA
  if (is_available()) cuda_backend::empty_cache();
#endif
}

// ---- Event ----

Event::Event() { require_gpu("cuda::Event"); }

Event::~Event() {
#ifdef TAPEFLOW_WITH_CUDA
  if (handle_ != nullptr) cuda_backend::event_destroy(handle_);
#endif
}

Event::Event(Event&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    Event dropped(std::move(*this));  // destroys our old event
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

void Event::record() {
#ifdef TAPEFLOW_WITH_CUDA
  if (handle_ == nullptr) handle_ = cuda_backend::event_create_recorded();
  else cuda_backend::event_record(handle_);
#endif
}

void Event::synchronize() {
#ifdef TAPEFLOW_WITH_CUDA
  if (handle_ != nullptr) cuda_backend::event_synchronize(handle_);
#endif
}

bool Event::query() const {
#ifdef TAPEFLOW_WITH_CUDA
  if (handle_ != nullptr) return cuda_backend::event_query(handle_);
#endif
  return true;
}

double Event::elapsed_time(const Event& end) const {
  if (handle_ == nullptr || end.handle_ == nullptr)
    fail<ValueError>("cuda::Event::elapsed_time", "both events must be recorded first (call record() on each)");
#ifdef TAPEFLOW_WITH_CUDA
  return cuda_backend::event_elapsed_ms(handle_, end.handle_);
#endif
  return 0;
}

}  // namespace cuda

namespace detail {

void* pinned_host_allocate(const char* op, std::size_t nbytes) {
  require_gpu(op);
#ifdef TAPEFLOW_WITH_CUDA
  return cuda_backend::host_allocate(nbytes);
#else
  (void)nbytes;
  return nullptr;
#endif
}

void pinned_host_free(void* p) noexcept {
#ifdef TAPEFLOW_WITH_CUDA
  cuda_backend::host_deallocate(p);
#else
  (void)p;
#endif
}

bool is_pinned_host(const void* p) noexcept {
#ifdef TAPEFLOW_WITH_CUDA
  return p != nullptr && cuda::is_available() && cuda_backend::is_pinned(p);
#else
  (void)p;
  return false;
#endif
}

void load_cublas() {
#ifdef TAPEFLOW_WITH_CUDA
  cuda_backend::load_cublas();
#else
  fail<DeviceError>("cublas", "tapeflow was built without CUDA");
#endif
}

}  // namespace detail
}  // namespace tapeflow
