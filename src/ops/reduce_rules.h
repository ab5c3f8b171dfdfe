// Shape and dtype rules of the reductions, shared by backends: which dims are reduced, the
// result's shape with and without keepdim, the result dtype, and the errors torch raises for
// empty or bool inputs, so that every backend raises them the same way.
#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "vt/ops.h"

namespace vt::reduce {

struct ReductionShape {
  std::vector<bool> reduced;  // per input dim
  DimVector kept_shape;       // result shape with keepdim=True
  DimVector result_shape;     // result shape honouring keepdim
  int64_t outer = 1;          // number of results
  int64_t inner = 1;          // elements reduced into each result
};

// dims empty or nullopt: all dimensions. Duplicates and out-of-range dims raise.
ReductionShape reduction_shape(const Tensor& self, const OptionalDims& dims, bool keepdim);

// sum's dtype: `dtype`, else int64 for integers and bool, else the input's. prod, cumsum and
// cumprod follow the same rule.
ScalarType sum_result_dtype(const Tensor& self, std::optional<ScalarType> dtype);
ScalarType mean_result_dtype(const Tensor& self, std::optional<ScalarType> dtype);

// The reduced elements of each result as one row: [outer, inner] with unit stride along inner
// (a view when the layout allows it, else a copy).
Tensor as_rows(const Tensor& self, const ReductionShape& shape);

// max()/min() without a dim: the input must not be empty.
void check_extreme_all(const Tensor& self, std::string_view name);
// max.dim/min.dim (and argmax/argmin with a dim): `dim` in range and not empty.
void check_extreme_dim(const Tensor& self, int64_t dim, std::string_view name);
// argmax/argmin: no bool input; a dim as for max.dim, or without one a non-empty input.
void check_arg_extreme(const Tensor& self, std::optional<int64_t> dim, std::string_view name);
// amax/amin: every reduced dim non-empty.
void check_amax_amin(const Tensor& self, const ReductionShape& shape, std::string_view name);

}  // namespace vt::reduce
