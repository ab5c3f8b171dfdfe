// Where a tensor lives: `cpu` or `cuda:N`, parsed and printed as torch does.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace vt {

enum class DeviceType : int8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int8_t index = -1;  // -1: "the current device" (only meaningful for CUDA)

  Device() = default;
  Device(DeviceType type, int index = -1);
  // "cpu", "cuda", "cuda:1"; throws with torch's message otherwise.
  explicit Device(std::string_view spec);

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool has_index() const { return index >= 0; }
  std::string str() const;  // "cpu", "cuda:0"

  friend bool operator==(const Device& a, const Device& b) {
    return a.type == b.type && a.index == b.index;
  }
};

std::string_view device_type_name(DeviceType type);

}  // namespace vt
