// tinynet/backend/cudnn/descriptors.hpp: owning cuDNN descriptors, how tinynet's tensors are
// described to cuDNN, and the mapping from tinynet's scalar types to cuDNN's.
//
// A Descriptor creates its cuDNN object on construction and destroys it on destruction; the
// describe_* functions (re)set it, a host-only call cheap enough to make on every op.
// Layouts are packed NCHW tensors and OIHW kernels.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include <cudnn.h>

#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/core/error.hpp"

namespace tinynet {
namespace cudnn {

// ensures: the cuDNN data type of T (float or double).
template <class T>
cudnnDataType_t data_type() {
  static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                "the cuDNN backend supports float and double tensors");
  return std::is_same<T, float>::value ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

// ensures: value as an int; an Error naming `what` when it does not fit cuDNN's int sizes.
inline int to_int(std::int64_t value, const char* what) {
  check(value >= 0 && value <= std::numeric_limits<int>::max(), what, ": size ", value,
        " exceeds the CUDA backend's int range");
  return static_cast<int>(value);
}

// cuDNN's alpha/beta blending factors: pointers to T (float for float data, double for double).
template <class T>
struct Blend {
  static const void* one() {
    static const T value = 1;
    return &value;
  }
  static const void* zero() {
    static const T value = 0;
    return &value;
  }
};

template <class Handle, cudnnStatus_t (*create)(Handle*), cudnnStatus_t (*destroy)(Handle)>
class Descriptor {
 public:
  Descriptor() { check_cudnn(create(&handle_), "creating a cuDNN descriptor"); }
  ~Descriptor() { (void)destroy(handle_); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  Handle get() const { return handle_; }

 private:
  Handle handle_ = nullptr;
};

using TensorDescriptor =
    Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;
using PoolingDescriptor =
    Descriptor<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor>;
using ActivationDescriptor =
    Descriptor<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor>;

// ensures: d describes a packed [n, c, h, w] tensor of T.
template <class T>
void describe_tensor(const TensorDescriptor& d, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
  check_cudnn(cudnnSetTensor4dDescriptor(d.get(), CUDNN_TENSOR_NCHW, data_type<T>(), to_int(n, "tensor batch"),
                                         to_int(c, "tensor channels"), to_int(h, "tensor height"),
                                         to_int(w, "tensor width")),
              "cudnnSetTensor4dDescriptor");
}

// ensures: d describes an OIHW kernel of T.
template <class T>
void describe_filter(const FilterDescriptor& d, std::int64_t out_channels, std::int64_t channels, int kernel_h,
                     int kernel_w) {
  check_cudnn(cudnnSetFilter4dDescriptor(d.get(), data_type<T>(), CUDNN_TENSOR_NCHW,
                                         to_int(out_channels, "filter outputs"), to_int(channels, "filter inputs"),
                                         kernel_h, kernel_w),
              "cudnnSetFilter4dDescriptor");
}

// ensures: d describes a cross-correlation (no kernel flip, as TensorFlow) of T with
// symmetric padding, computed with `math` (FMA or tensor-op).
template <class T>
void describe_convolution(const ConvolutionDescriptor& d, int pad_h, int pad_w, int stride_h, int stride_w,
                          cudnnMathType_t math) {
  check_cudnn(cudnnSetConvolution2dDescriptor(d.get(), pad_h, pad_w, stride_h, stride_w, 1, 1,
                                              CUDNN_CROSS_CORRELATION, data_type<T>()),
              "cudnnSetConvolution2dDescriptor");
  check_cudnn(cudnnSetConvolutionMathType(d.get(), math), "cudnnSetConvolutionMathType");
}

// ensures: d describes an unpadded (h, w) window moved by (stride_h, stride_w); NaN not propagated.
inline void describe_pooling(const PoolingDescriptor& d, cudnnPoolingMode_t mode, int h, int w, int stride_h,
                             int stride_w) {
  check_cudnn(cudnnSetPooling2dDescriptor(d.get(), mode, CUDNN_NOT_PROPAGATE_NAN, h, w, 0, 0, stride_h, stride_w),
              "cudnnSetPooling2dDescriptor");
}

}  // namespace cudnn
}  // namespace tinynet
