// Ops written in terms of other ops. Each is differentiable (and works on every backend)
// because its parts are; a fused kernel can replace one later without changing its schema.
#include <cmath>

#include "vt/autograd/meta.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

// With a bias, the rows of the input (folded into one matrix when that is a view) go through
// addmm, which adds the bias inside the matrix product, as torch's linear does.
Tensor linear_composite(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias) {
  VT_CHECK(weight.dim() == 1 || weight.dim() == 2, "linear(): weight must be 1-D or 2-D, got ", weight.dim(), "-D");
  if (bias && weight.dim() == 2 && input.dim() == 2) return addmm(*bias, input, t(weight));
  if (bias && weight.dim() == 2 && input.dim() > 2 && bias->dim() == 1 && input.is_contiguous() &&
      input.size(-1) == weight.size(1)) {
    DimVector out_shape(input.sizes().begin(), input.sizes().end());
    out_shape.back() = weight.size(0);
    Tensor rows = reshape(input, std::vector<int64_t>{input.numel() / std::max<int64_t>(input.size(-1), 1), input.size(-1)});
    return reshape(addmm(*bias, rows, t(weight)), out_shape);
  }
  Tensor out = matmul(input, weight.dim() == 2 ? t(weight) : weight);
  return bias ? add(out, *bias) : out;
}

// beta and alpha in self's dtype: for integer tensors torch truncates them (beta=0.5 drops self).
Tensor scale_of(const Tensor& self, const Scalar& s) {
  if (is_floating_point(self.dtype())) return scalar_to_tensor(s);
  return scalar_to_tensor(Scalar(static_cast<int64_t>(s.to_double())));
}

Tensor scaled_sum(const Tensor& self, Tensor product, const Scalar& beta, const Scalar& alpha) {
  if (alpha.to_double() != 1) product = mul(product, scale_of(product, alpha));
  bool integral = !is_floating_point(self.dtype());
  double b = integral ? static_cast<double>(static_cast<int64_t>(beta.to_double())) : beta.to_double();
  if (b == 0) return add(product, mul(zeros_like(self), self));  // self ignored, NaN included (as torch)
  return add(b == 1 ? self : mul(self, scale_of(self, beta)), product);
}

Tensor baddbmm_composite(const Tensor& self, const Tensor& b1, const Tensor& b2, const Scalar& beta, const Scalar& alpha) {
  return scaled_sum(self, bmm(b1, b2), beta, alpha);
}

Tensor outer_composite(const Tensor& self, const Tensor& vec2) {
  VT_CHECK(self.dim() == 1 && vec2.dim() == 1, "outer: Expected 1-D argument self, but got ", self.dim(), "-D");
  return mul(unsqueeze(self, 1), unsqueeze(vec2, 0));
}

Tensor dot_composite(const Tensor& self, const Tensor& other) {
  VT_CHECK(self.dim() == 1 && other.dim() == 1, "1D tensors expected, but got ", self.dim(), "D and ", other.dim(),
           "D tensors");
  return matmul(self, other);
}

// The positions (row, column) of the last two dims, compared with the diagonal offset.
Tensor triangle_mask(const Tensor& self, int64_t diagonal, bool upper) {
  VT_CHECK(self.dim() >= 2, upper ? "triu" : "tril", ": input tensor must have at least 2 dimensions");
  int64_t rows = self.size(-2), cols = self.size(-1);
  Tensor row = reshape(arange(0, rows, 1, ScalarType::Int64, self.device()), std::vector<int64_t>{rows, 1});
  Tensor col = reshape(arange(0, cols, 1, ScalarType::Int64, self.device()), std::vector<int64_t>{1, cols});
  Tensor offset = sub(col, row);
  return upper ? ge(offset, scalar_to_tensor(diagonal)) : le(offset, scalar_to_tensor(diagonal));
}
Tensor triu_composite(const Tensor& self, int64_t diagonal) {
  return where(triangle_mask(self, diagonal, true), self, zeros({}, self.dtype(), self.device()));
}
Tensor tril_composite(const Tensor& self, int64_t diagonal) {
  return where(triangle_mask(self, diagonal, false), self, zeros({}, self.dtype(), self.device()));
}

