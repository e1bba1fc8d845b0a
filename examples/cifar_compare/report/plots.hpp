// examples/cifar_compare/report/plots.hpp: line charts and grouped horizontal bar charts as standalone SVG.
//
// line_chart_svg(): several series on shared axes (nice ticks, grid, axis labels, legend, title),
//   e.g. train/validation accuracy per epoch of two models. A non-finite y value leaves a gap.
// horizontal_bar_chart_svg(): one group of bars per category, one bar per series in each group,
//   e.g. per-class accuracy of two models side by side. A non-finite value draws "n/a".
// (The confusion-matrix heatmap is in report/confusion_heatmap.hpp.)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "cifar_compare/report/chart_axes.hpp"
#include "cifar_compare/report/svg.hpp"

namespace tinynet_examples {

using namespace tinynet;

struct LineSeries {
  std::string name;
  std::vector<double> x, y;  // same length
  std::string colour = "#1f77b4";
  bool dashed = false;
};

struct LineChartOptions {
  std::string title, x_label, y_label;
  std::string y_suffix;   // appended to y tick labels, e.g. "%"
  bool integer_x = true;  // x ticks at whole numbers (epochs)
  double width = 760, height = 440;
};

// requires: x.size() == y.size() in every series; a size that leaves room for the plot.
// ensures: a standalone SVG document.
inline std::string line_chart_svg(const std::vector<LineSeries>& series, const LineChartOptions& options) {
  std::vector<double> xs, ys;
  std::vector<LegendEntry> legend;
  for (const auto& s : series) {
    check(s.x.size() == s.y.size(), "line_chart_svg('", options.title, "'): series '", s.name, "' has ", s.x.size(),
          " x values and ", s.y.size(), " y values");
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) xs.push_back(s.x[i]), ys.push_back(s.y[i]);
    legend.push_back({s.name, s.colour, s.dashed, true});
  }
  const double left = 72, top = 44, bottom = options.height - 56;
  const double right = options.width - (legend.empty() ? 0 : legend_width(legend) + 16) - 24;
  check(right - left >= 100 && bottom - top >= 100, "line_chart_svg('", options.title, "'): ", options.width, "x",
        options.height, " leaves no room for the plot");
  const NiceAxis x_axis = nice_axis(xs, 8, options.integer_x);
  const NiceAxis y_axis = nice_axis(ys, 6);
  auto px = [&](double x) { return x_axis.to_pixel(x, left, right); };
  auto py = [&](double y) { return y_axis.to_pixel(y, bottom, top); };

  SvgWriter svg(options.width, options.height);
  svg.text_element("title", options.title);
  svg.element("rect", {{"width", options.width}, {"height", options.height}, {"fill", "white"}});
  draw_title(svg, options.width, options.title);
  svg.open("g", {{"class", "grid"}, {"stroke", "#e6e6e6"}});
  for (double t : y_axis.ticks) svg.element("line", {{"x1", left}, {"y1", py(t)}, {"x2", right}, {"y2", py(t)}});
  for (double t : x_axis.ticks) svg.element("line", {{"x1", px(t)}, {"y1", top}, {"x2", px(t)}, {"y2", bottom}});
  svg.close();
  svg.open("g", {{"class", "ticks"}, {"font-size", 11}, {"fill", "#333333"}});
  for (double t : y_axis.ticks)
    svg.text(left - 6, py(t) + 4, y_axis.label(t, options.y_suffix), {{"text-anchor", "end"}});
  for (double t : x_axis.ticks) svg.text(px(t), bottom + 16, x_axis.label(t), {{"text-anchor", "middle"}});
  svg.close();
  svg.element("rect", {{"x", left},
                       {"y", top},
                       {"width", right - left},
                       {"height", bottom - top},
                       {"fill", "none"},
                       {"stroke", "#333333"}});
  svg.text((left + right) / 2, options.height - 16, options.x_label, {{"font-size", 13}, {"text-anchor", "middle"}});
  const double mid_y = (top + bottom) / 2;
  svg.text(18, mid_y, options.y_label,
           {{"font-size", 13}, {"text-anchor", "middle"}, {"transform", "rotate(-90 18 " + svg_number(mid_y) + ")"}});

  for (const auto& s : series) {
    svg.open("g", {{"class", "series"}, {"stroke", s.colour}, {"fill", s.colour}});
    svg.text_element("title", s.name);
    std::string points;  // the current unbroken run of finite points
    int run_length = 0;
    auto flush = [&] {
      if (run_length >= 2) {
        SvgAttributes line{{"points", points}, {"fill", "none"}, {"stroke-width", 2}};
        if (s.dashed) line.emplace_back("stroke-dasharray", "6 4");
        svg.element("polyline", line);
      }
      points.clear();
      run_length = 0;
    };
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        flush();
        continue;
      }
      points += (run_length++ ? " " : "") + svg_number(px(s.x[i])) + "," + svg_number(py(s.y[i]));
    }
    flush();
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        svg.element("circle", {{"cx", px(s.x[i])}, {"cy", py(s.y[i])}, {"r", 2.5}});
    svg.close();
  }
  if (!legend.empty()) draw_legend(svg, right + 16, top, legend);
  return svg.finish();
}

