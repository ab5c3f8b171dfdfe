// TensorIterator: broadcasting, promotion, output allocation, dimension ordering and
// coalescing. Mirrors the decisions of torch's TensorIterator so results (values, dtypes,
// output strides) agree with torch.
#include "vt/tensor_iterator.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt {

namespace {

// torch's ResultTypeState: dimensioned tensors outrank 0-dim tensors, which outrank Python
// numbers, except that a higher category (bool < integral < floating) always wins.
struct ResultTypeState {
  ScalarType dim_result = ScalarType::Undefined;
  ScalarType zero_dim_result = ScalarType::Undefined;
  ScalarType wrapped_result = ScalarType::Undefined;
};

ScalarType promote_skip_undefined(ScalarType a, ScalarType b) {
  if (a == ScalarType::Undefined) return b;
  if (b == ScalarType::Undefined) return a;
  return promote_types(a, b);
}

ScalarType combine_categories(ScalarType higher, ScalarType lower) {
  if (is_floating_point(higher)) return higher;
  if (higher == ScalarType::Bool || is_floating_point(lower)) return promote_skip_undefined(higher, lower);
  if (higher != ScalarType::Undefined) return higher;
  return lower;
}

void update_state(ResultTypeState& state, const Tensor& t) {
  ScalarType current = t.dtype();
  if (t.is_wrapped_number()) {
    if (is_floating_point(current)) current = default_dtype();
    state.wrapped_result = promote_skip_undefined(state.wrapped_result, current);
  } else if (t.dim() == 0) {
    state.zero_dim_result = promote_skip_undefined(state.zero_dim_result, current);
  } else {
    state.dim_result = promote_skip_undefined(state.dim_result, current);
  }
}

ScalarType final_type(const ResultTypeState& s) {
  return combine_categories(s.dim_result, combine_categories(s.zero_dim_result, s.wrapped_result));
}

// Memory a tensor spans as [first byte, one past the last), for a non-overlapping, dense
// layout; nullopt when the layout is too irregular to tell cheaply (as torch gives up too).
struct ByteRange {
  const char* begin;
  const char* end;
};
std::optional<ByteRange> dense_range(const Tensor& t) {
  if (t.numel() == 0 || !is_non_overlapping_and_dense(t)) return std::nullopt;
  const char* begin = static_cast<const char*>(t.data_ptr());
  return ByteRange{begin, begin + t.numel() * static_cast<int64_t>(t.itemsize())};
}

}  // namespace

void check_overlap(const Tensor& out, const Tensor& input, std::string_view op) {
  if (input.storage() != out.storage() || input.numel() == 0) return;
  if (input.data_ptr() == out.data_ptr() && std::equal(input.sizes().begin(), input.sizes().end(), out.sizes().begin(),
                                                       out.sizes().end()) &&
      std::equal(input.strides().begin(), input.strides().end(), out.strides().begin(), out.strides().end())) {
    return;
  }
  auto a = dense_range(out), b = dense_range(input);
  if (!a || !b) return;
  VT_CHECK(a->end <= b->begin || b->end <= a->begin, op, "(): unsupported operation: some elements of the input "
           "tensor and the written-to tensor refer to a single memory location. Please clone() the tensor before "
           "performing the operation.");
}

void check_no_internal_overlap(const Tensor& out, std::string_view op) {
  for (int64_t d = 0; d < out.dim(); ++d) {
    VT_CHECK(!(out.strides()[d] == 0 && out.sizes()[d] > 1), op, "(): unsupported operation: more than one element "
             "of the written-to tensor refers to a single memory location. Please clone() the tensor before "
             "performing the operation.");
  }
}

ScalarType result_type(std::initializer_list<const Tensor*> tensors) {
  ResultTypeState state;
  for (const Tensor* t : tensors) update_state(state, *t);
  return final_type(state);
}

