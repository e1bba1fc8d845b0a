# Finds cuDNN (9 or later: the header cudnn.h with cudnn_version.h, and libcudnn) beside the
# CUDA toolkit, under $CUDNN_ROOT or in the system paths. Needs find_package(CUDAToolkit) first.
# Defines the imported target tinynet::cudnn and TINYNET_CUDNN_VERSION. Shared by the build
# tree (cmake/tinynetCuda.cmake) and the installed package (tinynetConfig.cmake).
if(NOT TARGET tinynet::cudnn)
  find_path(TINYNET_CUDNN_INCLUDE_DIR cudnn_version.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS} ENV CUDNN_ROOT PATH_SUFFIXES include)
  find_library(TINYNET_CUDNN_LIBRARY cudnn
               HINTS ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_DIR}/.. ENV CUDNN_ROOT
               PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)
  if(NOT TINYNET_CUDNN_INCLUDE_DIR OR NOT TINYNET_CUDNN_LIBRARY)
    message(FATAL_ERROR "tinynet: cuDNN not found (header: '${TINYNET_CUDNN_INCLUDE_DIR}', library: "
                        "'${TINYNET_CUDNN_LIBRARY}'). Install cuDNN 9 or set CUDNN_ROOT.")
  endif()
  file(STRINGS "${TINYNET_CUDNN_INCLUDE_DIR}/cudnn_version.h" tinynet_cudnn_version_lines
       REGEX "^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) +[0-9]+")
  foreach(part MAJOR MINOR PATCHLEVEL)
    string(REGEX REPLACE ".*#define CUDNN_${part} +([0-9]+).*" "\\1" tinynet_cudnn_${part}
                         "${tinynet_cudnn_version_lines}")
  endforeach()
  set(TINYNET_CUDNN_VERSION "${tinynet_cudnn_MAJOR}.${tinynet_cudnn_MINOR}.${tinynet_cudnn_PATCHLEVEL}")
  if(tinynet_cudnn_MAJOR LESS 9)
    message(FATAL_ERROR "tinynet: cuDNN ${TINYNET_CUDNN_VERSION} found in ${TINYNET_CUDNN_INCLUDE_DIR}; "
                        "the backend needs cuDNN 9 or later")
  endif()
  add_library(tinynet::cudnn INTERFACE IMPORTED)
  set_target_properties(tinynet::cudnn PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${TINYNET_CUDNN_INCLUDE_DIR}"
                                                  INTERFACE_LINK_LIBRARIES "${TINYNET_CUDNN_LIBRARY}")
endif()
