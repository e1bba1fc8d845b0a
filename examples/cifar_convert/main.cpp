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

#include "common/standard_flags.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/data/cifar_binary.hpp"
#include "tinynet/data/image_folder.hpp"

int main(int argc, char* argv[]) {
  CLI::App app(
      "Converts IMAGE_FOLDER/{train,test}/<class>/*.{png,jpg,jpeg,bmp} (32x32 images; classes labelled in\n"
      "sorted folder-name order) into the CIFAR-10 binary release layout: data_batch_1..5.bin (training\n"
      "images, in order, in five parts), test_batch.bin and batches.meta.txt, replaced atomically.\n"
      "Threads: TINYNET_NUM_THREADS (default: all cores).",
      "cifar_convert");
  std::string from, to;
  bool skip_bad_images = false;
  app.add_option("--from", from, "the image folder to read")->required();
  app.add_option("--to", to, "the output directory (created when missing)")->required();
  app.add_flag("--skip-bad-images", skip_bad_images,
               "leave out (and list) unreadable or non-32x32 images instead of stopping");
  tinynet_examples::parse_or_exit(app, argc, argv);
  try {
    const int threads = tinynet::init_threads_from_env();
    tinynet::ImageFolderOptions options;
    options.height = options.width = 32;
    options.on_bad_image = skip_bad_images ? tinynet::BadImagePolicy::skip : tinynet::BadImagePolicy::stop;
    const auto start = std::chrono::steady_clock::now();
    const auto loaded = tinynet::load_image_folder(from, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "read " << loaded.data.train.size() << " training and " << loaded.data.test.size()
              << " test images of " << loaded.data.train.num_classes() << " classes from " << from
              << " in " << seconds << " s (" << threads << " threads)\n";
    for (const auto& skipped : loaded.skipped) std::cerr << "skipped " << skipped.path << ": " << skipped.reason << "\n";
    if (!loaded.skipped.empty()) std::cerr << "skipped " << loaded.skipped.size() << " bad image(s)\n";
    tinynet::write_cifar10_binary(loaded.data, to);
    std::cout << "wrote data_batch_1..5.bin, test_batch.bin and batches.meta.txt to " << to << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "cifar_convert: " << e.what() << "\n";
    return 1;
  }
}