TensorIterator::TensorIterator(const TensorIteratorConfig& config, const Tensor& output,
                               std::initializer_list<const Tensor*> inputs, bool is_inplace)
    : config_(config) {
  VT_CHECK(inputs.size() + 1 <= kMaxOperands, config_.op_name, "(): too many operands");
  operands_[0] = output;
  output_given_ = output.defined();
  num_operands_ = 1;
  for (const Tensor* input : inputs) {
    VT_CHECK_TYPE(input->defined(), config_.op_name, "(): expected a tensor, got an undefined one");
    operands_[num_operands_++] = *input;
  }
  // Every operand on one device; a 0-dim CPU tensor may join any device, as in torch.
  std::optional<Device> device;
  for (int i = 0; i < num_operands_; ++i) {
    const Tensor& t = operands_[i];
    if (!t.defined() || (i > 0 && t.dim() == 0 && t.device().is_cpu())) continue;
    if (!device) device = t.device();
    VT_CHECK(*device == t.device(), "Expected all tensors to be on the same device, but found at least two devices, ",
             device->str(), " and ", t.device().str(), "!");
  }
  if (output_given_) {
    check_no_internal_overlap(operands_[0], config_.op_name);
    for (int i = 1; i < num_operands_; ++i) check_overlap(operands_[0], operands_[i], config_.op_name);
  }
  compute_shape(is_inplace);
  compute_dtypes(is_inplace);
  compute_strides_and_allocate();
  coalesce_dimensions();
}

void TensorIterator::compute_shape(bool is_inplace) {
  // In-place ops broadcast their inputs to the output, never the other way round.
  if (is_inplace && output_given_) shape_.assign(operands_[0].sizes().begin(), operands_[0].sizes().end());
  else shape_.clear();
  for (int i = 1; i < num_operands_; ++i) {
    IntArrayRef sizes = operands_[i].sizes();
    size_t ndim = std::max(shape_.size(), sizes.size());
    DimVector result(ndim);
    for (size_t k = 0; k < ndim; ++k) {
      // k counts from the right; the error names the dimension of the result, like torch.
      size_t out_dim = ndim - 1 - k;
      int64_t a = k < shape_.size() ? shape_[shape_.size() - 1 - k] : 1;
      int64_t b = k < sizes.size() ? sizes[sizes.size() - 1 - k] : 1;
      VT_CHECK(a == b || a == 1 || b == 1, "The size of tensor a (", a, ") must match the size of tensor b (", b,
               ") at non-singleton dimension ", out_dim);
      result[out_dim] = a == 1 ? b : a;
    }
    shape_ = std::move(result);
  }
  numel_ = 1;
  for (int64_t s : shape_) numel_ *= s;

  if (!output_given_) return;
  const Tensor& out = operands_[0];
  if (std::equal(out.sizes().begin(), out.sizes().end(), shape_.begin(), shape_.end())) return;
  VT_CHECK(!is_inplace, "output with shape ", shape_str(out.sizes()), " doesn't match the broadcast shape ",
           shape_str(shape_));
  // `out=` of the wrong shape is resized, as torch does.
  out.impl()->storage()->resize(static_cast<size_t>(numel_) * out.itemsize() +
                                static_cast<size_t>(out.storage_offset()) * out.itemsize());
  out.impl()->set_geometry(shape_, contiguous_strides(shape_), out.storage_offset());
}

