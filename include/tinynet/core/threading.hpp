// tinynet/core/threading.hpp: the one thread count shared by OpenMP and Eigen.
//
// tinynet parallelises with one OpenMP pool. Eigen's GEMM uses the same pool (it
// is compiled with OpenMP) and is only ever called outside OpenMP parallel
// regions, so the two never oversubscribe the cores.
#pragma once

#include <cstdlib>
#include <string>

#include <Eigen/Core>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tinynet/core/error.hpp"

namespace tinynet {

// requires: n >= 1. ensures: OpenMP regions and Eigen GEMMs use n threads.
inline void set_num_threads(int n) {
  check(n >= 1, "set_num_threads: thread count must be >= 1, got ", n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  Eigen::setNbThreads(n);
}

inline int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// ensures: applies TINYNET_NUM_THREADS when set (an Error when it is not a positive
// integer); returns the thread count in force.
inline int init_threads_from_env() {
  if (const char* env = std::getenv("TINYNET_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    check(end != env && *end == '\0' && n >= 1, "TINYNET_NUM_THREADS='", env, "' is not a positive integer");
    set_num_threads(static_cast<int>(n));
  } else {
    set_num_threads(num_threads());
  }
  return num_threads();
}

}  // namespace tinynet
