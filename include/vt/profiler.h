// An op-level CPU profiler in the style of torch.profiler: while it is on, every op call
// through the dispatcher, every autograd node the engine runs and every user range records a
// timed event. Off, it costs one relaxed atomic load per op call.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vt::profiler {

enum class EventKind : uint8_t { Op, AutogradNode, UserRange };

struct Event {
  const std::string* name;  // an op's registry name or an interned string: never freed
  EventKind kind;
  uint32_t thread;          // small id, in order of the threads' first event
  uint32_t depth;           // nesting level on its thread when it started
  int64_t start_ns;
  int64_t end_ns;
};

namespace detail {
extern std::atomic<bool> g_enabled;
}
inline bool enabled() { return detail::g_enabled.load(std::memory_order_relaxed); }

// Starts collecting (clearing earlier events); a second start while running is refused.
void start();
// Stops collecting and returns the events in the order they ended.
std::vector<Event> stop();

// A stable pointer to a copy of `name`; the same text always gives the same pointer.
const std::string* intern(std::string_view name);

// Times the enclosing scope as one event, when the profiler was on at its start.
class Scope {
 public:
  Scope(const std::string* name, EventKind kind) {
    if (enabled()) [[unlikely]] begin(name, kind);
  }
  ~Scope() {
    if (name_) end();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  void begin(const std::string* name, EventKind kind);
  void end();
  const std::string* name_ = nullptr;      // null: not recording
  const std::string* enclosing_ = nullptr;  // the innermost open event's name before this one
  EventKind kind_ = EventKind::Op;
  int64_t start_ns_ = 0;
};

}  // namespace vt::profiler
