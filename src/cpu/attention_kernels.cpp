// Fused scaled-dot-product attention on the CPU (torch's `_scaled_dot_product_flash_attention_for_cpu`
// and its backward; schemas in src/ops/attention.cpp). One pass per query row: scores, a
// max-shifted softmax and the weighted sum of values, keeping only the row's logsumexp for the
// backward, which recomputes the probabilities instead of storing the L x S matrix.
//
// Each (batch, head) is one task; its keys and values are first transposed into a scratch
// buffer so that every inner loop runs over contiguous memory. Queries go in blocks of four
// rows: each key or value row loaded is used four times, and the four rows' sums are
// independent register accumulators, so the multiply-adds overlap instead of waiting on one
// another (one row at a time, the weighted sum of value rows was one long dependency chain).
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

void check_supported(const Tensor& query, double dropout_p, const std::optional<Tensor>& attn_mask, const char* op) {
  VT_CHECK_KIND(query.dtype() == ScalarType::Float32 || query.dtype() == ScalarType::Float64,
                ErrorKind::NotImplemented, op, "(): the fused kernel takes float32 and float64, got ",
                dtype_name(query.dtype()));
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

constexpr int kQueryBlock = 4;
constexpr int64_t kMaxBlockedHeadDim = 128;  // head dims up to this take the two-vector score loop

// scores[r * ld + j] = scale * q[r] . k_j for r < NR, j < count, from keys transposed to
// head_dim x keys.
template <int NR, class T>
VT_ALWAYS_INLINE void block_scores(const T* const* q, const T* __restrict keys_t, int64_t head_dim, int64_t keys,
                                   int64_t count, T scale, T* __restrict scores, int64_t ld) {
  for (int r = 0; r < NR; ++r) {
    for (int64_t j = 0; j < count; ++j) scores[r * ld + j] = T(0);
    for (int64_t d = 0; d < head_dim; ++d) {
      const T qd = q[r][d] * scale;
      const T* row = keys_t + d * keys;
      for (int64_t j = 0; j < count; ++j) scores[r * ld + j] += qd * row[j];
    }
  }
}
// Sixteen keys (two vectors) by NR rows per step: 2 * NR independent accumulators, with the
// query values scaled once per block and broadcast from memory.
template <int NR>
VT_ALWAYS_INLINE void block_scores(const float* const* q, const float* __restrict keys_t, int64_t head_dim,
                                   int64_t keys, int64_t count, float scale, float* __restrict scores, int64_t ld) {
  float scaled[NR][kMaxBlockedHeadDim];
  const bool blocked = head_dim <= kMaxBlockedHeadDim;
  if (blocked) {
    for (int r = 0; r < NR; ++r) {
      for (int64_t d = 0; d < head_dim; ++d) scaled[r][d] = q[r][d] * scale;
    }
  }
  int64_t j = 0;
  if (blocked) {
    for (; j + 2 * kLanes <= count; j += 2 * kLanes) {
      f8 lo[NR], hi[NR];
      for (int r = 0; r < NR; ++r) lo[r] = hi[r] = splat(0.0f);
      for (int64_t d = 0; d < head_dim; ++d) {
        const f8 k0 = load(keys_t + d * keys + j), k1 = load(keys_t + d * keys + j + kLanes);
        for (int r = 0; r < NR; ++r) {
          const f8 qd = splat(scaled[r][d]);
          lo[r] += qd * k0;
          hi[r] += qd * k1;
        }
      }
      for (int r = 0; r < NR; ++r) {
        store(scores + r * ld + j, lo[r]);
        store(scores + r * ld + j + kLanes, hi[r]);
      }
    }
  }
  for (; j + kLanes <= count; j += kLanes) {
    f8 acc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = splat(0.0f);
    for (int64_t d = 0; d < head_dim; ++d) {
      const f8 k = load(keys_t + d * keys + j);
      for (int r = 0; r < NR; ++r) acc[r] += splat(q[r][d] * scale) * k;
    }
    for (int r = 0; r < NR; ++r) store(scores + r * ld + j, acc[r]);
  }
  for (; j < count; ++j) {
    for (int r = 0; r < NR; ++r) {
      float acc = 0;
      for (int64_t d = 0; d < head_dim; ++d) acc += q[r][d] * scale * keys_t[d * keys + j];
      scores[r * ld + j] = acc;
    }
  }
}

// out[r][d] = sum_j weights[r * ld + j] * rows[j][d] for r < NR, j < count: probabilities times
// value rows (and score gradients times key rows for the query gradient).
template <int NR, class T>
VT_ALWAYS_INLINE void block_weighted_sum(const T* __restrict weights, int64_t ld, Rows<const T> rows, int64_t count,
                                         int64_t width, T* const* out) {
  for (int r = 0; r < NR; ++r) {
    for (int64_t d = 0; d < width; ++d) out[r][d] = T(0);
    for (int64_t j = 0; j < count; ++j) {
      const T w = weights[r * ld + j];
      const T* row = rows.row(j);
      for (int64_t d = 0; d < width; ++d) out[r][d] += w * row[d];
    }
  }
}
template <int NR>
VT_ALWAYS_INLINE void block_weighted_sum(const float* __restrict weights, int64_t ld, Rows<const float> rows,
                                         int64_t count, int64_t width, float* const* out) {
  int64_t d = 0;
  for (; d + 2 * kLanes <= width; d += 2 * kLanes) {
    f8 lo[NR], hi[NR];
    for (int r = 0; r < NR; ++r) lo[r] = hi[r] = splat(0.0f);
    for (int64_t j = 0; j < count; ++j) {
      const f8 v0 = load(rows.row(j) + d), v1 = load(rows.row(j) + d + kLanes);
      for (int r = 0; r < NR; ++r) {
        const f8 w = splat(weights[r * ld + j]);
        lo[r] += w * v0;
        hi[r] += w * v1;
      }
    }
    for (int r = 0; r < NR; ++r) {
      store(out[r] + d, lo[r]);
      store(out[r] + d + kLanes, hi[r]);
    }
  }
  for (; d + kLanes <= width; d += kLanes) {
    f8 acc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = splat(0.0f);
    for (int64_t j = 0; j < count; ++j) {
      const f8 v = load(rows.row(j) + d);
      for (int r = 0; r < NR; ++r) acc[r] += splat(weights[r * ld + j]) * v;
    }
    for (int r = 0; r < NR; ++r) store(out[r] + d, acc[r]);
  }
  for (; d < width; ++d) {
    for (int r = 0; r < NR; ++r) {
      float acc = 0;
      for (int64_t j = 0; j < count; ++j) acc += weights[r * ld + j] * rows.row(j)[d];
      out[r][d] = acc;
    }
  }
}

// rows[j][d] += sum_r weights[r * ld + j] * x[r][d] for j < count: the key and value gradients,
// one update of each row per block of queries.
template <int NR, class T>
VT_ALWAYS_INLINE void block_rank_update(const T* __restrict weights, int64_t ld, const T* const* x, int64_t count,
                                        int64_t width, Rows<T> rows) {
  for (int64_t j = 0; j < count; ++j) {
    T* row = rows.row(j);
    for (int r = 0; r < NR; ++r) {
      const T w = weights[r * ld + j];
      for (int64_t d = 0; d < width; ++d) row[d] += w * x[r][d];
    }
  }
}
template <int NR>
VT_ALWAYS_INLINE void block_rank_update(const float* __restrict weights, int64_t ld, const float* const* x,
                                        int64_t count, int64_t width, Rows<float> rows) {
  int64_t d = 0;
  for (; d + kLanes <= width; d += kLanes) {
    f8 xs[NR];
    for (int r = 0; r < NR; ++r) xs[r] = load(x[r] + d);
    for (int64_t j = 0; j < count; ++j) {
      f8 acc = load(rows.row(j) + d);
      for (int r = 0; r < NR; ++r) acc += splat(weights[r * ld + j]) * xs[r];
      store(rows.row(j) + d, acc);
    }
  }
  for (; d < width; ++d) {
    for (int64_t j = 0; j < count; ++j) {
      float acc = rows.row(j)[d];
      for (int r = 0; r < NR; ++r) acc += weights[r * ld + j] * x[r][d];
      rows.row(j)[d] = acc;
    }
  }
}

VT_ALWAYS_INLINE float row_max(const float* x, int64_t n) { return max_of(x, n); }
VT_ALWAYS_INLINE double row_max(const double* x, int64_t n) {
  double peak = x[0];
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

// Per-head scratch: keys and values transposed, a block of probability rows and their gradients.
template <class T>
struct HeadScratch {
  explicit HeadScratch(const AttentionShape& s)
      : keys_t(s.head_dim * s.keys), values_t(s.value_dim * s.keys), probs(kQueryBlock * s.keys),
        dprobs(kQueryBlock * s.keys) {}
  std::vector<T> keys_t, values_t, probs, dprobs;
};

// A block of NR query rows starting at row `first`, with the keys each row sees. Rows later in
// a causal block see more keys; the block works on the widest count, with zero probabilities
// past each row's own.
template <int NR>
struct QueryBlock {
  int64_t first;
  int64_t counts[NR];
  int64_t widest;
  QueryBlock(int64_t first_row, const AttentionShape& s, bool is_causal) : first(first_row), widest(0) {
    for (int r = 0; r < NR; ++r) {
      counts[r] = visible_keys(first + r, s.keys, is_causal);
      widest = std::max(widest, counts[r]);
    }
  }
  template <class T>
  void rows_of(Rows<T> m, T** out) const {
    for (int r = 0; r < NR; ++r) out[r] = m.row(first + r);
  }
};

template <int NR, class T>
VT_ALWAYS_INLINE void forward_block(const QueryBlock<NR>& b, Rows<const T> qh, Rows<const T> vh, Rows<T> oh, T* lseh,
                                    const AttentionShape& s, T scale, HeadScratch<T>& scratch) {
  const T* q[NR];
  T* o[NR];
  b.rows_of(qh, q);
  b.rows_of(oh, o);
  if (b.widest == 0) {  // no keys: zeros, as torch's safe softmax gives
    for (int r = 0; r < NR; ++r) {
      std::fill_n(o[r], s.value_dim, T(0));
      lseh[b.first + r] = -std::numeric_limits<T>::infinity();
    }
    return;
  }
  T* probs = scratch.probs.data();
  const int64_t ld = s.keys;
  block_scores<NR>(q, scratch.keys_t.data(), s.head_dim, s.keys, b.widest, scale, probs, ld);
  for (int r = 0; r < NR; ++r) {
    T* p = probs + r * ld;
    const int64_t count = b.counts[r];
    const T peak = row_max(p, count);
    const T total = exp_shifted(p, count, peak);
    const T inv_total = T(1) / total;
    for (int64_t j = 0; j < count; ++j) p[j] *= inv_total;
    std::fill(p + count, p + b.widest, T(0));
    lseh[b.first + r] = peak + std::log(total);
  }
  block_weighted_sum<NR>(probs, ld, vh, b.widest, s.value_dim, o);
}

template <class T>
VT_ALWAYS_INLINE void forward_head(Rows<const T> qh, Rows<const T> kh, Rows<const T> vh, Rows<T> oh, T* lseh,
                                   const AttentionShape& s, bool is_causal, T scale, HeadScratch<T>& scratch) {
  transpose_into(kh, s.keys, s.head_dim, scratch.keys_t.data());
  int64_t i = 0;
  for (; i + kQueryBlock <= s.queries; i += kQueryBlock) {
    forward_block(QueryBlock<kQueryBlock>(i, s, is_causal), qh, vh, oh, lseh, s, scale, scratch);
  }
  for (; i < s.queries; ++i) forward_block(QueryBlock<1>(i, s, is_causal), qh, vh, oh, lseh, s, scale, scratch);
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
template <int NR, class T>
VT_ALWAYS_INLINE void backward_block(const QueryBlock<NR>& b, const BackwardHead<T>& h, const AttentionShape& s,
                                     T scale, HeadScratch<T>& scratch) {
  const T *q[NR], *go[NR], *o[NR];
  T* dq[NR];
  b.rows_of(h.q, q);
  b.rows_of(h.grad_out, go);
  b.rows_of(h.out, o);
  b.rows_of(h.dq, dq);
  if (b.widest == 0) {
    for (int r = 0; r < NR; ++r) std::fill_n(dq[r], s.head_dim, T(0));
    return;
  }
  T* probs = scratch.probs.data();
  T* ds = scratch.dprobs.data();  // the probability gradients, then the score gradients in place
  const int64_t ld = s.keys;
  block_scores<NR>(q, scratch.keys_t.data(), s.head_dim, s.keys, b.widest, scale, probs, ld);
  block_scores<NR>(go, scratch.values_t.data(), s.value_dim, s.keys, b.widest, T(1), ds, ld);
  for (int r = 0; r < NR; ++r) {
    T* p = probs + r * ld;
    T* dsr = ds + r * ld;
    const int64_t count = b.counts[r];
    exp_shifted(p, count, h.lse[b.first + r]);
    T go_dot_o = 0;
    for (int64_t d = 0; d < s.value_dim; ++d) go_dot_o += go[r][d] * o[r][d];
    for (int64_t j = 0; j < count; ++j) dsr[j] = p[j] * (dsr[j] - go_dot_o) * scale;
    std::fill(p + count, p + b.widest, T(0));
    std::fill(dsr + count, dsr + b.widest, T(0));
  }
  block_weighted_sum<NR>(ds, ld, h.k, b.widest, s.head_dim, dq);
  block_rank_update<NR>(ds, ld, q, b.widest, s.head_dim, h.dk);
  block_rank_update<NR>(probs, ld, go, b.widest, s.value_dim, h.dv);
}

template <class T>
VT_ALWAYS_INLINE void backward_head(const BackwardHead<T>& h, const AttentionShape& s, bool is_causal, T scale,
                                    HeadScratch<T>& scratch) {
  transpose_into(h.k, s.keys, s.head_dim, scratch.keys_t.data());
  transpose_into(h.v, s.keys, s.value_dim, scratch.values_t.data());
  for (int64_t j = 0; j < s.keys; ++j) {
    std::fill_n(h.dk.row(j), s.head_dim, T(0));
    std::fill_n(h.dv.row(j), s.value_dim, T(0));
  }
  int64_t i = 0;
  for (; i + kQueryBlock <= s.queries; i += kQueryBlock) {
    backward_block(QueryBlock<kQueryBlock>(i, s, is_causal), h, s, scale, scratch);
  }
  for (; i < s.queries; ++i) backward_block(QueryBlock<1>(i, s, is_causal), h, s, scale, scratch);
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
  check_supported(query_in, dropout_p, attn_mask, op);
  AttentionShape s = attention_shape(query_in, key_in, value_in, op);
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
  check_supported(query_in, dropout_p, attn_mask, op);
  AttentionShape s = attention_shape(query_in, key_in, value_in, op);
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