Tensor one_hot_composite(const Tensor& self, int64_t num_classes) {
  VT_CHECK(self.dtype() == ScalarType::Int64, "one_hot is only applicable to index tensor of type LongTensor.");
  int64_t classes = num_classes;
  if (classes < 0) {
    VT_CHECK(self.numel() > 0, "Can not infer total number of classes from empty tensor.");
    classes = max(self).item().to_int() + 1;
  }
  if (self.numel() > 0) {
    VT_CHECK(min(self).item().to_int() >= 0, "Class values must be non-negative.");
    VT_CHECK(max(self).item().to_int() < classes, "Class values must be smaller than num_classes.");
  }
  Tensor positions = arange(0, classes, 1, ScalarType::Int64, self.device());
  return to(eq(unsqueeze(self, -1), positions), ScalarType::Int64);
}

Tensor repeat_composite(const Tensor& self, IntArrayRef repeats) {
  VT_CHECK(static_cast<int64_t>(repeats.size()) >= self.dim(), "Number of dimensions of repeat dims can not be smaller "
           "than number of dimensions of tensor");
  // Pad self's shape with leading 1s, give every dim a new size-1 dim in front, expand those
  // to the repeat counts and merge each pair.
  int64_t n = static_cast<int64_t>(repeats.size());
  DimVector padded(n - self.dim(), 1);
  for (int64_t s : self.sizes()) padded.push_back(s);
  DimVector interleaved, expanded, result;
  for (int64_t d = 0; d < n; ++d) {
    VT_CHECK(repeats[d] >= 0, "Trying to create tensor with negative dimension ", repeats[d]);
    interleaved.push_back(1);
    interleaved.push_back(padded[d]);
    expanded.push_back(repeats[d]);
    expanded.push_back(padded[d]);
    result.push_back(repeats[d] * padded[d]);
  }
  return reshape(expand(reshape(self, interleaved), expanded), result);
}

Tensor flip_composite(const Tensor& self, IntArrayRef dims) {
  if (self.dim() == 0) {  // dims 0 / -1 name the only element
    for (int64_t dim : dims) wrap_dim(dim, 1);
    return clone(self);
  }
  Tensor out = self;
  std::vector<bool> seen(self.dim(), false);
  for (int64_t dim : dims) {
    int64_t d = wrap_dim(dim, self.dim());
    VT_CHECK(!seen[d], "dim ", d, " appears multiple times in the list of dims");
    seen[d] = true;
    int64_t size = self.sizes()[d];
    out = index_select(out, d, arange(size - 1, -1, -1, ScalarType::Int64, self.device()));
  }
  return dims.empty() ? clone(self) : out;
}

Tensor movedim_composite(const Tensor& self, IntArrayRef source, IntArrayRef destination) {
  VT_CHECK(source.size() == destination.size(), "movedim: Invalid source or destination dims: source (",
           shape_str(source), " dims) should contain the same number of dims as destination (", shape_str(destination),
           " dims)");
  int64_t n = self.dim();
  if (n == 0) {  // a 0-dim tensor takes dim 0 / -1, and nothing moves
    for (size_t i = 0; i < source.size(); ++i) {
      wrap_dim(source[i], 1);
      wrap_dim(destination[i], 1);
    }
    return permute(self, std::vector<int64_t>{});
  }
  std::vector<int64_t> order(n, -1);
  std::vector<bool> used(n, false);
  for (size_t i = 0; i < source.size(); ++i) {
    int64_t from = wrap_dim(source[i], n), to_dim = wrap_dim(destination[i], n);
    VT_CHECK(order[to_dim] == -1 && !used[from], "movedim: repeated dim in `source` or `destination`");
    order[to_dim] = from;
    used[from] = true;
  }
  int64_t next = 0;
  for (int64_t& slot : order) {
    if (slot != -1) continue;
    while (used[next]) ++next;
    slot = next;
    used[next] = true;
  }
  return permute(self, order);
}

