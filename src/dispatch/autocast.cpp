// Autocast's state, casts and op lists (torch's, for the ops the registry has: see
// aten/src/ATen/autocast_mode.cpp in PyTorch for the lists this follows).
#include "vt/autocast.h"

#include <array>

#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::autocast {

thread_local bool t_active = false;

namespace {

struct DeviceState {
  bool enabled = false;
  ScalarType dtype;
};
// torch's defaults: float16 on CUDA, bfloat16 on the CPU.
thread_local std::array<DeviceState, 2> t_state = {DeviceState{false, ScalarType::BFloat16},
                                                   DeviceState{false, ScalarType::Float16}};
thread_local bool t_suspended = false;

void refresh_active() { t_active = !t_suspended && (t_state[0].enabled || t_state[1].enabled); }

constexpr Policy kLower = Policy::LowerPrecision;
constexpr Policy kFp32 = Policy::Float32;
constexpr Policy kPromote = Policy::Promote;
constexpr DeviceType kCuda = DeviceType::CUDA;
constexpr DeviceType kCpu = DeviceType::CPU;

constexpr Entry kPolicies[] = {
    // CUDA: matrix products and convolutions in 16 bits.
    {"mm", kCuda, kLower}, {"bmm", kCuda, kLower}, {"addmm", kCuda, kLower}, {"baddbmm", kCuda, kLower},
    {"matmul", kCuda, kLower}, {"linear", kCuda, kLower}, {"conv1d", kCuda, kLower}, {"conv2d", kCuda, kLower},
    {"scaled_dot_product_attention", kCuda, kLower},
    // CUDA: float32 where 16 bits lose too much.
    {"acos", kCuda, kFp32}, {"asin", kCuda, kFp32}, {"cosh", kCuda, kFp32}, {"sinh", kCuda, kFp32},
    {"tan", kCuda, kFp32}, {"erfinv", kCuda, kFp32}, {"exp", kCuda, kFp32}, {"expm1", kCuda, kFp32},
    {"log", kCuda, kFp32}, {"log10", kCuda, kFp32}, {"log1p", kCuda, kFp32}, {"log2", kCuda, kFp32},
    {"reciprocal", kCuda, kFp32}, {"rsqrt", kCuda, kFp32}, {"pow", kCuda, kFp32}, {"softplus", kCuda, kFp32},
    {"layer_norm", kCuda, kFp32}, {"group_norm", kCuda, kFp32}, {"cumsum", kCuda, kFp32},
    {"cumprod", kCuda, kFp32}, {"prod", kCuda, kFp32}, {"prod.dim_int", kCuda, kFp32},
    {"sum.dim_IntList", kCuda, kFp32}, {"softmax.int", kCuda, kFp32}, {"log_softmax.int", kCuda, kFp32},
    {"binary_cross_entropy_with_logits", kCuda, kFp32}, {"cross_entropy_loss", kCuda, kFp32},
    {"nll_loss", kCuda, kFp32}, {"l1_loss", kCuda, kFp32}, {"mse_loss", kCuda, kFp32},
    {"smooth_l1_loss", kCuda, kFp32},
    // CUDA: the widest input type.
    {"addcdiv", kCuda, kPromote}, {"addcmul", kCuda, kPromote}, {"atan2", kCuda, kPromote},
    {"dot", kCuda, kPromote}, {"index_put", kCuda, kPromote}, {"scatter_add", kCuda, kPromote},
    {"tensordot", kCuda, kPromote}, {"cat", kCuda, kPromote}, {"stack", kCuda, kPromote},
    // CPU: matrix products and convolutions in 16 bits.
    {"mm", kCpu, kLower}, {"bmm", kCpu, kLower}, {"addmm", kCpu, kLower}, {"baddbmm", kCpu, kLower},
    {"matmul", kCpu, kLower}, {"linear", kCpu, kLower}, {"conv1d", kCpu, kLower}, {"conv2d", kCpu, kLower},
    {"scaled_dot_product_attention", kCpu, kLower},
    // CPU: float32 for the losses and products.
    {"binary_cross_entropy", kCpu, kFp32}, {"binary_cross_entropy_with_logits", kCpu, kFp32},
    {"cross_entropy_loss", kCpu, kFp32}, {"nll_loss", kCpu, kFp32}, {"l1_loss", kCpu, kFp32},
    {"mse_loss", kCpu, kFp32}, {"smooth_l1_loss", kCpu, kFp32}, {"prod", kCpu, kFp32},
    {"prod.dim_int", kCpu, kFp32},
    // CPU: the widest input type.
    {"cat", kCpu, kPromote}, {"stack", kCpu, kPromote}, {"index_copy", kCpu, kPromote},
};

}  // namespace

bool is_enabled(DeviceType device) { return t_state[static_cast<int>(device)].enabled; }
void set_enabled(DeviceType device, bool enabled) {
  t_state[static_cast<int>(device)].enabled = enabled;
  refresh_active();
}
ScalarType dtype(DeviceType device) { return t_state[static_cast<int>(device)].dtype; }
void set_dtype(DeviceType device, ScalarType dtype) {
  VT_CHECK_KIND(dtype == ScalarType::Float16 || dtype == ScalarType::BFloat16, ErrorKind::Value,
                "autocast: the dtype must be float16 or bfloat16, got ", dtype_name(dtype));
  t_state[static_cast<int>(device)].dtype = dtype;
}

std::span<const Entry> policies() { return kPolicies; }

Tensor cast(const Tensor& t, ScalarType target, DeviceType device) {
  if (!t.defined() || t.device().type != device || !is_floating_point(t.dtype()) || t.dtype() == ScalarType::Float64 ||
      t.dtype() == target) {
    return t;
  }
  return to(t, target);
}

ScalarType widest(std::span<const ScalarType> dtypes) {
  ScalarType out = ScalarType::Undefined;
  for (ScalarType d : dtypes) {
    if (!is_floating_point(d)) continue;
    out = out == ScalarType::Undefined ? d : promote_types(out, d);
  }
  return out;
}

SuspendGuard::SuspendGuard() : previous_(t_suspended) {
  t_suspended = true;
  refresh_active();
}
SuspendGuard::~SuspendGuard() {
  t_suspended = previous_;
  refresh_active();
}

VT_REGISTRATION(autocast_policies) {
  for (const Entry& e : policies()) Registry::instance().entry(e.op).set_autocast_policy(e.device, e.policy);
}

}  // namespace vt::autocast