void TensorIterator::compute_dtypes(bool is_inplace) {
  if (config_.keep_input_dtypes) {
    common_dtype_ = output_given_ ? operands_[0].dtype() : config_.static_output_dtype;
    VT_CHECK(common_dtype_ != ScalarType::Undefined, config_.op_name, "(): no output dtype");
    return;
  }
  ResultTypeState state;
  for (int i = 1; i < num_operands_; ++i) update_state(state, operands_[i]);
  common_dtype_ = final_type(state);
  VT_CHECK(config_.allow_bool || common_dtype_ != ScalarType::Bool, config_.op_name,
           "(): not supported for bool tensors");
  if (config_.promote_integer_inputs_to_float && is_integral(common_dtype_, true)) common_dtype_ = default_dtype();

  ScalarType out_dtype = config_.output_dtype == OutputDtype::Bool ? ScalarType::Bool : common_dtype_;
  if (output_given_) {
    const Tensor& out = operands_[0];
    VT_CHECK(!config_.exact_out_dtype || is_inplace || out.dtype() == out_dtype, "Found dtype ",
             dtype_short_name(out.dtype()), " but expected ", dtype_short_name(out_dtype));
    VT_CHECK(can_cast(out_dtype, out.dtype()), "result type ", dtype_short_name(out_dtype),
             " can't be cast to the desired output type ", dtype_short_name(out.dtype()));
    if (out.dtype() != out_dtype) {
      // Compute into a temporary of the right type; for_each copies it into the user's tensor.
      user_output_ = out;
      operands_[0] = empty_tensor(out.sizes(), out_dtype, out.device());
    }
  }
  for (int i = 1; i < num_operands_; ++i) {
    if (operands_[i].dtype() != common_dtype_) operands_[i] = to(operands_[i], common_dtype_);
  }
}

void TensorIterator::compute_strides_and_allocate() {
  const size_t ndim = shape_.size();
  auto byte_strides = [&](const Tensor& t) {
    SmallVector<int64_t, 6> strides(ndim, 0);
    size_t offset = ndim - static_cast<size_t>(t.dim());
    for (size_t d = 0; d < static_cast<size_t>(t.dim()); ++d) {
      bool broadcast = t.sizes()[d] == 1 && shape_[offset + d] != 1;
      strides[offset + d] = broadcast ? 0 : t.strides()[d] * static_cast<int64_t>(t.itemsize());
    }
    return strides;
  };
  for (int i = 0; i < num_operands_; ++i) {
    if (operands_[i].defined()) strides_[i] = byte_strides(operands_[i]);
  }

  // Order dimensions fastest-first by the operands' strides (torch's reorder_dimensions):
  // an output then follows the memory layout of its inputs.
  perm_.resize(ndim);
  for (size_t i = 0; i < ndim; ++i) perm_[i] = static_cast<int64_t>(ndim - 1 - i);
  auto should_swap = [&](int64_t dim0, int64_t dim1) {
    for (int i = 0; i < num_operands_; ++i) {
      if (!operands_[i].defined()) continue;
      int64_t s0 = strides_[i][dim0], s1 = strides_[i][dim1];
      if (s0 == 0 || s1 == 0) continue;
      if (s0 < s1) return -1;
      if (s0 > s1) return 1;
      if (shape_[dim0] > shape_[dim1]) return 1;
    }
    return 0;
  };
  for (size_t i = 1; i < ndim; ++i) {
    size_t dim1 = i;
    for (size_t dim0 = i; dim0-- > 0;) {
      int comparison = should_swap(perm_[dim0], perm_[dim1]);
      if (comparison > 0) {
        std::swap(perm_[dim0], perm_[dim1]);
        dim1 = dim0;
      } else if (comparison < 0) {
        break;
      }
    }
  }

  if (!operands_[0].defined()) {
    ScalarType out_dtype = config_.keep_input_dtypes ? common_dtype_
                           : config_.output_dtype == OutputDtype::Bool ? ScalarType::Bool
                                                                       : common_dtype_;
    DimVector strides(ndim);
    int64_t running = 1;
    for (size_t i = 0; i < ndim; ++i) {
      strides[perm_[i]] = running;
      running *= std::max<int64_t>(shape_[perm_[i]], 1);
    }
    Device device;
    for (int i = 1; i < num_operands_; ++i) {
      if (operands_[i].dim() > 0 || !operands_[i].device().is_cpu()) {
        device = operands_[i].device();
        break;
      }
    }
    operands_[0] = empty_strided_tensor(shape_, strides, out_dtype, device);
    strides_[0] = byte_strides(operands_[0]);
  }

  // Apply the permutation.
  DimVector shape(ndim);
  for (size_t i = 0; i < ndim; ++i) shape[i] = shape_[perm_[i]];
  shape_ = shape;
  for (int op = 0; op < num_operands_; ++op) {
    SmallVector<int64_t, 6> permuted(ndim);
    for (size_t i = 0; i < ndim; ++i) permuted[i] = strides_[op][perm_[i]];
    strides_[op] = permuted;
  }
}

