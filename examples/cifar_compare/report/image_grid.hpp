// examples/cifar_compare/report/image_grid.hpp: a PNG grid of misclassified test images with captions.
//
// Each cell holds one image, upscaled by an integer factor (nearest neighbour), above a caption
// strip with two lines in the built-in bitmap font: "TRUE:<class>" (green) and "PRED:<class>" (red),
// cut to the cell width. Cells run left to right, then top to bottom:
//   width  = padding + columns_used * (cell_width + padding)
//   height = padding + rows * (cell_height + padding)
// with cell_width = widest image * scale, cell_height = tallest image * scale + caption_height().
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"
#include "cifar_compare/report/bitmap_font.hpp"
#include "cifar_compare/report/rgb_image.hpp"

namespace tinynet_examples {

using namespace tinynet;

struct MisclassifiedSample {
  std::int64_t index = 0;  // position in the evaluated set
  int true_label = 0, predicted_label = 0;
  Tensor<std::uint8_t> image;  // [C, H, W], C = 3 (RGB) or 1 (grey), as in ImageDataset
};

struct ImageGridOptions {
  int columns = 8;      // cells per row (fewer when there are fewer images)
  int scale = 3;        // each source pixel becomes scale x scale pixels
  int padding = 6;      // pixels around and between cells
  int font_scale = 1;   // caption font pixel size
  int max_images = 40;  // only the first max_images samples are drawn
};

// ensures: the height in pixels of a cell's caption strip (two text lines).
inline int caption_height(const ImageGridOptions& options) { return options.font_scale * (2 * glyph_height + 6); }

// requires: options positive (padding >= 0); every sample a [C,H,W] image with C in {1, 3}, labels
// indexing class_names. ensures: the grid image; with no samples, a small image saying so.
inline RgbImage render_mistake_grid(const std::vector<MisclassifiedSample>& samples,
                                    const std::vector<std::string>& class_names, const ImageGridOptions& options = {}) {
  check(options.columns >= 1 && options.scale >= 1 && options.scale <= 32 && options.padding >= 0 &&
            options.font_scale >= 1 && options.max_images >= 1,
        "render_mistake_grid: bad options (columns ", options.columns, ", scale ", options.scale, ", padding ",
        options.padding, ", font_scale ", options.font_scale, ", max_images ", options.max_images, ")");
  const Rgb background{236, 236, 236}, caption_background{255, 255, 255};
  const Rgb true_colour{0, 120, 40}, predicted_colour{200, 20, 20};
  const std::size_t count = std::min(samples.size(), static_cast<std::size_t>(options.max_images));
  if (count == 0) {
    const std::string message = "no misclassified images";
    RgbImage empty(text_pixel_width(message, options.font_scale) + 2 * options.padding + 8,
                   glyph_height * options.font_scale + 2 * options.padding + 8, background);
    draw_text(empty, options.padding + 4, options.padding + 4, message, {60, 60, 60}, options.font_scale);
    return empty;
  }
  std::int64_t tallest = 0, widest = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& s = samples[i];
    const auto& shape = s.image.shape();
    check(s.image.device() == Device::cpu && shape.rank() == 3 && (shape[0] == 1 || shape[0] == 3) && shape[1] > 0 &&
              shape[2] > 0 && shape[1] <= 4096 && shape[2] <= 4096,
          "render_mistake_grid: sample ", s.index, " has image shape ", shape, " on ", device_name(s.image.device()),
          ", expected a host image [3,H,W] or [1,H,W]");
    const int classes = static_cast<int>(class_names.size());
    check(s.true_label >= 0 && s.true_label < classes && s.predicted_label >= 0 && s.predicted_label < classes,
          "render_mistake_grid: sample ", s.index, " has labels ", s.true_label, " -> ", s.predicted_label,
          " outside the ", classes, " class names");
    tallest = std::max(tallest, shape[1]);
    widest = std::max(widest, shape[2]);
  }
  const int cell_width = static_cast<int>(widest) * options.scale;
  const int image_height = static_cast<int>(tallest) * options.scale;
  const int cell_height = image_height + caption_height(options);
  const int columns = static_cast<int>(std::min<std::size_t>(count, static_cast<std::size_t>(options.columns)));
  const int rows =
      static_cast<int>((count + static_cast<std::size_t>(columns) - 1) / static_cast<std::size_t>(columns));
  RgbImage grid(options.padding + columns * (cell_width + options.padding),
                options.padding + rows * (cell_height + options.padding), background);
  const int max_chars = cell_width / (glyph_advance * options.font_scale);

  for (std::size_t i = 0; i < count; ++i) {
    const auto& s = samples[i];
    const int left = options.padding + static_cast<int>(i % columns) * (cell_width + options.padding);
    const int top = options.padding + static_cast<int>(i / columns) * (cell_height + options.padding);
    const std::int64_t channels = s.image.dim(0), h = s.image.dim(1), w = s.image.dim(2);
    const std::uint8_t* data = s.image.data();
    for (std::int64_t y = 0; y < h; ++y) {
      for (std::int64_t x = 0; x < w; ++x) {
        Rgb colour;
        for (int c = 0; c < 3; ++c) colour[c] = data[(channels == 3 ? c : 0) * h * w + y * w + x];
        grid.fill_rect(left + static_cast<int>(x) * options.scale, top + static_cast<int>(y) * options.scale,
                       options.scale, options.scale, colour);
      }
    }
    grid.fill_rect(left, top + image_height, cell_width, caption_height(options), caption_background);
    const int line_top = top + image_height + 2 * options.font_scale;
    const int line_step = (glyph_height + 2) * options.font_scale;
    draw_text(grid, left + options.font_scale, line_top, ("true:" + class_names[s.true_label]).substr(0, max_chars),
              true_colour, options.font_scale);
    draw_text(grid, left + options.font_scale, line_top + line_step,
              ("pred:" + class_names[s.predicted_label]).substr(0, max_chars), predicted_colour, options.font_scale);
  }
  return grid;
}

}  // namespace tinynet_examples
