// CPU kernels of layer normalization (schemas in src/ops/norm.cpp): one pass over each row for
// the statistics and one to normalize, and a backward that produces the input, weight and bias
// gradients together, instead of the dozen elementwise ops and reductions the formula takes.
// 16-bit inputs are computed in float, as torch does. float32 rows take vectorized loops
// (eight lanes, built for AVX2 and picked at load time); the others a portable loop.
#include <array>
#include <cstring>
#include <cmath>
#include <mutex>
#include <vector>

#include "src/cpu/vec_math.h"
#include "src/ops/norm.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {

namespace {

// Parallel over rows; small problems stay on the calling thread.
int64_t row_grain(int64_t inner) { return std::max<int64_t>(1, kGrainSize / std::max<int64_t>(inner, 1)); }

// The sum of (x - shift)^2 over x[0..n), in eight lanes.
VT_ALWAYS_INLINE float row_squares(const float* x, int64_t n, float shift) {
  f8 acc = splat(0.0f);
  const f8 mu = splat(shift);
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    const f8 d = load(x + j) - mu;
    acc += d * d;
  }
  float sum = lane_sum(acc);
  for (; j < n; ++j) sum += (x[j] - shift) * (x[j] - shift);
  return sum;
}

// Rows [first, last) of a float32 layer norm; w and b may be null.
VT_MULTIVERSION void layer_norm_rows(const float* x, const float* w, const float* b, float* y, float* means,
                                     float* rstds, int64_t first, int64_t last, int64_t n, float eps) {
  for (int64_t r = first; r < last; ++r) {
    const float* row = x + r * n;
    const float mu = sum_of(row, n) / float(n);
    const float inv_std = 1.0f / std::sqrt(row_squares(row, n, mu) / float(n) + eps);  // two passes: no cancellation
    float* out = y + r * n;
    const f8 mu8 = splat(mu), inv8 = splat(inv_std);
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
      f8 v = (load(row + j) - mu8) * inv8;
      if (w) v *= load(w + j);
      if (b) v += load(b + j);
      store(out + j, v);
    }
    for (; j < n; ++j) {
      float v = (row[j] - mu) * inv_std;
      if (w) v *= w[j];
      if (b) v += b[j];
      out[j] = v;
    }
    means[r] = mu;
    rstds[r] = inv_std;
  }
}

typedef double d8 __attribute__((vector_size(64)));

// Rows [first, last) of the float32 backward: dx (when asked) and the rows' contributions to
// the weight and bias gradients, added into the double column sums `weight_sums` and
// `bias_sums` (either may be null).
VT_MULTIVERSION void layer_norm_backward_rows(const float* g, const float* x, const float* w, const float* means,
                                              const float* rstds, float* dx, double* weight_sums, double* bias_sums,
                                              int64_t first, int64_t last, int64_t n) {
  for (int64_t r = first; r < last; ++r) {
    const float* g_row = g + r * n;
    const float* x_row = x + r * n;
    const float mu = means[r], inv_std = rstds[r];
    const f8 mu8 = splat(mu), inv8 = splat(inv_std);
    f8 gw_acc = splat(0.0f), gw_xhat_acc = splat(0.0f);
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
      const f8 gv = load(g_row + j);
      const f8 xhat = (load(x_row + j) - mu8) * inv8;
      const f8 gw = w ? gv * load(w + j) : gv;
      gw_acc += gw;
      gw_xhat_acc += gw * xhat;
      if (weight_sums) {
        d8 sums;
        std::memcpy(&sums, weight_sums + j, sizeof sums);
        sums += __builtin_convertvector(gv * xhat, d8);
        std::memcpy(weight_sums + j, &sums, sizeof sums);
      }
      if (bias_sums) {
        d8 sums;
        std::memcpy(&sums, bias_sums + j, sizeof sums);
        sums += __builtin_convertvector(gv, d8);
        std::memcpy(bias_sums + j, &sums, sizeof sums);
      }
    }
    float sum_gw = lane_sum(gw_acc), sum_gw_xhat = lane_sum(gw_xhat_acc);
    for (; j < n; ++j) {
      const float xhat = (x_row[j] - mu) * inv_std;
      const float gw = w ? g_row[j] * w[j] : g_row[j];
      sum_gw += gw;
      sum_gw_xhat += gw * xhat;
      if (weight_sums) weight_sums[j] += double(g_row[j] * xhat);
      if (bias_sums) bias_sums[j] += double(g_row[j]);
    }
    if (!dx) continue;
    const float mean_gw = sum_gw / float(n), mean_gw_xhat = sum_gw_xhat / float(n);
    const f8 mean_gw8 = splat(mean_gw), mean_gw_xhat8 = splat(mean_gw_xhat);
    float* dx_row = dx + r * n;
    for (j = 0; j + kLanes <= n; j += kLanes) {
      const f8 gv = load(g_row + j);
      const f8 xhat = (load(x_row + j) - mu8) * inv8;
      const f8 gw = w ? gv * load(w + j) : gv;
      store(dx_row + j, inv8 * (gw - mean_gw8 - xhat * mean_gw_xhat8));
    }
    for (; j < n; ++j) {
      const float xhat = (x_row[j] - mu) * inv_std;
      const float gw = w ? g_row[j] * w[j] : g_row[j];
      dx_row[j] = inv_std * (gw - mean_gw - xhat * mean_gw_xhat);
    }
  }
}

