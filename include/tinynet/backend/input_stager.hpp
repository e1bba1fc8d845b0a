// tinynet/backend/input_stager.hpp: moves input batches to the model's device ahead of use.
//
//   InputStager<float> stager(model.device());
//   stager.stage(batch0.images);
//   loop: Tensor<float> x = stager.take();   // batch k on the device
//         stager.stage(batch_k+1.images);     // its upload overlaps step k (CUDA)
//         model.forward(x) ...
// A dispatch header, as the ops in backend/*.hpp: on the CPU take() returns the staged tensor
// itself (shared storage, no copy); on CUDA (built with TINYNET_WITH_CUDNN) a
// cudnn::DeviceBatchUploader copies batch k+1 on its own stream while step k computes.
// take() must follow a stage(); one stager per thread.
#pragma once

#include <memory>

#include "tinynet/backend/device_dispatch.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/batch_uploader.hpp"
#endif

namespace tinynet {

template <class T>
class InputStager {
 public:
  explicit InputStager(Device device) : device_(device) {
#ifdef TINYNET_WITH_CUDNN
    if (device == Device::cuda) uploader_ = std::make_unique<cudnn::DeviceBatchUploader<T>>();
#else
    check(device == Device::cpu, "InputStager: a CUDA model needs tinynet built with -DTINYNET_WITH_CUDNN=ON");
#endif
  }

  // requires: a host tensor. ensures: the next take() returns it on the stager's device.
  void stage(const Tensor<T>& host_batch) {
#ifdef TINYNET_WITH_CUDNN
    if (uploader_) return uploader_->stage(host_batch);
#endif
    staged_ = host_batch;
  }

  // requires: stage() since the last take(). ensures: the staged batch on the device.
  Tensor<T> take() {
#ifdef TINYNET_WITH_CUDNN
    if (uploader_) return uploader_->take();
#endif
    check(!staged_.empty(), "InputStager::take: nothing was staged");
    Tensor<T> batch = staged_;
    staged_ = Tensor<T>();
    return batch;
  }

 private:
  Device device_;
  Tensor<T> staged_;
#ifdef TINYNET_WITH_CUDNN
  std::unique_ptr<cudnn::DeviceBatchUploader<T>> uploader_;
#endif
};

}  // namespace tinynet
