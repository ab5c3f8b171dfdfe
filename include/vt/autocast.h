// Autocast (automatic mixed precision), as torch.autocast: inside an enabled region, ops on a
// device type cast their floating-point tensor arguments first, by the op's policy:
//   LowerPrecision  to the region's dtype (float16 or bfloat16): matrix products, convolutions;
//   Float32         to float32: ops that lose accuracy in 16 bits (losses, softmax on CUDA, ...);
//   Promote         to the widest floating dtype among the arguments (cat, stack, ...).
// float64 tensors are never cast, and only tensors on the region's device type are. The
// dispatcher applies the cast (TypedOp), once per call: the op's own callees see the cast
// tensors and are not cast again. Each device type has its own op lists (torch's).
#pragma once
#include <cstdint>
#include <span>

#include "vt/device.h"
#include "vt/dtype.h"

namespace vt {
class Tensor;
}

namespace vt::autocast {

enum class Policy : uint8_t { None, LowerPrecision, Float32, Promote };

// The region's state on this thread, per device type.
bool is_enabled(DeviceType device);
void set_enabled(DeviceType device, bool enabled);
ScalarType dtype(DeviceType device);
void set_dtype(DeviceType device, ScalarType dtype);  // float16 or bfloat16

// True when some device type is enabled and this thread is not already inside a cast call:
// the dispatcher's one check on the common path.
extern thread_local bool t_active;
inline bool active() { return t_active; }

// Every op with a policy: (full name, device type, policy).
struct Entry {
  const char* op;
  DeviceType device;
  Policy policy;
};
std::span<const Entry> policies();

// The argument as the policy wants it: a floating tensor on `device` that is not float64,
// cast to `target`; anything else as is.
Tensor cast(const Tensor& t, ScalarType target, DeviceType device);
// For Promote: the widest floating dtype among `dtypes` (Undefined when there is none).
ScalarType widest(std::span<const ScalarType> dtypes);

// Turns autocast off on this thread for its lifetime (inside a cast call).
class SuspendGuard {
 public:
  SuspendGuard();
  ~SuspendGuard();
  SuspendGuard(const SuspendGuard&) = delete;
  SuspendGuard& operator=(const SuspendGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace vt::autocast