std::tuple<Tensor, Tensor, Tensor> native_layer_norm_cpu(const Tensor& input_in, IntArrayRef normalized_shape,
                                                         const std::optional<Tensor>& weight_in,
                                                         const std::optional<Tensor>& bias_in, double eps) {
  normalized_dims(input_in, normalized_shape, "native_layer_norm");
  Tensor input = contiguous(input_in);
  Tensor weight = layer_norm_parameter(weight_in, "weight", input, normalized_shape, "CPU");
  Tensor bias = layer_norm_parameter(bias_in, "bias", input, normalized_shape, "CPU");
  auto [rows, inner] = layer_norm_shape(input, normalized_shape);
  Tensor out = empty_like(input);
  DimVector stats_shape = layer_norm_statistics_shape(input, normalized_shape);
  Tensor mean = empty(stats_shape, input.dtype(), input.device());
  Tensor rstd = empty(stats_shape, input.dtype(), input.device());
  dispatch_floating_types(input.dtype(), "native_layer_norm", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const T* x = input.data<T>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    T* y = out.data<T>();
    T* means = mean.data<T>();
    T* rstds = rstd.data<T>();
    parallel_for(0, rows, row_grain(inner), [&](int64_t first, int64_t last) {
      if constexpr (std::is_same_v<T, float>) {
        layer_norm_rows(x, w, b, y, means, rstds, first, last, inner, float(eps));
        return;
      }
      for (int64_t r = first; r < last; ++r) {
        const T* row = x + r * inner;
        C sum = 0;
        for (int64_t j = 0; j < inner; ++j) sum += C(row[j]);
        const C mu = sum / C(inner);
        C squares = 0;  // two passes: no cancellation for rows far from zero
        for (int64_t j = 0; j < inner; ++j) {
          const C d = C(row[j]) - mu;
          squares += d * d;
        }
        const C inv_std = C(1) / std::sqrt(squares / C(inner) + C(eps));
        T* out_row = y + r * inner;
        for (int64_t j = 0; j < inner; ++j) {
          C v = (C(row[j]) - mu) * inv_std;
          if (w) v *= C(w[j]);
          if (b) v += C(b[j]);
          out_row[j] = T(v);
        }
        means[r] = T(mu);
        rstds[r] = T(inv_std);
      }
    });
  });
  return {out, mean, rstd};
}

