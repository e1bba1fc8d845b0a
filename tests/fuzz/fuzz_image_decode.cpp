// Fuzzes the image decode path of the image-folder reader: the input is an image file's bytes
// (decode_rgb_bytes, then the planar copy every decoded image goes through).
#include <vector>

#include "fuzz_support.hpp"
#include "tinynet/data/image_folder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > static_cast<std::size_t>(INT_MAX)) return 0;
  const auto image = tinynet::detail::decode_rgb_bytes(data, static_cast<int>(size));
  if (!image.pixels) {
    if (image.error.empty()) std::abort();  // a failure must say why
    return 0;
  }
  std::vector<std::uint8_t> planes(static_cast<std::size_t>(3) * image.width * image.height);
  tinynet::detail::store_planar(image, planes.data());
  return 0;
}
