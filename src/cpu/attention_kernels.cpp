// Fused scaled-dot-product attention on the CPU (torch's `_scaled_dot_product_flash_attention_for_cpu`
// and its backward; schemas in src/ops/attention.cpp). One pass per query row: scores, a
// max-shifted softmax and the weighted sum of values, keeping only the row's logsumexp for the
// backward, which recomputes the probabilities instead of storing the L x S matrix.
//
// Each (batch, head) is one task; its keys and values are first transposed into a scratch
// buffer so that every inner loop runs over contiguous memory with independent accumulators,
// which the compiler vectorizes without reassociating sums.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "src/cpu/vec_math.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {

namespace {

// The geometry shared by forward and backward: heads = product of the leading dims.
struct AttentionShape {
  int64_t heads, queries, keys, head_dim, value_dim;
};

AttentionShape attention_shape(const Tensor& q, const Tensor& k, const Tensor& v, const char* op) {
  VT_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(), op,
           "(): query, key and value must have the same number of dims (at least 2), got ", q.dim(), ", ", k.dim(),
           " and ", v.dim());
  for (int64_t d = 0; d < q.dim() - 2; ++d) {
    VT_CHECK(q.size(d) == k.size(d) && q.size(d) == v.size(d), op,
             "(): query, key and value must share their batch dims, got ", shape_str(q.sizes()), ", ",
             shape_str(k.sizes()), " and ", shape_str(v.sizes()));
  }
  VT_CHECK(q.size(-1) == k.size(-1), op, "(): query and key must have the same embedding size, got ", q.size(-1),
           " and ", k.size(-1));
  VT_CHECK(k.size(-2) == v.size(-2), op, "(): key and value must have the same sequence length, got ", k.size(-2),
           " and ", v.size(-2));
  VT_CHECK(q.dtype() == k.dtype() && q.dtype() == v.dtype(), op, "(): query, key and value must have one dtype, got ",
           dtype_name(q.dtype()), ", ", dtype_name(k.dtype()), " and ", dtype_name(v.dtype()));
  int64_t heads = 1;
  for (int64_t d = 0; d < q.dim() - 2; ++d) heads *= q.size(d);
  return {heads, q.size(-2), k.size(-2), q.size(-1), v.size(-1)};
}

void check_supported(double dropout_p, const std::optional<Tensor>& attn_mask, const char* op) {
  VT_CHECK_KIND(dropout_p == 0.0, ErrorKind::NotImplemented, op, "(): dropout is not supported by the fused kernel");
  VT_CHECK_KIND(!attn_mask || !attn_mask->defined(), ErrorKind::NotImplemented, op,
                "(): attn_mask is not supported by the fused kernel");
}

// One head's matrix: `rows` rows, each contiguous, `stride` elements apart. The kernels read
// q, k, v and the output gradient through these, so the views that split heads out of a
// [batch, tokens, heads * dim] projection need no copy.
template <class T>
struct Rows {
  T* data;
  int64_t stride;
  VT_ALWAYS_INLINE T* row(int64_t i) const { return data + i * stride; }
};

// rows x cols (strided rows) -> cols x rows, contiguous.
template <class T>
VT_ALWAYS_INLINE void transpose_into(Rows<const T> in, int64_t rows, int64_t cols, T* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = in.row(r);
    for (int64_t c = 0; c < cols; ++c) out[c * rows + r] = row[c];
  }
}

// scores[j] = scale * q . k_j for j < count, from keys transposed to head_dim x keys.
template <class T>
VT_ALWAYS_INLINE void row_scores(const T* q, const T* __restrict keys_t, int64_t head_dim, int64_t keys,
                                 int64_t count, T scale, T* __restrict scores) {
  for (int64_t j = 0; j < count; ++j) scores[j] = T(0);
  for (int64_t d = 0; d < head_dim; ++d) {
    const T qd = q[d] * scale;
    const T* row = keys_t + d * keys;
    for (int64_t j = 0; j < count; ++j) scores[j] += qd * row[j];
  }
}

