// The op registry. Mutated only while libraries load (static registration, plugins);
// calls read the per-op kernel table without locking.
#include <algorithm>
#include <mutex>

#include "vt/dispatch.h"

namespace vt {

std::string_view dispatch_key_name(DispatchKey key) {
  switch (key) {
    case DispatchKey::Fallback: return "Fallback";
    case DispatchKey::CPU: return "CPU";
    case DispatchKey::CUDA: return "CUDA";
    case DispatchKey::Autograd: return "Autograd";
  }
  return "?";
}

DispatchKeySet& tls_excluded_keys() {
  thread_local DispatchKeySet excluded = 0;
  return excluded;
}

namespace {
std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}
}  // namespace

const Schema& OperatorEntry::schema() const {
  VT_CHECK(schema_.has_value(), "operator '", full_name_, "' has kernels but no schema");
  return *schema_;
}

std::vector<DispatchKey> OperatorEntry::registered_keys() const {
  std::vector<DispatchKey> keys;
  for (int k = 0; k < kNumDispatchKeys; ++k) {
    if (kernels_[k]) keys.push_back(static_cast<DispatchKey>(k));
  }
  return keys;
}

void OperatorEntry::report_missing_kernel(DispatchKeySet keys) const {
  std::string backend = "CPU";
  for (int k = kNumDispatchKeys - 1; k > 0; --k) {
    if (((keys >> k) & 1u) && k != static_cast<int>(DispatchKey::Autograd)) {
      backend = std::string(dispatch_key_name(static_cast<DispatchKey>(k)));
      break;
    }
  }
  std::string available;
  for (DispatchKey key : registered_keys()) {
    available += (available.empty() ? "" : ", ") + std::string(dispatch_key_name(key));
  }
  fail(ErrorKind::NotImplemented, "Could not run '", full_name_, "' with arguments from the '", backend,
       "' backend. It has kernels for: [", available, "]");
}

Registry& Registry::instance() {
  static Registry* registry = new Registry();  // never destroyed: kernels may run at exit
  return *registry;
}

OperatorEntry& Registry::entry(std::string_view full_name) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  for (auto& e : entries_) {
    if (e->full_name() == full_name) return *e;
  }
  entries_.push_back(std::make_unique<OperatorEntry>(std::string(full_name)));
  return *entries_.back();
}

OperatorEntry& Registry::define(std::string_view schema_text) {
  Schema schema = parse_schema(schema_text);
  OperatorEntry& e = entry(schema.full_name());
  std::lock_guard<std::mutex> lock(registry_mutex());
  VT_CHECK(!e.schema_.has_value(), "operator '", schema.full_name(), "' is already defined as ",
           e.schema_ ? e.schema_->str() : "");
  e.schema_ = std::move(schema);
  return e;
}

void Registry::register_kernel(std::string_view full_name, DispatchKey key, void* fn,
                               const std::type_info& signature) {
  OperatorEntry& e = entry(full_name);
  std::lock_guard<std::mutex> lock(registry_mutex());
  VT_CHECK(e.signature_ == nullptr || *e.signature_ == signature, "kernel for '", full_name,
           "' has a C++ signature that differs from the kernels already registered");
  VT_CHECK(e.kernels_[static_cast<int>(key)] == nullptr, "a ", dispatch_key_name(key),
           " kernel for '", full_name, "' is already registered");
  e.signature_ = &signature;
  e.kernels_[static_cast<int>(key)] = fn;
}

const OperatorEntry* Registry::find(std::string_view full_name) const {
  std::lock_guard<std::mutex> lock(registry_mutex());
  for (auto& e : entries_) {
    if (e->full_name() == full_name && e->has_schema()) return e.get();
  }
  return nullptr;
}

std::vector<const OperatorEntry*> Registry::ops() const {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<const OperatorEntry*> out;
  for (auto& e : entries_) {
    if (e->has_schema()) out.push_back(e.get());
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->full_name() < b->full_name(); });
  return out;
}

}  // namespace vt
