// tinynet/data/cifar_binary.hpp: the CIFAR-10 binary release (cifar-10-binary.tar.gz from
// https://www.cs.toronto.edu/~kriz/cifar.html), read and written.
//
// A release directory (usually `cifar-10-batches-bin`) holds data_batch_1.bin ..
// data_batch_5.bin (training), test_batch.bin and batches.meta.txt (class names, one per
// line). Each batch file is a sequence of 3073-byte records: one label byte, then the
// 32x32 image as three 1024-byte planes R, G, B (row-major), which is exactly one
// sample of ImageDataset's [N, 3, 32, 32] layout.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/data/dataset.hpp"
#include "tinynet/data/split.hpp"
#include "tinynet/io/atomic_file.hpp"

namespace tinynet {

constexpr std::int64_t cifar_image_bytes = 3 * 32 * 32;
constexpr std::int64_t cifar_record_bytes = 1 + cifar_image_bytes;
constexpr int cifar_train_batch_count = 5;
constexpr int cifar_max_classes = 256;  // a label is one byte

// ensures: the CIFAR-10 class names in label order (used when batches.meta.txt is missing).
inline std::vector<std::string> cifar10_default_class_names() {
  return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
}

namespace detail {
inline void check_cifar_class_count(const std::vector<std::string>& class_names, const std::string& where) {
  check(!class_names.empty() && class_names.size() <= static_cast<std::size_t>(cifar_max_classes), where, ": ",
        class_names.size(), " class names given; a CIFAR label byte allows 1 to ", cifar_max_classes);
}

// requires: `path` names an existing, non-empty batch file of whole records.
// ensures: its record count; otherwise an Error naming the file (and the byte offset at fault).
inline std::int64_t cifar_record_count(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  check(std::filesystem::exists(status), "CIFAR batch file '", path, "' is missing");
  check(std::filesystem::is_regular_file(status), "CIFAR batch file '", path, "' is ",
        std::filesystem::is_directory(status) ? "a directory" : "not a regular file", ", expected records of ",
        cifar_record_bytes, " bytes");
  const auto bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  check(!ec, "CIFAR batch file '", path, "': cannot read its size (", ec.message(), ")");
  check(bytes > 0, "CIFAR batch file '", path, "' is empty (0 bytes; expected records of ", cifar_record_bytes,
        " bytes)");
  const std::int64_t whole = bytes / cifar_record_bytes;
  check(bytes % cifar_record_bytes == 0, "CIFAR batch file '", path, "' is ", bytes,
        " bytes, not a multiple of the ", cifar_record_bytes, "-byte record: truncated or oversized, the record at "
        "byte offset ", whole * cifar_record_bytes, " has only ", bytes % cifar_record_bytes, " bytes");
  return whole;
}

// requires: `count` == cifar_record_count(path); `images` room for count images, `labels` for
// count labels. ensures: both filled; an Error naming file and offset for a bad label.
inline void read_cifar_records(const std::string& path, std::int64_t count, int class_count, std::uint8_t* images,
                               int* labels) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "CIFAR batch file '", path, "': cannot open it for reading");
  std::vector<char> bytes(static_cast<std::size_t>(count * cifar_record_bytes));
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  check(in.gcount() == static_cast<std::streamsize>(bytes.size()), "CIFAR batch file '", path,
        "': read failed at byte offset ", in.gcount(), " of ", bytes.size());
  for (std::int64_t r = 0; r < count; ++r) {
    const char* record = bytes.data() + r * cifar_record_bytes;
    const int label = static_cast<unsigned char>(record[0]);
    check(label < class_count, "CIFAR batch file '", path, "': record ", r, " at byte offset ",
          r * cifar_record_bytes, " has label ", label, ", but there are only ", class_count, " classes");
    labels[r] = label;
    std::memcpy(images + r * cifar_image_bytes, record + 1, cifar_image_bytes);
  }
}

// ensures: `contents` is at `path` as a whole or not at all (io/atomic_file.hpp).
inline void write_bytes_atomically(const std::string& path, const std::string& contents) {
  write_file_atomically(path, [&](std::ostream& out) {
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  });
}

