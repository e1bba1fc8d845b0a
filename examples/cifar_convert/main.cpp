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

#include "common/cli.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/data/cifar_binary.hpp"
#include "tinynet/data/image_folder.hpp"

int main(int argc, char* argv[]) {
  tinynet_examples::CommandLine cli(
      "cifar_convert",
      "Converts IMAGE_FOLDER/{train,test}/<class>/*.{png,jpg,jpeg,bmp} (32x32 images; classes labelled in\n"
      "sorted folder-name order) into the CIFAR-10 binary release layout: data_batch_1..5.bin (training\n"
      "images, in order, in five parts), test_batch.bin and batches.meta.txt, replaced atomically.\n"
      "Threads: TINYNET_NUM_THREADS (default: all cores).");
  cli.option("from", "", "the image folder to read");
  cli.option("to", "", "the output directory (created when missing)");
  cli.flag("skip-bad-images", "leave out (and list) unreadable or non-32x32 images instead of stopping");
  cli.parse(argc, argv);
  if (!cli.given("from") || !cli.given("to")) cli.die("both --from and --to are required");
  try {
    const int threads = tinynet::init_threads_from_env();
    tinynet::ImageFolderOptions options;
    options.height = options.width = 32;
    options.on_bad_image = cli.is_set("skip-bad-images") ? tinynet::BadImagePolicy::skip : tinynet::BadImagePolicy::stop;
    const auto start = std::chrono::steady_clock::now();
    const auto loaded = tinynet::load_image_folder(cli.text("from"), options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "read " << loaded.data.train.size() << " training and " << loaded.data.test.size()
              << " test images of " << loaded.data.train.num_classes() << " classes from " << cli.text("from")
              << " in " << seconds << " s (" << threads << " threads)\n";
    for (const auto& skipped : loaded.skipped) std::cerr << "skipped " << skipped.path << ": " << skipped.reason << "\n";
    if (!loaded.skipped.empty()) std::cerr << "skipped " << loaded.skipped.size() << " bad image(s)\n";
    tinynet::write_cifar10_binary(loaded.data, cli.text("to"));
    std::cout << "wrote data_batch_1..5.bin, test_batch.bin and batches.meta.txt to " << cli.text("to") << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "cifar_convert: " << e.what() << "\n";
    return 1;
  }
}
