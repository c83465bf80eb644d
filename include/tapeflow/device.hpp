#pragma once
// Where a tensor's memory lives.
#include <cstdint>
#include <iosfwd>
#include <string>

namespace tapeflow {

enum class DeviceType : std::uint8_t { CPU, CUDA };

class Device {
 public:
  constexpr Device() = default;
  constexpr Device(DeviceType type, int index) : type_(type), index_(index) {}
  // "cpu", "cuda" (cuda:0) or "cuda:N", as torch::Device("cuda:1"); ValueError otherwise.
  explicit Device(const std::string& spec);
  static constexpr Device cpu() { return Device(DeviceType::CPU, 0); }
  static constexpr Device cuda(int index = 0) { return Device(DeviceType::CUDA, index); }

  constexpr DeviceType type() const { return type_; }
  constexpr int index() const { return index_; }
  constexpr bool is_cpu() const { return type_ == DeviceType::CPU; }
  constexpr bool is_cuda() const { return type_ == DeviceType::CUDA; }
  constexpr bool operator==(const Device&) const = default;
  std::string str() const;  // "cpu", "cuda:0"

 private:
  DeviceType type_ = DeviceType::CPU;
  int index_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Device& d);

namespace cuda {
bool is_available();   // a CUDA backend was compiled in and a GPU is visible
int device_count();    // 0 without a backend or a GPU
}  // namespace cuda

}  // namespace tapeflow
