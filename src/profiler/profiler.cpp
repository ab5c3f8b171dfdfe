#include "vt/profiler.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "vt/error.h"

namespace vt::profiler {

namespace detail {
std::atomic<bool> g_enabled{false};
}

namespace {

std::mutex g_mutex;  // guards everything below
std::vector<Event> g_events;
std::unordered_map<std::string_view, std::unique_ptr<std::string>> g_names;
uint32_t g_thread_count = 0;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct ThreadState {
  uint32_t id = UINT32_MAX;
  uint32_t depth = 0;
  const std::string* innermost = nullptr;  // the name of the innermost open event
};
thread_local ThreadState t_state;

}  // namespace

void start() {
  std::lock_guard lock(g_mutex);
  VT_CHECK(!detail::g_enabled.load(), "profiler: already running; stop it before starting again");
  g_events.clear();
  detail::g_enabled.store(true);
}

std::vector<Event> stop() {
  std::lock_guard lock(g_mutex);
  VT_CHECK(detail::g_enabled.load(), "profiler: not running");
  detail::g_enabled.store(false);
  return std::move(g_events);
}

const std::string* intern(std::string_view name) {
  std::lock_guard lock(g_mutex);
  auto it = g_names.find(name);
  if (it != g_names.end()) return it->second.get();
  auto owned = std::make_unique<std::string>(name);
  const std::string* stable = owned.get();
  g_names.emplace(*stable, std::move(owned));
  return stable;
}

void Scope::begin(const std::string* name, EventKind kind) {
  // An op's autograd kernel calls the same op again for its backend kernel: one call, one event.
  if (kind == EventKind::Op && t_state.innermost == name) return;
  enclosing_ = t_state.innermost;
  t_state.innermost = name;
  name_ = name;
  kind_ = kind;
  ++t_state.depth;
  start_ns_ = now_ns();
}

void Scope::end() {
  int64_t end_ns = now_ns();
  uint32_t depth = --t_state.depth;
  t_state.innermost = enclosing_;
  std::lock_guard lock(g_mutex);
  // Scopes still open when the profiler stops are dropped, not recorded into the next run.
  if (!detail::g_enabled.load(std::memory_order_relaxed)) return;
  if (t_state.id == UINT32_MAX) t_state.id = g_thread_count++;
  g_events.push_back(Event{name_, kind_, t_state.id, depth, start_ns_, end_ns});
}

}  // namespace vt::profiler
