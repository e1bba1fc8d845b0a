// resnet50_convert: ImageNet ResNet50 weights (Keras HDF5 or TF.js) -> a tinynet checkpoint.
//
//   resnet50_convert --from PATH --to OUT.tnck
//
// PATH is a Keras .h5/.hdf5 weights file (legacy or tf.keras layer names) or a TF.js layers
// model (its folder or model.json). The checkpoint holds make_resnet50's parameters and the
// BatchNorm epsilon of the source; load it with tinynet::load_pretrained_resnet50. Exit
// status: 0 on success, 1 when reading, mapping or writing fails, 2 on a usage error.
#include <iostream>
#include <string>

#include "tinynet/core/error.hpp"
#include "tinynet/model/pretrained_resnet50.hpp"

namespace {

const char* const usage =
    "usage: resnet50_convert --from PATH --to OUT.tnck\n"
    "\n"
    "Converts ImageNet ResNet50 weights (the convolutional base, as keras.applications.ResNet50\n"
    "with include_top=False) into a tinynet checkpoint for tinynet::load_pretrained_resnet50.\n"
    "\n"
    "  --from PATH   a Keras .h5/.hdf5 weights file (legacy or tf.keras layer names), or a TF.js\n"
    "                layers model: its folder or its model.json\n"
    "  --to FILE     the checkpoint to write (replaced atomically), conventionally *.tnck\n"
    "  -h, --help    this message\n"
    "Layers of the file outside the base (e.g. fc1000) are skipped and listed.\n";

struct Arguments {
  std::string from, to;
};

// ensures: the parsed arguments; a tinynet::Error describing the first bad argument.
Arguments parse_arguments(int argc, char* argv[]) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    tinynet::check(arg == "--from" || arg == "--to", "unknown argument '", arg, "'");
    tinynet::check(i + 1 < argc, "option ", arg, " needs a path after it");
    (arg == "--from" ? args.from : args.to) = argv[++i];
  }
  tinynet::check(!args.from.empty() && !args.to.empty(), "both --from and --to are required");
  return args;
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
    std::cerr << "resnet50_convert: " << e.what() << "\n\n" << usage;
    return 2;
  }
  try {
    const tinynet::ResNet50WeightReport report = tinynet::convert_resnet50_weights(args.from, args.to);
    std::cout << "read " << args.from << ": " << report.scheme << " names, BatchNorm epsilon " << report.bn_epsilon
              << "\n"
              << "loaded " << report.layers_loaded << " layers, " << report.tensors_loaded << " tensors, "
              << report.values_loaded << " values\n";
    std::cout << "skipped " << report.skipped_layers.size() << " layer(s) outside the base";
    for (const auto& name : report.skipped_layers) std::cout << " " << name;
    std::cout << "\nwrote " << args.to << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "resnet50_convert: " << e.what() << "\n";
    return 1;
  }
}
