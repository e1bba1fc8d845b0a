// Dataset readers: the CIFAR-10 binary release, image folders, load_dataset's layout
// detection, the cifar_convert tool, train/validation splits and batch preprocessing.
#include <catch2/catch.hpp>
#include <stb_image_write.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "tinynet/data/cifar_binary.hpp"
#include "tinynet/data/image_folder.hpp"
#include "tinynet/data/load_dataset.hpp"
#include "tinynet/data/normalize.hpp"
#include "tinynet/data/split.hpp"

using namespace tinynet;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

// A fresh directory under the system temp dir, removed with its contents at scope end.
struct TempDir {
  fs::path path;
  TempDir() : path(fs::temp_directory_path() / ("tinynet_readers_" + std::to_string(std::random_device{}()))) {
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// Pixel (sample i, channel c, position p) of the synthetic datasets.
std::uint8_t pattern(std::int64_t i, std::int64_t c, std::int64_t p) {
  return static_cast<std::uint8_t>((i * 37 + c * 101 + p * 3) % 256);
}

ImageDataset make_dataset(std::int64_t n, int classes, std::int64_t h = 32, std::int64_t w = 32, int first = 0) {
  ImageDataset d;
  for (int k = 0; k < classes; ++k) d.class_names.push_back("class" + std::to_string(k));
  d.images = Tensor<std::uint8_t>(Shape{n, 3, h, w});
  for (std::int64_t i = 0; i < n; ++i) {
    d.labels.push_back(static_cast<int>((i + first) % classes));
    for (std::int64_t c = 0; c < 3; ++c)
      for (std::int64_t p = 0; p < h * w; ++p) d.images[(i * 3 + c) * h * w + p] = pattern(i + first, c, p);
  }
  return d;
}

void require_same(const ImageDataset& a, const ImageDataset& b) {
  REQUIRE(a.images.shape() == b.images.shape());
  CHECK(a.labels == b.labels);
  CHECK(a.class_names == b.class_names);
  CHECK(std::equal(a.images.begin(), a.images.end(), b.images.begin()));
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A CIFAR record built by hand: label, then R, G, B planes filled with r, g, b.
std::string record(int label, char r, char g, char b) {
  return std::string(1, static_cast<char>(label)) + std::string(1024, r) + std::string(1024, g) + std::string(1024, b);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected a tinynet::Error");
  return "";
}

// Writes sample i of `d` as an RGB PNG (interleaved, as image files store it).
void write_png(const std::string& path, const ImageDataset& d, std::int64_t i) {
  const int h = static_cast<int>(d.images.dim(2)), w = static_cast<int>(d.images.dim(3));
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(3 * h * w));
  for (int p = 0; p < h * w; ++p)
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = d.images[(i * 3 + c) * h * w + p];
  REQUIRE(stbi_write_png(path.c_str(), w, h, 3, rgb.data(), w * 3) != 0);
}

// Writes `d` as root/<split>/<class name>/<index>.png; returns the paths in file order.
std::vector<std::string> write_image_folder(const fs::path& root, const std::string& split, const ImageDataset& d) {
  std::vector<std::string> paths;
  for (std::int64_t i = 0; i < d.size(); ++i) {
    const fs::path dir = root / split / d.class_names[d.labels[i]];
    fs::create_directories(dir);
    char name[16];
    std::snprintf(name, sizeof name, "%04d.png", static_cast<int>(i));
    paths.push_back((dir / name).string());
    write_png(paths.back(), d, i);
  }
  return paths;
}

// The samples of `d` reordered as an image folder lists them: by class, then by index.
ImageDataset in_folder_order(const ImageDataset& d) {
  std::vector<std::int64_t> order;
  for (int k = 0; k < d.num_classes(); ++k)
    for (std::int64_t i = 0; i < d.size(); ++i)
      if (d.labels[i] == k) order.push_back(i);
  return subset(d, order);
}

}  // namespace

TEST_CASE("CIFAR batch records map straight into NCHW", "[data][cifar]") {
  TempDir tmp;
  const auto path = tmp / "hand.bin";
  write_bytes(path, record(3, 10, 20, 30) + record(9, 'a', 'b', 'c'));
  const auto d = read_cifar_batch_file(path, cifar10_default_class_names());
  REQUIRE(d.images.shape() == Shape{2, 3, 32, 32});
  CHECK(d.labels == std::vector<int>{3, 9});
  CHECK(d.images.at(0, 0, 0, 0) == 10);
  CHECK(d.images.at(0, 1, 31, 31) == 20);
  CHECK(d.images.at(0, 2, 5, 7) == 30);
  CHECK(d.images.at(1, 2, 31, 0) == 'c');
  CHECK(d.class_names[3] == "cat");
}

TEST_CASE("write_cifar_batch_file writes the release's record layout and reads back", "[data][cifar]") {
  TempDir tmp;
  const auto data = make_dataset(7, 10);
  const auto path = tmp / "batch.bin";
  write_cifar_batch_file(data, path);
  REQUIRE(fs::file_size(path) == 7 * 3073);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Record 2: label byte, then R plane, G plane (offset 1 + 1024), B plane.
  CHECK(static_cast<unsigned char>(bytes[2 * 3073]) == 2);
  CHECK(static_cast<unsigned char>(bytes[2 * 3073 + 1 + 5]) == pattern(2, 0, 5));
  CHECK(static_cast<unsigned char>(bytes[2 * 3073 + 1 + 1024 + 40]) == pattern(2, 1, 40));
  CHECK(static_cast<unsigned char>(bytes[2 * 3073 + 1 + 2048 + 1023]) == pattern(2, 2, 1023));
  require_same(read_cifar_batch_file(path, data.class_names), data);
  // Written atomically: no temporary file is left beside it.
  CHECK(std::distance(fs::directory_iterator(tmp.path), fs::directory_iterator()) == 1);

  CHECK_THROWS_WITH(write_cifar_batch_file(make_dataset(2, 10, 16, 16), tmp / "small.bin"), Contains("3x32x32"));
  CHECK_THROWS_WITH(write_cifar_batch_file(make_dataset(2, 257), tmp / "many.bin"), Contains("257 class names"));
  CHECK_FALSE(fs::exists(tmp / "small.bin"));
}

TEST_CASE("bad CIFAR batch files are Errors naming the file and byte offset", "[data][cifar]") {
  TempDir tmp;
  const auto names = cifar10_default_class_names();
  const auto truncated = tmp / "truncated.bin";
  write_bytes(truncated, record(1, 0, 0, 0) + record(2, 0, 0, 0).substr(0, 3000));
  auto msg = error_of([&] { read_cifar_batch_file(truncated, names); });
  CHECK_THAT(msg, Contains(truncated) && Contains("6073 bytes") && Contains("byte offset 3073") &&
                      Contains("3000 bytes"));

  const auto oversized = tmp / "oversized.bin";
  write_bytes(oversized, record(1, 0, 0, 0) + record(2, 0, 0, 0) + "xyz");
  msg = error_of([&] { read_cifar_batch_file(oversized, names); });
  CHECK_THAT(msg, Contains(oversized) && Contains("byte offset 6146") && Contains("only 3 bytes"));

  const auto bad_label = tmp / "label10.bin";
  write_bytes(bad_label, record(9, 0, 0, 0) + record(10, 0, 0, 0));
  msg = error_of([&] { read_cifar_batch_file(bad_label, names); });
  CHECK_THAT(msg, Contains(bad_label) && Contains("label 10") && Contains("byte offset 3073"));

  const auto missing = tmp / "missing.bin";
  CHECK_THROWS_WITH(read_cifar_batch_file(missing, names), Contains(missing) && Contains("missing"));
  const auto empty = tmp / "empty.bin";
  write_bytes(empty, "");
  CHECK_THROWS_WITH(read_cifar_batch_file(empty, names), Contains(empty) && Contains("empty"));
}

TEST_CASE("batches.meta.txt gives the class names, the CIFAR-10 names when missing", "[data][cifar]") {
  TempDir tmp;
  CHECK(read_cifar_class_names(tmp / "batches.meta.txt") == cifar10_default_class_names());
  write_bytes(tmp / "batches.meta.txt", "red\r\ngreen \nblue\n\n");
  CHECK(read_cifar_class_names(tmp / "batches.meta.txt") == std::vector<std::string>{"red", "green", "blue"});
  write_bytes(tmp / "blank.txt", "\n\n");
  CHECK_THROWS_WITH(read_cifar_class_names(tmp / "blank.txt"), Contains("blank.txt") && Contains("0 class names"));
}

TEST_CASE("write_cifar10_binary writes the release layout that load_cifar10_binary reads", "[data][cifar]") {
  TempDir tmp;
  const TrainTestSplit data{make_dataset(12, 3), make_dataset(4, 3, 32, 32, 100)};
  const auto dir = tmp / "cifar-10-batches-bin";
  write_cifar10_binary(data, dir);
  const std::uintmax_t expected_records[] = {3, 3, 2, 2, 2};
  for (int b = 0; b < 5; ++b)
    CHECK(fs::file_size(fs::path(dir) / ("data_batch_" + std::to_string(b + 1) + ".bin")) ==
          expected_records[b] * 3073);
  CHECK(fs::file_size(fs::path(dir) / "test_batch.bin") == 4 * 3073);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 7);  // no temp files

