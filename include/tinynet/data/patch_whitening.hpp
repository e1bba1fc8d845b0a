// tinynet/data/patch_whitening.hpp: a convolution kernel that whitens image patches.
//
// patch_whitening_kernel(images, patch, epsilon) looks at every patch x patch window of the
// images, takes the (uncentred) covariance S of the windows' C*patch*patch values and its
// eigen-decomposition S = sum_k lambda_k v_k v_k^T, and returns the kernel whose filter k
// is v_k / sqrt(lambda_k + epsilon), largest eigenvalue first, followed by the negated
// filters: 2*C*patch*patch filters in all. A valid, stride-1 Conv2D with this kernel maps
// each window to its coordinates in the eigenbasis, scaled to about unit variance (exactly
// lambda / (lambda + epsilon)); the negated copies let a following ReLU keep both signs.
// Page (2018, "How to train your ResNet") and Keller Jordan's airbench initialise and
// freeze the first layer of a fast CIFAR-10 network this way.
#pragma once

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

// requires: images [N, C, H, W] (as the network will see them, i.e. preprocessed) with
// N >= 1 and H, W >= patch >= 1; epsilon > 0.
// ensures: the kernel [2*C*patch*patch, C, patch, patch] described above (OIHW, as Conv2D).
template <class T>
Tensor<T> patch_whitening_kernel(const Tensor<T>& images, int patch, double epsilon) {
  check(images.rank() == 4, "patch_whitening_kernel: needs images [N,C,H,W], got ", images.shape());
  const std::int64_t n = images.dim(0), c = images.dim(1), h = images.dim(2), w = images.dim(3);
  check(n >= 1 && patch >= 1 && h >= patch && w >= patch, "patch_whitening_kernel: patch ", patch,
        " does not fit images ", images.shape());
  check(epsilon > 0, "patch_whitening_kernel: epsilon must be > 0, got ", epsilon);
  const std::int64_t dim = c * patch * patch, rows = h - patch + 1, cols = w - patch + 1;

  // Gather one image's windows as the columns of a [dim, rows*cols] matrix, accumulate
  // their outer products in double.
  Eigen::MatrixXd covariance = Eigen::MatrixXd::Zero(dim, dim);
  Eigen::MatrixXd windows(dim, rows * cols);
  for (std::int64_t s = 0; s < n; ++s) {
    const T* image = images.data() + s * c * h * w;
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (int dr = 0; dr < patch; ++dr)
        for (int dc = 0; dc < patch; ++dc) {
          const std::int64_t row_of_value = (ch * patch + dr) * patch + dc;
          for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t q = 0; q < cols; ++q)
              windows(row_of_value, r * cols + q) = image[(ch * h + r + dr) * w + q + dc];
        }
    covariance.noalias() += windows * windows.transpose();
  }
  covariance /= static_cast<double>(n * rows * cols);

  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);
  check(solver.info() == Eigen::Success, "patch_whitening_kernel: the eigen-decomposition failed");
  Tensor<T> kernel(Shape{2 * dim, c, patch, patch});
  for (std::int64_t k = 0; k < dim; ++k) {
    const std::int64_t source = dim - 1 - k;  // Eigen sorts the eigenvalues in increasing order
    const double scale = 1.0 / std::sqrt(std::max(solver.eigenvalues()(source), 0.0) + epsilon);
    for (std::int64_t i = 0; i < dim; ++i) {
      const T value = static_cast<T>(solver.eigenvectors()(i, source) * scale);
      kernel[k * dim + i] = value;
      kernel[(dim + k) * dim + i] = -value;
    }
  }
  return kernel;
}

}  // namespace tinynet
