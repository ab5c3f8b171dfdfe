// The dispatcher. Every op is declared once by a schema string; kernels register per
// dispatch key. A call computes the key set from its arguments and indexes a table: no
// string lookup and no lock on the hot path (lookups by name happen once, at first call).
#pragma once
#include <array>
#include <memory>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "vt/profiler.h"
#include "vt/autocast.h"
#include "vt/tensor.h"

namespace vt {

// Highest priority last: a call runs the kernel of the highest key present.
enum class DispatchKey : uint8_t {
  Fallback,  // an extension's catch-all kernel, used when no backend kernel exists
  CPU,
  CUDA,
  Autograd,  // records the graph, then redispatches below itself
};
constexpr int kNumDispatchKeys = 4;
std::string_view dispatch_key_name(DispatchKey key);

using DispatchKeySet = uint8_t;
constexpr DispatchKeySet key_bit(DispatchKey key) { return DispatchKeySet(1u << static_cast<int>(key)); }

// Keys the current thread skips (autograd below itself, grad mode off).
DispatchKeySet& tls_excluded_keys();

struct SchemaArgument {
  std::string name;
  std::string type;                       // "Tensor", "Scalar", "int[]", "Tensor(a!)", ...
  std::optional<std::string> default_value;
  bool kwarg_only = false;
  bool is_mutable() const { return type.find('!') != std::string::npos; }
};

struct Schema {
  std::string name;      // "add"
  std::string overload;  // "Tensor", or empty
  std::vector<SchemaArgument> arguments;
  std::vector<SchemaArgument> returns;
  std::string full_name() const { return overload.empty() ? name : name + "." + overload; }
  std::string str() const;  // canonical text, as torch prints a schema
};

// Parses "add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor".
// Throws ValueError naming the position of the problem.
Schema parse_schema(std::string_view text);

class OperatorEntry {
 public:
  explicit OperatorEntry(std::string full_name) : full_name_(std::move(full_name)) {}
  const std::string& full_name() const { return full_name_; }
  bool has_schema() const { return schema_.has_value(); }
  const Schema& schema() const;
  bool has_kernel(DispatchKey key) const { return kernels_[static_cast<int>(key)] != nullptr; }
  autocast::Policy autocast_policy(DeviceType device) const { return autocast_policies_[static_cast<int>(device)]; }
  void set_autocast_policy(DeviceType device, autocast::Policy policy) {
    autocast_policies_[static_cast<int>(device)] = policy;
  }
  std::vector<DispatchKey> registered_keys() const;

  // The kernel of the highest-priority key in `keys` that has one.
  void* lookup(DispatchKeySet keys) const {
    for (int k = kNumDispatchKeys - 1; k >= 0; --k) {
      if ((keys >> k) & 1u) {
        if (void* fn = kernels_[k]) return fn;
      }
    }
    report_missing_kernel(keys);
  }

 private:
  friend class Registry;
  [[noreturn]] void report_missing_kernel(DispatchKeySet keys) const;

  std::string full_name_;
  std::optional<Schema> schema_;
  std::array<void*, kNumDispatchKeys> kernels_{};
  std::array<autocast::Policy, 2> autocast_policies_{};  // per DeviceType
  const std::type_info* signature_ = nullptr;
};

class Registry {
 public:
  static Registry& instance();

  // Declares an op; a second declaration of the same name is refused.
  OperatorEntry& define(std::string_view schema_text);
  // Registers a kernel. `signature` is the C++ function type, checked against earlier
  // registrations of the same op so a mismatched kernel cannot be called.
  void register_kernel(std::string_view full_name, DispatchKey key, void* fn,
                       const std::type_info& signature);
  // The entry for a name, created empty if unknown (kernels may register before the schema).
  OperatorEntry& entry(std::string_view full_name);
  const OperatorEntry* find(std::string_view full_name) const;
  // Every declared op, sorted by name.
  std::vector<const OperatorEntry*> ops() const;

 private:
  Registry() = default;
  std::vector<std::unique_ptr<OperatorEntry>> entries_;
};

// Dispatch-key contribution of each argument kind.
inline DispatchKeySet keys_of(const Tensor& t) {
  if (!t.defined()) return 0;
  DispatchKeySet keys = t.device().is_cuda() ? key_bit(DispatchKey::CUDA) : key_bit(DispatchKey::CPU);
  if (t.requires_grad() || t.impl()->has_tangent()) keys |= key_bit(DispatchKey::Autograd);
  return keys;
}
inline DispatchKeySet keys_of(const std::optional<Tensor>& t) { return t ? keys_of(*t) : 0; }
inline DispatchKeySet keys_of(std::span<const Tensor> ts) {
  DispatchKeySet keys = 0;
  for (const Tensor& t : ts) keys |= keys_of(t);
  return keys;
}
inline DispatchKeySet keys_of(const Device& d) {
  return d.is_cuda() ? key_bit(DispatchKey::CUDA) : key_bit(DispatchKey::CPU);
}
template <class T>
DispatchKeySet keys_of(const T&) { return 0; }

// A typed handle on one op: `TypedOp<Tensor(const Tensor&, const Tensor&)> op("mm");`
// then `op(a, b)`. Keep handles in function-local statics so the name is looked up once.
template <class Sig> class TypedOp;
template <class R, class... Args>
class TypedOp<R(Args...)> {
 public:
  explicit TypedOp(std::string_view full_name) : entry_(&Registry::instance().entry(full_name)) {}

