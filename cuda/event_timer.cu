// CUDA events: cuda::Event (core/cuda_api.hpp) and the per-sample clock of tapeflow::bench. An
// event is recorded on the current stream of the device it was made on, the stream every op of
// that device is queued on, so two events bracket exactly the work queued between them.
#include <cuda_runtime.h>

#include "core/cuda_api.hpp"
#include "cuda_check.hpp"
#include "device.hpp"

namespace tapeflow::cuda_backend {
namespace {

struct EventHandle {
  int device = 0;
  cudaEvent_t event = nullptr;
};

EventHandle* handle(void* e) { return static_cast<EventHandle*>(e); }

// A new timing event on `device`.
EventHandle* make_event(int device) {
  DeviceGuard guard(device);
  auto* h = new EventHandle{device};
  const cudaError_t status = cudaEventCreate(&h->event);
  if (status != cudaSuccess) delete h;
  TAPEFLOW_CUDA_CHECK(status);
  return h;
}

void record_on_current_stream(EventHandle* h) {
  DeviceGuard guard(h->device);
  TAPEFLOW_CUDA_CHECK(cudaEventRecord(h->event, current_stream(h->device)));
}

}  // namespace

void* event_create_recorded() {
  EventHandle* h = make_event(current_device());
  try {
    record_on_current_stream(h);
  } catch (...) {
    event_destroy(h);
    throw;
  }
  return h;
}

void event_record(void* e) {
  // An event records on its own device; recording it for another current device makes a new one (as PyTorch).
  EventHandle* h = handle(e);
  const int device = current_device();
  if (device != h->device) {
    DeviceGuard guard(h->device);
    TAPEFLOW_CUDA_CHECK(cudaEventDestroy(h->event));
    h->event = nullptr;
    h->device = device;
    DeviceGuard here(device);
    TAPEFLOW_CUDA_CHECK(cudaEventCreate(&h->event));
  }
  record_on_current_stream(h);
}

void event_synchronize(void* e) { TAPEFLOW_CUDA_CHECK(cudaEventSynchronize(handle(e)->event)); }

bool event_query(void* e) {
  const cudaError_t status = cudaEventQuery(handle(e)->event);
  if (status == cudaErrorNotReady) {
    cudaGetLastError();
    return false;
  }
  TAPEFLOW_CUDA_CHECK(status);
  return true;
}

double event_elapsed_ms(void* start, void* end) {
  if (handle(start)->device != handle(end)->device)
    fail<DeviceError>("cuda::Event::elapsed_time", "the events were recorded on different devices (cuda:",
                      handle(start)->device, " and cuda:", handle(end)->device, ")");
  TAPEFLOW_CUDA_CHECK(cudaEventSynchronize(handle(end)->event));
  float ms = 0;
  TAPEFLOW_CUDA_CHECK(cudaEventElapsedTime(&ms, handle(start)->event, handle(end)->event));
  return static_cast<double>(ms);
}

void event_destroy(void* e) noexcept {
  EventHandle* h = handle(e);
  if (h->event != nullptr) cudaEventDestroy(h->event);
  delete h;
}

// ---- tapeflow::bench's sample clock (lib/util/bench.cpp) ----

namespace {
struct EventTimer {
  EventHandle* begin;
  EventHandle* end;
};
}  // namespace

void* event_timer_create(int device) {
  EventHandle* begin = make_event(device);
  EventHandle* end = nullptr;
  try {
    end = make_event(device);
  } catch (...) {
    event_destroy(begin);
    throw;
  }
  return new EventTimer{begin, end};
}

void event_timer_start(void* timer) {
  auto* t = static_cast<EventTimer*>(timer);
  synchronize(t->begin->device);  // earlier work must not land in this sample
  record_on_current_stream(t->begin);
}

double event_timer_stop(void* timer) {
  auto* t = static_cast<EventTimer*>(timer);
  record_on_current_stream(t->end);
  return event_elapsed_ms(t->begin, t->end) * 1e-3;
}

void event_timer_destroy(void* timer) noexcept {
  auto* t = static_cast<EventTimer*>(timer);
  event_destroy(t->begin);
  event_destroy(t->end);
  delete t;
}

}  // namespace tapeflow::cuda_backend
