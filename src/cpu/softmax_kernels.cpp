// CPU softmax and log_softmax along one dim, forward and backward, fused: one pass for the
// max, one for exp and its sum, one to scale. float32 rows run on vectors with a polynomial
// exp: sixteen floats on AVX-512 CPUs, else eight (the AVX2 clone or the baseline).
#include <cmath>
#include <cstring>
#include <limits>

#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"
#include "src/cpu/vec_math.h"
#include "src/ops/softmax_rules.h"

namespace vt::cpu {
namespace {

// y = exp(x - shift), returning its sum; two vectors per step so two exps are in flight.
template <class V>
VT_ALWAYS_INLINE float exp_shifted(const float* x, float* y, float shift, int64_t n) {
  constexpr int L = lanes_of<V>;
  V sums = constant<V>(0.0f), sums2 = sums;
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    V e = exp_approx(load_vec<V>(x + i) - shift), e2 = exp_approx(load_vec<V>(x + i + L) - shift);
    store_vec(y + i, e);
    store_vec(y + i + L, e2);
    sums += e;
    sums2 += e2;
  }
  sums += sums2;
  for (; i + L <= n; i += L) {
    V e = exp_approx(load_vec<V>(x + i) - shift);
    store_vec(y + i, e);
    sums += e;
  }
  float sum = lane_sum(sums);
  for (; i < n; ++i) sum += (y[i] = exp_approx(x[i] - shift));
  return sum;
}

template <class V>
VT_ALWAYS_INLINE float row_dot(const float* x, const float* y, int64_t n) {
  constexpr int L = lanes_of<V>;
  V sums = constant<V>(0.0f);
  int64_t i = 0;
  for (; i + L <= n; i += L) sums += load_vec<V>(x + i) * load_vec<V>(y + i);
  float sum = lane_sum(sums);
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

// One row of n contiguous floats. `log` selects log_softmax.
template <class V>
VT_ALWAYS_INLINE void softmax_row_loop(const float* x, float* y, int64_t n, bool log) {
  constexpr int L = lanes_of<V>;
  float max = max_of<V>(x, n);
  float sum = exp_shifted<V>(x, y, max, n);
  int64_t i = 0;
  if (log) {
    // (x - max) - log(sum), in that order: max + log(sum) would round away log(sum)'s digits
    // when max is large.
    float log_sum = std::log(sum);
    for (; i + L <= n; i += L) store_vec(y + i, (load_vec<V>(x + i) - max) - log_sum);
    for (; i < n; ++i) y[i] = (x[i] - max) - log_sum;
  } else {
    float inverse = 1.0f / sum;
    for (; i + L <= n; i += L) store_vec(y + i, load_vec<V>(y + i) * inverse);
    for (; i < n; ++i) y[i] *= inverse;
  }
}

// softmax: gx = y * (g - sum(g * y)); log_softmax: gx = g - exp(y) * sum(g).
template <class V>
VT_ALWAYS_INLINE void softmax_backward_row_loop(const float* g, const float* y, float* gx, int64_t n, bool log) {
  constexpr int L = lanes_of<V>;
  int64_t i = 0;
  if (log) {
    float total = sum_of<V>(g, n);
    for (; i + L <= n; i += L) store_vec(gx + i, load_vec<V>(g + i) - exp_approx(load_vec<V>(y + i)) * total);
    for (; i < n; ++i) gx[i] = g[i] - exp_approx(y[i]) * total;
  } else {
    float dot = row_dot<V>(g, y, n);
    for (; i + L <= n; i += L) store_vec(gx + i, load_vec<V>(y + i) * (load_vec<V>(g + i) - dot));
    for (; i < n; ++i) gx[i] = y[i] * (g[i] - dot);
  }
}

VT_FLOAT_MAP(void, softmax_row, (const float* x, float* y, int64_t n, bool log), (x, y, n, log))
VT_FLOAT_MAP(void, softmax_backward_row, (const float* g, const float* y, float* gx, int64_t n, bool log),
             (g, y, gx, n, log))

void softmax_row_float(const float* x, float* y, int64_t n, bool log) {
  has_avx512() ? softmax_row_f16(x, y, n, log) : softmax_row_f8(x, y, n, log);
}
void softmax_backward_row_float(const float* g, const float* y, float* gx, int64_t n, bool log) {
  has_avx512() ? softmax_backward_row_f16(g, y, gx, n, log) : softmax_backward_row_f8(g, y, gx, n, log);
}

void softmax_row_double(const double* x, double* y, int64_t n, bool log) {
  double max = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) max = (x[i] > max || x[i] != x[i]) ? x[i] : max;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - max);
  if (log) {
    double log_sum = std::log(sum);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - max) - log_sum;
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i] - max) / sum;
  }
}