// The float version keeps eight scores in a register across the whole head dim (one store per
// eight scores instead of one per multiply-add).
VT_ALWAYS_INLINE void row_scores(const float* q, const float* __restrict keys_t, int64_t head_dim, int64_t keys,
                                 int64_t count, float scale, float* __restrict scores) {
  int64_t j = 0;
  for (; j + kLanes <= count; j += kLanes) {
    f8 acc = splat(0.0f);
    for (int64_t d = 0; d < head_dim; ++d) acc += splat(q[d] * scale) * load(keys_t + d * keys + j);
    store(scores + j, acc);
  }
  for (; j < count; ++j) {
    float acc = 0;
    for (int64_t d = 0; d < head_dim; ++d) acc += q[d] * scale * keys_t[d * keys + j];
    scores[j] = acc;
  }
}

// out[d] = sum_j weights[j] * rows[j][d]: the probability-weighted sum of value rows (and of key
// rows for the query gradient), accumulated in registers rather than in `out`.
template <class T>
VT_ALWAYS_INLINE void weighted_row_sum(const T* __restrict weights, Rows<const T> rows, int64_t count, int64_t width,
                                       T* __restrict out) {
  for (int64_t d = 0; d < width; ++d) out[d] = T(0);
  for (int64_t j = 0; j < count; ++j) {
    const T* row = rows.row(j);
    for (int64_t d = 0; d < width; ++d) out[d] += weights[j] * row[d];
  }
}
VT_ALWAYS_INLINE void weighted_row_sum(const float* __restrict weights, Rows<const float> rows, int64_t count,
                                       int64_t width, float* __restrict out) {
  int64_t d = 0;
  for (; d + kLanes <= width; d += kLanes) {
    f8 acc = splat(0.0f);
    for (int64_t j = 0; j < count; ++j) acc += splat(weights[j]) * load(rows.row(j) + d);
    store(out + d, acc);
  }
  for (; d < width; ++d) {
    float acc = 0;
    for (int64_t j = 0; j < count; ++j) acc += weights[j] * rows.row(j)[d];
    out[d] = acc;
  }
}

template <class T>
VT_ALWAYS_INLINE T row_max(const T* x, int64_t n) {
  T peak = x[0];
  for (int64_t j = 1; j < n; ++j) peak = x[j] > peak ? x[j] : peak;
  return peak;
}

// x[j] = exp(x[j] - shift), returning the sum: vectorized for float (vec_math.h's exp).
VT_ALWAYS_INLINE float exp_shifted(float* x, int64_t n, float shift) { return exp_shifted_and_sum(x, n, shift); }
VT_ALWAYS_INLINE double exp_shifted(double* x, int64_t n, double shift) {
  double total = 0;
  for (int64_t j = 0; j < n; ++j) {
    x[j] = std::exp(x[j] - shift);
    total += x[j];
  }
  return total;
}

// torch's causal mask is tril(ones(L, S)): query i sees keys 0..i.
VT_ALWAYS_INLINE int64_t visible_keys(int64_t i, int64_t keys, bool is_causal) {
  return is_causal ? std::min(i + 1, keys) : keys;
}

// Per-head scratch: keys and values transposed, one row of probabilities and its gradient.
template <class T>
struct HeadScratch {
  explicit HeadScratch(const AttentionShape& s)
      : keys_t(s.head_dim * s.keys), values_t(s.value_dim * s.keys), probs(s.keys), dprobs(s.keys) {}
  std::vector<T> keys_t, values_t, probs, dprobs;
};