// requires: data valid, samples 3x32x32, first + count <= data.size().
// ensures: the records of samples [first, first + count) in the batch-file format.
inline std::string cifar_records(const ImageDataset& data, std::int64_t first, std::int64_t count) {
  std::string bytes(static_cast<std::size_t>(count * cifar_record_bytes), '\0');
  for (std::int64_t r = 0; r < count; ++r) {
    char* record = &bytes[static_cast<std::size_t>(r * cifar_record_bytes)];
    record[0] = static_cast<char>(data.labels[first + r]);
    std::memcpy(record + 1, data.images.data() + (first + r) * cifar_image_bytes, cifar_image_bytes);
  }
  return bytes;
}

inline void check_cifar_writable(const ImageDataset& data, const std::string& where) {
  data.validate(where);
  check(data.sample_shape() == Shape{3, 32, 32}, where, ": CIFAR records hold 3x32x32 images, got samples of ",
        data.sample_shape());
  check_cifar_class_count(data.class_names, where);
}
}  // namespace detail

// ensures: the class names in batches.meta.txt at `meta_path` (one per line; blank lines and
// trailing whitespace ignored), or cifar10_default_class_names() when that file is missing;
// an Error naming the file when it is not a regular file or has no name, more than 256 names
// or a line over 4096 bytes (no class name is that long: a binary file in its place).
inline std::vector<std::string> read_cifar_class_names(const std::string& meta_path) {
  constexpr std::size_t max_line_bytes = 4096;
  std::error_code ec;
  const auto status = std::filesystem::status(meta_path, ec);
  if (!std::filesystem::exists(status)) return cifar10_default_class_names();
  check(std::filesystem::is_regular_file(status), "CIFAR class-name file '", meta_path, "' is ",
        std::filesystem::is_directory(status) ? "a directory" : "not a regular file",
        ", expected a text file with one class name per line");
  std::ifstream in(meta_path);
  check(in.good(), "CIFAR class-name file '", meta_path, "' exists but cannot be opened");
  std::vector<std::string> names;
  std::size_t line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    check(line.size() <= max_line_bytes, "CIFAR class-name file '", meta_path, "': line ", line_number, " is ",
          line.size(), " bytes, over the ", max_line_bytes, " a class name may have (not a text file?)");
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty()) names.push_back(line);
    check(names.size() <= static_cast<std::size_t>(cifar_max_classes), "CIFAR class-name file '", meta_path,
          "': more than ", cifar_max_classes, " class names (line ", line_number, "); a label byte allows ",
          cifar_max_classes);
  }
  detail::check_cifar_class_count(names, "CIFAR class-name file '" + meta_path + "'");
  return names;
}

// requires: 1..256 class names. ensures: the records of all `paths`, in order, as one dataset
// of [N, 3, 32, 32] images; an Error naming the file and byte offset for a missing file, a
// size that is not a whole number of records, or a label >= class_names.size().
inline ImageDataset read_cifar_batch_files(const std::vector<std::string>& paths,
                                           const std::vector<std::string>& class_names) {
  detail::check_cifar_class_count(class_names, "read_cifar_batch_files");
  std::vector<std::int64_t> counts;
  std::int64_t total = 0;
  for (const auto& path : paths) total += counts.emplace_back(detail::cifar_record_count(path));
  ImageDataset out;
  out.class_names = class_names;
  out.images = Tensor<std::uint8_t>(Shape{total, 3, 32, 32});
  out.labels.resize(static_cast<std::size_t>(total));
  std::int64_t first = 0;
  for (std::size_t f = 0; f < paths.size(); ++f) {
    detail::read_cifar_records(paths[f], counts[f], out.num_classes(), out.images.data() + first * cifar_image_bytes,
                               out.labels.data() + first);
    first += counts[f];
  }
  return out;
}

// ensures: read_cifar_batch_files({path}, class_names).
inline ImageDataset read_cifar_batch_file(const std::string& path, const std::vector<std::string>& class_names) {
  return read_cifar_batch_files({path}, class_names);
}

// ensures: the directory holding data_batch_1.bin (a file or anything else by that name, which
// the reader then rejects by name): `dir` itself or dir/cifar-10-batches-bin; "" when neither does.
inline std::string find_cifar_binary_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const fs::path& candidate : {fs::path(dir), fs::path(dir) / "cifar-10-batches-bin"})
    if (fs::exists(candidate / "data_batch_1.bin", ec)) return candidate.string();
  return "";
}

