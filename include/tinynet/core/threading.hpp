// tinynet/core/threading.hpp: the one thread count shared by OpenMP and Eigen.
//
// tinynet parallelises with one OpenMP pool. Eigen's GEMM uses the same pool (it
// is compiled with OpenMP) and is only ever called outside OpenMP parallel
// regions, so the two never oversubscribe the cores. Setting the thread count also
// applies the denormal flushing of core/denormals.hpp to the caller and the pool.
#pragma once

#include <cstdlib>
#include <string>

#include <Eigen/Core>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tinynet/core/denormals.hpp"
#include "tinynet/core/error.hpp"

namespace tinynet {

// requires: n >= 1. ensures: OpenMP regions and Eigen GEMMs use n threads, which (and
// the caller) flush denormals as flush_denormals() says (on unless switched off).
inline void set_num_threads(int n) {
  check(n >= 1, "set_num_threads: thread count must be >= 1, got ", n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  Eigen::setNbThreads(n);
  set_flush_denormals(flush_denormals());
}

inline int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// ensures: applies TINYNET_NUM_THREADS when set (an Error when it is not a positive
// integer) and TINYNET_FLUSH_DENORMALS (1 default, 0 keeps denormals; an Error otherwise);
// returns the thread count in force.
inline int init_threads_from_env() {
  if (const char* env = std::getenv("TINYNET_FLUSH_DENORMALS")) {
    const std::string value = env;
    check(value == "0" || value == "1", "TINYNET_FLUSH_DENORMALS='", value, "' must be 0 or 1");
    detail::flush_denormals_wanted() = value == "1";
  }
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
