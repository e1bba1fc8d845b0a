// tinynet/backend/cudnn/kernels.cu: definitions of the kernels declared in kernels.hpp.
//
// Compiled by nvcc into the tinynet_cuda static library (cmake/tinynetCuda.cmake), with
// explicit instantiations for float and double at the end. Elementwise kernels use
// grid-stride loops over 64-bit indices.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tinynet/backend/cudnn/kernels.hpp"

namespace tinynet {
namespace cudnn {
namespace kernels {
namespace {

constexpr int threads_per_block = 256;
constexpr std::int64_t max_blocks = 65535;

__device__ inline std::int64_t first_index() { return blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; }
__device__ inline std::int64_t grid_stride() { return std::int64_t(blockDim.x) * gridDim.x; }

__device__ inline float device_sqrt(float x) { return sqrtf(x); }
__device__ inline double device_sqrt(double x) { return sqrt(x); }

// ensures: kernel<<<enough blocks for `work` items>>>(args...) queued; its launch status.
template <class... Params, class... Args>
cudaError_t launch(std::int64_t work, cudaStream_t stream, void (*kernel)(Params...), Args... args) {
  if (work <= 0) return cudaSuccess;
  const std::int64_t blocks = std::min<std::int64_t>((work + threads_per_block - 1) / threads_per_block, max_blocks);
  kernel<<<static_cast<unsigned>(blocks), threads_per_block, 0, stream>>>(args...);
  return cudaGetLastError();
}

template <class T>
__global__ void add_kernel(const T* a, const T* b, T* y, std::int64_t n, bool relu) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const T sum = a[i] + b[i];
    y[i] = relu && !(sum > T(0)) ? T(0) : sum;
  }
}

template <class T>
__global__ void scale_shift_kernel(const T* x, T scale, T offset, T* y, std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) y[i] = scale * x[i] + offset;
}

template <class T>
__global__ void gelu_forward_kernel(const T* x, T* y, std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const T v = x[i];
    y[i] = T(0.5) * v * (T(1) + erf(v * T(M_SQRT1_2)));
  }
}

template <class T>
__global__ void gelu_backward_kernel(const T* x, const T* dy, T* dx, std::int64_t n) {
  const T inv_sqrt_2pi = T(0.5 * M_2_SQRTPI * M_SQRT1_2);
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const T v = x[i];
    dx[i] = dy[i] * (T(0.5) * (T(1) + erf(v * T(M_SQRT1_2))) + v * inv_sqrt_2pi * exp(T(-0.5) * v * v));
  }
}

template <class T>
__global__ void multiply_kernel(const T* a, const T* b, T* y, std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) y[i] = a[i] * b[i];
}

template <class T>
__global__ void dropout_kernel(const std::uint8_t* keep, T keep_scale, const T* x, T* mask, T* y, std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const T m = keep[i] ? keep_scale : T(0);
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

template <class T>
__global__ void pad_kernel(const T* x, T* y, PlanePadding p, T fill) {
  const std::int64_t plane_size = p.out_h * p.out_w, n = p.planes * plane_size;
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const std::int64_t q = i / plane_size, r = i % plane_size;
    const std::int64_t h = r / p.out_w - p.top, w = r % p.out_w - p.left;
    y[i] = (h >= 0 && h < p.in_h && w >= 0 && w < p.in_w) ? x[(q * p.in_h + h) * p.in_w + w] : fill;
  }
}

template <class T>
__global__ void crop_kernel(const T* y, T* x, PlanePadding p) {
  const std::int64_t plane_size = p.in_h * p.in_w, n = p.planes * plane_size;
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const std::int64_t q = i / plane_size, r = i % plane_size;
    const std::int64_t h = r / p.in_w + p.top, w = r % p.in_w + p.left;
    x[i] = y[(q * p.out_h + h) * p.out_w + w];
  }
}

template <class T>
__global__ void adam_kernel(T* values, const T* grads, T* m, T* v, std::int64_t n, T beta1, T beta2, T step_size,
                            T epsilon, T decay) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const T g = grads[i];
    const T mean = beta1 * m[i] + (T(1) - beta1) * g;
    const T second = beta2 * v[i] + (T(1) - beta2) * g * g;
    m[i] = mean;
    v[i] = second;
    const T p = values[i];
    values[i] = p - decay * p - step_size * mean / (device_sqrt(second) + epsilon);
  }
}