  for (const auto& where : {dir, tmp.path.string()}) {  // the release dir or its parent
    const auto loaded = load_cifar10_binary(where);
    require_same(loaded.train, data.train);
    require_same(loaded.test, data.test);
  }
  fs::remove(fs::path(dir) / "test_batch.bin");
  CHECK_THROWS_WITH(load_cifar10_binary(dir), Contains("test_batch.bin") && Contains("missing"));
  CHECK_THROWS_WITH(load_cifar10_binary(tmp / "nothing"), Contains("data_batch_1.bin"));
  CHECK_THROWS_WITH(write_cifar10_binary(TrainTestSplit{make_dataset(4, 3), data.test}, tmp / "few"),
                    Contains("at least 5"));
}

TEST_CASE("image folders: sorted classes and files, planar RGB, any extension case", "[data][folder]") {
  TempDir tmp;
  ImageDataset cats = make_dataset(2, 1, 3, 4), dogs = make_dataset(2, 1, 3, 4, 7);
  cats.class_names = {"cat"};
  dogs.class_names = {"dog"};
  write_image_folder(tmp.path, "train", dogs);  // written first: the order must come from sorting
  write_image_folder(tmp.path, "train", cats);
  fs::rename(tmp.path / "train/dog/0001.png", tmp.path / "train/dog/b.PNG");
  write_bytes(tmp / "train/dog/notes.txt", "not an image");
  // A grayscale image: stb_image expands it to three equal channels.
  const std::uint8_t gray[12] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 250};
  REQUIRE(stbi_write_png((tmp / "train/dog/c.png").c_str(), 4, 3, 1, gray, 4) != 0);

  const auto result = read_image_class_folders(tmp / "train");
  const auto& d = result.data;
  CHECK(result.skipped.empty());
  CHECK(d.class_names == std::vector<std::string>{"cat", "dog"});
  REQUIRE(d.images.shape() == Shape{5, 3, 3, 4});
  CHECK(d.labels == std::vector<int>{0, 0, 1, 1, 1});
  // Order: cat/0000, cat/0001, dog/0000, dog/b.PNG (dogs sample 1), dog/c.png.
  for (std::int64_t c = 0; c < 3; ++c)
    for (std::int64_t p = 0; p < 12; ++p) {
      CHECK(d.images[(0 * 3 + c) * 12 + p] == pattern(0, c, p));
      CHECK(d.images[(1 * 3 + c) * 12 + p] == pattern(1, c, p));
      CHECK(d.images[(2 * 3 + c) * 12 + p] == pattern(7, c, p));
      CHECK(d.images[(3 * 3 + c) * 12 + p] == pattern(8, c, p));
      CHECK(d.images[(4 * 3 + c) * 12 + p] == gray[p]);
    }

  ImageFolderOptions reversed;
  reversed.class_names = {"dog", "cat"};
  CHECK(read_image_class_folders(tmp / "train", reversed).data.labels == std::vector<int>{0, 0, 0, 1, 1});
  reversed.class_names = {"dog"};
  CHECK_THROWS_WITH(read_image_class_folders(tmp / "train", reversed), Contains("'cat' is not one of"));
}

