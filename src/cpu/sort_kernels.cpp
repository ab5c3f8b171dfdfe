// CPU kernels of the ordering ops: a stable sort along one dim and the binary search of
// searchsorted, in the order of src/ops/sort_rules.h.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "src/ops/sort_rules.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {
namespace {

using sort_rules::ascending_before;

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
  const sort_rules::Search s = sort_rules::prepare_search(sorted_sequence, self, out_int32, right, side, sorter);
  const int64_t n = s.n;
  dispatch_all_types(s.values.dtype(), "searchsorted", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const T* v = s.values.data<T>();
    const int64_t* sort_index = s.sorter.defined() ? s.sorter.data<int64_t>() : nullptr;
    for (int64_t k = 0; k < s.values.numel(); ++k) {
      const int64_t row = s.one_sequence ? 0 : k / s.per_row;
      const T* base = s.sequence.data<T>() + row * n;
      const int64_t* perm = sort_index ? sort_index + row * n : nullptr;
      const int64_t position = sort_rules::search_position(static_cast<C>(v[k]), n, s.right, [&](int64_t i) -> C {
        const int64_t j = perm ? perm[i] : i;
        VT_CHECK_INDEX(j >= 0 && j < n, "torch.searchsorted(): sorter index out of range");
        return static_cast<C>(base[j]);
      });
      if (out_int32) s.out.data<int32_t>()[k] = static_cast<int32_t>(position);
      else s.out.data<int64_t>()[k] = position;
    }
  });
  return s.out;
}

}  // namespace

VT_REGISTRATION(sort_cpu) {
  register_kernel("sort", DispatchKey::CPU, &sort_cpu);
  register_kernel("searchsorted.Tensor", DispatchKey::CPU, &searchsorted_cpu);
}

}  // namespace vt::cpu