template <class T>
__global__ void sgd_kernel(T* values, const T* grads, T* velocity, std::int64_t n, T learning_rate, T momentum,
                           T decay, bool nesterov) {
  // Nesterov looks ahead: p moves by momentum*velocity - lr*g instead of by velocity.
  const T ahead = nesterov ? momentum : T(1), gradient_share = nesterov ? learning_rate : T(0);
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const T p = values[i], g = grads[i];
    if (velocity == nullptr) {
      values[i] = p - decay * p - learning_rate * g;
      continue;
    }
    const T vel = momentum * velocity[i] - learning_rate * g;
    velocity[i] = vel;
    values[i] = p - decay * p + (ahead * vel - gradient_share * g);
  }
}

template <class T>
__global__ void lookahead_sync_kernel(T* values, T* slow, std::int64_t n, T decay) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const T s = slow[i] + (T(1) - decay) * (values[i] - slow[i]);
    slow[i] = s;
    values[i] = s;
  }
}

template <class T>
__global__ void add_row_vector_kernel(T* y, const T* bias, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t i = first_index(); i < rows * cols; i += grid_stride()) y[i] += bias[i % cols];
}

template <class T>
__global__ void column_sums_kernel(const T* x, T* sums, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t c = first_index(); c < cols; c += grid_stride()) {
    double sum = 0;
    for (std::int64_t r = 0; r < rows; ++r) sum += x[r * cols + c];
    sums[c] = static_cast<T>(sum);
  }
}

__device__ inline double smoothed_target(double t, double label_smoothing, std::int64_t classes) {
  return t * (1 - label_smoothing) + label_smoothing / static_cast<double>(classes);
}

template <class T>
__global__ void softmax_cross_entropy_rows_kernel(const T* log_p, const T* target, double label_smoothing, T* p,
                                                  T* row_losses, std::int64_t rows, std::int64_t classes) {
  for (std::int64_t r = first_index(); r < rows; r += grid_stride()) {
    double loss = 0;
    for (std::int64_t k = r * classes; k < (r + 1) * classes; ++k) {
      const double lp = log_p[k];
      p[k] = static_cast<T>(exp(lp));
      loss -= smoothed_target(target[k], label_smoothing, classes) * lp;
    }
    row_losses[r] = static_cast<T>(loss);
  }
}

template <class T>
__global__ void softmax_cross_entropy_grad_kernel(const T* p, const T* target, double label_smoothing, T* dlogits,
                                                  std::int64_t rows, std::int64_t classes) {
  const double inv_rows = 1.0 / static_cast<double>(rows);
  for (std::int64_t r = first_index(); r < rows; r += grid_stride()) {
    double target_sum = 0;
    for (std::int64_t k = r * classes; k < (r + 1) * classes; ++k)
      target_sum += smoothed_target(target[k], label_smoothing, classes);
    for (std::int64_t k = r * classes; k < (r + 1) * classes; ++k)
      dlogits[k] = static_cast<T>((p[k] * target_sum - smoothed_target(target[k], label_smoothing, classes)) *
                                  inv_rows);
  }
}

// ensures: the flat in-plane index of the first maximum of window (oh, ow), in-image cells only.
template <class T>
__device__ std::int64_t window_argmax(const T* plane, const ConvGeometry& g, std::int64_t oh, std::int64_t ow) {
  const std::int64_t h0 = oh * g.stride_h - g.pad_top, w0 = ow * g.stride_w - g.pad_left;
  const std::int64_t h_lo = h0 > 0 ? h0 : 0, h_hi = h0 + g.kernel_h < g.in_h ? h0 + g.kernel_h : g.in_h;
  const std::int64_t w_lo = w0 > 0 ? w0 : 0, w_hi = w0 + g.kernel_w < g.in_w ? w0 + g.kernel_w : g.in_w;
  std::int64_t best = h_lo * g.in_w + w_lo;
  for (std::int64_t h = h_lo; h < h_hi; ++h)
    for (std::int64_t w = w_lo; w < w_hi; ++w)
      if (plane[h * g.in_w + w] > plane[best]) best = h * g.in_w + w;
  return best;
}