Tensor any_composite(const Tensor& self, OptionalDims dims, bool keepdim) {
  if (self.numel() == 0) return to(sum(ne(self, scalar_to_tensor(0)), dims, keepdim), ScalarType::Bool);
  return amax(ne(self, scalar_to_tensor(0)), dims, keepdim);
}
Tensor all_composite(const Tensor& self, OptionalDims dims, bool keepdim) {
  if (self.numel() == 0) return eq(sum(eq(self, scalar_to_tensor(0)), dims, keepdim), scalar_to_tensor(0));
  return amin(ne(self, scalar_to_tensor(0)), dims, keepdim);
}
Tensor count_nonzero_composite(const Tensor& self, OptionalDims dims) { return sum(ne(self, scalar_to_tensor(0)), dims); }

// pad with mode "constant": the input copied into the middle of a filled tensor. Negative
// pads crop.
Tensor pad_constant_composite(const Tensor& self, IntArrayRef pad, const Scalar& value) {
  VT_CHECK(pad.size() % 2 == 0, "Padding length must be divisible by 2");
  int64_t pairs = static_cast<int64_t>(pad.size()) / 2;
  VT_CHECK(pairs <= self.dim(), "Padding length should be less than or equal to two times the input dimension but got "
           "padding length ", pad.size(), " and input of dimension ", self.dim());
  DimVector shape(self.sizes());
  Tensor source = self;
  for (int64_t i = 0; i < pairs; ++i) {
    int64_t d = self.dim() - 1 - i;
    int64_t before = pad[2 * i], after = pad[2 * i + 1];
    // Crop first (negative pads), then grow.
    int64_t start = before < 0 ? -before : 0;
    int64_t stop = shape[d] - (after < 0 ? -after : 0);
    VT_CHECK(stop - start >= 0, "The input size ", shape[d], ", plus negative padding ", before, " and ", after,
             " resulted in a negative output size, which is invalid. Check dimension ", d, " of your input.");
    source = narrow(source, d, start, stop - start);
    shape[d] = stop - start + std::max<int64_t>(before, 0) + std::max<int64_t>(after, 0);
  }
  Tensor out = full(shape, value, self.dtype(), self.device());
  Tensor window = out;
  for (int64_t i = 0; i < pairs; ++i) {
    int64_t d = self.dim() - 1 - i;
    window = narrow(window, d, std::max<int64_t>(pad[2 * i], 0), source.size(d));
  }
  copy_(window, source);
  return out;
}

// The fused CPU kernel serves float32/float64 attention without mask or dropout, where query,
// key and value share their batch dims; dual tensors take the formula below (its ops carry
// tangents), and so does everything else.
bool fused_attention_applies(const Tensor& q, const Tensor& k, const Tensor& v, const std::optional<Tensor>& mask,
                             double dropout_p) {
  if (mask || dropout_p > 0 || !q.device().is_cpu()) return false;
  if (q.dtype() != ScalarType::Float32 && q.dtype() != ScalarType::Float64) return false;
  if (k.dtype() != q.dtype() || v.dtype() != q.dtype() || q.dim() < 2 || k.dim() != q.dim() || v.dim() != q.dim()) {
    return false;
  }
  for (int64_t d = 0; d < q.dim() - 2; ++d) {
    if (k.size(d) != q.size(d) || v.size(d) != q.size(d)) return false;
  }
  if (q.size(-1) != k.size(-1) || k.size(-2) != v.size(-2) || q.numel() == 0 || k.numel() == 0 || v.numel() == 0) {
    return false;
  }
  return !autograd::any_has_tangent({&q, &k, &v});
}