TEST_CASE("bad images: stop names the path, skip lists it", "[data][folder]") {
  TempDir tmp;
  const auto data = make_dataset(6, 2, 4, 4);
  const auto paths = write_image_folder(tmp.path, "train", data);
  write_image_folder(tmp.path, "test", make_dataset(2, 2, 4, 4));
  const std::string corrupt = paths[2], wrong_size = paths[3];
  write_bytes(corrupt, "\x89PNG this is not really a png");
  const auto big = make_dataset(1, 1, 5, 4);
  write_png(wrong_size, big, 0);

  auto msg = error_of([&] { read_image_class_folders(tmp / "train"); });
  CHECK_THAT(msg, Contains(corrupt) && Contains("not a decodable image") && Contains("1 more bad image"));
  fs::rename(corrupt, corrupt + ".bak");  // now only the wrongly sized one is bad
  msg = error_of([&] { load_image_folder(tmp.path.string()); });
  CHECK_THAT(msg, Contains(wrong_size) && Contains("it is 4x5") && Contains("expected 4x4") &&
                      Contains("the first image"));
  fs::rename(corrupt + ".bak", corrupt);

  ImageFolderOptions skip;
  skip.on_bad_image = BadImagePolicy::skip;
  const auto result = load_image_folder(tmp.path.string(), skip);
  REQUIRE(result.skipped.size() == 2);
  CHECK(result.skipped[0].path == corrupt);
  CHECK(result.skipped[1].path == wrong_size);
  CHECK_THAT(result.skipped[1].reason, Contains("expected 4x4"));
  // Folder order lists class 0's samples (0, 2, 4) then class 1's (1, 3, 5); 2 and 3 are gone.
  require_same(result.data.train, subset(data, {0, 4, 1, 5}));
  CHECK(result.data.test.size() == 2);

  ImageFolderOptions required = skip;
  required.height = required.width = 8;
  CHECK_THROWS_WITH(read_image_class_folders(tmp / "train", required), Contains("all 6 images are bad"));
  required.on_bad_image = BadImagePolicy::stop;
  CHECK_THROWS_WITH(read_image_class_folders(tmp / "train", required),
                    Contains(paths[0]) && Contains("the size required by the options"));
}

