// Python-style indexing: integers select, slices slice, None inserts a dim, Ellipsis skips
// dims; tensor items are collected for advanced indexing of the resulting view.
#include "vt/indexing.h"

#include "vt/ops.h"

namespace vt {

namespace {

// Input dims an item addresses: a boolean mask covers as many as it has.
int64_t dims_consumed(const IndexItem& item) {
  switch (item.kind) {
    case IndexItem::Kind::Integer:
    case IndexItem::Kind::Slice:
      return 1;
    case IndexItem::Kind::Tensor:
      return item.tensor.dtype() == ScalarType::Bool || item.tensor.dtype() == ScalarType::UInt8 ? item.tensor.dim() : 1;
    default:
      return 0;
  }
}

}  // namespace

Tensor apply_indices(const Tensor& self, std::span<const IndexItem> items, std::vector<Tensor>* tensor_indices) {
  int64_t consumed = 0;  // input dims that the items address
  int64_t ellipses = 0;
  for (const IndexItem& item : items) {
    consumed += dims_consumed(item);
    if (item.kind == IndexItem::Kind::Ellipsis) ++ellipses;
  }
  VT_CHECK_INDEX(ellipses <= 1, "an index can only have a single ellipsis ('...')");
  VT_CHECK_INDEX(consumed <= self.dim(), "too many indices for tensor of dimension ", self.dim());

  Tensor result = self;
  int64_t dim = 0;  // position in `result`
  auto add_tensor_index = [&](const Tensor& t) {
    VT_CHECK_INDEX(tensor_indices != nullptr, "indexing with tensors is not supported here");
    tensor_indices->resize(dim);  // the dims passed over so far take no tensor
    tensor_indices->push_back(t);
  };
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
      case IndexItem::Kind::Tensor:
        add_tensor_index(item.tensor);
        dim += dims_consumed(item);
        break;
    }
  }
  // `t[...]` and `t[()]` still return a new view (with history), never `self` itself.
  bool advanced = tensor_indices != nullptr && !tensor_indices->empty();
  if (result.is_same(self) && !advanced) result = view(self, self.sizes());
  return result;
}

Tensor index_with(const Tensor& self, std::span<const IndexItem> items) {
  std::vector<Tensor> tensors;
  Tensor view = apply_indices(self, items, &tensors);
  return tensors.empty() ? view : index(view, tensors);
}

void index_put_with(const Tensor& self, std::span<const IndexItem> items, const Tensor& value) {
  std::vector<Tensor> tensors;
  Tensor view = apply_indices(self, items, &tensors);
  if (tensors.empty()) {
    copy_(view, value);
    return;
  }
  copy_(view, index_put(view, tensors, to(value, std::nullopt, self.device())));
}

}  // namespace vt
