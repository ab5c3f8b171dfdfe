// Linear-algebra ops composed of others: einsum (any equation, contracted pairwise through
// bmm), tensordot, and linalg_vector_norm (with its own derivative, which is 0 rather than
// NaN at a zero vector, as in torch).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>

#include "vt/autograd/record.h"
#include "vt/ops.h"

namespace vt {

namespace {

using autograd::FunctionNode;
using autograd::TensorList;

// ---- einsum

constexpr int kEllipsisBase = 256;  // labels of the dims an ellipsis covers (after all letters)

struct Term {
  Tensor t;
  std::vector<int> labels;  // one per dim of t
};

int64_t product_of(const Tensor& t, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t d = begin; d < end; ++d) p *= t.size(static_cast<int64_t>(d));
  return p;
}

// Parses one operand's subscripts into labels, expanding `...` to `ellipsis_dims` labels.
std::vector<int> parse_labels(std::string_view spec, int64_t ndim, int64_t max_ellipsis, bool is_output) {
  std::vector<int> labels;
  int64_t explicit_count = 0;
  bool has_ellipsis = false;
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (c == '.') {
      VT_CHECK(!has_ellipsis && spec.substr(i, 3) == "...", "einsum(): found '.' for ", is_output ? "output" : "operand",
               " that is not part of any ellipsis");
      has_ellipsis = true;
      i += 2;
      labels.push_back(-1);  // placeholder
      continue;
    }
    VT_CHECK(std::isalpha(static_cast<unsigned char>(c)), "einsum(): invalid subscript given at index ", i,
             " in the equation string, subscripts must be in [a-zA-Z]");
    labels.push_back(static_cast<unsigned char>(c));
    ++explicit_count;
  }
  std::vector<int> out;
  int64_t covered = is_output ? max_ellipsis : ndim - explicit_count;
  if (!is_output) {
    VT_CHECK(has_ellipsis ? covered >= 0 : covered == 0, "einsum(): the number of subscripts in the equation (",
             explicit_count, ") ", has_ellipsis ? "is more than" : "does not match", " the number of dimensions (", ndim,
             ") for operand", has_ellipsis ? "" : " and no ellipsis was given");
  }
  for (int label : labels) {
    if (label != -1) {
      out.push_back(label);
      continue;
    }
    for (int64_t k = max_ellipsis - covered; k < max_ellipsis; ++k) out.push_back(kEllipsisBase + static_cast<int>(k));
  }
  return out;
}

// Takes the diagonal of repeated labels (`ii->i`), so each label appears once per term.
Term without_repeats(Term term) {
  for (size_t i = 0; i < term.labels.size(); ++i) {
    for (size_t j = i + 1; j < term.labels.size(); ++j) {
      if (term.labels[i] != term.labels[j]) continue;
      VT_CHECK(term.t.size(i) == term.t.size(j), "einsum(): subscript ", static_cast<char>(term.labels[i]),
               " is repeated for operand but the sizes don't match, ", term.t.size(i), " != ", term.t.size(j));
      // diagonal puts the merged dim last; move it back to position i.
      Tensor d = diagonal(term.t, 0, static_cast<int64_t>(i), static_cast<int64_t>(j));
      term.t = movedim(d, std::vector<int64_t>{-1}, std::vector<int64_t>{static_cast<int64_t>(i)});
      term.labels.erase(term.labels.begin() + static_cast<std::ptrdiff_t>(j));
      --j;
    }
  }
  return term;
}

// Sums out the labels of `term` that `keep` does not contain.
Term sum_unkept(Term term, const std::vector<int>& keep) {
  std::vector<int64_t> dims;
  Term out;
  for (size_t d = 0; d < term.labels.size(); ++d) {
    if (std::find(keep.begin(), keep.end(), term.labels[d]) == keep.end()) dims.push_back(static_cast<int64_t>(d));
    else out.labels.push_back(term.labels[d]);
  }
  out.t = dims.empty() ? term.t : sum(term.t, dims, false);
  return out;
}

