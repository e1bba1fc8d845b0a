// tinynet/data/image_folder.hpp: a dataset stored as image files, one folder per class.
//
// Layout: <root>/{train,test}/<class>/<file>.{png,jpg,jpeg,bmp} (extensions in any case;
// other files are ignored). Labels follow the class order: the sorted class-folder names of
// train/ unless the options give the names. Files are taken in name order within a class
// and decoded in parallel (OpenMP) with stb_image, always to 3 channels (RGB). All images
// must have one size: the one required by the options, else that of the first image.
// A file that cannot be decoded or has another size is a "bad image": with
// BadImagePolicy::stop (the default) it is an Error naming its path and the reason; with
// BadImagePolicy::skip it is left out and listed in the result.
#pragma once

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <stb_image.h>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/data/dataset.hpp"
#include "tinynet/data/split.hpp"

namespace tinynet {

enum class BadImagePolicy { stop, skip };

struct ImageFolderOptions {
  std::vector<std::string> class_names;  // label order; empty: the sorted class-folder names
  int height = 0, width = 0;             // required image size; 0 x 0: the first image's size
  BadImagePolicy on_bad_image = BadImagePolicy::stop;
};

struct SkippedImage {
  std::string path, reason;
};

struct ImageFolderResult {
  ImageDataset data;
  std::vector<SkippedImage> skipped;  // empty unless on_bad_image == skip
};

struct ImageFolderSplitResult {
  TrainTestSplit data;
  std::vector<SkippedImage> skipped;  // of both splits, train first
};

namespace detail {
// ensures: the entries of `dir` sorted by name; an Error naming `dir` when it cannot be listed.
inline std::vector<std::filesystem::directory_entry> sorted_entries(const std::filesystem::path& dir) {
  std::error_code ec;
  std::vector<std::filesystem::directory_entry> entries;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    entries.push_back(*it);
  check(!ec, "image folder: cannot list directory '", dir.string(), "' (", ec.message(), ")");
  // All entries share the prefix `dir`/, so comparing whole paths as strings orders them by name.
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().native() < b.path().native(); });
  return entries;
}

inline bool is_directory(const std::filesystem::directory_entry& entry) {
  std::error_code ec;
  return entry.is_directory(ec);
}

inline bool has_image_extension(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

inline std::vector<std::string> class_folder_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : sorted_entries(dir))
    if (is_directory(entry)) names.push_back(entry.path().filename().string());
  return names;
}

struct ImageFile {
  std::string path;
  int label;
};

// requires: every class folder in `dir` is one of class_names.
// ensures: the image files of each class in label order, by name within a class.
inline std::vector<ImageFile> list_image_files(const std::filesystem::path& dir,
                                               const std::vector<std::string>& class_names) {
  for (const auto& folder : class_folder_names(dir))
    check(std::find(class_names.begin(), class_names.end(), folder) != class_names.end(), "image folder '",
          dir.string(), "': class folder '", folder, "' is not one of the ", class_names.size(), " classes");
  std::vector<ImageFile> files;
  for (std::size_t label = 0; label < class_names.size(); ++label) {
    const auto class_dir = dir / class_names[label];
    std::error_code ec;
    if (!std::filesystem::is_directory(class_dir, ec)) continue;  // a class without images here
    for (const auto& entry : sorted_entries(class_dir))
      if (!is_directory(entry) && has_image_extension(entry.path()))
        files.push_back({entry.path().string(), static_cast<int>(label)});
  }
  return files;
}

struct DecodedImage {
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels{nullptr, stbi_image_free};  // interleaved RGB
  int width = 0, height = 0;
  std::string error;  // why pixels is null
};

// stb_image keeps its failure reason in a thread-local pointer that only failures set: a
// decode that fails without setting it leaves null (first failure in a thread) or the reason
// of an earlier failure. Marking it before each decode tells the three apart.
// ensures: this thread's stb failure reason is stb's "can't fopen", which a decode from memory
// never sets (stbi_info on the empty path fails before any I/O).
inline void mark_stb_failure_reason() {
  int unused = 0;
  stbi_info("", &unused, &unused, &unused);
}

// requires: mark_stb_failure_reason() called in this thread before the failed stb call.
// ensures: the reason that call set, or a text saying it set none.
inline std::string stb_failure_reason() {
  const char* reason = stbi_failure_reason();
  if (reason == nullptr || std::string(reason) == "can't fopen") return "no reason given; corrupt or truncated data";
  return reason;
}

// The largest image decoded: 2^24 pixels (4096 x 4096; 48 MiB as RGB, up to 128 MiB while
// stb_image decodes 16-bit RGBA). A header claiming more is refused before stb allocates.
constexpr std::int64_t max_image_pixels = std::int64_t{1} << 24;

