// Fuzzes the Keras HDF5 reader: the input is an .h5 file. libhdf5 itself is not instrumented
// (Debian's build): a crash inside it is reported, but coverage counts tinynet's code only.
#include "fuzz_support.hpp"
#include "tinynet/io/keras_hdf5.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = (tinynet_fuzz::scratch_dir() / "weights.h5").string();
  tinynet_fuzz::write_file(path, data, size);
  tinynet_fuzz::expect_clean_failure(path, [&] { tinynet::read_keras_hdf5(path); });
  return 0;
}
