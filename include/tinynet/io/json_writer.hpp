// tinynet/io/json_writer.hpp: a small streaming JSON writer (for history, metrics and results files).
//
//   JsonWriter json(out);                 // pretty-printed, 2-space indent; JsonWriter(out, 0) is compact
//   json.begin_object().key("loss").value(0.25).key("tags").begin_array().value("a").end_array().end_object();
//
// Strings are escaped per RFC 8259 (quote, backslash, control characters; other bytes pass
// through, so strings must be UTF-8). Doubles are written with the fewest digits that read back
// to the same value; NaN and infinities, which JSON cannot express, are written as null.
// Misuse (a value in an object without a key, unbalanced ends, a second top-level value) is an Error.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tinynet/core/error.hpp"

namespace tinynet {

// ensures: `text` as a quoted JSON string literal.
inline std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// ensures: text that strtod reads back as exactly `value`: whole numbers below 1e16 in plain digits
// (1000 -> "1000"), others the shortest "%.*g" form (0.1 -> "0.1", 1e21 -> "1e+21"); "null" for
// NaN and infinities.
inline std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  char text[32];
  if (value == std::floor(value) && std::abs(value) < 1e16) {
    std::snprintf(text, sizeof text, "%.0f", value);
    return text;
  }
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

class JsonWriter {
 public:
  // requires: indent >= 0 (0 writes everything on one line without spaces).
  explicit JsonWriter(std::ostream& out, int indent = 2) : out_(out), indent_(indent) {
    check(indent >= 0, "JsonWriter: negative indent ", indent);
  }

  JsonWriter& begin_object() { return open('{', Scope::object); }
  JsonWriter& end_object() { return close('}', Scope::object); }
  JsonWriter& begin_array() { return open('[', Scope::array); }
  JsonWriter& end_array() { return close(']', Scope::array); }

  // requires: directly inside an object, not right after another key.
  JsonWriter& key(std::string_view name) {
    check(!scopes_.empty() && scopes_.back().kind == Scope::object && !after_key_, "JsonWriter: key \"", name,
          "\" written ", after_key_ ? "right after another key" : "outside an object");
    next_line_in_scope();
    out_ << json_quote(name) << (indent_ > 0 ? ": " : ":");
    after_key_ = true;
    return *this;
  }

  // requires (all value overloads): where a value may go (after a key, in an array, or at top level once).
  JsonWriter& value(std::string_view text) { return raw(json_quote(text)); }
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag) { return raw(flag ? "true" : "false"); }
  JsonWriter& value(std::nullptr_t) { return raw("null"); }
  template <class Number, std::enable_if_t<std::is_arithmetic_v<Number> && !std::is_same_v<Number, bool>, int> = 0>
  JsonWriter& value(Number number) {
    if constexpr (std::is_integral_v<Number>)
      return raw(std::to_string(number));
    else
      return raw(json_number(static_cast<double>(number)));
  }
  // ensures: a JSON array of the elements (any type value() accepts).
  template <class Element>
  JsonWriter& value(const std::vector<Element>& elements) {
    begin_array();
    for (const auto& e : elements) value(e);
    return end_array();
  }
  // ensures: key(name).value(v) in one call.
  template <class Value>
  JsonWriter& field(std::string_view name, const Value& v) {
    return key(name).value(v);
  }

  // ensures: true once exactly one complete top-level value has been written.
  bool complete() const { return scopes_.empty() && wrote_top_level_; }

 private:
  enum class Scope { object, array };
  struct Level {
    Scope kind;
    bool empty = true;
  };

  // Writes what is owed before a value (separator, indentation) and records it as written.
  void start_value(const std::string& what) {
    if (after_key_) {
      after_key_ = false;
    } else if (scopes_.empty()) {
      check(!wrote_top_level_, "JsonWriter: ", what, " would be a second top-level value");
      wrote_top_level_ = true;
    } else {
      check(scopes_.back().kind == Scope::array, "JsonWriter: ", what, " inside an object needs a key first");
      next_line_in_scope();
    }
  }
  // Comma after a previous member, then a new indented line.
  void next_line_in_scope() {
    if (!scopes_.back().empty) out_ << ',';
    scopes_.back().empty = false;
    newline(scopes_.size());
  }
  void newline(std::size_t depth) {
    if (indent_ > 0) out_ << '\n' << std::string(depth * static_cast<std::size_t>(indent_), ' ');
  }
  JsonWriter& raw(const std::string& text) {
    start_value("value " + text);
    out_ << text;
    return *this;
  }
  JsonWriter& open(char bracket, Scope kind) {
    start_value(std::string("'") + bracket + "'");
    out_ << bracket;
    scopes_.push_back(Level{kind});
    return *this;
  }
  JsonWriter& close(char bracket, Scope kind) {
    check(!scopes_.empty() && scopes_.back().kind == kind && !after_key_, "JsonWriter: '", bracket, "' ",
          scopes_.empty() ? "with nothing open"
          : after_key_    ? "right after a key"
                          : "closes the wrong kind of scope");
    const bool was_empty = scopes_.back().empty;
    scopes_.pop_back();
    if (!was_empty) newline(scopes_.size());
    out_ << bracket;
    return *this;
  }

  std::ostream& out_;
  int indent_;
  std::vector<Level> scopes_;
  bool after_key_ = false;
  bool wrote_top_level_ = false;
};

}  // namespace tinynet
