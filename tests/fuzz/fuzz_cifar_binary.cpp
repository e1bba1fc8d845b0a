// Fuzzes the CIFAR-10 binary reader: the input is a batch file (first byte even) or a
// batches.meta.txt (first byte odd; the rest of the input is the file).
#include "fuzz_support.hpp"
#include "tinynet/data/cifar_binary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool meta = data[0] & 1;
  const std::string path = (tinynet_fuzz::scratch_dir() / (meta ? "batches.meta.txt" : "data_batch_1.bin")).string();
  tinynet_fuzz::write_file(path, data + 1, size - 1);
  tinynet_fuzz::expect_clean_failure(path, [&] {
    if (meta) {
      tinynet::read_cifar_class_names(path);
    } else {
      const auto d = tinynet::read_cifar_batch_file(path, tinynet::cifar10_default_class_names());
      d.validate(path);
    }
  });
  return 0;
}