template <class T>
VT_ALWAYS_INLINE void forward_head(Rows<const T> qh, Rows<const T> kh, Rows<const T> vh, Rows<T> oh, T* lseh,
                                   const AttentionShape& s, bool is_causal, T scale, HeadScratch<T>& scratch) {
  T* probs = scratch.probs.data();
  transpose_into(kh, s.keys, s.head_dim, scratch.keys_t.data());
  for (int64_t i = 0; i < s.queries; ++i) {
    const int64_t count = visible_keys(i, s.keys, is_causal);
    T* o = oh.row(i);
    if (count == 0) {  // nothing to attend to: zeros, as torch's safe softmax gives
      for (int64_t d = 0; d < s.value_dim; ++d) o[d] = T(0);
      lseh[i] = -std::numeric_limits<T>::infinity();
      continue;
    }
    row_scores(qh.row(i), scratch.keys_t.data(), s.head_dim, s.keys, count, scale, probs);
    const T peak = row_max(probs, count);
    const T total = exp_shifted(probs, count, peak);
    const T inv_total = T(1) / total;
    for (int64_t j = 0; j < count; ++j) probs[j] *= inv_total;
    weighted_row_sum(probs, vh, count, s.value_dim, o);
    lseh[i] = peak + std::log(total);
  }
}

// The tensors of one head's backward, as rows.
template <class T>
struct BackwardHead {
  Rows<const T> grad_out, q, k, v, out;
  const T* lse;
  Rows<T> dq, dk, dv;
};

// With p = softmax row and dO the output gradient: dV += p^T dO, dp = dO V^T,
// ds = p (dp - rowsum(dO * O)), dQ = scale ds K, dK += scale ds^T Q.
template <class T>
VT_ALWAYS_INLINE void backward_head(const BackwardHead<T>& h, const AttentionShape& s, bool is_causal, T scale,
                                    HeadScratch<T>& scratch) {
  T* probs = scratch.probs.data();
  T* dprobs = scratch.dprobs.data();
  transpose_into(h.k, s.keys, s.head_dim, scratch.keys_t.data());
  transpose_into(h.v, s.keys, s.value_dim, scratch.values_t.data());
  for (int64_t j = 0; j < s.keys; ++j) {
    std::fill_n(h.dk.row(j), s.head_dim, T(0));
    std::fill_n(h.dv.row(j), s.value_dim, T(0));
  }
  for (int64_t i = 0; i < s.queries; ++i) {
    const int64_t count = visible_keys(i, s.keys, is_causal);
    const T* qi = h.q.row(i);
    const T* go = h.grad_out.row(i);
    const T* oi = h.out.row(i);
    T* dqi = h.dq.row(i);
    if (count == 0) {
      for (int64_t d = 0; d < s.head_dim; ++d) dqi[d] = T(0);
      continue;
    }
    row_scores(qi, scratch.keys_t.data(), s.head_dim, s.keys, count, scale, probs);
    exp_shifted(probs, count, h.lse[i]);
    row_scores(go, scratch.values_t.data(), s.value_dim, s.keys, count, T(1), dprobs);
    T go_dot_o = 0;
    for (int64_t d = 0; d < s.value_dim; ++d) go_dot_o += go[d] * oi[d];
    T* ds = dprobs;  // the score gradients replace the probability gradients in place
    for (int64_t j = 0; j < count; ++j) ds[j] = probs[j] * (dprobs[j] - go_dot_o) * scale;
    weighted_row_sum(ds, h.k, count, s.head_dim, dqi);
    for (int64_t j = 0; j < count; ++j) {
      const T p = probs[j], ds_j = ds[j];
      T* __restrict dkj = h.dk.row(j);
      T* __restrict dvj = h.dv.row(j);
      for (int64_t d = 0; d < s.head_dim; ++d) dkj[d] += ds_j * qi[d];
      for (int64_t d = 0; d < s.value_dim; ++d) dvj[d] += p * go[d];
    }
  }
}

