# Data-parallel training's communication libraries, included by the top-level CMakeLists.txt.
#
# tinynet::mpi (TINYNET_WITH_MPI, ON when an MPI library is found; Debian: openmpi-bin
# libopenmpi-dev): tinynet::tinynet plus MPI::MPI_CXX and the TINYNET_WITH_MPI definition, for
# programs that include tinynet/distributed/mpi_communicator.hpp. tinynet::nccl
# (TINYNET_WITH_NCCL, ON when the cuDNN backend is on and NCCL is found under the CUDA toolkit):
# tinynet::mpi plus libnccl and TINYNET_WITH_NCCL, for tinynet/distributed/nccl_communicator.hpp.
# tinynet::tinynet itself never links either: single-process programs need neither library.
find_package(MPI QUIET COMPONENTS CXX)
option(TINYNET_WITH_MPI "Data-parallel training over MPI (tinynet::mpi)" ${MPI_CXX_FOUND})
if(TINYNET_WITH_MPI)
  find_package(MPI REQUIRED COMPONENTS CXX)
  add_library(tinynet_mpi INTERFACE)
  add_library(tinynet::mpi ALIAS tinynet_mpi)
  set_target_properties(tinynet_mpi PROPERTIES EXPORT_NAME mpi)
  target_link_libraries(tinynet_mpi INTERFACE tinynet MPI::MPI_CXX)
  target_compile_definitions(tinynet_mpi INTERFACE TINYNET_WITH_MPI)
  install(TARGETS tinynet_mpi EXPORT tinynetTargets)
  message(STATUS "tinynet: MPI ${MPI_CXX_VERSION} (${MPI_CXX_LIBRARIES}): tinynet::mpi for data-parallel training")
else()
  message(STATUS "tinynet: MPI not found or disabled: no tinynet::mpi (single-process training only)")
endif()

set(TINYNET_WITH_NCCL_DEFAULT OFF)
if(TINYNET_WITH_CUDNN AND TINYNET_WITH_MPI)
  find_library(TINYNET_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  find_path(TINYNET_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  if(TINYNET_NCCL_LIBRARY AND TINYNET_NCCL_INCLUDE_DIR)
    set(TINYNET_WITH_NCCL_DEFAULT ON)
  endif()
endif()
option(TINYNET_WITH_NCCL "Data-parallel training of GPU ranks over NCCL (tinynet::nccl)" ${TINYNET_WITH_NCCL_DEFAULT})
if(TINYNET_WITH_NCCL)
  if(NOT TINYNET_WITH_CUDNN OR NOT TINYNET_WITH_MPI)
    message(FATAL_ERROR "tinynet: TINYNET_WITH_NCCL needs TINYNET_WITH_CUDNN and TINYNET_WITH_MPI (NCCL's ranks meet over MPI)")
  endif()
  if(NOT TINYNET_NCCL_LIBRARY OR NOT TINYNET_NCCL_INCLUDE_DIR)
    message(FATAL_ERROR "tinynet: TINYNET_WITH_NCCL=ON but nccl.h / libnccl were not found under the CUDA toolkit")
  endif()
  add_library(tinynet_nccl INTERFACE)
  add_library(tinynet::nccl ALIAS tinynet_nccl)
  set_target_properties(tinynet_nccl PROPERTIES EXPORT_NAME nccl)
  target_link_libraries(tinynet_nccl INTERFACE tinynet_mpi ${TINYNET_NCCL_LIBRARY})  # beside cudart: same folder
  target_compile_definitions(tinynet_nccl INTERFACE TINYNET_WITH_NCCL)
  install(TARGETS tinynet_nccl EXPORT tinynetTargets)
  message(STATUS "tinynet: NCCL (${TINYNET_NCCL_LIBRARY}): tinynet::nccl for data-parallel GPU training")
endif()
