// examples/cifar_compare/report/svg.hpp: a minimal writer of standalone SVG documents.
//
//   SvgWriter svg(640, 480);                           // <svg xmlns=... width height viewBox>
//   svg.element("rect", {{"x", 10}, {"y", 10}, {"width", 50}, {"height", 20}, {"fill", "#1f77b4"}});
//   svg.text(35, 50, "a < b", {{"text-anchor", "middle"}});
//   std::string document = svg.finish();
//
// Every attribute value and text node is XML-escaped, and elements are closed in order, so the
// result is well-formed XML whatever the labels contain. Numbers are written with at most two
// decimals ("12", "3.5"); a non-finite coordinate is an Error (it would be a bug in a chart).
#pragma once

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinynet/core/error.hpp"

namespace tinynet_examples {

using namespace tinynet;

// ensures: `text` with & < > " ' written as entities, and the control characters XML 1.0 cannot
// hold (all below 0x20 except tab, newline, carriage return) replaced by U+FFFD.
inline std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += "\xEF\xBF\xBD";
        else
          out += c;
    }
  }
  return out;
}

// requires: finite value. ensures: decimal text with at most two decimals, no trailing zeros, no "-0".
inline std::string svg_number(double value) {
  check(std::isfinite(value), "svg_number: non-finite coordinate ", value);
  char text[48];
  std::snprintf(text, sizeof text, "%.2f", value);
  std::string s = text;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

struct SvgAttribute {
  std::string name, value;
  SvgAttribute(std::string n, std::string v) : name(std::move(n)), value(std::move(v)) {}
  SvgAttribute(std::string n, const char* v) : name(std::move(n)), value(v) {}
  template <class Number, std::enable_if_t<std::is_arithmetic_v<Number>, int> = 0>
  SvgAttribute(std::string n, Number v) : name(std::move(n)), value(svg_number(static_cast<double>(v))) {}
};
using SvgAttributes = std::vector<SvgAttribute>;

class SvgWriter {
 public:
  // requires: positive finite size. ensures: the root <svg> element is open.
  SvgWriter(double width, double height) {
    check(std::isfinite(width) && std::isfinite(height) && width > 0 && height > 0, "SvgWriter: bad size ", width,
          " x ", height);
    out_ = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg_number(width) + "\" height=\"" +
           svg_number(height) + "\" viewBox=\"0 0 " + svg_number(width) + " " + svg_number(height) +
           "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
    open_tags_.push_back("svg");
  }

  // ensures: <tag attrs> is open until the matching close().
  SvgWriter& open(const std::string& tag, const SvgAttributes& attributes = {}) {
    start_tag(tag, attributes);
    out_ += ">\n";
    open_tags_.push_back(tag);
    return *this;
  }
  // requires: an element other than the root is open. ensures: it is closed.
  SvgWriter& close() {
    check(open_tags_.size() > 1, "SvgWriter::close: no open element (the root is closed by finish())");
    out_ += "</" + open_tags_.back() + ">\n";
    open_tags_.pop_back();
    return *this;
  }
  // ensures: an empty element <tag attrs/>.
  SvgWriter& element(const std::string& tag, const SvgAttributes& attributes) {
    start_tag(tag, attributes);
    out_ += "/>\n";
    return *this;
  }
  // ensures: <tag attrs>escaped content</tag>, e.g. a <title> or <tspan>.
  SvgWriter& text_element(const std::string& tag, std::string_view content, const SvgAttributes& attributes = {}) {
    start_tag(tag, attributes);
    out_ += ">" + xml_escape(content) + "</" + tag + ">\n";
    return *this;
  }
  // ensures: <text x y attrs>escaped content</text>.
  SvgWriter& text(double x, double y, std::string_view content, SvgAttributes attributes = {}) {
    attributes.insert(attributes.begin(), {{"x", x}, {"y", y}});
    return text_element("text", content, attributes);
  }

  // requires: every element opened after the root has been closed.
  // ensures: the finished document; the writer is then spent.
  std::string finish() {
    check(open_tags_.size() == 1, "SvgWriter::finish: <", open_tags_.back(), "> is still open");
    open_tags_.clear();
    out_ += "</svg>\n";
    return std::move(out_);
  }

 private:
  static void check_name(const std::string& name) {
    bool ok = !name.empty();
    for (const char c : name)
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == ':');
    check(ok, "SvgWriter: '", name, "' is not a valid element or attribute name");
  }
  void start_tag(const std::string& tag, const SvgAttributes& attributes) {
    check(!open_tags_.empty(), "SvgWriter: <", tag, "> written after finish()");
    check_name(tag);
    out_ += std::string(open_tags_.size() * 2 - 2, ' ') + "<" + tag;
    for (const auto& a : attributes) {
      check_name(a.name);
      out_ += " " + a.name + "=\"" + xml_escape(a.value) + "\"";
    }
  }

  std::string out_;
  std::vector<std::string> open_tags_;
};

}  // namespace tinynet_examples