// ensures: the outputs [lo, hi] along one axis whose window covers input position `in`.
__device__ inline void covering_outputs(std::int64_t in, int pad, int kernel, int stride, std::int64_t outputs,
                                        std::int64_t& lo, std::int64_t& hi) {
  const std::int64_t first = in + pad - kernel + 1;  // the window start o*stride - pad must be >= this
  lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  hi = (in + pad) / stride;
  if (hi > outputs - 1) hi = outputs - 1;
}

template <class T>
__global__ void max_pool_backward_kernel(const T* x, const T* dy, T* dx, std::int64_t batch, ConvGeometry g) {
  const std::int64_t pixels = g.in_h * g.in_w, n = batch * g.channels * pixels;
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const std::int64_t plane = i / pixels, cell = i % pixels;
    const T* x_plane = x + plane * pixels;
    const T* dy_plane = dy + plane * g.out_h * g.out_w;
    std::int64_t oh_lo, oh_hi, ow_lo, ow_hi;
    covering_outputs(cell / g.in_w, g.pad_top, g.kernel_h, g.stride_h, g.out_h, oh_lo, oh_hi);
    covering_outputs(cell % g.in_w, g.pad_left, g.kernel_w, g.stride_w, g.out_w, ow_lo, ow_hi);
    T sum = 0;
    for (std::int64_t oh = oh_lo; oh <= oh_hi; ++oh)
      for (std::int64_t ow = ow_lo; ow <= ow_hi; ++ow)
        if (window_argmax(x_plane, g, oh, ow) == cell) sum += dy_plane[oh * g.out_w + ow];
    dx[i] = sum;
  }
}

template <class T>
__global__ void plane_mean_backward_kernel(const T* dy, T* dx, std::int64_t planes, std::int64_t pixels) {
  for (std::int64_t i = first_index(); i < planes * pixels; i += grid_stride())
    dx[i] = static_cast<T>(dy[i / pixels] / static_cast<double>(pixels));
}

// One block per channel: the two reductions in double through shared memory, dx on the way.
template <class T>
__global__ void batch_norm_backward_inference_kernel(const T* x, const T* dy, const T* gamma, const T* mean,
                                                     const T* variance, double epsilon, T* dx, T* dgamma, T* dbeta,
                                                     std::int64_t batch, std::int64_t channels,
                                                     std::int64_t spatial) {
  __shared__ double sum_dy[threads_per_block], sum_dy_xhat[threads_per_block];
  const std::int64_t c = blockIdx.x;
  const double inv_std = 1.0 / sqrt(static_cast<double>(variance[c]) + epsilon), mu = mean[c];
  const double scale = gamma[c] * inv_std;
  double s = 0, sx = 0;
  for (std::int64_t k = threadIdx.x; k < batch * spatial; k += blockDim.x) {
    const std::int64_t i = (k / spatial * channels + c) * spatial + k % spatial;
    const double g = dy[i];
    s += g;
    sx += g * (x[i] - mu) * inv_std;
    if (dx) dx[i] = static_cast<T>(g * scale);
  }
  sum_dy[threadIdx.x] = s;
  sum_dy_xhat[threadIdx.x] = sx;
  __syncthreads();
  for (int half = threads_per_block / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) {
      sum_dy[threadIdx.x] += sum_dy[threadIdx.x + half];
      sum_dy_xhat[threadIdx.x] += sum_dy_xhat[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x != 0) return;
  if (dgamma) dgamma[c] = static_cast<T>(sum_dy_xhat[0]);
  if (dbeta) dbeta[c] = static_cast<T>(sum_dy[0]);
}

template <class T>
__global__ void moving_average_kernel(T* moving, const T* batch, double momentum, std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride())
    moving[i] = static_cast<T>(momentum * moving[i] + (1 - momentum) * (batch ? static_cast<double>(batch[i]) : 0.0));
}

}  // namespace

template <class T>
cudaError_t add(const T* a, const T* b, T* y, std::int64_t n, bool relu, cudaStream_t stream) {
  return launch(n, stream, add_kernel<T>, a, b, y, n, relu);
}