// dx = rstd * (g w - mean(g w) - xhat * mean(g w xhat)), dweight = sum_rows(g xhat), dbias = sum_rows(g),
// with xhat = (x - mean) * rstd.
std::tuple<Tensor, Tensor, Tensor> native_layer_norm_backward_cpu(
    const Tensor& grad_out_in, const Tensor& input_in, IntArrayRef normalized_shape, const Tensor& mean_in,
    const Tensor& rstd_in, const std::optional<Tensor>& weight_in, const std::optional<Tensor>& bias_in,
    std::array<bool, 3> output_mask) {
  Tensor grad_out = contiguous(grad_out_in), input = contiguous(input_in);
  Tensor mean = contiguous(mean_in), rstd = contiguous(rstd_in);
  Tensor weight = layer_norm_parameter(weight_in, "weight", input, normalized_shape, "CPU");
  const LayerNormShape shape = layer_norm_shape(input, normalized_shape);
  check_layer_norm_backward(grad_out, input, mean, rstd, shape);
  auto [rows, inner] = shape;
  Tensor grad_input = output_mask[0] ? empty_like(input) : Tensor();
  Tensor grad_weight, grad_bias;
  dispatch_floating_types(input.dtype(), "native_layer_norm_backward", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const T* g = grad_out.data<T>();
    const T* x = input.data<T>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    const T* means = mean.data<T>();
    const T* rstds = rstd.data<T>();
    T* dx = output_mask[0] ? grad_input.data<T>() : nullptr;
    const bool want_weight = output_mask[1] && weight.defined(), want_bias = output_mask[2];
    // The column sums run over every row: accumulated in double, as they can cancel.
    std::vector<double> weight_sums(want_weight ? inner : 0, 0.0), bias_sums(want_bias ? inner : 0, 0.0);
    std::mutex merge;
    parallel_for(0, rows, row_grain(inner), [&](int64_t first, int64_t last) {
      // Each chunk sums its rows' weight and bias gradients locally, then merges once.
      std::vector<double> local_weight(weight_sums.size(), 0.0), local_bias(bias_sums.size(), 0.0);
      if constexpr (std::is_same_v<T, float>) {
        layer_norm_backward_rows(g, x, w, means, rstds, dx, want_weight ? local_weight.data() : nullptr,
                                 want_bias ? local_bias.data() : nullptr, first, last, inner);
      } else {
        for (int64_t r = first; r < last; ++r) {
          const T* g_row = g + r * inner;
          const T* x_row = x + r * inner;
          const C mu = C(means[r]), inv_std = C(rstds[r]);
          C sum_gw = 0, sum_gw_xhat = 0;
          for (int64_t j = 0; j < inner; ++j) {
            const C xhat = (C(x_row[j]) - mu) * inv_std;
            const C gw = w ? C(g_row[j]) * C(w[j]) : C(g_row[j]);
            sum_gw += gw;
            sum_gw_xhat += gw * xhat;
            if (want_weight) local_weight[j] += double(C(g_row[j]) * xhat);
            if (want_bias) local_bias[j] += double(g_row[j]);
          }
          if (dx) {
            const C mean_gw = sum_gw / C(inner), mean_gw_xhat = sum_gw_xhat / C(inner);
            T* dx_row = dx + r * inner;
            for (int64_t j = 0; j < inner; ++j) {
              const C xhat = (C(x_row[j]) - mu) * inv_std;
              const C gw = w ? C(g_row[j]) * C(w[j]) : C(g_row[j]);
              dx_row[j] = T(inv_std * (gw - mean_gw - xhat * mean_gw_xhat));
            }
          }
        }
      }
      if (want_weight || want_bias) {
        std::lock_guard<std::mutex> lock(merge);
        for (size_t j = 0; j < local_weight.size(); ++j) weight_sums[j] += local_weight[j];
        for (size_t j = 0; j < local_bias.size(); ++j) bias_sums[j] += local_bias[j];
      }
    });
    auto to_tensor = [&](const std::vector<double>& sums) {
      Tensor t = empty(normalized_shape, input.dtype(), input.device());
      T* data = t.data<T>();
      for (int64_t j = 0; j < inner; ++j) data[j] = T(C(sums[j]));
      return t;
    };
    if (want_weight) grad_weight = to_tensor(weight_sums);
    if (want_bias) grad_bias = to_tensor(bias_sums);
  });
  return {grad_input, grad_weight, grad_bias};
}

}  // namespace

VT_REGISTRATION(norm_cpu) {
  register_kernel("native_layer_norm", DispatchKey::CPU, &native_layer_norm_cpu);
  register_kernel("native_layer_norm_backward", DispatchKey::CPU, &native_layer_norm_backward_cpu);
}

}  // namespace vt::cpu