namespace {
// ensures: a valid 16x16 RGB PNG.
std::string small_png() {
  std::vector<std::uint8_t> rgb(16 * 16 * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint8_t>(i * 37 % 251);
  std::string png;
  const auto append = [](void* out, void* data, int size) {
    static_cast<std::string*>(out)->append(static_cast<char*>(data), static_cast<std::size_t>(size));
  };
  REQUIRE(stbi_write_png_to_func(append, &png, 16, 16, 3, rgb.data(), 48) != 0);
  return png;
}

// ensures: small_png() with a zlib stream that starts with an invalid deflate block (type 3),
// on which stb_image fails without setting a failure reason.
std::string png_with_corrupt_zlib_stream() {
  std::string png = small_png();
  const std::size_t idat = png.find("IDAT");
  REQUIRE(idat != std::string::npos);
  png.replace(idat + 4 + 2, 6, std::string(6, '\xFF'));  // after the 2-byte zlib header
  return png;
}

detail::DecodedImage decode(const std::string& bytes) {
  return detail::decode_rgb_bytes(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()));
}
}  // namespace

TEST_CASE("a PNG with a corrupt zlib stream is an Error naming it, in any thread", "[data][folder]") {
  TempDir tmp;
  const auto data = make_dataset(4, 2, 16, 16);
  const auto paths = write_image_folder(tmp.path, "train", data);
  write_bytes(paths[1], png_with_corrupt_zlib_stream());
  // The parallel decode (fresh threads: stb's thread-local reason is null there) used to crash.
  CHECK_THAT(error_of([&] { read_image_class_folders(tmp / "train"); }),
             Contains(paths[1]) && Contains("not a decodable image") && Contains("no reason given"));
  // After another failure in the same thread, that failure's reason is not reused.
  write_bytes(tmp / "sig.png", std::string("\x89PNG\r\n\x1A\n\0\0\0\0abcd\0\0\0\0", 20));  // no IHDR
  CHECK_THAT(detail::decode_rgb(tmp / "sig.png").error, Contains("stb_image: "));
  const auto corrupt = detail::decode_rgb(paths[1]);
  CHECK(corrupt.pixels == nullptr);
  CHECK_THAT(corrupt.error, Contains("no reason given"));
  CHECK_THAT(error_of([&] { read_rgb_image(paths[1]); }), Contains("image '" + paths[1] + "'"));
  const auto planes = read_rgb_image(paths[0]);
  CHECK(planes.shape() == Shape{3, 16, 16});
  CHECK(planes[5] == pattern(0, 0, 5));
}

