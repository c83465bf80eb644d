#pragma once
// GPUs from the user's side, with PyTorch's names (torch.cuda.*): devices, synchronisation,
// the caching allocator's statistics, and events for timing GPU work.
//
// Everything links in a build without CUDA: is_available() is false, device_count() is 0, the
// memory statistics are 0 and empty_cache() does nothing (no GPU memory is in use), and what
// needs a GPU (current_device, set_device, synchronize, Event) throws DeviceError.
// `device = -1` means the current device, as PyTorch's `device=None`.
#include <cstddef>

#include "tapeflow/device.hpp"

namespace tapeflow::cuda {

bool is_built();      // this build of tapeflow has its CUDA backend (torch.backends.cuda.is_built)
bool is_available();  // a CUDA backend was compiled in and a GPU is visible
int device_count();   // 0 without a backend or a GPU

int current_device();            // the calling thread's current GPU (where cuda work with no device goes)
void set_device(int device);     // makes `device` the calling thread's current GPU
void synchronize(int device = -1);  // waits for all work queued on the device

// The caching allocator keeps freed GPU memory for reuse instead of returning it to the
// driver: memory_allocated() is what live tensors occupy, memory_reserved() what the cache holds
// from the driver (allocated + cached). A tensor occupies its size rounded up to 512 bytes, or
// the whole cached block it got when over 1 MiB and the block's leftover would be 1 MiB or less
// (not split off), as PyTorch: a 19.5 MiB tensor alone in a 20 MiB segment counts 20 MiB.
std::size_t memory_allocated(int device = -1);
std::size_t memory_reserved(int device = -1);
std::size_t max_memory_allocated(int device = -1);  // peak since start or reset_peak_memory_stats
std::size_t max_memory_reserved(int device = -1);
void reset_peak_memory_stats(int device = -1);
// Returns every cached segment that no tensor uses to the driver (on all devices), and the
// idle pinned host blocks of pin_memory(). Tensors keep their memory; other processes (and
// cudaMalloc outside tapeflow) can then use the rest. Waits for queued work first.
void empty_cache();

// A marker in a device's current stream: record() it, and the GPU stamps it when it gets
// there. elapsed_time() gives the milliseconds between two recorded events:
//   cuda::Event start, stop;  start.record();  run();  stop.record();
//   stop.synchronize();  double ms = start.elapsed_time(stop);
class Event {
 public:
  Event();  // throws DeviceError when there is no GPU
  ~Event();
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record();       // on the current device's current stream (created there on first record)
  void synchronize();  // waits until the GPU reached the recorded point (no-op if never recorded)
  bool query() const;  // true when the recorded point was reached (or nothing was recorded)
  // Milliseconds from this event to `end`; both must be recorded (and end reached, else waits).
  double elapsed_time(const Event& end) const;

 private:
  void* handle_ = nullptr;  // the backend's event; nullptr until the first record()
};

}  // namespace tapeflow::cuda