Tensor sdpa_composite(const Tensor& query, const Tensor& key, const Tensor& value, const std::optional<Tensor>& attn_mask,
                      double dropout_p, bool is_causal, std::optional<double> scale, bool enable_gqa) {
  VT_CHECK_KIND(!enable_gqa, ErrorKind::NotImplemented, "scaled_dot_product_attention(): enable_gqa is not supported yet");
  VT_CHECK(!(is_causal && attn_mask), "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
           "is_causal=True");
  if (fused_attention_applies(query, key, value, attn_mask, dropout_p)) {
    return std::get<0>(_scaled_dot_product_flash_attention_for_cpu(query, key, value, 0.0, is_causal, std::nullopt, scale));
  }
  int64_t head_dim = query.size(-1);
  double factor = scale.value_or(1.0 / std::sqrt(static_cast<double>(head_dim)));
  Tensor scores = mul(matmul(query, transpose(key, -2, -1)), scalar_to_tensor(factor));
  int64_t l = query.size(-2), s = key.size(-2);
  if (is_causal) {
    Tensor allowed = tril(ones(std::vector<int64_t>{l, s}, ScalarType::Bool, query.device()), 0);
    scores = masked_fill(scores, logical_not(allowed), -std::numeric_limits<double>::infinity());
  }
  if (attn_mask) {
    scores = attn_mask->dtype() == ScalarType::Bool
                 ? masked_fill(scores, logical_not(*attn_mask), -std::numeric_limits<double>::infinity())
                 : add(scores, *attn_mask);
  }
  Tensor weights = softmax(scores, -1);
  if (attn_mask || is_causal) {
    // A query whose every score is -inf (all masked) gets zeros, not the NaN of its softmax:
    // torch's safe softmax.
    Tensor attends = any(ne(scores, scalar_to_tensor(-std::numeric_limits<double>::infinity())),
                         std::vector<int64_t>{-1}, true);
    weights = where(attends, weights, zeros({}, weights.dtype(), weights.device()));
  }
  if (dropout_p > 0) weights = dropout(weights, dropout_p, true);
  return matmul(weights, value);
}

}  // namespace

namespace linalg {
// addmm from mm and pointwise ops: where the CPU and CUDA kernels (src/cpu/blas_kernels.cpp,
// src/cuda/blas_kernels.cu) send what BLAS and cuBLASLt do not take.
Tensor addmm_decomposed(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
                        const Scalar& alpha) {
  return scaled_sum(self, mm(mat1, mat2), beta, alpha);
}
}  // namespace linalg

VT_REGISTRATION(composite_ops) {
  Registry& r = Registry::instance();
  r.define("linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor");
  r.define("addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1) -> Tensor");
  r.define("baddbmm(Tensor self, Tensor batch1, Tensor batch2, *, Scalar beta=1, Scalar alpha=1) -> Tensor");
  r.define("outer(Tensor self, Tensor vec2) -> Tensor");
  r.define("dot(Tensor self, Tensor tensor) -> Tensor");
  r.define("triu(Tensor self, int diagonal=0) -> Tensor");
  r.define("tril(Tensor self, int diagonal=0) -> Tensor");
  r.define("one_hot(Tensor self, int num_classes=-1) -> Tensor");
  r.define("repeat(Tensor self, SymInt[] repeats) -> Tensor");
  r.define("flip(Tensor self, int[] dims) -> Tensor");
  r.define("movedim.intlist(Tensor(a) self, int[] source, int[] destination) -> Tensor(a)");
  r.define("any.dims(Tensor self, int[]? dim=None, bool keepdim=False) -> Tensor");
  r.define("all.dims(Tensor self, int[]? dim=None, bool keepdim=False) -> Tensor");
  r.define("count_nonzero.dim_IntList(Tensor self, int[] dim) -> Tensor");
  r.define("constant_pad_nd(Tensor self, SymInt[] pad, Scalar value=0) -> Tensor");
  r.define("scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, Tensor? attn_mask=None, float dropout_p=0.0, bool is_causal=False, *, float? scale=None, bool enable_gqa=False) -> Tensor");
  register_composite("linear", &linear_composite);
  register_composite("baddbmm", &baddbmm_composite);
  register_composite("outer", &outer_composite);
  register_composite("dot", &dot_composite);
  register_composite("triu", &triu_composite);
  register_composite("tril", &tril_composite);
  register_composite("one_hot", &one_hot_composite);
  register_composite("repeat", &repeat_composite);
  register_composite("flip", &flip_composite);
  register_composite("movedim.intlist", &movedim_composite);
  register_composite("any.dims", &any_composite);
  register_composite("all.dims", &all_composite);
  register_composite("count_nonzero.dim_IntList", &count_nonzero_composite);
  register_composite("constant_pad_nd", &pad_constant_composite);
  register_composite("scaled_dot_product_attention", &sdpa_composite);
}

