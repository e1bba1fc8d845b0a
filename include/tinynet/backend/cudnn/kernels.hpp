// tinynet/backend/cudnn/kernels.hpp: the backend's own CUDA kernels, for the ops cuDNN and
// cuBLAS do not cover (or cover with different rules than the CPU backend).
//
// Each function queues one kernel on `stream` and returns the launch status (cudaSuccess
// when nothing needed launching); callers pass it to check_cuda(). All pointers are device
// pointers. The definitions live in kernels.cu, compiled into the tinynet_cuda library with
// explicit instantiations for float and double. Formulas follow the CPU kernels in
// backend/cpu/, whose rules (first maximum wins, double accumulation, Keras label smoothing)
// they reproduce.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "tinynet/backend/conv_geometry.hpp"

namespace tinynet {
namespace cudnn {
namespace kernels {

// `planes` planes of in_h x in_w placed at (top, left) inside planes of out_h x out_w.
struct PlanePadding {
  std::int64_t planes = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::int64_t top = 0, left = 0;
};

// ensures: y = a + b, or max(a + b, 0) when relu (n elements).
template <class T>
cudaError_t add(const T* a, const T* b, T* y, std::int64_t n, bool relu, cudaStream_t stream);

// ensures: y = scale * x + offset (n elements; y may be x).
template <class T>
cudaError_t scale_shift(const T* x, T scale, T offset, T* y, std::int64_t n, cudaStream_t stream);

// ensures: y = x * Phi(x) = x/2 * (1 + erf(x / sqrt(2))) (n elements; GELU).
template <class T>
cudaError_t gelu_forward(const T* x, T* y, std::int64_t n, cudaStream_t stream);

// ensures: dx = dy * (Phi(x) + x * exp(-x^2/2) / sqrt(2 pi)) (n elements; GELU's gradient).
template <class T>
cudaError_t gelu_backward(const T* x, const T* dy, T* dx, std::int64_t n, cudaStream_t stream);

// ensures: y = a * b elementwise (n elements).
template <class T>
cudaError_t multiply(const T* a, const T* b, T* y, std::int64_t n, cudaStream_t stream);

// ensures: mask = keep ? keep_scale : 0 and y = x * mask, from one keep flag per element.
template <class T>
cudaError_t dropout_apply(const std::uint8_t* keep, T keep_scale, const T* x, T* mask, T* y, std::int64_t n,
                          cudaStream_t stream);

// ensures: y = x placed inside planes filled with `fill` (layout as PlanePadding).
template <class T>
cudaError_t pad_planes(const T* x, T* y, const PlanePadding& p, T fill, cudaStream_t stream);

// ensures: x = the (top, left) in_h x in_w interior of each plane of y (the adjoint of pad_planes).
template <class T>
cudaError_t crop_planes(const T* y, T* x, const PlanePadding& p, cudaStream_t stream);

// ensures: the Adam update of backend/cpu/optimizer_update.hpp on n elements.
template <class T>
cudaError_t adam_update(T* values, const T* grads, T* m, T* v, std::int64_t n, T beta1, T beta2, T step_size,
                        T epsilon, T decay, cudaStream_t stream);

// ensures: the SGD update of backend/cpu/optimizer_update.hpp on n elements (velocity may be null).
template <class T>
cudaError_t sgd_update(T* values, const T* grads, T* velocity, std::int64_t n, T learning_rate, T momentum, T decay,
                       bool nesterov, cudaStream_t stream);

// ensures: the Lookahead synchronisation of backend/cpu/optimizer_update.hpp on n elements.
template <class T>
cudaError_t lookahead_sync(T* values, T* slow, std::int64_t n, T decay, cudaStream_t stream);

// ensures: y[r, c] += bias[c] for a row-major rows x cols matrix.
template <class T>
cudaError_t add_row_vector(T* y, const T* bias, std::int64_t rows, std::int64_t cols, cudaStream_t stream);

// ensures: sums[c] = sum over r of x[r, c] (accumulated in double).
template <class T>
cudaError_t column_sums(const T* x, T* sums, std::int64_t rows, std::int64_t cols, cudaStream_t stream);

// requires: log_p the row-wise log-softmax of the logits. ensures: p = exp(log_p) and
// row_losses[r] = -sum_k t'[r,k] log_p[r,k], t' = target * (1 - ls) + ls / classes.
template <class T>
cudaError_t softmax_cross_entropy_rows(const T* log_p, const T* target, double label_smoothing, T* p, T* row_losses,
                                       std::int64_t rows, std::int64_t classes, cudaStream_t stream);

// ensures: dlogits = (p * sum_k t' - t') / rows, row by row.
template <class T>
cudaError_t softmax_cross_entropy_grad(const T* p, const T* target, double label_smoothing, T* dlogits,
                                       std::int64_t rows, std::int64_t classes, cudaStream_t stream);

// requires: x [batch, C, H, W] and dy [batch, C, OH, OW] as described by g.
// ensures: dx = dy routed to the first maximum of each window (in-image cells only), summed in
// output order per cell: the CPU backend's rule, deterministic.
template <class T>
cudaError_t max_pool2d_backward(const T* x, const T* dy, T* dx, std::int64_t batch, const ConvGeometry& g,
                                cudaStream_t stream);

// ensures: dx[p * pixels + i] = dy[p] / pixels (the gradient of per-plane means).
template <class T>
cudaError_t plane_mean_backward(const T* dy, T* dx, std::int64_t planes, std::int64_t pixels, cudaStream_t stream);

// ensures: the batch-norm gradients through the fixed (moving) statistics, as
// cpu::batch_norm_backward_inference; dx, dgamma, dbeta may each be null.
template <class T>
cudaError_t batch_norm_backward_inference(const T* x, const T* dy, const T* gamma, const T* mean, const T* variance,
                                          double epsilon, T* dx, T* dgamma, T* dbeta, std::int64_t batch,
                                          std::int64_t channels, std::int64_t spatial, cudaStream_t stream);

// ensures: moving = momentum * moving + (1 - momentum) * batch (batch == null: 0), n elements.
template <class T>
cudaError_t moving_average_update(T* moving, const T* batch, double momentum, std::int64_t n, cudaStream_t stream);

}  // namespace kernels
}  // namespace cudnn
}  // namespace tinynet