void softmax_backward_row_double(const double* g, const double* y, double* gx, int64_t n, bool log) {
  double dot = 0;
  for (int64_t i = 0; i < n; ++i) dot += log ? g[i] : g[i] * y[i];
  for (int64_t i = 0; i < n; ++i) gx[i] = log ? g[i] - std::exp(y[i]) * dot : y[i] * (g[i] - dot);
}

// `t` with `dim` last and contiguous (a copy unless it already is).
Tensor rows_along(const Tensor& t, int64_t d) {
  return contiguous(movedim(t, std::vector<int64_t>{d}, std::vector<int64_t>{-1}));
}
Tensor undo_rows(const Tensor& rows, int64_t d) {
  return contiguous(movedim(rows, std::vector<int64_t>{-1}, std::vector<int64_t>{d}));
}

// Runs row(x_rows..., n) over every row, in parallel, for float and double (other floating
// types compute in float).
template <class FloatRow, class DoubleRow>
Tensor over_rows(std::initializer_list<Tensor> inputs, int64_t dim, FloatRow float_row, DoubleRow double_row) {
  const Tensor& first = *inputs.begin();
  int64_t d = softmax_rules::softmax_dim(first, dim);
  ScalarType type = first.dtype();
  ScalarType compute = softmax_rules::compute_type(type);
  std::vector<Tensor> rows;
  for (const Tensor& t : inputs) rows.push_back(first.dim() == 0 ? to(t, compute) : rows_along(to(t, compute), d));
  Tensor out = empty_tensor(rows[0].sizes(), compute, first.device());
  int64_t n = first.dim() == 0 ? 1 : first.size(d);
  int64_t count = n == 0 ? 0 : out.numel() / n;
  parallel_for(0, count, std::max<int64_t>(1, 32768 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      if (compute == ScalarType::Float32) {
        float_row(rows, out.data<float>(), r * n, n);
      } else {
        double_row(rows, out.data<double>(), r * n, n);
      }
    }
  });
  Tensor result = first.dim() == 0 ? out : undo_rows(out, d);
  return to(result, type);
}

Tensor softmax_forward(const Tensor& self, int64_t dim, bool log) {
  softmax_rules::check_input_dtype(self, log);
  return over_rows({self}, dim,
      [log](const std::vector<Tensor>& in, float* out, int64_t offset, int64_t n) {
        softmax_row_float(in[0].data<float>() + offset, out + offset, n, log);
      },
      [log](const std::vector<Tensor>& in, double* out, int64_t offset, int64_t n) {
        softmax_row_double(in[0].data<double>() + offset, out + offset, n, log);
      });
}

Tensor softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim, bool log) {
  return over_rows({grad_output, output}, dim,
      [log](const std::vector<Tensor>& in, float* out, int64_t offset, int64_t n) {
        softmax_backward_row_float(in[0].data<float>() + offset, in[1].data<float>() + offset, out + offset, n, log);
      },
      [log](const std::vector<Tensor>& in, double* out, int64_t offset, int64_t n) {
        softmax_backward_row_double(in[0].data<double>() + offset, in[1].data<double>() + offset, out + offset, n, log);
      });
}

Tensor softmax_cpu(const Tensor& self, int64_t dim, bool) { return softmax_forward(self, dim, false); }
Tensor log_softmax_cpu(const Tensor& self, int64_t dim, bool) { return softmax_forward(self, dim, true); }
Tensor softmax_backward_cpu(const Tensor& g, const Tensor& out, int64_t dim, ScalarType) {
  return softmax_backward(g, out, dim, false);
}
Tensor log_softmax_backward_cpu(const Tensor& g, const Tensor& out, int64_t dim, ScalarType) {
  return softmax_backward(g, out, dim, true);
}

}  // namespace

VT_REGISTRATION(softmax_cpu) {
  register_kernel("_softmax", DispatchKey::CPU, &softmax_cpu);
  register_kernel("_log_softmax", DispatchKey::CPU, &log_softmax_cpu);
  register_kernel("_softmax_backward_data", DispatchKey::CPU, &softmax_backward_cpu);
  register_kernel("_log_softmax_backward_data", DispatchKey::CPU, &log_softmax_backward_cpu);
}

}  // namespace vt::cpu
