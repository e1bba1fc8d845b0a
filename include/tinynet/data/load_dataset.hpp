// tinynet/data/load_dataset.hpp: load a train/test dataset from a directory, whichever of
// the two supported layouts it holds.

//   1. the CIFAR-10 binary release: `dir` or dir/cifar-10-batches-bin holding
//      data_batch_1..5.bin, test_batch.bin, batches.meta.txt (see cifar_binary.hpp);
//   2. an image folder: dir/{train,test}/<class>/<image>.{png,jpg,jpeg,bmp} (see image_folder.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "tinynet/core/error.hpp"
#include "tinynet/data/cifar_binary.hpp"
#include "tinynet/data/image_folder.hpp"
#include "tinynet/data/split.hpp"

namespace tinynet {

// ensures: the layout found in `dir` loaded (binary release first, then image folder, which
// stops at the first bad image); otherwise an Error explaining both layouts and where to get
// CIFAR-10.
inline TrainTestSplit load_dataset(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!find_cifar_binary_dir(dir).empty()) return load_cifar10_binary(dir);
  std::error_code ec;
  if (fs::is_directory(fs::path(dir) / "train", ec) && fs::is_directory(fs::path(dir) / "test", ec))
    return load_image_folder(dir).data;
  const bool archive_here = fs::exists(fs::path(dir) / "cifar-10-binary.tar.gz", ec);
  fail("load_dataset: no dataset found in '", dir, "'", fs::is_directory(dir, ec) ? "" : " (no such directory)",
       ". Accepted layouts:\n",
       "  1. the CIFAR-10 binary release: data_batch_1.bin .. data_batch_5.bin, test_batch.bin and ",
       "batches.meta.txt in '", dir, "' or in '", dir, "/cifar-10-batches-bin';\n",
       "  2. an image folder: '", dir, "/train/<class>/*.png' and '", dir, "/test/<class>/*.png' ",
       "(also .jpg, .jpeg, .bmp; one folder per class).\n",
       "CIFAR-10 comes from https://www.cs.toronto.edu/~kriz/cifar.html: download the binary version ",
       "(cifar-10-binary.tar.gz) and extract it into that directory (tar xzf cifar-10-binary.tar.gz)",
       archive_here ? "; the archive is already there, not yet extracted." : ".");
}

}  // namespace tinynet
