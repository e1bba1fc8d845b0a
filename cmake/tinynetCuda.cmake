# The cuDNN/cuBLAS backend, included by the top-level CMakeLists.txt when TINYNET_WITH_CUDNN=ON.
#
# Builds tinynet_cuda (alias tinynet::cuda): a small static library holding the backend's own
# CUDA kernels (include/tinynet/backend/cudnn/kernels.cu); everything else in the backend is
# header-only. tinynet::tinynet then links tinynet_cuda, the shared CUDA runtime, cuBLAS and
# cuDNN, and defines TINYNET_WITH_CUDNN for its users. Default architectures: sm_90 code plus
# compute_90 PTX (override with -DCMAKE_CUDA_ARCHITECTURES=...).
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES 90-real 90-virtual)
endif()
if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
  set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
endif()
# One CUDA runtime in the process: the shared one, which cuBLAS and cuDNN use as well.
set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
include(${CMAKE_CURRENT_LIST_DIR}/tinynetFindCudnn.cmake)

add_library(tinynet_cuda STATIC ${PROJECT_SOURCE_DIR}/include/tinynet/backend/cudnn/kernels.cu)
add_library(tinynet::cuda ALIAS tinynet_cuda)
set_target_properties(tinynet_cuda PROPERTIES CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON CUDA_RUNTIME_LIBRARY Shared
                                              POSITION_INDEPENDENT_CODE ON EXPORT_NAME cuda)
target_include_directories(tinynet_cuda PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                               $<INSTALL_INTERFACE:include>)
target_link_libraries(tinynet_cuda PUBLIC CUDA::cudart)
target_compile_options(tinynet_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)
if(TINYNET_WERROR)
  target_compile_options(tinynet_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Werror>)
endif()

target_link_libraries(tinynet INTERFACE tinynet_cuda CUDA::cudart CUDA::cublas tinynet::cudnn)
target_compile_definitions(tinynet INTERFACE TINYNET_WITH_CUDNN)

include(GNUInstallDirs)
install(TARGETS tinynet_cuda EXPORT tinynetTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_CURRENT_LIST_DIR}/tinynetFindCudnn.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tinynet)

message(STATUS "tinynet: cuDNN backend on: CUDA ${CUDAToolkit_VERSION} (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
               "${CUDAToolkit_LIBRARY_DIR}), cuDNN ${TINYNET_CUDNN_VERSION} (${TINYNET_CUDNN_LIBRARY}), "
               "CUDA architectures ${CMAKE_CUDA_ARCHITECTURES}")