  R operator()(Args... args) const {
    DispatchKeySet keys = (key_bit(DispatchKey::Fallback) | (keys_of(args) | ...)) & ~tls_excluded_keys();
    // A call with any CUDA tensor is a CUDA call: a CPU argument (a 0-dim scalar) must not
    // let it fall through to a CPU kernel, which would read device memory from the host.
    if (keys & key_bit(DispatchKey::CUDA)) keys &= ~key_bit(DispatchKey::CPU);
    if (autocast::active()) [[unlikely]] {
      const DeviceType device = (keys & key_bit(DispatchKey::CUDA)) ? DeviceType::CUDA : DeviceType::CPU;
      const autocast::Policy policy = entry_->autocast_policy(device);
      if (policy != autocast::Policy::None && autocast::is_enabled(device)) return call_autocast(policy, device, args...);
    }
    auto* fn = reinterpret_cast<R (*)(Args...)>(entry_->lookup(keys));
    if (profiler::enabled()) [[unlikely]] {
      profiler::Scope scope(&entry_->full_name(), profiler::EventKind::Op);
      return fn(std::forward<Args>(args)...);
    }
    return fn(std::forward<Args>(args)...);
  }
  const OperatorEntry& entry() const { return *entry_; }

 private:
  // Casts the tensor arguments by the policy, then calls the op with autocast suspended.
  R call_autocast(autocast::Policy policy, DeviceType device, Args... args) const {
    ScalarType target = policy == autocast::Policy::Float32 ? ScalarType::Float32 : autocast::dtype(device);
    if (policy == autocast::Policy::Promote) {
      std::vector<ScalarType> dtypes;
      (collect_dtypes(args, device, dtypes), ...);
      target = autocast::widest(dtypes);
    }
    autocast::SuspendGuard suspend;
    if (target == ScalarType::Undefined) return (*this)(std::forward<Args>(args)...);
    return (*this)(cast_arg(args, target, device)...);
  }

  template <class T>
  static const T& cast_arg(const T& arg, ScalarType, DeviceType) { return arg; }
  static Tensor cast_arg(const Tensor& t, ScalarType target, DeviceType device) {
    return autocast::cast(t, target, device);
  }
  static std::optional<Tensor> cast_arg(const std::optional<Tensor>& t, ScalarType target, DeviceType device) {
    if (!t) return t;
    return autocast::cast(*t, target, device);
  }
  static std::vector<Tensor> cast_arg(std::span<const Tensor> ts, ScalarType target, DeviceType device) {
    std::vector<Tensor> out;
    out.reserve(ts.size());
    for (const Tensor& t : ts) out.push_back(autocast::cast(t, target, device));
    return out;
  }

  template <class T>
  static void collect_dtypes(const T&, DeviceType, std::vector<ScalarType>&) {}
  static void collect_dtypes(const Tensor& t, DeviceType device, std::vector<ScalarType>& out) {
    if (t.defined() && t.device().type == device) out.push_back(t.dtype());
  }
  static void collect_dtypes(std::span<const Tensor> ts, DeviceType device, std::vector<ScalarType>& out) {
    for (const Tensor& t : ts) collect_dtypes(t, device, out);
  }

  OperatorEntry* entry_;
};

template <class R, class... Args>
void register_kernel(std::string_view full_name, DispatchKey key, R (*fn)(Args...)) {
  Registry::instance().register_kernel(full_name, key, reinterpret_cast<void*>(fn), typeid(R(Args...)));
}

// Registration at library load: `VT_REGISTRATION(pointwise_cpu) { register_kernel(...); }`.
#define VT_REGISTRATION(name)                                         \
  static void vt_register_##name();                                   \
  [[maybe_unused]] static const bool vt_registered_##name = [] {      \
    vt_register_##name();                                             \
    return true;                                                      \
  }();                                                                \
  static void vt_register_##name()

}  // namespace vt

namespace vt {
// A composite op is written in terms of other ops, so one function serves every backend.
template <class R, class... Args>
void register_composite(std::string_view full_name, R (*fn)(Args...)) {
  register_kernel(full_name, DispatchKey::CPU, fn);
  register_kernel(full_name, DispatchKey::CUDA, fn);
}
}  // namespace vt
