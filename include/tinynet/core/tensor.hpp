// tinynet/core/tensor.hpp: Tensor<T>, a contiguous NCHW array with shared storage.
//
// A Tensor is a shape, a storage block and an element offset into it. Copies of a
// Tensor (and views made with view()/reshaped()) share storage, like a PyTorch
// tensor; clone() makes an independent copy. Storage is 64-byte aligned.
// Element access (at(), operator[]) is for host tensors only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "tinynet/core/error.hpp"
#include "tinynet/core/memory.hpp"
#include "tinynet/core/shape.hpp"

namespace tinynet {

template <class T>
class Tensor {
  static_assert(std::is_arithmetic<T>::value, "Tensor<T>: T must be an arithmetic type");

 public:
  using value_type = T;

  Tensor() = default;
  // ensures: a zero-filled tensor of the given shape on `device`.
  explicit Tensor(const Shape& shape, Device device = Device::cpu)
      : shape_(shape), storage_(allocate_storage(sizeof(T) * static_cast<std::size_t>(shape.numel()), device)) {}
  // ensures: a host tensor of `shape` holding `values` (row-major NCHW); sizes must agree.
  Tensor(const Shape& shape, std::initializer_list<T> values) : Tensor(shape) {
    check(static_cast<std::int64_t>(values.size()) == shape.numel(), "Tensor: ", values.size(),
          " values given for shape ", shape);
    std::copy(values.begin(), values.end(), data());
  }

  const Shape& shape() const { return shape_; }
  // ensures: element count; 0 for a default-constructed (storage-less) tensor.
  std::int64_t numel() const { return storage_ ? shape_.numel() : 0; }
  std::int64_t dim(int i) const { return shape_[i]; }
  int rank() const { return shape_.rank(); }
  bool empty() const { return numel() == 0; }
  Device device() const { return storage_ ? storage_->device : Device::cpu; }

  T* data() { return storage_ ? static_cast<T*>(storage_->ptr) + offset_ : nullptr; }
  const T* data() const { return storage_ ? static_cast<const T*>(storage_->ptr) + offset_ : nullptr; }
  T* begin() { return data(); }
  T* end() { return data() + numel(); }
  const T* begin() const { return data(); }
  const T* end() const { return data() + numel(); }

  T& operator[](std::int64_t i) { return data()[i]; }
  const T& operator[](std::int64_t i) const { return data()[i]; }
  // requires: rank-4 host tensor, indices in range (checked).
  T& at(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
    check_host("Tensor::at");
    return data()[index(n, c, h, w)];
  }
  const T& at(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) const {
    check_host("Tensor::at");
    return data()[index(n, c, h, w)];
  }

  // ensures: a tensor sharing this storage, covering `shape.numel()` elements from `offset`.
  Tensor view(std::int64_t offset, const Shape& shape) const {
    check(offset >= 0 && offset + shape.numel() <= numel(), "Tensor::view: offset ", offset, " + shape ", shape,
          " exceeds tensor of shape ", shape_);
    Tensor v = *this;
    v.offset_ += offset;
    v.shape_ = shape;
    return v;
  }
  // ensures: the same elements seen with another shape of equal size.
  Tensor reshaped(const Shape& shape) const {
    check(shape.numel() == numel(), "Tensor::reshaped: cannot view ", shape_, " as ", shape);
    return view(0, shape);
  }
  // ensures: a view of sample range [first, first+count) along dimension 0.
  Tensor batch_slice(std::int64_t first, std::int64_t count) const {
    check(rank() >= 1 && first >= 0 && count >= 0 && first + count <= dim(0), "Tensor::batch_slice: [", first, ",",
          first + count, ") of ", shape_);
    Shape s = shape_;
    s[0] = count;
    return view(first * (numel() / std::max<std::int64_t>(dim(0), 1)), s);
  }

  // ensures: shape() == shape. Keeps the storage (no allocation) when it is large enough and
  // not a view; otherwise allocates new zero-filled storage. Contents are unspecified.
  void resize(const Shape& shape, Device device = Device::cpu) {
    const std::size_t need = sizeof(T) * static_cast<std::size_t>(shape.numel());
    if (!storage_ || storage_->bytes < need || offset_ != 0 || storage_->device != device) {
      storage_ = allocate_storage(need, device);
      offset_ = 0;
    }
    shape_ = shape;
  }

  // requires: a host tensor (checked; device tensors are copied with backend/device_copy.hpp).
  void fill(T value) {
    check_host("Tensor::fill");
    std::fill(begin(), end(), value);
  }
  void zero() { fill(T(0)); }
  // requires: host tensors with the same number of elements. ensures: elements copied (shapes may differ).
  void copy_from(const Tensor& other) {
    check_host("Tensor::copy_from");
    other.check_host("Tensor::copy_from (source)");
    check(other.numel() == numel(), "Tensor::copy_from: source ", other.shape(), " and destination ", shape_,
          " differ in size");
    std::copy(other.begin(), other.end(), begin());
  }
  // requires: a host tensor. ensures: an independent host copy.
  Tensor clone() const {
    if (!storage_) return Tensor();
    check_host("Tensor::clone");
    Tensor t(shape_);
    t.copy_from(*this);
    return t;
  }
  // ensures: true when both tensors view the same elements of the same storage.
  bool same_storage(const Tensor& other) const { return storage_ == other.storage_; }

 private:
  void check_host(const char* op) const {
    check(device() == Device::cpu, op, ": the tensor of shape ", shape_, " is on ", device_name(device()),
          "; use to_device()/copy_elements() from tinynet/backend/device_copy.hpp");
  }
  std::int64_t index(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) const {
    check(rank() == 4 && n >= 0 && n < shape_[0] && c >= 0 && c < shape_[1] && h >= 0 && h < shape_[2] && w >= 0 &&
              w < shape_[3],
          "Tensor::at(", n, ",", c, ",", h, ",", w, ") out of range for shape ", shape_);
    return ((n * shape_[1] + c) * shape_[2] + h) * shape_[3] + w;
  }

  Shape shape_;
  std::shared_ptr<Storage> storage_;
  std::int64_t offset_ = 0;
};

// ensures: throws an Error naming `op`, `what` and both shapes when they differ.
inline void check_shape(const Shape& actual, const Shape& expected, const std::string& op, const char* what) {
  check(actual == expected, op, ": ", what, " has shape ", actual, ", expected ", expected);
}

}  // namespace tinynet
