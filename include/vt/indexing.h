// Basic indexing (`t[1, ::2, None, ...]`) as a sequence of view ops, shared by frontends.
// Every result is a view; advanced (tensor) indexing is not part of this.
#pragma once
#include <optional>
#include <span>

#include "vt/tensor.h"

namespace vt {

struct IndexItem {
  enum class Kind { Integer, Slice, None, Ellipsis };
  Kind kind = Kind::Integer;
  int64_t integer = 0;                 // Integer
  std::optional<int64_t> start, stop;  // Slice
  int64_t step = 1;                    // Slice

  static IndexItem at(int64_t i) { return {Kind::Integer, i, {}, {}, 1}; }
  static IndexItem range(std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
    return {Kind::Slice, 0, start, stop, step};
  }
  static IndexItem none() { return {Kind::None, 0, {}, {}, 1}; }
  static IndexItem ellipsis() { return {Kind::Ellipsis, 0, {}, {}, 1}; }
};

// Raises IndexError for too many indices or an out-of-range integer, as torch does.
Tensor apply_indices(const Tensor& self, std::span<const IndexItem> items);

}  // namespace vt
