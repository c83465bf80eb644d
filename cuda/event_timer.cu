// CUDA events for tapeflow::bench: a sample is bracketed by two events on the stream the work
// runs on, and its length is what the GPU measured between them. Until the CUDA backend has its
// own per-device streams the work runs on the legacy default stream, so that is the one timed.
#include <cuda_runtime.h>

#include "cuda_check.hpp"

namespace tapeflow::cuda_backend {

namespace {
struct EventTimer {
  int device = 0;
  cudaEvent_t begin = nullptr;
  cudaEvent_t end = nullptr;
};
}  // namespace

void* event_timer_create(int device) {
  auto* t = new EventTimer{device};
  try {
    TAPEFLOW_CUDA_CHECK(cudaSetDevice(device));
    TAPEFLOW_CUDA_CHECK(cudaEventCreate(&t->begin));
    TAPEFLOW_CUDA_CHECK(cudaEventCreate(&t->end));
  } catch (...) {
    if (t->begin != nullptr) cudaEventDestroy(t->begin);
    delete t;
    throw;
  }
  return t;
}

void event_timer_start(void* timer) {
  auto* t = static_cast<EventTimer*>(timer);
  TAPEFLOW_CUDA_CHECK(cudaSetDevice(t->device));
  TAPEFLOW_CUDA_CHECK(cudaDeviceSynchronize());  // earlier work must not land in this sample
  TAPEFLOW_CUDA_CHECK(cudaEventRecord(t->begin, nullptr));
}

double event_timer_stop(void* timer) {
  auto* t = static_cast<EventTimer*>(timer);
  TAPEFLOW_CUDA_CHECK(cudaEventRecord(t->end, nullptr));
  TAPEFLOW_CUDA_CHECK(cudaEventSynchronize(t->end));
  float ms = 0;
  TAPEFLOW_CUDA_CHECK(cudaEventElapsedTime(&ms, t->begin, t->end));
  return static_cast<double>(ms) * 1e-3;
}

void event_timer_destroy(void* timer) noexcept {
  auto* t = static_cast<EventTimer*>(timer);
  cudaEventDestroy(t->begin);
  cudaEventDestroy(t->end);
  delete t;
}

}  // namespace tapeflow::cuda_backend
