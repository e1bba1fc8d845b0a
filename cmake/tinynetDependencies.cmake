# Finds what tinynet::tinynet links; shared by the build tree and the installed package.
# Input: TINYNET_WITH_HDF5, TINYNET_WITH_ONNX (ON/OFF). Defines the imported targets tinynet::tinynet uses.
include(CMakeFindDependencyMacro)
find_dependency(Eigen3 3.3 NO_MODULE)
find_dependency(OpenMP COMPONENTS CXX)
find_dependency(nlohmann_json 3.9)  # JSON: Debian's nlohmann-json3-dev (header-only)
find_dependency(PkgConfig)
# stb_image / stb_image_write: Debian's libstb-dev (headers + libstb).
if(NOT TARGET PkgConfig::TINYNET_STB)
  pkg_check_modules(TINYNET_STB REQUIRED IMPORTED_TARGET GLOBAL stb)
endif()
# Keras .h5 import: Debian's libhdf5-dev (C library).
if(TINYNET_WITH_HDF5 AND NOT TARGET PkgConfig::TINYNET_HDF5)
  pkg_check_modules(TINYNET_HDF5 REQUIRED IMPORTED_TARGET GLOBAL hdf5)
endif()
# ONNX export/import: Debian's libonnx-dev (target onnx_proto) and libprotobuf-dev.
if(TINYNET_WITH_ONNX AND NOT TARGET onnx_proto)
  find_dependency(Protobuf)
  find_dependency(ONNX CONFIG)
endif()