bool has(const std::vector<int>& v, int x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// a * b summed over their shared labels that are not in `keep`, as one bmm.
Term contract(const Term& a0, const Term& b0, const std::vector<int>& keep) {
  std::vector<int> keep_a = keep, keep_b = keep;
  keep_a.insert(keep_a.end(), b0.labels.begin(), b0.labels.end());
  keep_b.insert(keep_b.end(), a0.labels.begin(), a0.labels.end());
  Term a = sum_unkept(a0, keep_a), b = sum_unkept(b0, keep_b);
  std::vector<int> batch, summed, a_only, b_only;
  for (int l : a.labels) {
    if (!has(b.labels, l)) a_only.push_back(l);
    else if (has(keep, l)) batch.push_back(l);
    else summed.push_back(l);
  }
  for (int l : b.labels) if (!has(a.labels, l)) b_only.push_back(l);
  auto position = [](const Term& t, int l) {
    return static_cast<int64_t>(std::find(t.labels.begin(), t.labels.end(), l) - t.labels.begin());
  };
  // Shared labels broadcast (size 1 against n), as torch allows.
  auto size_of = [&](int l) {
    int64_t sa = has(a.labels, l) ? a.t.size(position(a, l)) : 1, sb = has(b.labels, l) ? b.t.size(position(b, l)) : 1;
    VT_CHECK(sa == sb || sa == 1 || sb == 1, "einsum(): operands do not broadcast with remapped shapes (original->",
             "remapped): size ", sa, " and ", sb, " for the same subscript");
    return std::max(sa, sb);
  };
  auto arrange = [&](const Term& t, const std::vector<std::vector<int>>& groups) {
    std::vector<int64_t> perm;
    DimVector sizes, flat;
    for (const auto& group : groups) {
      int64_t p = 1;
      for (int l : group) {
        if (!has(t.labels, l)) continue;
        perm.push_back(position(t, l));
      }
      for (int l : group) p *= size_of(l);
      flat.push_back(p);
    }
    Tensor x = permute(t.t, perm);
    // Expand the size-1 shared dims to the common size before flattening.
    DimVector full_sizes;
    for (const auto& group : groups) for (int l : group) if (has(t.labels, l)) full_sizes.push_back(size_of(l));
    return reshape(expand(x, full_sizes), flat);
  };
  Tensor x = arrange(a, {batch, a_only, summed});
  Tensor y = arrange(b, {batch, summed, b_only});
  Tensor product = bmm(x, y);  // [batch, a_only, b_only]
  Term out;
  DimVector shape;
  for (const auto* group : {&batch, &a_only, &b_only}) {
    for (int l : *group) {
      out.labels.push_back(l);
      shape.push_back(size_of(l));
    }
  }
  out.t = reshape(product, shape);
  return out;
}

Tensor einsum_composite(std::string_view equation, std::span<const Tensor> tensors, std::optional<std::vector<int64_t>>) {
  std::string eq;
  for (char c : equation) if (c != ' ') eq.push_back(c);
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> specs;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    specs.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  VT_CHECK(!tensors.empty(), "einsum(): must provide at least one operand");
  VT_CHECK(specs.size() == tensors.size(), "einsum(): more operands were provided than specified in the equation");
  int64_t max_ellipsis = 0;
  for (size_t k = 0; k < specs.size(); ++k) {
    if (specs[k].find("...") == std::string::npos) continue;
    int64_t letters = 0;
    for (char c : specs[k]) letters += std::isalpha(static_cast<unsigned char>(c)) ? 1 : 0;
    max_ellipsis = std::max(max_ellipsis, tensors[k].dim() - letters);
  }
  std::vector<Term> terms;
  std::map<int, int> occurrences;
  for (size_t k = 0; k < specs.size(); ++k) {
    Term t{tensors[k], parse_labels(specs[k], tensors[k].dim(), max_ellipsis, false)};
    for (int l : t.labels) ++occurrences[l];
    terms.push_back(without_repeats(t));
  }
  std::vector<int> output;
  if (arrow != std::string::npos) {
    output = parse_labels(eq.substr(arrow + 2), 0, max_ellipsis, true);
    for (int l : output) {
      VT_CHECK(l >= kEllipsisBase || occurrences.count(l), "einsum(): output subscript ", static_cast<char>(l),
               " does not appear in the equation for any input operand");
      VT_CHECK(std::count(output.begin(), output.end(), l) == 1, "einsum(): output subscript ", static_cast<char>(l),
               " appears more than once in the output");
    }
  } else {
    // Implicit output: the ellipsis dims, then the labels used once, in alphabetical order.
    for (int64_t k = 0; k < max_ellipsis; ++k) output.push_back(kEllipsisBase + static_cast<int>(k));
    for (auto [label, count] : occurrences) if (label < kEllipsisBase && count == 1) output.push_back(label);
  }
  // Left to right: contract each operand into the running result, summing what no later
  // operand or the output needs.
  Term result = terms[0];
  for (size_t k = 1; k < terms.size(); ++k) {
    std::vector<int> keep = output;
    for (size_t j = k + 1; j < terms.size(); ++j) keep.insert(keep.end(), terms[j].labels.begin(), terms[j].labels.end());
    result = contract(result, terms[k], keep);
  }
  result = sum_unkept(result, output);
  // Output order; an ellipsis label missing from every operand is a size-1 dim.
  std::vector<int64_t> perm;
  DimVector missing_filled;
  Tensor t = result.t;
  std::vector<int> labels = result.labels;
  for (int l : output) {
    if (!has(labels, l)) {
      t = unsqueeze(t, t.dim());
      labels.push_back(l);
    }
  }
  for (int l : output) perm.push_back(static_cast<int64_t>(std::find(labels.begin(), labels.end(), l) - labels.begin()));
  return permute(t, perm);
}

Tensor tensordot_composite(const Tensor& self, const Tensor& other, IntArrayRef dims_self, IntArrayRef dims_other) {
  VT_CHECK(dims_self.size() == dims_other.size(), "both dimension lists should have same length");
  std::vector<bool> contracted_a(self.dim(), false), contracted_b(other.dim(), false);
  std::vector<int64_t> perm_a, perm_b, summed_a, summed_b;
  DimVector out_shape;
  int64_t summed = 1;
  for (size_t i = 0; i < dims_self.size(); ++i) {
    int64_t da = wrap_dim(dims_self[i], self.dim()), db = wrap_dim(dims_other[i], other.dim());
    VT_CHECK(self.size(da) == other.size(db), "contracted dimensions need to match, but first has size ", self.size(da),
             " in dim ", da, " and second has size ", other.size(db), " in dim ", db);
    contracted_a[da] = contracted_b[db] = true;
    summed_a.push_back(da);
    summed_b.push_back(db);
    summed *= self.size(da);
  }
  int64_t free_a = 1, free_b = 1;
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (contracted_a[d]) continue;
    perm_a.push_back(d);
    out_shape.push_back(self.size(d));
    free_a *= self.size(d);
  }
  perm_a.insert(perm_a.end(), summed_a.begin(), summed_a.end());
  perm_b = summed_b;
  for (int64_t d = 0; d < other.dim(); ++d) {
    if (contracted_b[d]) continue;
    perm_b.push_back(d);
    out_shape.push_back(other.size(d));
    free_b *= other.size(d);
  }
  Tensor a = reshape(permute(self, perm_a), std::vector<int64_t>{free_a, summed});
  Tensor b = reshape(permute(other, perm_b), std::vector<int64_t>{summed, free_b});
  return reshape(mm(a, b), out_shape);
}

