// examples/cifar_compare/report/rgb_image.hpp: an 8-bit RGB raster for report figures, and its PNG encoding.
//
// Pixels are row-major, 3 bytes (R, G, B) each. PNGs are encoded by stb_image_write, whose
// implementation is in Debian's libstb (linked by the tinynet target), so this header must not
// define STB_IMAGE_WRITE_IMPLEMENTATION.
#pragma once

#include <stb_image_write.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/io/atomic_file.hpp"

namespace tinynet_examples {

using namespace tinynet;

using Rgb = std::array<std::uint8_t, 3>;

struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // width * height * 3

  RgbImage() = default;
  // requires: positive size. ensures: every pixel is `background`.
  RgbImage(int w, int h, Rgb background) : width(w), height(h) {
    check(w > 0 && h > 0 && static_cast<std::int64_t>(w) * h <= (std::int64_t{1} << 28), "RgbImage: bad size ", w,
          " x ", h);
    pixels.reserve(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(w) * h; ++i)
      pixels.insert(pixels.end(), background.begin(), background.end());
  }

  // requires: (x, y) inside the image (checked).
  Rgb at(int x, int y) const {
    const std::size_t i = offset(x, y);
    return {pixels[i], pixels[i + 1], pixels[i + 2]};
  }
  void set(int x, int y, Rgb colour) {
    const std::size_t i = offset(x, y);
    pixels[i] = colour[0], pixels[i + 1] = colour[1], pixels[i + 2] = colour[2];
  }
  // ensures: the part of the rectangle [x, x+w) x [y, y+h) inside the image is `colour`.
  void fill_rect(int x, int y, int w, int h, Rgb colour) {
    for (int yy = std::max(y, 0); yy < std::min(y + h, height); ++yy)
      for (int xx = std::max(x, 0); xx < std::min(x + w, width); ++xx) set(xx, yy, colour);
  }

 private:
  std::size_t offset(int x, int y) const {
    check(x >= 0 && x < width && y >= 0 && y < height, "RgbImage: pixel (", x, ", ", y, ") outside ", width, " x ",
          height);
    return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) * 3;
  }
};

// requires: a non-empty image. ensures: the bytes of a PNG file holding it.
inline std::string encode_png(const RgbImage& image) {
  check(image.width > 0 && image.height > 0 &&
            image.pixels.size() == static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) * 3,
        "encode_png: image ", image.width, " x ", image.height, " has ", image.pixels.size(), " bytes");
  std::string png;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
  };
  const int ok =
      stbi_write_png_to_func(append, &png, image.width, image.height, 3, image.pixels.data(), image.width * 3);
  check(ok != 0 && !png.empty(), "encode_png: stb_image_write failed on a ", image.width, " x ", image.height,
        " image");
  return png;
}

// ensures: `path` holds the image as PNG, written atomically; an Error naming the path otherwise.
inline void write_png(const RgbImage& image, const std::string& path) {
  const std::string png = encode_png(image);
  write_file_atomically(path,
                        [&](std::ostream& out) { out.write(png.data(), static_cast<std::streamsize>(png.size())); });
}

}  // namespace tinynet_examples