// requires: `bytes` holds `size` >= 0 bytes.
// ensures: "" when they start like a PNG, JPEG or BMP file (the formats image folders hold) and,
// for a PNG, every chunk's length fits in the bytes (stb_image would allocate what a chunk
// claims before reading it); otherwise why not.
inline std::string check_image_container(const stbi_uc* bytes, int size) {
  const auto starts_with = [&](const char* magic, int n) { return size >= n && std::memcmp(bytes, magic, n) == 0; };
  if (starts_with("\xFF\xD8", 2) || starts_with("BM", 2)) return "";
  if (!starts_with("\x89PNG\r\n\x1A\n", 8)) return "not a PNG, JPEG or BMP file (by its first bytes)";
  for (std::int64_t at = 8; at + 8 <= size;) {
    const std::int64_t length = std::int64_t{bytes[at]} << 24 | bytes[at + 1] << 16 | bytes[at + 2] << 8 | bytes[at + 3];
    const std::string type(reinterpret_cast<const char*>(bytes) + at + 4, 4);
    if (at + 12 + length > size)
      return "PNG chunk '" + type + "' at byte offset " + std::to_string(at) + " claims " + std::to_string(length) +
             " bytes, but only " + std::to_string(size - at - 12) + " follow (truncated or corrupt)";
    if (type == "IEND") break;
    at += 12 + length;
  }
  return "";
}

// requires: `bytes` holds `size` >= 0 bytes.
// ensures: the bytes decoded to 3-channel RGB, or `error` set (bad data is not an exception).
inline DecodedImage decode_rgb_bytes(const stbi_uc* bytes, int size) {
  DecodedImage image;
  const std::string container_problem = check_image_container(bytes, size);
  if (!container_problem.empty()) {
    image.error = "not a decodable image (" + container_problem + ")";
    return image;
  }
  int channels_in_file = 0;
  mark_stb_failure_reason();
  if (!stbi_info_from_memory(bytes, size, &image.width, &image.height, &channels_in_file)) {
    // stb_image's loader would parse the same header: without this check it allocates for a
    // size it cannot read (a 28-byte BMP claiming 1536 x 262080 pixels: 1.2 GB).
    image.error = "not a decodable image (stb_image: " + stb_failure_reason() + ")";
    return image;
  }
  // (stb_image reports a top-down BMP's height as the negative number in its header, and decodes
  // its absolute value: the limit applies to that.)
  const std::int64_t claimed = std::llabs(static_cast<std::int64_t>(image.width)) *
                               std::llabs(static_cast<std::int64_t>(image.height));
  if (claimed > max_image_pixels) {
    image.error = "its header claims " + std::to_string(std::llabs(static_cast<std::int64_t>(image.width))) + "x" +
                  std::to_string(std::llabs(static_cast<std::int64_t>(image.height))) + " pixels, over the limit of " +
                  std::to_string(max_image_pixels);
    return image;
  }
  mark_stb_failure_reason();
  image.pixels.reset(stbi_load_from_memory(bytes, size, &image.width, &image.height, &channels_in_file, 3));
  if (!image.pixels) image.error = "not a decodable image (stb_image: " + stb_failure_reason() + ")";
  return image;
}

// ensures: the file decoded to 3-channel RGB, or `error` set (a bad file is not an exception).
inline DecodedImage decode_rgb(const std::string& path) {
  DecodedImage image;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    image.error = "cannot open the file";
    return image;
  }
  const std::streamoff size = in.tellg();
  if (size <= 0 || size > INT_MAX) {
    image.error = "the file is empty or over 2 GiB (" + std::to_string(size) + " bytes)";
    return image;
  }
  std::vector<stbi_uc> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    image.error = "reading its " + std::to_string(size) + " bytes failed";
    return image;
  }
  return decode_rgb_bytes(bytes.data(), static_cast<int>(size));
}

// requires: image decoded. ensures: its pixels copied as [3, H, W] planes to `out`.
inline void store_planar(const DecodedImage& image, std::uint8_t* out) {
  const std::int64_t plane = static_cast<std::int64_t>(image.width) * image.height;
  const stbi_uc* rgb = image.pixels.get();
  for (std::int64_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) out[c * plane + p] = rgb[3 * p + c];
}

inline std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

