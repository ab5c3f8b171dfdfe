// Shape and dtype rules of the reductions, shared by backends: which dims are reduced, the
// result's shape with and without keepdim, and the result dtype.
#pragma once
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

ScalarType sum_result_dtype(const Tensor& self, std::optional<ScalarType> dtype);
ScalarType mean_result_dtype(const Tensor& self, std::optional<ScalarType> dtype);

}  // namespace vt::reduce
