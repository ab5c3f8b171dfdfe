// Python-style indexing (`t[1, ::2, None, ..., idx, mask]`), shared by frontends. Integers,
// slices, None and Ellipsis are applied first as views; tensor items (integer positions or
// boolean masks) then index that view (advanced indexing, which copies), as torch does.
#pragma once
#include <optional>
#include <span>
#include <vector>

#include "vt/tensor.h"

namespace vt {

struct IndexItem {
  enum class Kind { Integer, Slice, None, Ellipsis, Tensor };
  Kind kind = Kind::Integer;
  int64_t integer = 0;                 // Integer
  std::optional<int64_t> start, stop;  // Slice
  int64_t step = 1;                    // Slice
  vt::Tensor tensor;                   // Tensor

  static IndexItem at(int64_t i) { return {Kind::Integer, i, {}, {}, 1, {}}; }
  static IndexItem range(std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
    return {Kind::Slice, 0, start, stop, step, {}};
  }
  static IndexItem none() { return {Kind::None, 0, {}, {}, 1, {}}; }
  static IndexItem ellipsis() { return {Kind::Ellipsis, 0, {}, {}, 1, {}}; }
  static IndexItem positions(vt::Tensor t) { return {Kind::Tensor, 0, {}, {}, 1, std::move(t)}; }
};

// The basic part of an index: a view of self. `tensor_indices` receives the tensor items in
// the form vt::index takes (one entry per dim of the view, undefined where no tensor
// applies). Raises IndexError for too many indices or an out-of-range integer, as torch.
Tensor apply_indices(const Tensor& self, std::span<const IndexItem> items, std::vector<Tensor>* tensor_indices = nullptr);

// `self[items]`.
Tensor index_with(const Tensor& self, std::span<const IndexItem> items);
// `self[items] = value`. As in torch, value's dtype must be self's when tensors index.
void index_put_with(const Tensor& self, std::span<const IndexItem> items, const Tensor& value);

}  // namespace vt