template <class T>
cudaError_t scale_shift(const T* x, T scale, T offset, T* y, std::int64_t n, cudaStream_t stream) {
  return launch(n, stream, scale_shift_kernel<T>, x, scale, offset, y, n);
}

template <class T>
cudaError_t gelu_forward(const T* x, T* y, std::int64_t n, cudaStream_t stream) {
  return launch(n, stream, gelu_forward_kernel<T>, x, y, n);
}

template <class T>
cudaError_t gelu_backward(const T* x, const T* dy, T* dx, std::int64_t n, cudaStream_t stream) {
  return launch(n, stream, gelu_backward_kernel<T>, x, dy, dx, n);
}

template <class T>
cudaError_t multiply(const T* a, const T* b, T* y, std::int64_t n, cudaStream_t stream) {
  return launch(n, stream, multiply_kernel<T>, a, b, y, n);
}

template <class T>
cudaError_t dropout_apply(const std::uint8_t* keep, T keep_scale, const T* x, T* mask, T* y, std::int64_t n,
                          cudaStream_t stream) {
  return launch(n, stream, dropout_kernel<T>, keep, keep_scale, x, mask, y, n);
}

template <class T>
cudaError_t pad_planes(const T* x, T* y, const PlanePadding& p, T fill, cudaStream_t stream) {
  return launch(p.planes * p.out_h * p.out_w, stream, pad_kernel<T>, x, y, p, fill);
}

template <class T>
cudaError_t crop_planes(const T* y, T* x, const PlanePadding& p, cudaStream_t stream) {
  return launch(p.planes * p.in_h * p.in_w, stream, crop_kernel<T>, y, x, p);
}

template <class T>
cudaError_t adam_update(T* values, const T* grads, T* m, T* v, std::int64_t n, T beta1, T beta2, T step_size,
                        T epsilon, T decay, cudaStream_t stream) {
  return launch(n, stream, adam_kernel<T>, values, grads, m, v, n, beta1, beta2, step_size, epsilon, decay);
}

template <class T>
cudaError_t sgd_update(T* values, const T* grads, T* velocity, std::int64_t n, T learning_rate, T momentum, T decay,
                       bool nesterov, cudaStream_t stream) {
  return launch(n, stream, sgd_kernel<T>, values, grads, velocity, n, learning_rate, momentum, decay, nesterov);
}

template <class T>
cudaError_t lookahead_sync(T* values, T* slow, std::int64_t n, T decay, cudaStream_t stream) {
  return launch(n, stream, lookahead_sync_kernel<T>, values, slow, n, decay);
}

template <class T>
cudaError_t add_row_vector(T* y, const T* bias, std::int64_t rows, std::int64_t cols, cudaStream_t stream) {
  return launch(rows * cols, stream, add_row_vector_kernel<T>, y, bias, rows, cols);
}

template <class T>
cudaError_t column_sums(const T* x, T* sums, std::int64_t rows, std::int64_t cols, cudaStream_t stream) {
  return launch(cols, stream, column_sums_kernel<T>, x, sums, rows, cols);
}

template <class T>
cudaError_t softmax_cross_entropy_rows(const T* log_p, const T* target, double label_smoothing, T* p, T* row_losses,
                                       std::int64_t rows, std::int64_t classes, cudaStream_t stream) {
  return launch(rows, stream, softmax_cross_entropy_rows_kernel<T>, log_p, target, label_smoothing, p, row_losses,
                rows, classes);
}

template <class T>
cudaError_t softmax_cross_entropy_grad(const T* p, const T* target, double label_smoothing, T* dlogits,
                                       std::int64_t rows, std::int64_t classes, cudaStream_t stream) {
  return launch(rows, stream, softmax_cross_entropy_grad_kernel<T>, p, target, label_smoothing, dlogits, rows,
                classes);
}

template <class T>
cudaError_t max_pool2d_backward(const T* x, const T* dy, T* dx, std::int64_t batch, const ConvGeometry& g,
                                cudaStream_t stream) {
  return launch(batch * g.channels * g.in_pixels(), stream, max_pool_backward_kernel<T>, x, dy, dx, batch, g);
}

