// Basic indexing: integers select, slices slice, None inserts a dim, Ellipsis skips dims.
#include "vt/indexing.h"

#include "vt/ops.h"

namespace vt {

Tensor apply_indices(const Tensor& self, std::span<const IndexItem> items) {
  int64_t consumed = 0;  // input dims that the items address
  int64_t ellipses = 0;
  for (const IndexItem& item : items) {
    if (item.kind == IndexItem::Kind::Integer || item.kind == IndexItem::Kind::Slice) ++consumed;
    if (item.kind == IndexItem::Kind::Ellipsis) ++ellipses;
  }
  VT_CHECK_INDEX(ellipses <= 1, "an index can only have a single ellipsis ('...')");
  VT_CHECK_INDEX(consumed <= self.dim(), "too many indices for tensor of dimension ", self.dim());

  Tensor result = self;
  int64_t dim = 0;  // position in `result`
  for (const IndexItem& item : items) {
    switch (item.kind) {
      case IndexItem::Kind::Integer: {
        int64_t size = result.size(dim);
        VT_CHECK_INDEX(item.integer >= -size && item.integer < size, "index ", item.integer,
                       " is out of bounds for dimension ", dim, " with size ", size);
        result = select(result, dim, item.integer);
        break;
      }
      case IndexItem::Kind::Slice:
        result = slice(result, dim, item.start, item.stop, item.step);
        ++dim;
        break;
      case IndexItem::Kind::None:
        result = unsqueeze(result, dim);
        ++dim;
        break;
      case IndexItem::Kind::Ellipsis:
        dim += self.dim() - consumed;
        break;
    }
  }
  // `t[...]` and `t[()]` still return a new view, never `self` itself.
  if (result.is_same(self)) result = make_view(self, self.sizes(), self.strides(), self.storage_offset());
  return result;
}

}  // namespace vt
