// The order of the ordering ops and searchsorted's argument rules, shared by the CPU and CUDA
// kernels: both order NaN above every number (torch's rule: last ascending, first descending)
// and search with the same comparisons, so that both backends give the same positions.
#pragma once
#include <optional>
#include <string_view>

#include "vt/host_device.h"
#include "vt/ops.h"

namespace vt::sort_rules {

template <class C>
VT_HOST_DEVICE bool is_nan(C v) {
  return v != v;  // false for every integer
}

// a orders before b (ascending).
template <class C>
VT_HOST_DEVICE bool ascending_before(C a, C b) {
  return a < b || (is_nan(b) && !is_nan(a));
}

// The first position whose element is > x (right) or >= x (left), in the sorted order;
// `at(i)` reads the i-th element of that order.
template <class C, class At>
VT_HOST_DEVICE int64_t search_position(C x, int64_t n, bool right, At at) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    const C e = at(mid);
    const bool go_right = right ? !ascending_before(x, e) : ascending_before(e, x);
    if (go_right) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// searchsorted's operands after its checks: both sides in their promoted dtype (torch
// compares so), contiguous, on the sequence's device.
struct Search {
  Tensor sequence, values, sorter, out;  // sorter: undefined when not given
  bool right = false;
  bool one_sequence = true;  // a 1-D sequence serves every value; else row k of values searches row k
  int64_t n = 0;             // the sequence's last dim
  int64_t per_row = 1;       // values per row
};

inline Search prepare_search(const Tensor& sorted_sequence, const Tensor& self, bool out_int32, bool right,
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
  Search s;
  s.right = right;
  s.one_sequence = sorted_sequence.dim() == 1;
  if (!s.one_sequence) {
    bool match = self.dim() == sorted_sequence.dim();
    for (int64_t k = 0; match && k + 1 < self.dim(); ++k) match = self.size(k) == sorted_sequence.size(k);
    VT_CHECK(match, "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of ",
             "boundaries tensor and input value tensor must match, but we got boundaries tensor ",
             shape_str(sorted_sequence.sizes()), " and input value tensor ", shape_str(self.sizes()));
  }
  const Device device = sorted_sequence.device();
  VT_CHECK(self.device() == device || (self.dim() == 0 && self.device().is_cpu()), "Expected all tensors to be on the ",
           "same device, but found at least two devices, ", device.str(), " and ", self.device().str(), "!");
  const ScalarType common = promote_types(sorted_sequence.dtype(), self.dtype());
  s.sequence = contiguous(to(sorted_sequence, common));
  if (sorter) {
    VT_CHECK(sorter->dtype() == ScalarType::Int64, "torch.searchsorted(): sorter must be a tensor of long dtype but got ",
             dtype_short_name(sorter->dtype()));
    VT_CHECK(DimVector(sorter->sizes()) == DimVector(sorted_sequence.sizes()), "torch.searchsorted(): boundary and ",
             "sorter must have the same size, but got boundary tensor ", shape_str(sorted_sequence.sizes()),
             "and got sorter tensor ", shape_str(sorter->sizes()));
    s.sorter = contiguous(to(*sorter, std::nullopt, device));
  }
  s.values = contiguous(to(to(self, common), std::nullopt, device));
  s.out = empty_tensor(self.sizes(), out_int32 ? ScalarType::Int32 : ScalarType::Int64, device);
  s.n = s.sequence.size(-1);
  s.per_row = self.dim() == 0 ? 1 : self.size(-1);
  return s;
}

}  // namespace vt::sort_rules
