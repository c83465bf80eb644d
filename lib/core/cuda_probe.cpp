// Whether a CUDA backend was compiled in, and how many GPUs it sees.
#include "tapeflow/device.hpp"

#ifdef TAPEFLOW_WITH_CUDA
namespace tapeflow::cuda_backend {
int device_count() noexcept;
}
#endif

namespace tapeflow::cuda {

int device_count() {
#ifdef TAPEFLOW_WITH_CUDA
  return cuda_backend::device_count();
#else
  return 0;
#endif
}

bool is_available() { return device_count() > 0; }

}  // namespace tapeflow::cuda
