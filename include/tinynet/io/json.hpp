// tinynet/io/json.hpp: a small, strict JSON parser (RFC 8259), parse-only.
//
// json::parse() turns a JSON text into a tree of json::Value (null, bool, number,
// string, array, object). Strict: no comments, trailing commas, NaN/Infinity,
// leading zeros, unescaped control characters, lone surrogates, duplicate object
// keys or trailing content. \uXXXX escapes are decoded to UTF-8; other bytes of a
// string are kept as they are (not validated as UTF-8). Numbers
// are doubles. Object members keep their order in the text. Errors are
// tinynet::Error naming the source, the byte offset (0-based) and line/column.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "tinynet/core/error.hpp"

namespace tinynet {
namespace json {

enum class Type { null, boolean, number, string, array, object };

inline const char* type_name(Type t) {
  switch (t) {
    case Type::null:
      return "null";
    case Type::boolean:
      return "boolean";
    case Type::number:
      return "number";
    case Type::string:
      return "string";
    case Type::array:
      return "array";
    case Type::object:
      return "object";
  }
  return "?";
}

namespace detail {
class Parser;
}

class Value {
 public:
  Value() = default;  // null

  Type type() const { return type_; }
  bool is(Type t) const { return type_ == t; }

  // requires: the matching type (an Error naming both types otherwise).
  bool as_bool() const { return expect(Type::boolean).boolean_; }
  double as_number() const { return expect(Type::number).number_; }
  const std::string& as_string() const { return expect(Type::string).string_; }
  // requires: a number with an integral value in [-2^53, 2^53]. ensures: that integer.
  std::int64_t as_int64() const {
    const double v = as_number();
    check(std::floor(v) == v && std::fabs(v) <= 9007199254740992.0, "JSON: ", v, " is not an integer");
    return static_cast<std::int64_t>(v);
  }

  // requires: an array or object. ensures: its element (member) count.
  std::size_t size() const { return expect_container().elements_.size(); }
  // requires: an array (or object: members' values, in text order).
  const std::vector<Value>& elements() const { return expect_container().elements_; }
  // requires: an object. ensures: member keys in text order, parallel to elements().
  const std::vector<std::string>& keys() const { return expect(Type::object).keys_; }
  // requires: an array and i < size().
  const Value& operator[](std::size_t i) const {
    const auto& items = expect(Type::array).elements_;
    check(i < items.size(), "JSON: index ", i, " out of range for an array of ", items.size());
    return items[i];
  }
  // requires: an object. ensures: the member's value, or nullptr when there is none.
  const Value* find(const std::string& key) const {
    const auto& names = expect(Type::object).keys_;
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == key) return &elements_[i];
    return nullptr;
  }
  // requires: an object with member `key` (an Error naming the key otherwise).
  const Value& at(const std::string& key) const {
    const Value* v = find(key);
    check(v != nullptr, "JSON: object has no member '", key, "'");
    return *v;
  }

 private:
  friend class detail::Parser;

  const Value& expect(Type t) const {
    check(type_ == t, "JSON: expected ", type_name(t), ", got ", type_name(type_));
    return *this;
  }
  const Value& expect_container() const {
    check(type_ == Type::array || type_ == Type::object, "JSON: expected array or object, got ", type_name(type_));
    return *this;
  }

  Type type_ = Type::null;
  bool boolean_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Value> elements_;    // array items, or object member values
  std::vector<std::string> keys_;  // object member keys, parallel to elements_
};

namespace detail {

// Recursive-descent parser over one text; use json::parse().
class Parser {
 public:
  Parser(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  Value parse_document() {
    skip_whitespace();
    Value v = parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size()) error("unexpected content after the JSON value");
    return v;
  }

 private:
  static constexpr int max_depth = 512;

  [[noreturn]] void error(const std::string& what) const {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      column = text_[i] == '\n' ? 1 : column + 1;
      line += text_[i] == '\n';
    }
    fail(source_, ": JSON error at byte ", pos_, " (line ", line, ", column ", column, "): ", what);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }
  // requires: c != '\0' (peek() returns '\0' at the end).
  void expect_char(char c, const char* context) {
    if (peek() != c) error(std::string("expected '") + c + "' " + context);
    ++pos_;
  }
  void expect_word(const char* word) {
    for (const char* p = word; *p; ++p, ++pos_)
      if (peek() != *p) error(std::string("invalid literal (expected '") + word + "')");
  }