TEST_CASE("a PNG chunk or image size beyond the file is refused before decoding", "[data][folder]") {
  std::string png = small_png();
  REQUIRE(decode(png).pixels != nullptr);
  const std::size_t idat = png.find("IDAT") - 4;
  std::string bomb = png;
  bomb.replace(idat, 4, std::string("\x40\0\0\0", 4));  // stb would allocate 1 GiB for it
  CHECK_THAT(decode(bomb).error, Contains("not a decodable image (PNG chunk 'IDAT' at byte offset " +
                                          std::to_string(idat) + " claims 1073741824 bytes"));
  std::string huge = png;
  huge.replace(16, 8, std::string("\0\0\x13\x88\0\0\x13\x88", 8));  // IHDR: 5000 x 5000
  CHECK_THAT(decode(huge).error, Contains("claims 5000x5000 pixels, over the limit of 16777216"));
  CHECK_THAT(decode("GIF89a\x01\0\x01\0").error, Contains("not a PNG, JPEG or BMP file"));
  // A truncated top-down BMP header claiming 1536 x 262080 pixels (stb would allocate 1.2 GB for it).
  const std::string bmp("BM\xC6\0\0\0\0\0\0\x35\x92\0\0\0\x28\0\0\0\0\x06\0\0\x40\0\xFC\xFF\x01\0", 28);
  CHECK_THAT(decode(bmp).error, Contains("claims 1536x262080 pixels, over the limit of 16777216"));
  // A top-down BMP (negative height) of 8 x 2^24 pixels (fuzz_image_decode: stb reports the
  // negative height, then decoded 134M pixels in 13 s).
  const std::string top_down("BM\xC6\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x08\0\0\0\0\0\0\xFF\x01\0\x18\0\0\0\0\0", 34);
  CHECK_THAT(decode(top_down).error, Contains("claims 8x16777216 pixels, over the limit of 16777216"));
}

TEST_CASE("a directory in place of a CIFAR file is named as such", "[data][cifar]") {
  TempDir tmp;
  const TrainTestSplit data{make_dataset(5, 2), make_dataset(2, 2, 32, 32, 9)};
  write_cifar10_binary(data, tmp / "release");
  const fs::path release = tmp.path / "release";
  SECTION("data_batch_1.bin") {
    fs::remove(release / "data_batch_1.bin");
    fs::create_directory(release / "data_batch_1.bin");
    CHECK_THAT(error_of([&] { load_dataset(tmp / "release"); }),
               Contains((release / "data_batch_1.bin").string() + "' is a directory"));
  }
  SECTION("batches.meta.txt") {
    fs::remove(release / "batches.meta.txt");
    fs::create_directory(release / "batches.meta.txt");
    CHECK_THAT(error_of([&] { load_dataset(tmp / "release"); }),
               Contains((release / "batches.meta.txt").string() + "' is a directory"));
  }
  SECTION("a binary file in place of batches.meta.txt") {
    write_bytes((release / "batches.meta.txt").string(), std::string(5000, 'x'));
    CHECK_THAT(error_of([&] { load_dataset(tmp / "release"); }),
               Contains("batches.meta.txt': line 1 is 5000 bytes"));
    std::string many;
    for (int k = 0; k < 300; ++k) many += "class" + std::to_string(k) + "\n";
    write_bytes((release / "batches.meta.txt").string(), many);
    CHECK_THAT(error_of([&] { load_dataset(tmp / "release"); }), Contains("more than 256 class names (line 257)"));
  }
}

TEST_CASE("image folder -> CIFAR binary -> read back keeps every pixel and label", "[data][convert]") {
  TempDir tmp;
  const auto train = make_dataset(11, 3), test = make_dataset(4, 3, 32, 32, 50);
  write_image_folder(tmp.path / "folder", "train", train);
  write_image_folder(tmp.path / "folder", "test", test);
  const auto folder = load_image_folder(tmp / "folder").data;
  require_same(folder.train, in_folder_order(train));
  require_same(folder.test, in_folder_order(test));
  write_cifar10_binary(folder, tmp / "binary");
  const auto binary = load_cifar10_binary(tmp / "binary");
  require_same(binary.train, folder.train);
  require_same(binary.test, folder.test);

  // The built tool, when this test runs from the build tree next to examples/.
  std::error_code ec;
  const fs::path tool = fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path() /
                        "examples/cifar_convert";
  if (ec || !fs::exists(tool)) {
    WARN("cifar_convert executable not found at " << tool << ": command-line round trip skipped");
    return;
  }
  const std::string quiet = " >/dev/null 2>&1";
  CHECK(std::system((tool.string() + " --from " + (tmp / "folder") + " --to " + (tmp / "tool") + quiet).c_str()) ==
        0);
  const auto converted = load_dataset(tmp / "tool");
  require_same(converted.train, folder.train);
  require_same(converted.test, folder.test);
  CHECK(WEXITSTATUS(std::system((tool.string() + quiet).c_str())) == 2);  // usage error
  CHECK(WEXITSTATUS(std::system((tool.string() + " --from " + (tmp / "none") + " --to " + (tmp / "x") + quiet).c_str())) ==
        1);
}

