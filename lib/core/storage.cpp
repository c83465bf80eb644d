// Storage: a block of device memory shared by the tensors that view it. CPU blocks come from
// cpu_allocator.cpp, others from their backend.
#include "tapeflow/storage.hpp"

#include "core/cpu_allocator.hpp"
#include "core/small_alloc.hpp"
#include "kernels/backend.hpp"

namespace tapeflow {

std::shared_ptr<Storage> Storage::allocate(std::size_t nbytes, Device device) {
  // CPU memory skips the backend lookup: tiny ops allocate on every call.
  void* p = device.is_cpu() ? cpu_allocator::allocate(nbytes) : kernels::on(device).allocate(nbytes, device);
  return detail::make_small_shared<Storage>(p, nbytes, device, Deleter{}, true);
}

std::shared_ptr<Storage> Storage::wrap(void* data, std::size_t nbytes, Device device, Deleter deleter) {
  return detail::make_small_shared<Storage>(data, nbytes, device, std::move(deleter), false);
}

Storage::Storage(void* data, std::size_t nbytes, Device device, Deleter deleter, bool from_allocator)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)), from_allocator_(from_allocator) {}

Storage::~Storage() {
  if (from_allocator_) {
    if (device_.is_cpu()) cpu_allocator::deallocate(data_, nbytes_);
    else kernels::on(device_).deallocate(data_, nbytes_, device_);
  } else if (deleter_) deleter_(data_);
}

}  // namespace tapeflow