// float heads get an AVX2+FMA build of the loops above (picked at load time); double stays portable.
VT_MULTIVERSION void forward_one_head(Rows<const float> qh, Rows<const float> kh, Rows<const float> vh,
                                      Rows<float> oh, float* lseh, const AttentionShape& s, bool is_causal,
                                      float scale, HeadScratch<float>& scratch) {
  forward_head(qh, kh, vh, oh, lseh, s, is_causal, scale, scratch);
}
VT_MULTIVERSION void backward_one_head(const BackwardHead<float>& h, const AttentionShape& s, bool is_causal,
                                       float scale, HeadScratch<float>& scratch) {
  backward_head(h, s, is_causal, scale, scratch);
}
void forward_one_head(Rows<const double> qh, Rows<const double> kh, Rows<const double> vh, Rows<double> oh,
                      double* lseh, const AttentionShape& s, bool is_causal, double scale,
                      HeadScratch<double>& scratch) {
  forward_head(qh, kh, vh, oh, lseh, s, is_causal, scale, scratch);
}
void backward_one_head(const BackwardHead<double>& h, const AttentionShape& s, bool is_causal, double scale,
                       HeadScratch<double>& scratch) {
  backward_head(h, s, is_causal, scale, scratch);
}

// A tensor as a list of heads (its leading dims, flattened): each head's first element and the
// stride between its rows. The last dim must be contiguous (see unit_last_stride).
template <class T>
class HeadRows {
 public:
  explicit HeadRows(const Tensor& t) : data_(t.data<T>()), row_stride_(t.stride(-2)) {
    const int64_t leading = t.dim() - 2;
    int64_t heads = 1;
    for (int64_t d = 0; d < leading; ++d) heads *= t.size(d);
    offsets_.resize(heads);
    for (int64_t h = 0; h < heads; ++h) {
      int64_t rest = h, offset = 0;
      for (int64_t d = leading - 1; d >= 0; --d) {
        offset += (rest % t.size(d)) * t.stride(d);
        rest /= t.size(d);
      }
      offsets_[h] = offset;
    }
  }
  Rows<T> head(int64_t h) const { return {data_ + offsets_[h], row_stride_}; }
  Rows<const T> const_head(int64_t h) const { return {data_ + offsets_[h], row_stride_}; }

 private:
  T* data_;
  int64_t row_stride_;
  std::vector<int64_t> offsets_;
};

// Each (batch, head) is one task.
template <class T>
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out, T* lse,
                       const AttentionShape& s, bool is_causal, T scale) {
  HeadRows<T> qs(q), ks(k), vs(v), outs(out);
  parallel_for(0, s.heads, 1, [&](int64_t first, int64_t last) {
    HeadScratch<T> scratch(s);
    for (int64_t h = first; h < last; ++h) {
      forward_one_head(qs.const_head(h), ks.const_head(h), vs.const_head(h), outs.head(h), lse + h * s.queries, s,
                       is_causal, scale, scratch);
    }
  });
}

template <class T>
void attention_backward(const Tensor& grad_out, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                        const T* lse, const Tensor& dq, const Tensor& dk, const Tensor& dv, const AttentionShape& s,
                        bool is_causal, T scale) {
  HeadRows<T> gos(grad_out), qs(q), ks(k), vs(v), outs(out), dqs(dq), dks(dk), dvs(dv);
  parallel_for(0, s.heads, 1, [&](int64_t first, int64_t last) {
    HeadScratch<T> scratch(s);
    for (int64_t h = first; h < last; ++h) {
      BackwardHead<T> head{gos.const_head(h), qs.const_head(h), ks.const_head(h), vs.const_head(h),
                           outs.const_head(h), lse + h * s.queries, dqs.head(h), dks.head(h), dvs.head(h)};
      backward_one_head(head, s, is_causal, scale, scratch);
    }
  });
}

// The kernels need contiguous rows; any other strides are fine.
Tensor unit_last_stride(const Tensor& t) { return t.size(-1) <= 1 || t.stride(-1) == 1 ? t : contiguous(t); }

// A new tensor shaped like `like` with last dim `last`, laid out as [..., rows, heads, last]
// (heads = dim -3): torch's flash kernel gives its output this layout, and then merging the
// heads back into [batch, rows, heads * last] is a view.
Tensor empty_rows_by_head(const Tensor& like, int64_t last) {
  DimVector sizes(like.sizes().begin(), like.sizes().end());
  sizes.back() = last;
  if (like.dim() < 3) return empty(sizes, like.dtype(), like.device());
  std::swap(sizes[sizes.size() - 2], sizes[sizes.size() - 3]);
  return transpose(empty(sizes, like.dtype(), like.device()), -3, -2);
}