struct BarSeries {
  std::string name;
  std::vector<double> values;  // one per category
  std::string colour = "#1f77b4";
};

struct BarChartOptions {
  std::string title, value_label;
  std::string value_suffix;                                     // appended to tick and bar labels, e.g. "%"
  int value_decimals = 1;                                       // digits after the point in bar labels
  double value_max = std::numeric_limits<double>::quiet_NaN();  // the axis reaches at least this (NaN: data only)
  double width = 760;
};

// requires: every series has one value per category. ensures: a standalone SVG document whose
// value axis starts at 0 (its height follows from the number of bars).
inline std::string horizontal_bar_chart_svg(const std::vector<std::string>& categories,
                                            const std::vector<BarSeries>& series, const BarChartOptions& options) {
  std::vector<double> values{options.value_max};
  std::vector<LegendEntry> legend;
  double label_width = 0;
  for (const auto& c : categories) label_width = std::max(label_width, text_width(c, 12));
  for (const auto& s : series) {
    check(s.values.size() == categories.size(), "horizontal_bar_chart_svg('", options.title, "'): series '", s.name,
          "' has ", s.values.size(), " values for ", categories.size(), " categories");
    values.insert(values.end(), s.values.begin(), s.values.end());
    legend.push_back({s.name, s.colour, false, false});
  }
  const double bar_height = 12, group_gap = 10;
  const double group_height = std::max<double>(1, static_cast<double>(series.size())) * bar_height + group_gap;
  const double left = 24 + label_width, top = 44;
  const double bottom = top + group_height * static_cast<double>(categories.size()) + 4;
  const double height = bottom + 52;
  const double right = options.width - (legend.empty() ? 0 : legend_width(legend) + 16) - 24 - 40;
  check(right - left >= 100, "horizontal_bar_chart_svg('", options.title, "'): width ", options.width,
        " leaves no room for the bars");
  const NiceAxis axis = nice_axis(values, 6, false, true);
  auto px = [&](double v) { return axis.to_pixel(v, left, right); };

  SvgWriter svg(options.width, height);
  svg.text_element("title", options.title);
  svg.element("rect", {{"width", options.width}, {"height", height}, {"fill", "white"}});
  draw_title(svg, options.width, options.title);
  svg.open("g", {{"class", "grid"}, {"stroke", "#e6e6e6"}});
  for (double t : axis.ticks) svg.element("line", {{"x1", px(t)}, {"y1", top}, {"x2", px(t)}, {"y2", bottom}});
  svg.close();
  svg.open("g", {{"class", "ticks"}, {"font-size", 11}, {"fill", "#333333"}, {"text-anchor", "middle"}});
  for (double t : axis.ticks) svg.text(px(t), bottom + 16, axis.label(t, options.value_suffix));
  svg.close();
  svg.text((left + right) / 2, height - 16, options.value_label, {{"font-size", 13}, {"text-anchor", "middle"}});

  for (std::size_t c = 0; c < categories.size(); ++c) {
    const double group_top = top + 4 + group_height * static_cast<double>(c);
    svg.text(left - 8, group_top + (group_height - group_gap) / 2 + 4, categories[c],
             {{"font-size", 12}, {"text-anchor", "end"}});
    for (std::size_t k = 0; k < series.size(); ++k) {
      const double v = series[k].values[c];
      const double y = group_top + bar_height * static_cast<double>(k);
      if (!std::isfinite(v)) {
        svg.text(left + 4, y + bar_height - 2, "n/a", {{"font-size", 10}, {"fill", "#666666"}});
        continue;
      }
      char text[48];
      std::snprintf(text, sizeof text, "%.*f", options.value_decimals, v);
      svg.open("g", {{"class", "bar"}});
      svg.text_element("title", series[k].name + " / " + categories[c] + ": " + text + options.value_suffix);
      svg.element("rect", {{"x", std::min(px(0), px(v))},
                           {"y", y},
                           {"width", std::abs(px(v) - px(0))},
                           {"height", bar_height - 1},
                           {"fill", series[k].colour}});
      svg.text(std::max(px(0), px(v)) + 4, y + bar_height - 2, text + options.value_suffix, {{"font-size", 10}});
      svg.close();
    }
  }
  svg.element("line", {{"x1", px(0)}, {"y1", top}, {"x2", px(0)}, {"y2", bottom}, {"stroke", "#333333"}});
  if (!legend.empty()) draw_legend(svg, right + 56, top, legend);
  return svg.finish();
}

}  // namespace tinynet_examples
