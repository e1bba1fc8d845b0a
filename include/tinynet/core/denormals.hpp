// tinynet/core/denormals.hpp: flush denormal floats to zero on tinynet's threads.
//
// A float below 1.2e-38 (a "denormal") costs an x86 core a microcode assist on every
// operation (an Adam update with denormal moments runs 5x slower unflushed:
// `tinynet_kernels --benchmark_filter=adam_tiny_grads`). Training can produce such values,
// e.g. in the moment estimates of weights whose gradients fade out. TensorFlow therefore sets flush-to-zero (FTZ:
// denormal results become 0) and denormals-are-zero (DAZ: denormal inputs read as 0) on
// its CPU threads; tinynet does the same, by default, on the calling thread and on every
// thread of its OpenMP pool (set_num_threads() applies the setting, see threading.hpp).
// The mode is per thread (the MXCSR register); on targets without SSE it is a no-op.
#pragma once

#if defined(__SSE2__) || defined(_M_X64)
#include <pmmintrin.h>
#include <xmmintrin.h>
#define TINYNET_HAS_FLUSH_DENORMALS 1
#else
#define TINYNET_HAS_FLUSH_DENORMALS 0
#endif

namespace tinynet {

namespace detail {
inline bool& flush_denormals_wanted() {
  static bool wanted = true;
  return wanted;
}
}  // namespace detail

// ensures: true when this build can switch FTZ/DAZ (x86 with SSE2).
constexpr bool can_flush_denormals() { return TINYNET_HAS_FLUSH_DENORMALS != 0; }

// ensures: FTZ and DAZ switched on (or off) on the calling thread only.
inline void set_flush_denormals_on_this_thread(bool on) {
#if TINYNET_HAS_FLUSH_DENORMALS
  _MM_SET_FLUSH_ZERO_MODE(on ? _MM_FLUSH_ZERO_ON : _MM_FLUSH_ZERO_OFF);
  _MM_SET_DENORMALS_ZERO_MODE(on ? _MM_DENORMALS_ZERO_ON : _MM_DENORMALS_ZERO_OFF);
#else
  (void)on;
#endif
}

// ensures: whether the calling thread flushes denormals (false where unsupported).
inline bool flushes_denormals_on_this_thread() {
#if TINYNET_HAS_FLUSH_DENORMALS
  return _MM_GET_FLUSH_ZERO_MODE() == _MM_FLUSH_ZERO_ON && _MM_GET_DENORMALS_ZERO_MODE() == _MM_DENORMALS_ZERO_ON;
#else
  return false;
#endif
}

// ensures: the setting recorded (set_num_threads() re-applies it to a resized pool) and
// applied to the calling thread and every thread of the current OpenMP pool.
inline void set_flush_denormals(bool on) {
  detail::flush_denormals_wanted() = on;
  set_flush_denormals_on_this_thread(on);
#pragma omp parallel
  set_flush_denormals_on_this_thread(on);
}

// ensures: the setting last given to set_flush_denormals() (true by default).
inline bool flush_denormals() { return detail::flush_denormals_wanted(); }

}  // namespace tinynet
