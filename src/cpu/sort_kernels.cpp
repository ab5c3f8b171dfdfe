// CPU kernels of the ordering ops: a stable sort along one dim and the binary search of
// searchsorted. NaN orders above every number (torch's rule): last ascending, first descending.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {
namespace {

template <class C>
bool is_nan(C v) {
  if constexpr (std::is_floating_point_v<C>) return std::isnan(v);
  else return false;
}

// a orders before b.
template <class C>
bool ascending_before(C a, C b) { return a < b || (is_nan(b) && !is_nan(a)); }

std::tuple<Tensor, Tensor> sort_cpu(const Tensor& self, int64_t dim, bool descending) {
  int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  if (self.dim() == 0) return {clone(self), zeros({}, ScalarType::Int64, self.device())};
  Tensor rows = contiguous(movedim(self, std::vector<int64_t>{d}, std::vector<int64_t>{-1}));
  Tensor values = empty_tensor(rows.sizes(), self.dtype(), self.device());
  Tensor indices = empty_tensor(rows.sizes(), ScalarType::Int64, self.device());
  int64_t n = rows.size(-1), count = n == 0 ? 0 : rows.numel() / n;
  dispatch_all_types(self.dtype(), "sort", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const T* in = rows.data<T>();
    T* out = values.data<T>();
    int64_t* idx = indices.data<int64_t>();
    parallel_for(0, count, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* x = in + r * n;
        int64_t* order = idx + r * n;
        std::iota(order, order + n, int64_t{0});
        if (descending) {
          std::stable_sort(order, order + n, [&](int64_t a, int64_t b) {
            return ascending_before(static_cast<C>(x[b]), static_cast<C>(x[a]));
          });
        } else {
          std::stable_sort(order, order + n, [&](int64_t a, int64_t b) {
            return ascending_before(static_cast<C>(x[a]), static_cast<C>(x[b]));
          });
        }
        for (int64_t k = 0; k < n; ++k) out[r * n + k] = x[order[k]];
      }
    });
  });
  std::vector<int64_t> last{-1}, back{d};
  return {movedim(values, last, back), movedim(indices, last, back)};
}

// For each value, the number of sequence elements before it (< for left, <= for right), in
// the matching row of the sequence (or the one 1-D sequence).
Tensor searchsorted_cpu(const Tensor& sorted_sequence, const Tensor& self, bool out_int32, bool right,
                        std::optional<std::string_view> side, const std::optional<Tensor>& sorter) {
  if (side) {
    VT_CHECK(*side == "left" || *side == "right", "torch.searchsorted(): side can only be 'left' or 'right' but got ",
             *side);
    VT_CHECK(!right || *side == "right", "torch.searchsorted(): side and right can't be set to opposites, got side of ",
             *side, " while right was True");
    right = *side == "right";
  }
  VT_CHECK(sorted_sequence.dim() >= 1, "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 ",
           "dimensions of boundaries tensor and input value tensor must match, but we got boundaries tensor ",
           shape_str(sorted_sequence.sizes()), " and input value tensor ", shape_str(self.sizes()));
  bool one_sequence = sorted_sequence.dim() == 1;
  if (!one_sequence) {
    bool match = self.dim() == sorted_sequence.dim();
    for (int64_t k = 0; match && k + 1 < self.dim(); ++k) match = self.size(k) == sorted_sequence.size(k);
    VT_CHECK(match, "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of ",
             "boundaries tensor and input value tensor must match, but we got boundaries tensor ",
             shape_str(sorted_sequence.sizes()), " and input value tensor ", shape_str(self.sizes()));
  }
  // Both sides compare in their promoted dtype, as torch does.
  ScalarType common = promote_types(sorted_sequence.dtype(), self.dtype());
  Tensor seq = contiguous(to(sorted_sequence, common));
  Tensor order;
  if (sorter) {
    VT_CHECK(sorter->dtype() == ScalarType::Int64, "torch.searchsorted(): sorter must be a tensor of long dtype but got ",
             dtype_short_name(sorter->dtype()));
    VT_CHECK(DimVector(sorter->sizes()) == DimVector(sorted_sequence.sizes()), "torch.searchsorted(): boundary and ",
             "sorter must have the same size, but got boundary tensor ", shape_str(sorted_sequence.sizes()),
             "and got sorter tensor ", shape_str(sorter->sizes()));
    order = contiguous(*sorter);
  }
  Tensor values = contiguous(to(self, common));
  Tensor out = empty_tensor(self.sizes(), out_int32 ? ScalarType::Int32 : ScalarType::Int64, self.device());
  int64_t n = seq.size(-1);
  int64_t per_row = self.dim() == 0 ? 1 : self.size(-1);
  dispatch_all_types(common, "searchsorted", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const T* s = seq.data<T>();
    const T* v = values.data<T>();
    const int64_t* sort_index = order.defined() ? order.data<int64_t>() : nullptr;
    for (int64_t k = 0; k < values.numel(); ++k) {
      int64_t row = one_sequence ? 0 : k / per_row;
      const T* base = s + row * n;
      const int64_t* perm = sort_index ? sort_index + row * n : nullptr;
      auto at = [&](int64_t i) -> C {
        int64_t j = perm ? perm[i] : i;
        VT_CHECK_INDEX(j >= 0 && j < n, "torch.searchsorted(): sorter index out of range");
        return static_cast<C>(base[j]);
      };
      C x = static_cast<C>(v[k]);
      int64_t lo = 0, hi = n;
      while (lo < hi) {  // first position whose element is > x (right) or >= x (left)
        int64_t mid = lo + (hi - lo) / 2;
        C e = at(mid);
        bool go_right = right ? !ascending_before(x, e) : ascending_before(e, x);
        if (go_right) lo = mid + 1;
        else hi = mid;
      }
      if (out_int32) out.data<int32_t>()[k] = static_cast<int32_t>(lo);
      else out.data<int64_t>()[k] = lo;
    }
  });
  return out;
}

}  // namespace

VT_REGISTRATION(sort_cpu) {
  register_kernel("sort", DispatchKey::CPU, &sort_cpu);
  register_kernel("searchsorted.Tensor", DispatchKey::CPU, &searchsorted_cpu);
}

}  // namespace vt::cpu