// read_image_class_folders, where `required_size_source` says where a required size comes from.
inline ImageFolderResult read_class_folders(const std::string& dir, const ImageFolderOptions& options,
                                            const std::string& required_size_source) {
  namespace fs = std::filesystem;
  std::error_code ec;
  check(fs::is_directory(dir, ec), "image folder '", dir, "' is not a directory");
  check((options.height == 0) == (options.width == 0) && options.height >= 0 && options.width >= 0,
        "image folder '", dir, "': required size ", options.width, "x", options.height, " (width x height) is invalid");
  ImageFolderResult result;
  result.data.class_names = options.class_names.empty() ? detail::class_folder_names(dir) : options.class_names;
  const auto files = detail::list_image_files(dir, result.data.class_names);
  check(!files.empty(), "image folder '", dir, "': no .png/.jpg/.jpeg/.bmp files in its ",
        result.data.class_names.size(), " class folders");
  const bool stop = options.on_bad_image == BadImagePolicy::stop;

  int width = options.width, height = options.height;
  std::string size_source = required_size_source;
  for (std::size_t i = 0; width == 0 && i < files.size(); ++i) {
    const auto first = detail::decode_rgb(files[i].path);
    check(first.pixels || !stop, "image folder: bad image '", files[i].path, "': ", first.error);
    if (first.pixels) {
      width = first.width;
      height = first.height;
      size_source = "the size of the first image, '" + files[i].path + "'";
    }
  }
  check(width > 0, "image folder '", dir, "': none of its ", files.size(), " image files could be decoded");

  const auto n = static_cast<std::int64_t>(files.size());
  const std::int64_t per_image = 3LL * width * height;
  result.data.images = Tensor<std::uint8_t>(Shape{n, 3, height, width});
  result.data.labels.resize(files.size());
  std::vector<std::string> problems(files.size());
  std::uint8_t* images = result.data.images.data();
#pragma omp parallel for schedule(dynamic, 64)
  for (std::int64_t i = 0; i < n; ++i) {
    try {
      const auto image = detail::decode_rgb(files[i].path);
      if (!image.pixels)
        problems[i] = image.error;
      else if (image.width != width || image.height != height)
        problems[i] = "it is " + detail::size_text(image.width, image.height) + " (width x height), expected " +
                      detail::size_text(width, height) + " (" + size_source + ")";
      else
        detail::store_planar(image, images + i * per_image);
    } catch (const std::exception& e) {
      problems[i] = e.what();
    }
    result.data.labels[i] = files[i].label;
  }

  std::vector<std::int64_t> kept;
  for (std::int64_t i = 0; i < n; ++i) {
    if (problems[i].empty()) {
      kept.push_back(i);
      continue;
    }
    if (stop) {
      const auto more =
          std::count_if(problems.begin() + i + 1, problems.end(), [](const std::string& p) { return !p.empty(); });
      fail("image folder: bad image '", files[i].path, "': ", problems[i],
           more ? " (and " + std::to_string(more) + " more bad image(s))" : std::string());
    }
    result.skipped.push_back({files[i].path, problems[i]});
  }
  check(!kept.empty(), "image folder '", dir, "': all ", n, " images are bad (first: '", files[0].path,
        "': ", problems[0], ")");
  if (!result.skipped.empty()) result.data = subset(result.data, kept);
  return result;
}
}  // namespace detail

// ensures: the image file at `path` (any format stb_image reads) as [3, H, W] planar RGB; an
// Error naming the path and stb_image's reason when it cannot be read or decoded.
inline Tensor<std::uint8_t> read_rgb_image(const std::string& path) {
  const auto image = detail::decode_rgb(path);
  check(image.pixels != nullptr, "image '", path, "': ", image.error);
  Tensor<std::uint8_t> planes(Shape{3, image.height, image.width});
  detail::store_planar(image, planes.data());
  return planes;
}

// requires: `dir` is a directory of class folders; options.height/width both 0 or both > 0.
// ensures: the images of dir/<class>/* as [N, 3, H, W] with labels in class order; bad
// images handled by options.on_bad_image; an Error when no image is usable.
inline ImageFolderResult read_image_class_folders(const std::string& dir, const ImageFolderOptions& options = {}) {
  return detail::read_class_folders(dir, options, "the size required by the options");
}

// requires: root/train and root/test are directories of class folders.
// ensures: both splits read with read_image_class_folders; the test split uses the training
// split's class names and image size; skipped images of both listed (when the policy skips).
inline ImageFolderSplitResult load_image_folder(const std::string& root, const ImageFolderOptions& options = {}) {
  namespace fs = std::filesystem;
  for (const char* split : {"train", "test"}) {
    std::error_code ec;
    check(fs::is_directory(fs::path(root) / split, ec), "image folder '", root, "': no '", split,
          "' directory (expected ", root, "/{train,test}/<class>/<image>.{png,jpg,jpeg,bmp})");
  }
  ImageFolderResult train = read_image_class_folders((fs::path(root) / "train").string(), options);
  ImageFolderOptions test_options = options;
  test_options.class_names = train.data.class_names;
  test_options.height = static_cast<int>(train.data.images.dim(2));
  test_options.width = static_cast<int>(train.data.images.dim(3));
  ImageFolderResult test =
      detail::read_class_folders((fs::path(root) / "test").string(), test_options, "the training images' size");
  ImageFolderSplitResult out{{std::move(train.data), std::move(test.data)}, std::move(train.skipped)};
  out.skipped.insert(out.skipped.end(), test.skipped.begin(), test.skipped.end());
  return out;
}

}  // namespace tinynet