TEST_CASE("load_dataset detects both layouts and explains them when neither is there", "[data][detect]") {
  TempDir tmp;
  const TrainTestSplit data{make_dataset(5, 2), make_dataset(2, 2, 32, 32, 9)};
  write_cifar10_binary(data, tmp / "flat");
  write_cifar10_binary(data, tmp / "release/cifar-10-batches-bin");
  write_image_folder(tmp.path / "images", "train", data.train);
  write_image_folder(tmp.path / "images", "test", data.test);
  for (const char* dir : {"flat", "release"}) require_same(load_dataset(tmp / dir).train, data.train);
  CHECK(load_dataset(tmp / "flat").test.size() == 2);
  const auto images = load_dataset(tmp / "images");
  require_same(images.train, in_folder_order(data.train));
  require_same(images.test, in_folder_order(data.test));

  fs::create_directories(tmp.path / "empty");
  const auto msg = error_of([&] { load_dataset(tmp / "empty"); });
  CHECK_THAT(msg, Contains(tmp / "empty") && Contains("data_batch_1.bin") && Contains("cifar-10-batches-bin") &&
                      Contains("/train/<class>/") && Contains("https://www.cs.toronto.edu/~kriz/cifar.html") &&
                      Contains("cifar-10-binary.tar.gz"));
  CHECK_THROWS_WITH(load_dataset(tmp / "absent"), Contains("no such directory"));
}

TEST_CASE("train/validation split: seeded, disjoint, stratified per class", "[data][split]") {
  std::vector<int> labels;
  for (int k = 0; k < 3; ++k) labels.insert(labels.end(), static_cast<std::size_t>(50 - 15 * k), k);  // 50, 35, 20
  ValidationSplitOptions options;
  options.seed = 7;
  const auto a = validation_split_indices(labels, 3, options), b = validation_split_indices(labels, 3, options);
  CHECK(a.validation == b.validation);
  REQUIRE(a.validation.size() == 11);  // round(0.1 * 105)
  REQUIRE(a.train.size() == 94);
  std::set<std::int64_t> all(a.train.begin(), a.train.end());
  all.insert(a.validation.begin(), a.validation.end());
  CHECK(all.size() == 105);
  CHECK(std::is_sorted(a.validation.begin(), a.validation.end()));
  options.seed = 8;
  CHECK(validation_split_indices(labels, 3, options).validation != a.validation);

  options.stratified = true;
  options.validation_fraction = 0.2;
  const auto s = validation_split_indices(labels, 3, options);
  int per_class[3] = {0, 0, 0};
  for (auto i : s.validation) ++per_class[labels[i]];
  CHECK(per_class[0] == 10);
  CHECK(per_class[1] == 7);
  CHECK(per_class[2] == 4);
  CHECK(validation_split_indices(labels, 3, options).validation == s.validation);

  const auto data = make_dataset(20, 4, 2, 2);
  const auto split = split_train_validation(data, options);
  const auto indices = validation_split_indices(data.labels, 4, options);
  require_same(split.validation, subset(data, indices.validation));
  require_same(split.train, subset(data, indices.train));
  CHECK(split.validation.size() == 4);
  options.validation_fraction = 1.0;
  CHECK_THROWS_WITH(validation_split_indices(labels, 3, options), Contains("fraction 1"));
}

