// examples/cifar_compare/report/confusion_heatmap.hpp: a confusion matrix drawn as an SVG heatmap.
//
// Rows are true classes, columns predictions (as in ConfusionMatrix); each cell shows its count
// and is shaded on a white-to-dark-blue scale by count / largest count, with a colour bar.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "cifar_compare/report/chart_axes.hpp"
#include "cifar_compare/report/svg.hpp"
#include "tinynet/training/metrics.hpp"

namespace tinynet_examples {

using namespace tinynet;

// requires: 0 <= t <= 1. ensures: the "Blues" sequential colour at t as "#rrggbb".
inline std::string blues_colour(double t) {
  static const std::array<std::array<double, 3>, 5> stops{
      {{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}}};
  t = std::clamp(t, 0.0, 1.0) * (stops.size() - 1);
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(t), stops.size() - 2);
  const double f = t - static_cast<double>(i);
  char text[8];
  auto channel = [&](int c) {
    return static_cast<int>(std::lround(stops[i][c] + f * (stops[i + 1][c] - stops[i][c])));
  };
  std::snprintf(text, sizeof text, "#%02x%02x%02x", channel(0), channel(1), channel(2));
  return text;
}

// requires: class_names.size() == matrix.num_classes().
// ensures: a standalone SVG document: title, class labels on both axes, counts in cells, colour bar.
inline std::string confusion_heatmap_svg(const ConfusionMatrix& matrix, const std::vector<std::string>& class_names,
                                         const std::string& title) {
  const int k = matrix.num_classes();
  check(k >= 1 && static_cast<int>(class_names.size()) == k, "confusion_heatmap_svg('", title,
        "'): ", class_names.size(), " class names for a ", k, "-class confusion matrix");
  double label_width = 0;
  for (const auto& name : class_names) label_width = std::max(label_width, text_width(name, 12));
  const double cell = 46;
  const double left = 44 + label_width, top = 48;
  const double grid = cell * k;
  // Column labels are rotated 45 degrees, so they need about 0.71 of their width below the grid.
  const double bottom_labels = 0.71 * label_width + 16;
  const double colour_bar_x = left + grid + 24;
  const double width = std::max(colour_bar_x + 16 + 56, text_width(title, 16) + 40);
  const double height = top + grid + bottom_labels + 36;
  std::int64_t largest = 0;
  for (auto c : matrix.counts()) largest = std::max(largest, c);

  SvgWriter svg(width, height);
  svg.text_element("title", title);
  svg.element("rect", {{"width", width}, {"height", height}, {"fill", "white"}});
  draw_title(svg, width, title);
  svg.open("g", {{"class", "cells"}, {"font-size", 11}, {"text-anchor", "middle"}});
  for (int t = 0; t < k; ++t) {
    for (int p = 0; p < k; ++p) {
      const std::int64_t n = matrix.count(t, p);
      const double shade = largest > 0 ? static_cast<double>(n) / static_cast<double>(largest) : 0;
      const double x = left + cell * p, y = top + cell * t;
      svg.element("rect", {{"x", x},
                           {"y", y},
                           {"width", cell},
                           {"height", cell},
                           {"fill", blues_colour(shade)},
                           {"stroke", "#ffffff"}});
      svg.text(x + cell / 2, y + cell / 2 + 4, std::to_string(n), {{"fill", shade > 0.55 ? "#ffffff" : "#222222"}});
    }
  }
  svg.close();
  svg.open("g", {{"class", "labels"}, {"font-size", 12}});
  for (int t = 0; t < k; ++t)
    svg.text(left - 6, top + cell * t + cell / 2 + 4, class_names[t], {{"text-anchor", "end"}});
  for (int p = 0; p < k; ++p) {
    const double x = left + cell * p + cell / 2, y = top + grid + 12;
    svg.text(x, y, class_names[p],
             {{"text-anchor", "end"}, {"transform", "rotate(-45 " + svg_number(x) + " " + svg_number(y) + ")"}});
  }
  svg.close();
  svg.text(left + grid / 2, height - 12, "predicted label", {{"font-size", 13}, {"text-anchor", "middle"}});
  const double mid_y = top + grid / 2;
  svg.text(16, mid_y, "true label",
           {{"font-size", 13}, {"text-anchor", "middle"}, {"transform", "rotate(-90 16 " + svg_number(mid_y) + ")"}});

  // The colour bar: a vertical gradient from 0 (bottom) to the largest count (top), with ticks.
  // Its id is unique per title, so several heatmaps can be inlined into one HTML page.
  const std::string gradient_id = "blues-" + std::to_string(std::hash<std::string>{}(title) % 1000000007u);
  svg.open("defs");
  svg.open("linearGradient", {{"id", gradient_id}, {"x1", 0}, {"y1", 1}, {"x2", 0}, {"y2", 0}});
  for (int i = 0; i <= 4; ++i) svg.element("stop", {{"offset", i / 4.0}, {"stop-color", blues_colour(i / 4.0)}});
  svg.close().close();
  svg.element("rect", {{"x", colour_bar_x},
                       {"y", top},
                       {"width", 16},
                       {"height", grid},
                       {"fill", "url(#" + gradient_id + ")"},
                       {"stroke", "#999999"}});
  const double scale_top = static_cast<double>(std::max<std::int64_t>(largest, 1));
  const NiceAxis scale = nice_axis({0.0, scale_top}, 6, true, true);
  svg.open("g", {{"class", "colour-scale"}, {"font-size", 10}});
  for (double v : scale.ticks) {
    if (v > scale_top) break;
    const double y = top + grid - grid * v / scale_top;
    svg.element("line",
                {{"x1", colour_bar_x + 16}, {"y1", y}, {"x2", colour_bar_x + 20}, {"y2", y}, {"stroke", "#333333"}});
    svg.text(colour_bar_x + 23, y + 3.5, scale.label(v));
  }
  svg.close();
  return svg.finish();
}

}  // namespace tinynet_examples
