// tinynet/tinynet.hpp: the whole public API in one include.
//
// Everything is header-only. Keras HDF5 import (io/keras_hdf5.hpp) is included when the
// build defines TINYNET_WITH_HDF5 (the CMake target does when libhdf5 was found); the
// cuDNN backend is compiled in with TINYNET_WITH_CUDNN (see docs/cuda.md).
#pragma once

#include "tinynet/core/error.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/core/shape.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/core/threading.hpp"

#include "tinynet/backend/device_copy.hpp"

#include "tinynet/layers/add.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/bottleneck.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/dropout.hpp"
#include "tinynet/layers/flatten.hpp"
#include "tinynet/layers/gelu.hpp"
#include "tinynet/layers/global_average_pooling2d.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/layers/rescaling.hpp"
#include "tinynet/layers/residual.hpp"
#include "tinynet/layers/sequential.hpp"
#include "tinynet/layers/zero_padding2d.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"

#include "tinynet/model/notebook_cnn.hpp"
#include "tinynet/model/pretrained_resnet50.hpp"
#include "tinynet/model/resnet50.hpp"
#include "tinynet/model/whitened_cnn.hpp"

#include "tinynet/optim/adam.hpp"
#include "tinynet/optim/lookahead.hpp"
#include "tinynet/optim/sgd.hpp"

#include "tinynet/data/augment.hpp"
#include "tinynet/data/batch_loader.hpp"
#include "tinynet/data/load_dataset.hpp"
#include "tinynet/data/normalize.hpp"
#include "tinynet/data/patch_whitening.hpp"
#include "tinynet/data/resize.hpp"
#include "tinynet/data/split.hpp"

#include "tinynet/io/checkpoint.hpp"
#include "tinynet/io/read_weight_file.hpp"

#include "tinynet/training/history.hpp"
#include "tinynet/training/lr_schedule.hpp"
#include "tinynet/training/metrics.hpp"
#include "tinynet/training/trainer.hpp"

#include "tinynet/testing/gradient_check.hpp"