// ---- vector norms

bool is_inf(double p) { return std::isinf(p); }

Tensor vector_norm_value(const Tensor& x, double p, const OptionalDims& dims, bool keepdim) {
  Tensor a = abs(x);
  if (p == std::numeric_limits<double>::infinity()) return amax(a, dims.value_or(std::vector<int64_t>{}), keepdim);
  if (p == -std::numeric_limits<double>::infinity()) return amin(a, dims.value_or(std::vector<int64_t>{}), keepdim);
  if (p == 0) return sum(to(ne(x, scalar_to_tensor(0)), x.dtype()), dims, keepdim);
  if (p == 1) return sum(a, dims, keepdim);
  if (p == 2) return sqrt(sum(mul(a, a), dims, keepdim));
  return pow(sum(pow(a, scalar_to_tensor(p)), dims, keepdim), scalar_to_tensor(1.0 / p));
}

Tensor vector_norm_input(const Tensor& self, std::optional<ScalarType> dtype) {
  VT_CHECK(is_floating_point(self.dtype()), "linalg.vector_norm: Expected a floating point or complex tensor as input. ",
           "Got ", dtype_short_name(self.dtype()));
  if (dtype) {
    VT_CHECK(is_floating_point(*dtype), "linalg.vector_norm: dtype should be floating point");
    return to(self, *dtype);
  }
  return self;
}

Tensor vector_norm_composite(const Tensor& self, const Scalar& ord, OptionalDims dims, bool keepdim,
                             std::optional<ScalarType> dtype) {
  Tensor x = vector_norm_input(self, dtype);
  double p = ord.to_double();
  if (p < 0 || is_inf(p)) {
    VT_CHECK(x.numel() > 0 || (dims && !dims->empty()), "linalg.vector_norm cannot compute the ", p,
             " norm on an empty tensor because the operation does not have an identity");
  }
  return vector_norm_value(x, p, dims, keepdim);
}