void TensorIterator::coalesce_dimensions() {
  const size_t ndim = shape_.size();
  if (ndim <= 1) return;
  auto can_coalesce = [&](size_t dim0, size_t dim1) {
    if (shape_[dim0] == 1 || shape_[dim1] == 1) return true;
    for (int op = 0; op < num_operands_; ++op) {
      if (strides_[op][dim0] * shape_[dim0] != strides_[op][dim1]) return false;
    }
    return true;
  };
  size_t prev = 0;
  for (size_t dim = 1; dim < ndim; ++dim) {
    if (can_coalesce(prev, dim)) {
      if (shape_[prev] == 1) {
        for (int op = 0; op < num_operands_; ++op) strides_[op][prev] = strides_[op][dim];
      }
      shape_[prev] *= shape_[dim];
    } else {
      ++prev;
      if (prev != dim) {
        shape_[prev] = shape_[dim];
        for (int op = 0; op < num_operands_; ++op) strides_[op][prev] = strides_[op][dim];
      }
    }
  }
  shape_.resize(prev + 1);
  for (int op = 0; op < num_operands_; ++op) strides_[op].resize(prev + 1);
}

void TensorIterator::serial_run(Loop loop, void* ctx, int64_t begin, int64_t end) const {
  char* base[kMaxOperands];
  for (int op = 0; op < num_operands_; ++op) base[op] = static_cast<char*>(operands_[op].data_ptr());
  const size_t ndim = shape_.size();
  if (ndim == 0) {
    int64_t zero[kMaxOperands] = {};
    loop(ctx, base, zero, 1);
    return;
  }
  int64_t inner[kMaxOperands];
  for (int op = 0; op < num_operands_; ++op) inner[op] = strides_[op][0];
  if (ndim == 1) {
    char* data[kMaxOperands];
    for (int op = 0; op < num_operands_; ++op) data[op] = base[op] + begin * inner[op];
    loop(ctx, data, inner, end - begin);
    return;
  }
  DimVector counter(ndim, 0);
  int64_t rest = begin;
  for (size_t d = 0; d < ndim; ++d) {
    counter[d] = rest % shape_[d];
    rest /= shape_[d];
  }
  while (begin < end) {
    int64_t n = std::min(shape_[0] - counter[0], end - begin);
    char* data[kMaxOperands];
    for (int op = 0; op < num_operands_; ++op) {
      char* p = base[op];
      for (size_t d = 0; d < ndim; ++d) p += counter[d] * strides_[op][d];
      data[op] = p;
    }
    loop(ctx, data, inner, n);
    begin += n;
    counter[0] += n;
    for (size_t d = 0; d + 1 < ndim && counter[d] == shape_[d]; ++d) {
      counter[d] = 0;
      ++counter[d + 1];
    }
  }
}

void TensorIterator::run(Loop loop, void* ctx) {
  if (numel_ > 0) {
    if (numel_ < kGrainSize) {
      serial_run(loop, ctx, 0, numel_);
    } else {
      parallel_for(0, numel_, kGrainSize, [&](int64_t begin, int64_t end) { serial_run(loop, ctx, begin, end); });
    }
  }
  finish();
}

void TensorIterator::finish() {
  if (user_output_.defined()) copy_(user_output_, operands_[0]);
}

}  // namespace vt
