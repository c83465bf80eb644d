// Finding the backend of a device.
#include "kernels/backend.hpp"

#include "tapeflow/error.hpp"

namespace tapeflow::kernels {

#ifdef TAPEFLOW_WITH_CUDA
// cuda/cuda_backend.cu: the CUDA backend, after checking that `device` names a visible GPU.
const Backend& cuda_device_backend(Device device);
#endif

const Backend& on(Device device) {
  if (device.is_cpu()) return cpu_backend();
#ifdef TAPEFLOW_WITH_CUDA
  return cuda_device_backend(device);
#else
  fail<DeviceError>("device", "tensors on ", device, " need the CUDA backend, and this build of tapeflow has none "
                    "(configure with -Dcuda=enabled on a machine with nvcc)");
#endif
}

}  // namespace tapeflow::kernels