// d|x|_p / dx = sign(x) |x|^(p-1) / |x|_p^(p-1); 0 at a zero vector (a subgradient), and for
// the inf norms the gradient is shared between the elements that attain it.
Tensor vector_norm_backward(const Tensor& g, const Tensor& x, const Tensor& norm, double p, const OptionalDims& dims,
                            bool keepdim) {
  Tensor grad = g, n = norm;
  if (!keepdim && x.dim() > 0) {
    std::vector<int64_t> reduced = dims && !dims->empty() ? *dims : std::vector<int64_t>{};
    if (reduced.empty()) for (int64_t d = 0; d < x.dim(); ++d) reduced.push_back(d);
    for (int64_t& d : reduced) d = wrap_dim(d, x.dim());
    std::sort(reduced.begin(), reduced.end());
    for (int64_t d : reduced) {
      grad = unsqueeze(grad, d);
      n = unsqueeze(n, d);
    }
  }
  Tensor zero = scalar_to_tensor(0);
  if (p == 0) return zeros_like(x);
  if (p == 1) return mul(grad, sign(x));
  if (is_inf(p)) {
    Tensor hits = to(eq(abs(x), n), x.dtype());
    Tensor count = sum(hits, dims, true);
    return div(mul(mul(grad, sign(x)), hits), count);
  }
  Tensor safe_norm = where(eq(n, zero), ones({}, n.dtype(), n.device()), n);
  Tensor scale;
  if (p == 2) {
    scale = div(x, safe_norm);
  } else {
    // |x|^(p-1) is infinite at x == 0 for p < 1; the (sub)gradient there is 0, as in torch.
    Tensor power = pow(abs(x), scalar_to_tensor(p - 1));
    if (p < 1) power = where(eq(x, zero), zeros({}, x.dtype(), x.device()), power);
    scale = div(mul(sign(x), power), pow(safe_norm, scalar_to_tensor(p - 1)));
  }
  return where(eq(n, zero), zeros({}, x.dtype(), x.device()), mul(grad, scale));
}

Tensor vector_norm_grad(const Tensor& self, const Scalar& ord, OptionalDims dims, bool keepdim,
                        std::optional<ScalarType> dtype) {
  Tensor out = autograd::below_autograd([&] { return linalg_vector_norm(self, ord, dims, keepdim, dtype); });
  double p = ord.to_double();
  autograd::forward_tangent(out, {&self}, [&] {
    Tensor x = vector_norm_input(self, dtype);
    Tensor t = to(autograd::tangent_of(self), x.dtype());
    // The directional derivative: sum(grad-direction * t) with the backward formula's weights.
    Tensor weights = vector_norm_backward(ones(out.sizes(), out.dtype(), out.device()), x, out, p, dims, keepdim);
    return sum(mul(weights, t), dims, keepdim);
  });
  if (!self.requires_grad()) return out;
  auto node = autograd::make_node("LinalgVectorNormBackward0", {&self}, [p, dims, keepdim, dtype](
                                                                             FunctionNode& n, const TensorList& g) {
    Tensor x = vector_norm_input(n.saved(0), dtype);
    return TensorList{vector_norm_backward(g[0], x, n.saved(1), p, dims, keepdim)};
  });
  node->save(self);
  autograd::set_history(out, node);
  node->save(out, true);
  return out;
}

}  // namespace

VT_REGISTRATION(linalg_composite_ops) {
  Registry& r = Registry::instance();
  r.define("einsum(str equation, Tensor[] tensors, *, int[]? path=None) -> Tensor");
  r.define("tensordot(Tensor self, Tensor other, int[] dims_self, int[] dims_other) -> Tensor");
  r.define("linalg_vector_norm(Tensor self, Scalar ord=2, int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None) -> Tensor");
  register_composite("einsum", &einsum_composite);
  register_composite("tensordot", &tensordot_composite);
  register_composite("linalg_vector_norm", &vector_norm_composite);
  register_kernel("linalg_vector_norm", DispatchKey::Autograd, &vector_norm_grad);
}

Tensor einsum(std::string_view equation, std::span<const Tensor> tensors) {
  static const TypedOp<Tensor(std::string_view, std::span<const Tensor>, std::optional<std::vector<int64_t>>)> op("einsum");
  return op(equation, tensors, std::nullopt);
}
Tensor tensordot(const Tensor& self, const Tensor& other, IntArrayRef dims_self, IntArrayRef dims_other) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, IntArrayRef, IntArrayRef)> op("tensordot");
  return op(self, other, dims_self, dims_other);
}
Tensor linalg_vector_norm(const Tensor& self, const Scalar& ord, OptionalDims dims, bool keepdim,
                          std::optional<ScalarType> dtype) {
  static const TypedOp<Tensor(const Tensor&, const Scalar&, OptionalDims, bool, std::optional<ScalarType>)> op(
      "linalg_vector_norm");
  return op(self, ord, std::move(dims), keepdim, dtype);
}

}  // namespace vt