#define VT_COMPOSITE_API(name, full_name, signature, params, args) \
  Tensor name params {                                             \
    static const TypedOp<signature> op(full_name);                 \
    return op args;                                                \
  }
VT_COMPOSITE_API(linear, "linear", Tensor(const Tensor&, const Tensor&, const std::optional<Tensor>&),
                 (const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias), (input, weight, bias))
VT_COMPOSITE_API(addmm, "addmm", Tensor(const Tensor&, const Tensor&, const Tensor&, const Scalar&, const Scalar&),
                 (const Tensor& self, const Tensor& a, const Tensor& b, const Scalar& beta, const Scalar& alpha),
                 (self, a, b, beta, alpha))
VT_COMPOSITE_API(baddbmm, "baddbmm", Tensor(const Tensor&, const Tensor&, const Tensor&, const Scalar&, const Scalar&),
                 (const Tensor& self, const Tensor& a, const Tensor& b, const Scalar& beta, const Scalar& alpha),
                 (self, a, b, beta, alpha))
VT_COMPOSITE_API(outer, "outer", Tensor(const Tensor&, const Tensor&), (const Tensor& a, const Tensor& b), (a, b))
VT_COMPOSITE_API(dot, "dot", Tensor(const Tensor&, const Tensor&), (const Tensor& a, const Tensor& b), (a, b))
VT_COMPOSITE_API(triu, "triu", Tensor(const Tensor&, int64_t), (const Tensor& self, int64_t diagonal), (self, diagonal))
VT_COMPOSITE_API(tril, "tril", Tensor(const Tensor&, int64_t), (const Tensor& self, int64_t diagonal), (self, diagonal))
VT_COMPOSITE_API(one_hot, "one_hot", Tensor(const Tensor&, int64_t), (const Tensor& self, int64_t classes), (self, classes))
VT_COMPOSITE_API(repeat, "repeat", Tensor(const Tensor&, IntArrayRef), (const Tensor& self, IntArrayRef repeats), (self, repeats))
VT_COMPOSITE_API(flip, "flip", Tensor(const Tensor&, IntArrayRef), (const Tensor& self, IntArrayRef dims), (self, dims))
VT_COMPOSITE_API(movedim, "movedim.intlist", Tensor(const Tensor&, IntArrayRef, IntArrayRef),
                 (const Tensor& self, IntArrayRef source, IntArrayRef destination), (self, source, destination))
VT_COMPOSITE_API(any, "any.dims", Tensor(const Tensor&, OptionalDims, bool), (const Tensor& self, OptionalDims dims, bool keepdim),
                 (self, std::move(dims), keepdim))
VT_COMPOSITE_API(all, "all.dims", Tensor(const Tensor&, OptionalDims, bool), (const Tensor& self, OptionalDims dims, bool keepdim),
                 (self, std::move(dims), keepdim))
VT_COMPOSITE_API(count_nonzero, "count_nonzero.dim_IntList", Tensor(const Tensor&, OptionalDims),
                 (const Tensor& self, OptionalDims dims), (self, std::move(dims)))
VT_COMPOSITE_API(constant_pad_nd, "constant_pad_nd", Tensor(const Tensor&, IntArrayRef, const Scalar&),
                 (const Tensor& self, IntArrayRef pad, const Scalar& value), (self, pad, value))
VT_COMPOSITE_API(scaled_dot_product_attention, "scaled_dot_product_attention",
                 Tensor(const Tensor&, const Tensor&, const Tensor&, const std::optional<Tensor>&, double, bool,
                        std::optional<double>, bool),
                 (const Tensor& q, const Tensor& k, const Tensor& v, const std::optional<Tensor>& mask, double dropout_p,
                  bool is_causal, std::optional<double> scale),
                 (q, k, v, mask, dropout_p, is_causal, scale, false))
#undef VT_COMPOSITE_API

}  // namespace vt