template <class T>
cudaError_t plane_mean_backward(const T* dy, T* dx, std::int64_t planes, std::int64_t pixels, cudaStream_t stream) {
  return launch(planes * pixels, stream, plane_mean_backward_kernel<T>, dy, dx, planes, pixels);
}

template <class T>
cudaError_t batch_norm_backward_inference(const T* x, const T* dy, const T* gamma, const T* mean, const T* variance,
                                          double epsilon, T* dx, T* dgamma, T* dbeta, std::int64_t batch,
                                          std::int64_t channels, std::int64_t spatial, cudaStream_t stream) {
  if (channels <= 0) return cudaSuccess;
  batch_norm_backward_inference_kernel<T><<<static_cast<unsigned>(channels), threads_per_block, 0, stream>>>(
      x, dy, gamma, mean, variance, epsilon, dx, dgamma, dbeta, batch, channels, spatial);
  return cudaGetLastError();
}

template <class T>
cudaError_t moving_average_update(T* moving, const T* batch, double momentum, std::int64_t n, cudaStream_t stream) {
  return launch(n, stream, moving_average_kernel<T>, moving, batch, momentum, n);
}

#define TINYNET_INSTANTIATE_KERNELS(T)                                                                               \
  template cudaError_t add<T>(const T*, const T*, T*, std::int64_t, bool, cudaStream_t);                            \
  template cudaError_t scale_shift<T>(const T*, T, T, T*, std::int64_t, cudaStream_t);                             \
  template cudaError_t gelu_forward<T>(const T*, T*, std::int64_t, cudaStream_t);                                   \
  template cudaError_t gelu_backward<T>(const T*, const T*, T*, std::int64_t, cudaStream_t);                        \
  template cudaError_t multiply<T>(const T*, const T*, T*, std::int64_t, cudaStream_t);                             \
  template cudaError_t dropout_apply<T>(const std::uint8_t*, T, const T*, T*, T*, std::int64_t, cudaStream_t);      \
  template cudaError_t pad_planes<T>(const T*, T*, const PlanePadding&, T, cudaStream_t);                           \
  template cudaError_t crop_planes<T>(const T*, T*, const PlanePadding&, cudaStream_t);                             \
  template cudaError_t adam_update<T>(T*, const T*, T*, T*, std::int64_t, T, T, T, T, T, cudaStream_t);             \
  template cudaError_t sgd_update<T>(T*, const T*, T*, std::int64_t, T, T, T, bool, cudaStream_t);                  \
  template cudaError_t lookahead_sync<T>(T*, T*, std::int64_t, T, cudaStream_t);                                   \
  template cudaError_t add_row_vector<T>(T*, const T*, std::int64_t, std::int64_t, cudaStream_t);                   \
  template cudaError_t column_sums<T>(const T*, T*, std::int64_t, std::int64_t, cudaStream_t);                      \
  template cudaError_t softmax_cross_entropy_rows<T>(const T*, const T*, double, T*, T*, std::int64_t,              \
                                                     std::int64_t, cudaStream_t);                                   \
  template cudaError_t softmax_cross_entropy_grad<T>(const T*, const T*, double, T*, std::int64_t, std::int64_t,    \
                                                     cudaStream_t);                                                 \
  template cudaError_t max_pool2d_backward<T>(const T*, const T*, T*, std::int64_t, const ConvGeometry&,            \
                                              cudaStream_t);                                                        \
  template cudaError_t plane_mean_backward<T>(const T*, T*, std::int64_t, std::int64_t, cudaStream_t);              \
  template cudaError_t batch_norm_backward_inference<T>(const T*, const T*, const T*, const T*, const T*, double,   \
                                                        T*, T*, T*, std::int64_t, std::int64_t, std::int64_t,       \
                                                        cudaStream_t);                                              \
  template cudaError_t moving_average_update<T>(T*, const T*, double, std::int64_t, cudaStream_t);

TINYNET_INSTANTIATE_KERNELS(float)
TINYNET_INSTANTIATE_KERNELS(double)
#undef TINYNET_INSTANTIATE_KERNELS

}  // namespace kernels
}  // namespace cudnn
}  // namespace tinynet
