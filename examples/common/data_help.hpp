// examples/common/data_help.hpp: loading CIFAR-10 for the examples, with a helpful failure.
#pragma once

#include <iostream>
#include <string>

#include "tinynet/data/load_dataset.hpp"

namespace tinynet_examples {

inline const char* cifar_data_help() {
  return "CIFAR-10 is published by Alex Krizhevsky at https://www.cs.toronto.edu/~kriz/cifar.html\n"
         "(60,000 32x32 colour images in 10 classes). tinynet reads either layout:\n"
         "  1. the binary version: unpack cifar-10-binary.tar.gz and pass the folder holding\n"
         "     data_batch_1.bin .. data_batch_5.bin and test_batch.bin (cifar-10-batches-bin/)\n"
         "     or its parent;\n"
         "  2. an image folder: DIR/train/<class>/*.png|jpg and DIR/test/<class>/*.png|jpg.\n"
         "Pass it with --data DIR.\n";
}

// ensures: the dataset under `dir`; on failure prints the reason and the help, exits 1.
inline tinynet::TrainTestSplit load_cifar_or_exit(const std::string& program, const std::string& dir) {
  if (dir.empty()) {
    std::cerr << program << ": no data given.\n" << cifar_data_help();
    std::exit(1);
  }
  try {
    auto data = tinynet::load_dataset(dir);
    std::cout << "Loaded " << data.train.size() << " training and " << data.test.size() << " test images of "
              << data.train.sample_shape() << " from " << dir << std::endl;
    return data;
  } catch (const tinynet::Error& e) {
    std::cerr << program << ": cannot load CIFAR-10 from '" << dir << "': " << e.what() << "\n\n" << cifar_data_help();
    std::exit(1);
  }
}

}  // namespace tinynet_examples
