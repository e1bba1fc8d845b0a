// cifar_convert: an image-folder dataset -> the CIFAR-10 binary release layout.
//
//   cifar_convert --from IMAGE_FOLDER --to OUT_DIR [--skip-bad-images]
//
// Reads IMAGE_FOLDER/{train,test}/<class>/*.{png,jpg,jpeg,bmp} (32x32 images) and writes
// OUT_DIR/data_batch_1..5.bin (the training images, in order, split into five near-equal
// parts), OUT_DIR/test_batch.bin and OUT_DIR/batches.meta.txt. Exit status: 0 on success,
// 1 when reading or writing fails, 2 on a usage error.
#include <chrono>
#include <iostream>
#include <string>

#include "tinynet/core/error.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/data/cifar_binary.hpp"
#include "tinynet/data/image_folder.hpp"

namespace {

const char* const usage =
    "usage: cifar_convert --from IMAGE_FOLDER --to OUT_DIR [--skip-bad-images]\n"
    "\n"
    "Converts IMAGE_FOLDER/{train,test}/<class>/*.{png,jpg,jpeg,bmp} (32x32 images; classes\n"
    "labelled in sorted folder-name order) into the CIFAR-10 binary release layout:\n"
    "OUT_DIR/data_batch_1.bin .. data_batch_5.bin (training images, in order, in five parts),\n"
    "OUT_DIR/test_batch.bin and OUT_DIR/batches.meta.txt. Files are replaced atomically.\n"
    "\n"
    "  --from DIR          the image folder to read\n"
    "  --to DIR            the output directory (created when missing)\n"
    "  --skip-bad-images   leave out (and list) unreadable or non-32x32 images instead of stopping\n"
    "  -h, --help          this message\n"
    "Threads: TINYNET_NUM_THREADS (default: all cores).\n";

struct Arguments {
  std::string from, to;
  bool skip_bad_images = false;
};

// ensures: the parsed arguments; a tinynet::Error describing the first bad argument.
Arguments parse_arguments(int argc, char* argv[]) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--from" || arg == "--to") {
      tinynet::check(i + 1 < argc, "option ", arg, " needs a directory after it");
      (arg == "--from" ? args.from : args.to) = argv[++i];
    } else if (arg == "--skip-bad-images") {
      args.skip_bad_images = true;
    } else {
      tinynet::fail("unknown argument '", arg, "'");
    }
  }
  tinynet::check(!args.from.empty() && !args.to.empty(), "both --from and --to are required");
  return args;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char* argv[]) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "-h" || std::string(argv[i]) == "--help") {
      std::cout << usage;
      return 0;
    }
  Arguments args;
  try {
    args = parse_arguments(argc, argv);
  } catch (const tinynet::Error& e) {
    std::cerr << "cifar_convert: " << e.what() << "\n\n" << usage;
    return 2;
  }
  try {
    const int threads = tinynet::init_threads_from_env();
    tinynet::ImageFolderOptions options;
    options.height = options.width = 32;
    options.on_bad_image = args.skip_bad_images ? tinynet::BadImagePolicy::skip : tinynet::BadImagePolicy::stop;
    const auto start = std::chrono::steady_clock::now();
    const auto loaded = tinynet::load_image_folder(args.from, options);
    std::cout << "read " << loaded.data.train.size() << " training and " << loaded.data.test.size()
              << " test images of " << loaded.data.train.num_classes() << " classes from " << args.from << " in "
              << seconds_since(start) << " s (" << threads << " threads)\n";
    for (const auto& skipped : loaded.skipped) std::cerr << "skipped " << skipped.path << ": " << skipped.reason << "\n";
    if (!loaded.skipped.empty()) std::cerr << "skipped " << loaded.skipped.size() << " bad image(s)\n";
    tinynet::write_cifar10_binary(loaded.data, args.to);
    std::cout << "wrote data_batch_1..5.bin, test_batch.bin and batches.meta.txt to " << args.to << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "cifar_convert: " << e.what() << "\n";
    return 1;
  }
}
