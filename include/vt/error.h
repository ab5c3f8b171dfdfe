// Errors: one exception type carrying a kind, so each frontend can map it to its own
// exception class (Python: RuntimeError/TypeError/ValueError/IndexError/NotImplementedError,
// and OutOfMemoryError, a RuntimeError, for a device allocation that failed after freeing caches).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace vt {

enum class ErrorKind { Runtime, Type, Value, Index, NotImplemented, OutOfMemory };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

namespace detail {
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

template <class... Args>
[[noreturn]] void fail(ErrorKind kind, const Args&... args) {
  throw Error(kind, detail::str_cat(args...));
}

}  // namespace vt

// The message is only built when the check fails, so checks cost a branch on the hot path.
#define VT_CHECK_KIND(cond, kind, ...)               \
  do {                                               \
    if (!(cond)) [[unlikely]] ::vt::fail(kind, __VA_ARGS__); \
  } while (0)
#define VT_CHECK(cond, ...) VT_CHECK_KIND(cond, ::vt::ErrorKind::Runtime, __VA_ARGS__)
#define VT_CHECK_TYPE(cond, ...) VT_CHECK_KIND(cond, ::vt::ErrorKind::Type, __VA_ARGS__)
#define VT_CHECK_VALUE(cond, ...) VT_CHECK_KIND(cond, ::vt::ErrorKind::Value, __VA_ARGS__)
#define VT_CHECK_INDEX(cond, ...) VT_CHECK_KIND(cond, ::vt::ErrorKind::Index, __VA_ARGS__)
