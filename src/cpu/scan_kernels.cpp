// CPU kernels of the scans along one dim (cumsum, cumprod) and of prod, the product
// reduction. Lines are walked in place through strides; sums and products accumulate in
// double (floating) or int64 (integers), as the reductions do.
#include "src/ops/reduce_rules.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {
namespace {

template <class T> using acc_t = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, int64_t>;

// Calls fn(in_offset, out_offset) for the first element of every line along `d`.
template <class Fn>
void for_each_line(const Tensor& in, const Tensor& out, int64_t d, Fn fn) {
  DimVector shape(in.sizes());
  shape[d] = 1;
  int64_t lines = 1;
  for (int64_t s : shape) lines *= s;
  DimVector coord(shape.size(), 0);
  for (int64_t line = 0; line < lines; ++line) {
    int64_t a = 0, b = 0;
    for (size_t k = 0; k < coord.size(); ++k) {
      a += coord[k] * in.strides()[k];
      b += coord[k] * out.strides()[k];
    }
    fn(a, b);
    for (int64_t k = static_cast<int64_t>(shape.size()) - 1; k >= 0; --k) {
      if (++coord[k] < shape[k]) break;
      coord[k] = 0;
    }
  }
}

Tensor scan(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype, bool product, const char* op) {
  // Integer and bool inputs scan in int64, as torch does.
  ScalarType type = reduce::sum_result_dtype(self, dtype);
  Tensor input = to(self, type);
  Tensor out = empty_tensor(self.sizes(), type, self.device());
  if (self.dim() == 0) {
    wrap_dim(dim, 1);
    copy_(out, input);
    return out;
  }
  int64_t d = wrap_dim(dim, self.dim());
  if (self.numel() == 0) return out;
  int64_t n = self.size(d), in_stride = input.strides()[d], out_stride = out.strides()[d];
  dispatch_numeric_types(type, op, [&](auto tag) {
    using T = decltype(tag);
    using Acc = acc_t<T>;
    const T* x = input.data<T>();
    T* y = out.data<T>();
    for_each_line(input, out, d, [&](int64_t a, int64_t b) {
      Acc running = product ? Acc(1) : Acc(0);
      for (int64_t k = 0; k < n; ++k) {
        Acc v = static_cast<Acc>(static_cast<compute_t<T>>(x[a + k * in_stride]));
        running = product ? running * v : running + v;
        y[b + k * out_stride] = static_cast<T>(running);
      }
    });
  });
  return out;
}

Tensor cumsum_cpu(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return scan(self, dim, dtype, false, "cumsum");
}
Tensor cumprod_cpu(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return scan(self, dim, dtype, true, "cumprod");
}

// prod over one dim (or all of them when dim is empty): integers and bool give int64.
Tensor prod_over(const Tensor& self, std::optional<int64_t> dim, bool keepdim, std::optional<ScalarType> dtype) {
  ScalarType type = reduce::sum_result_dtype(self, dtype);
  Tensor input = to(self, type);
  OptionalDims dims;
  if (dim) dims = std::vector<int64_t>{*dim};
  reduce::ReductionShape shape = reduce::reduction_shape(self, dims, keepdim);
  // [results, reduced] rows with the reduced elements last.
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < self.dim(); ++d) if (!shape.reduced[d]) perm.push_back(d);
  for (int64_t d = 0; d < self.dim(); ++d) if (shape.reduced[d]) perm.push_back(d);
  Tensor rows = contiguous(reshape(permute(input, perm), std::vector<int64_t>{shape.outer, shape.inner}));
  Tensor out = empty_tensor(shape.kept_shape, type, self.device());
  dispatch_numeric_types(type, "prod", [&](auto tag) {
    using T = decltype(tag);
    using Acc = acc_t<T>;
    const T* x = rows.data<T>();
    T* y = out.data<T>();
    for (int64_t r = 0; r < shape.outer; ++r) {
      Acc p = 1;
      for (int64_t k = 0; k < shape.inner; ++k) p *= static_cast<Acc>(static_cast<compute_t<T>>(x[r * shape.inner + k]));
      y[r] = static_cast<T>(p);
    }
  });
  return reshape(out, shape.result_shape);
}

Tensor prod_dim_cpu(const Tensor& self, int64_t dim, bool keepdim, std::optional<ScalarType> dtype) {
  return prod_over(self, dim, keepdim, dtype);
}
Tensor prod_cpu(const Tensor& self, std::optional<ScalarType> dtype) { return prod_over(self, std::nullopt, false, dtype); }

}  // namespace

VT_REGISTRATION(scan_cpu) {
  register_kernel("cumsum", DispatchKey::CPU, &cumsum_cpu);
  register_kernel("cumprod", DispatchKey::CPU, &cumprod_cpu);
  register_kernel("prod", DispatchKey::CPU, &prod_cpu);
  register_kernel("prod.dim_int", DispatchKey::CPU, &prod_dim_cpu);
}

}  // namespace vt::cpu