  Value parse_value(int depth) {
    if (depth > max_depth) error("nesting deeper than " + std::to_string(max_depth) + " levels");
    Value v;
    if (at_end()) error("unexpected end of input, expected a value");
    switch (peek()) {
      case '{':
        parse_object(v, depth);
        break;
      case '[':
        parse_array(v, depth);
        break;
      case '"':
        v.type_ = Type::string;
        v.string_ = parse_string();
        break;
      case 't':
      case 'f':
        v.type_ = Type::boolean;
        v.boolean_ = peek() == 't';
        expect_word(v.boolean_ ? "true" : "false");
        break;
      case 'n':
        expect_word("null");
        break;
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) {
          v.type_ = Type::number;
          v.number_ = parse_number();
        } else {
          error(std::string("unexpected character '") + peek() + "', expected a value");
        }
    }
    return v;
  }

  void parse_object(Value& v, int depth) {
    v.type_ = Type::object;
    ++pos_;  // '{'
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return;
    }
    while (true) {
      skip_whitespace();
      if (peek() != '"') error("expected a string key in object");
      const std::size_t key_pos = pos_;
      std::string key = parse_string();
      for (const auto& k : v.keys_) {
        if (k != key) continue;
        pos_ = key_pos;
        error("duplicate object key '" + key + "'");
      }
      skip_whitespace();
      expect_char(':', "after object key");
      skip_whitespace();
      v.keys_.push_back(std::move(key));
      v.elements_.push_back(parse_value(depth + 1));
      skip_whitespace();
      if (peek() == '}') {
        ++pos_;
        return;
      }
      expect_char(',', "or '}' after object member");
    }
  }

  void parse_array(Value& v, int depth) {
    v.type_ = Type::array;
    ++pos_;  // '['
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return;
    }
    while (true) {
      skip_whitespace();
      v.elements_.push_back(parse_value(depth + 1));
      skip_whitespace();
      if (peek() == ']') {
        ++pos_;
        return;
      }
      expect_char(',', "or ']' after array element");
    }
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  double parse_number() {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
      if (is_digit(peek())) error("leading zeros are not allowed in numbers");
    } else if (is_digit(peek())) {
      while (is_digit(peek())) ++pos_;
    } else {
      error("expected a digit");
    }
    if (peek() == '.') {
      ++pos_;
      if (!is_digit(peek())) error("expected a digit after the decimal point");
      while (is_digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!is_digit(peek())) error("expected a digit in the exponent");
      while (is_digit(peek())) ++pos_;
    }
    double value = 0;
    const char* first = text_.data() + start;
    const auto result = std::from_chars(first, text_.data() + pos_, value);
    if (result.ec != std::errc() || result.ptr != text_.data() + pos_) {
      const std::string digits = text_.substr(start, pos_ - start);
      pos_ = start;
      error("number '" + digits + "' is out of the range of a double");
    }
    return value;
  }

  unsigned parse_hex4() {
    unsigned code = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      const char c = peek();
      unsigned digit;
      if (c >= '0' && c <= '9')
        digit = static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        digit = static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        digit = static_cast<unsigned>(c - 'A' + 10);
      else
        error("expected 4 hex digits after \\u");
      code = code * 16 + digit;
    }
    return code;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // ensures: the code point of a \u escape (pos_ just after "\u"), joining surrogate pairs.
  unsigned parse_unicode_escape() {
    const unsigned high = parse_hex4();
    if (high >= 0xDC00 && high <= 0xDFFF) error("unpaired low surrogate in \\u escape");
    if (high < 0xD800 || high > 0xDBFF) return high;
    if (peek() != '\\' || text_.compare(pos_, 2, "\\u") != 0)
      error("high surrogate not followed by a \\u low surrogate");
    pos_ += 2;
    const unsigned low = parse_hex4();
    if (low < 0xDC00 || low > 0xDFFF) error("high surrogate not followed by a low surrogate");
    return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) error("unterminated string");
      const char c = text_[pos_];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) error("unescaped control character in string");
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          append_utf8(out, parse_unicode_escape());
          break;
        default:
          --pos_, error("invalid escape sequence in string");
      }
    }
    ++pos_;  // closing quote
    return out;
  }

  const std::string& text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

}  // namespace detail

// ensures: the tree of `text`; an Error "<source>: JSON error at byte N (line L, column C): ..."
// when it is not exactly one valid JSON value (surrounded by optional whitespace).
inline Value parse(const std::string& text, const std::string& source = "JSON text") {
  return detail::Parser(text, source).parse_document();
}

}  // namespace json
}  // namespace tinynet