// requires: `dir` (or dir/cifar-10-batches-bin) holds data_batch_1..5.bin and test_batch.bin.
// ensures: train = the five data batches in order (50,000 images for CIFAR-10), test =
// test_batch.bin; class names from batches.meta.txt (the CIFAR-10 names when it is missing).
inline TrainTestSplit load_cifar10_binary(const std::string& dir) {
  const std::string root = find_cifar_binary_dir(dir);
  check(!root.empty(), "load_cifar10_binary: no data_batch_1.bin in '", dir, "' nor in '", dir,
        "/cifar-10-batches-bin'");
  const std::filesystem::path base(root);
  const auto class_names = read_cifar_class_names((base / "batches.meta.txt").string());
  std::vector<std::string> train_files;
  for (int b = 1; b <= cifar_train_batch_count; ++b)
    train_files.push_back((base / ("data_batch_" + std::to_string(b) + ".bin")).string());
  return {read_cifar_batch_files(train_files, class_names),
          read_cifar_batch_file((base / "test_batch.bin").string(), class_names)};
}

// requires: data valid, 3x32x32 samples, 1..256 classes, at least one sample.
// ensures: `path` holds data's records (replaced atomically: temp file + rename).
inline void write_cifar_batch_file(const ImageDataset& data, const std::string& path) {
  detail::check_cifar_writable(data, "write_cifar_batch_file '" + path + "'");
  check(data.size() > 0, "write_cifar_batch_file '", path, "': no samples to write");
  detail::write_bytes_atomically(path, detail::cifar_records(data, 0, data.size()));
}

// requires: 1..256 names without line breaks. ensures: `path` holds them one per line (atomically).
inline void write_cifar_class_names(const std::vector<std::string>& class_names, const std::string& path) {
  detail::check_cifar_class_count(class_names, "write_cifar_class_names '" + path + "'");
  std::string text;
  for (const auto& name : class_names) {
    check(!name.empty() && name.find_first_of("\r\n") == std::string::npos, "write_cifar_class_names '", path,
          "': class name '", name, "' is empty or holds a line break");
    text += name + "\n";
  }
  detail::write_bytes_atomically(path, text);
}

// requires: train and test 3x32x32 with the same 1..256 class names, train >= 5 samples,
// test >= 1. ensures: `dir` (created if needed) holds the release layout: data_batch_1..5.bin
// (train split in order into five near-equal parts), test_batch.bin, batches.meta.txt;
// load_cifar10_binary(dir) gives back the same pixels, labels and names.
inline void write_cifar10_binary(const TrainTestSplit& data, const std::string& dir) {
  detail::check_cifar_writable(data.train, "write_cifar10_binary: train set");
  detail::check_cifar_writable(data.test, "write_cifar10_binary: test set");
  check(data.train.class_names == data.test.class_names,
        "write_cifar10_binary: train and test sets have different class names");
  check(data.train.size() >= cifar_train_batch_count && data.test.size() >= 1, "write_cifar10_binary: need at least ",
        cifar_train_batch_count, " training and 1 test sample(s), got ", data.train.size(), " and ", data.test.size());
  const std::filesystem::path base(dir);
  std::error_code ec;
  std::filesystem::create_directories(base, ec);
  check(!ec, "write_cifar10_binary: cannot create directory '", dir, "' (", ec.message(), ")");
  const std::int64_t n = data.train.size();
  std::int64_t first = 0;
  for (int b = 0; b < cifar_train_batch_count; ++b) {
    const std::int64_t count = n / cifar_train_batch_count + (b < n % cifar_train_batch_count ? 1 : 0);
    detail::write_bytes_atomically((base / ("data_batch_" + std::to_string(b + 1) + ".bin")).string(),
                                  detail::cifar_records(data.train, first, count));
    first += count;
  }
  write_cifar_batch_file(data.test, (base / "test_batch.bin").string());
  write_cifar_class_names(data.train.class_names, (base / "batches.meta.txt").string());
}

}  // namespace tinynet
