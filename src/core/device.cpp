// Device parsing and printing, with torch's accepted forms and messages.
#include "vt/device.h"

#include <charconv>

#include "vt/error.h"

namespace vt {

std::string_view device_type_name(DeviceType type) { return type == DeviceType::CUDA ? "cuda" : "cpu"; }

Device::Device(DeviceType type_, int index_) : type(type_), index(static_cast<int8_t>(index_)) {
  VT_CHECK(index_ >= -1 && index_ < 128, "Device index must be -1 or non-negative, got ", index_);
  VT_CHECK(!(type_ == DeviceType::CPU && index_ > 0), "CPU device index must be -1 or zero, got ", index_);
}

Device::Device(std::string_view spec) {
  std::string_view kind = spec;
  std::string_view ordinal;
  if (size_t colon = spec.find(':'); colon != std::string_view::npos) {
    kind = spec.substr(0, colon);
    ordinal = spec.substr(colon + 1);
    VT_CHECK(!ordinal.empty(), "Invalid device string: '", spec, "'");
  }
  if (kind == "cpu") {
    type = DeviceType::CPU;
  } else if (kind == "cuda") {
    type = DeviceType::CUDA;
  } else {
    fail(ErrorKind::Runtime,
         "Expected one of cpu, cuda device type at start of device string: ", spec);
  }
  if (!ordinal.empty()) {
    int value = -1;
    auto [end, error] = std::from_chars(ordinal.data(), ordinal.data() + ordinal.size(), value);
    bool digits_only = ordinal.find_first_not_of("0123456789") == std::string_view::npos;
    VT_CHECK(error == std::errc() && end == ordinal.data() + ordinal.size() && digits_only &&
                 !(ordinal.size() > 1 && ordinal[0] == '0') && value < 128,
             "Invalid device string: '", spec, "'");
    VT_CHECK(!(type == DeviceType::CPU && value > 0), "CPU device index must be -1 or zero, got ", value);
    index = static_cast<int8_t>(value);
  }
}

std::string Device::str() const {
  std::string out(device_type_name(type));
  if (index >= 0) out += ":" + std::to_string(index);
  return out;
}

}  // namespace vt