TEST_CASE("preprocessing: unit range, per-channel standardisation, caffe BGR", "[data][normalize]") {
  ImageDataset d;
  d.class_names = {"a"};
  d.labels = {0, 0};
  // Two 1x2 RGB images: R = {0, 255 | 255, 0}, G = {51 | 51}, B = {102, 204 | 102, 204}.
  d.images = Tensor<std::uint8_t>(Shape{2, 3, 1, 2}, {0, 255, 51, 51, 102, 204, 255, 0, 51, 51, 102, 204});
  const auto stats = compute_channel_stats(d);
  CHECK(stats.mean[0] == Approx(0.5));
  CHECK(stats.stddev[0] == Approx(0.5));
  CHECK(stats.mean[1] == Approx(0.2));
  CHECK(stats.stddev[1] == Approx(0.0).margin(1e-12));
  CHECK(stats.mean[2] == Approx(0.6));
  CHECK(stats.stddev[2] == Approx(0.2));

  Tensor<float> out;
  preprocess_batch(d.images, {1}, Preprocessing::unit_range(), out);
  REQUIRE(out.shape() == Shape{1, 3, 1, 2});
  CHECK(out[0] == 1.0f);
  CHECK(out[1] == 0.0f);
  CHECK(out[2] == Approx(0.2f));
  CHECK(out[5] == Approx(0.8f));

  preprocess_batch(d.images, {0, 1}, Preprocessing::standardize({{0.5, 0.2, 0.6}, {0.5, 0.1, 0.2}}), out);
  REQUIRE(out.shape() == Shape{2, 3, 1, 2});
  CHECK(out[0] == Approx(-1.0f));
  CHECK(out[1] == Approx(1.0f));
  CHECK(out[2] == Approx(0.0f).margin(1e-6));
  CHECK(out[4] == Approx(-1.0f));
  CHECK(out[6] == Approx(1.0f));

  Tensor<double> caffe;
  preprocess_images(d.images, Preprocessing::caffe(), caffe);
  REQUIRE(caffe.shape() == Shape{2, 3, 1, 2});
  CHECK(caffe[0] == Approx(102 - 103.939));  // B first
  CHECK(caffe[1] == Approx(204 - 103.939));
  CHECK(caffe[2] == Approx(51 - 116.779));
  CHECK(caffe[4] == Approx(0 - 123.68));  // R last
  CHECK(caffe[6 + 4] == Approx(255 - 123.68));

  CHECK_THROWS_WITH(preprocess_batch(d.images, {2}, Preprocessing::unit_range(), out), Contains("index 2 at batch position 0"));
  CHECK_THROWS_WITH(preprocess_batch(d.images, {0}, Preprocessing::standardize(stats), out),
                    Contains("channel 1 has standard deviation 0"));
  CHECK_THROWS_WITH(preprocess_batch(d.images, {0}, Preprocessing::standardize({{0.5}, {0.5}}), out),
                    Contains("3 channels"));
  const auto gray = make_dataset(1, 1, 2, 2).images.view(0, Shape{1, 1, 2, 2});
  CHECK_THROWS_WITH(preprocess_batch(gray, {0}, Preprocessing::caffe(), out), Contains("needs 3 (RGB) channels"));
}

TEST_CASE("the shared CIFAR-10 image folder loads: 50,000/10,000 images, 5,000 per class", "[data][shared]") {
  const char* shared = std::getenv("TINYNET_SHARED_DIR");
  const std::string dir = shared ? std::string(shared) + "/data/cifar10" : "";
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) {
    WARN("shared CIFAR-10 not found (TINYNET_SHARED_DIR/data/cifar10 = '" << dir << "'): test skipped");
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto data = load_dataset(dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "loaded " << dir << " (60,000 images) in " << seconds << " s\n";
  REQUIRE(data.train.images.shape() == Shape{50000, 3, 32, 32});
  REQUIRE(data.test.images.shape() == Shape{10000, 3, 32, 32});
  CHECK(data.train.class_names == cifar10_default_class_names());
  std::vector<int> train_counts(10), test_counts(10);
  for (int label : data.train.labels) ++train_counts[label];
  for (int label : data.test.labels) ++test_counts[label];
  CHECK(train_counts == std::vector<int>(10, 5000));
  CHECK(test_counts == std::vector<int>(10, 1000));
  const auto stats = compute_channel_stats(data.train);  // the well-known CIFAR-10 means (JPEG shifts them a little)
  CHECK(stats.mean[0] == Approx(0.4914).margin(0.01));
  CHECK(stats.mean[1] == Approx(0.4822).margin(0.01));
  CHECK(stats.mean[2] == Approx(0.4465).margin(0.01));
}
