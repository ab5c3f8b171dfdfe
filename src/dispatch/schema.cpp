// Schema strings: "name.overload(Type arg, *, Type kwarg=default) -> Ret".
#include <cctype>

#include "vt/dispatch.h"

namespace vt {

namespace {

class SchemaParser {
 public:
  explicit SchemaParser(std::string_view text) : text_(text) {}

  Schema parse() {
    Schema schema;
    std::string full = identifier("operator name", true);
    if (size_t dot = full.find('.'); dot != std::string::npos) {
      schema.name = full.substr(0, dot);
      schema.overload = full.substr(dot + 1);
    } else {
      schema.name = full;
    }
    expect('(');
    bool kwarg_only = false;
    skip_space();
    while (peek() != ')') {
      if (!schema.arguments.empty() || kwarg_only) expect(',');
      skip_space();
      if (peek() == '*') {
        ++pos_;
        kwarg_only = true;
        skip_space();
        continue;
      }
      SchemaArgument arg = argument(true);
      arg.kwarg_only = kwarg_only;
      schema.arguments.push_back(std::move(arg));
      skip_space();
    }
    expect(')');
    skip_space();
    expect('-');
    expect('>');
    skip_space();
    if (peek() == '(') {
      ++pos_;
      skip_space();
      while (peek() != ')') {  // `-> ()`: the op returns nothing
        skip_space();
        schema.returns.push_back(argument(false));
        skip_space();
        if (peek() == ')') break;
        expect(',');
        skip_space();
      }
      expect(')');
    } else {
      schema.returns.push_back(argument(false));
    }
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the return type");
    return schema;
  }

 private:
  SchemaArgument argument(bool needs_name) {
    SchemaArgument arg;
    arg.type = type();
    skip_space();
    if (std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_') arg.name = identifier("argument name", false);
    else if (needs_name) error("expected an argument name");
    skip_space();
    if (peek() == '=') {
      ++pos_;
      skip_space();
      size_t start = pos_;
      int depth = 0;
      while (pos_ < text_.size() && !((text_[pos_] == ',' || text_[pos_] == ')') && depth == 0)) {
        if (text_[pos_] == '[') ++depth;
        if (text_[pos_] == ']') --depth;
        ++pos_;
      }
      std::string value(text_.substr(start, pos_ - start));
      while (!value.empty() && value.back() == ' ') value.pop_back();
      if (value.empty()) error("expected a default value");
      arg.default_value = value;
    }
    return arg;
  }

  std::string type() {
    std::string out = identifier("type", false);
    // Alias annotation "(a!)", list "[]" or "[2]", optional "?", in torch's order.
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '(') {
        size_t close = text_.find(')', pos_);
        if (close == std::string_view::npos) error("unclosed alias annotation");
        out += text_.substr(pos_, close - pos_ + 1);
        pos_ = close + 1;
      } else if (c == '[') {
        size_t close = text_.find(']', pos_);
        if (close == std::string_view::npos) error("unclosed list type");
        out += text_.substr(pos_, close - pos_ + 1);
        pos_ = close + 1;
      } else if (c == '?') {
        out += '?';
        ++pos_;
      } else {
        break;
      }
    }
    return out;
  }

  std::string identifier(const char* what, bool allow_dot) {
    skip_space();
    size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (allow_dot && (c == '.' || c == ':'))) ++pos_;
      else break;
    }
    if (start == pos_) error(std::string("expected ") + what);
    return std::string(text_.substr(start, pos_ - start));
  }

  void skip_space() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void expect(char c) {
    skip_space();
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++pos_;
  }
  [[noreturn]] void error(const std::string& what) const {
    fail(ErrorKind::Value, "invalid schema '", text_, "': ", what, " at position ", pos_);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

std::string argument_str(const SchemaArgument& arg) {
  std::string out = arg.type;
  if (!arg.name.empty()) out += " " + arg.name;
  if (arg.default_value) out += "=" + *arg.default_value;
  return out;
}

}  // namespace

Schema parse_schema(std::string_view text) { return SchemaParser(text).parse(); }

std::string Schema::str() const {
  std::string out = full_name() + "(";
  bool star_written = false;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (i) out += ", ";
    if (arguments[i].kwarg_only && !star_written) {
      out += "*, ";
      star_written = true;
    }
    out += argument_str(arguments[i]);
  }
  out += ") -> ";
  if (returns.size() == 1) return out + argument_str(returns[0]);
  out += "(";
  for (size_t i = 0; i < returns.size(); ++i) out += (i ? ", " : "") + argument_str(returns[i]);
  return out + ")";
}

}  // namespace vt
