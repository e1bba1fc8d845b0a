// examples/cifar_compare/report/chart_axes.hpp: what the SVG charts share — nice axis ticks, colours, legends.
//
// nice_axis() picks a range and ticks at 1, 2 or 5 times a power of ten that cover the data,
// as plotting libraries do (e.g. 0.13..0.87 -> 0, 0.2, ..., 1). Text widths are estimated
// (about 0.6 em per character), which is enough to leave room for labels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "cifar_compare/report/svg.hpp"

namespace tinynet_examples {

using namespace tinynet;

struct NiceAxis {
  double lo = 0, hi = 1;  // the axis range; ticks.front() == lo, ticks.back() == hi
  double step = 0.2;
  std::vector<double> ticks;
  int decimals = 1;  // digits a tick label needs after the point

  // ensures: the position of v on a line where lo maps to pixel_lo and hi to pixel_hi.
  double to_pixel(double v, double pixel_lo, double pixel_hi) const {
    return pixel_lo + (v - lo) / (hi - lo) * (pixel_hi - pixel_lo);
  }
  // ensures: a tick label, e.g. "0.25" (decimals 2) followed by `suffix`.
  std::string label(double v, const std::string& suffix = "") const {
    char text[48];
    std::snprintf(text, sizeof text, "%.*f", decimals, v);
    std::string s = text;
    return (s.find_first_not_of("-0.") == std::string::npos ? s.substr(s[0] == '-' ? 1 : 0) : s) + suffix;
  }
};

// requires: target_ticks >= 2. ensures: an axis covering every finite value (non-finite ones are
// ignored; none at all gives 0..1; a single value gets a margin around it). integer_steps keeps
// the step >= 1 (epoch numbers); from_zero forces lo <= 0 (bar lengths).
inline NiceAxis nice_axis(const std::vector<double>& values, int target_ticks = 6, bool integer_steps = false,
                          bool from_zero = false) {
  check(target_ticks >= 2, "nice_axis: need at least 2 ticks, asked for ", target_ticks);
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > hi) lo = 0, hi = 1;
  if (from_zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  if (lo == hi) {
    const double margin = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= from_zero && lo == 0 ? 0 : margin;
    hi += margin;
  }
  const double raw_step = (hi - lo) / (target_ticks - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw_step)));
  const double fraction = raw_step / magnitude;
  NiceAxis axis;
  axis.step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
  if (integer_steps) axis.step = std::max(1.0, std::round(axis.step));
  const double eps = axis.step * 1e-9;
  axis.lo = std::floor(lo / axis.step + 1e-9) * axis.step;
  axis.hi = std::ceil(hi / axis.step - 1e-9) * axis.step;
  for (int i = 0; axis.lo + i * axis.step <= axis.hi + eps; ++i) axis.ticks.push_back(axis.lo + i * axis.step);
  axis.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(axis.step) + 1e-9)));
  return axis;
}

// ensures: a distinct colour per index (the ten "category10" colours, repeating).
inline std::string palette_colour(std::size_t index) {
  static const char* const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colours[index % 10];
}

// ensures: the estimated width in pixels of `text` at `font_size`.
inline double text_width(const std::string& text, double font_size) {
  return 0.6 * font_size * static_cast<double>(text.size());
}

struct LegendEntry {
  std::string name;
  std::string colour;
  bool dashed = false;
  bool line = true;  // a line sample (line charts) or a filled square (bar charts)
};

// ensures: the width the legend of `entries` needs.
inline double legend_width(const std::vector<LegendEntry>& entries) {
  double widest = 0;
  for (const auto& e : entries) widest = std::max(widest, text_width(e.name, 12));
  return 36 + widest + 8;
}

// ensures: a boxed legend with its top-left corner at (x, y), one 20-pixel row per entry.
inline void draw_legend(SvgWriter& svg, double x, double y, const std::vector<LegendEntry>& entries) {
  svg.open("g", {{"class", "legend"}});
  svg.element("rect", {{"x", x},
                       {"y", y},
                       {"width", legend_width(entries)},
                       {"height", 20.0 * entries.size() + 8},
                       {"fill", "white"},
                       {"stroke", "#bbbbbb"}});
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const double row_y = y + 14 + 20.0 * i;
    if (e.line) {
      SvgAttributes line{{"x1", x + 6}, {"y1", row_y},        {"x2", x + 30},
                         {"y2", row_y}, {"stroke", e.colour}, {"stroke-width", 2}};
      if (e.dashed) line.emplace_back("stroke-dasharray", "5 3");
      svg.element("line", line);
    } else {
      svg.element("rect", {{"x", x + 10}, {"y", row_y - 6}, {"width", 14}, {"height", 12}, {"fill", e.colour}});
    }
    svg.text(x + 36, row_y + 4, e.name, {{"font-size", 12}});
  }
  svg.close();
}

// ensures: a centred bold title at the top of a chart `width` wide.
inline void draw_title(SvgWriter& svg, double width, const std::string& title) {
  svg.text(width / 2, 24, title, {{"font-size", 16}, {"font-weight", "bold"}, {"text-anchor", "middle"}});
}

}  // namespace tinynet_examples