double scale_of(const Tensor& query, std::optional<double> scale) {
  return scale.value_or(1.0 / std::sqrt(static_cast<double>(query.size(-1))));
}

std::tuple<Tensor, Tensor> flash_attention_cpu(const Tensor& query_in, const Tensor& key_in, const Tensor& value_in,
                                               double dropout_p, bool is_causal,
                                               const std::optional<Tensor>& attn_mask, std::optional<double> scale) {
  const char* op = "_scaled_dot_product_flash_attention_for_cpu";
  check_supported(dropout_p, attn_mask, op);
  AttentionShape s = attention_shape(query_in, key_in, value_in, op);
  VT_CHECK_KIND(query_in.dtype() == ScalarType::Float32 || query_in.dtype() == ScalarType::Float64,
                ErrorKind::NotImplemented, op, "(): the fused kernel takes float32 and float64, got ",
                dtype_name(query_in.dtype()));
  Tensor q = unit_last_stride(query_in), k = unit_last_stride(key_in), v = unit_last_stride(value_in);
  Tensor out = empty_rows_by_head(q, s.value_dim);
  Tensor lse = empty(IntArrayRef(q.sizes().data(), q.dim() - 1), q.dtype(), q.device());
  dispatch_floating_types(q.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      attention_forward<T>(q, k, v, out, lse.data<T>(), s, is_causal, T(scale_of(q, scale)));
    }
  });
  return {out, lse};
}

std::tuple<Tensor, Tensor, Tensor> flash_attention_backward_cpu(
    const Tensor& grad_out_in, const Tensor& query_in, const Tensor& key_in, const Tensor& value_in,
    const Tensor& out_in, const Tensor& logsumexp_in, double dropout_p, bool is_causal,
    const std::optional<Tensor>& attn_mask, std::optional<double> scale) {
  const char* op = "_scaled_dot_product_flash_attention_for_cpu_backward";
  check_supported(dropout_p, attn_mask, op);
  AttentionShape s = attention_shape(query_in, key_in, value_in, op);
  VT_CHECK_KIND(query_in.dtype() == ScalarType::Float32 || query_in.dtype() == ScalarType::Float64,
                ErrorKind::NotImplemented, op, "(): the fused kernel takes float32 and float64, got ",
                dtype_name(query_in.dtype()));
  VT_CHECK(std::ranges::equal(grad_out_in.sizes(), out_in.sizes()) && grad_out_in.dim() == query_in.dim() &&
               grad_out_in.size(-1) == s.value_dim && grad_out_in.size(-2) == s.queries &&
               logsumexp_in.numel() == s.heads * s.queries,
           op, "(): grad_out, out and logsumexp do not match the query, key and value shapes");
  Tensor q = unit_last_stride(query_in), k = unit_last_stride(key_in), v = unit_last_stride(value_in);
  Tensor grad_out = unit_last_stride(to(grad_out_in, q.dtype())), out = unit_last_stride(out_in);
  Tensor lse = contiguous(logsumexp_in);
  Tensor dq = empty_rows_by_head(q, s.head_dim), dk = empty_rows_by_head(k, s.head_dim),
         dv = empty_rows_by_head(v, s.value_dim);
  dispatch_floating_types(q.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      attention_backward<T>(grad_out, q, k, v, out, lse.data<T>(), dq, dk, dv, s, is_causal, T(scale_of(q, scale)));
    }
  });
  return {dq, dk, dv};
}

}  // namespace

VT_REGISTRATION(attention_cpu) {
  register_kernel("_scaled_dot_product_flash_attention_for_cpu", DispatchKey::CPU, &flash_attention_cpu);
  register_kernel("_scaled_dot_product_flash_attention_for_cpu_backward", DispatchKey::CPU,
                  &flash_attention_backward_cpu);
}

}  // namespace vt::cpu
