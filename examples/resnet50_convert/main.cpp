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

#include "common/standard_flags.hpp"
#include "tinynet/model/pretrained_resnet50.hpp"

int main(int argc, char* argv[]) {
  CLI::App app(
      "Converts ImageNet ResNet50 weights (the convolutional base, as keras.applications.ResNet50 with\n"
      "include_top=False) into a tinynet checkpoint for tinynet::load_pretrained_resnet50. Layers of the\n"
      "file outside the base (e.g. fc1000) are skipped and listed.",
      "resnet50_convert");
  std::string from, to;
  app.add_option("--from", from, "a Keras .h5/.hdf5 weights file (legacy or tf.keras names), or a TF.js folder/model.json")
      ->required();
  app.add_option("--to", to, "the checkpoint to write (replaced atomically), conventionally *.tnck")->required();
  tinynet_examples::parse_or_exit(app, argc, argv);
  try {
    const tinynet::ResNet50WeightReport report = tinynet::convert_resnet50_weights(from, to);
    std::cout << "read " << from << ": " << report.scheme << " names, BatchNorm epsilon "
              << report.bn_epsilon << "\n"
              << "loaded " << report.layers_loaded << " layers, " << report.tensors_loaded << " tensors, "
              << report.values_loaded << " values\n";
    std::cout << "skipped " << report.skipped_layers.size() << " layer(s) outside the base";
    for (const auto& name : report.skipped_layers) std::cout << " " << name;
    std::cout << "\nwrote " << to << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "resnet50_convert: " << e.what() << "\n";
    return 1;
  }
}
