// TensorIterator: the bookkeeping every elementwise op shares, done once. It broadcasts the
// inputs, applies torch's type promotion, checks and allocates (or resizes) outputs, orders
// dimensions by memory layout and merges the ones that can be walked as one. Kernels then
// see a 1-D loop over raw pointers with byte strides.
#pragma once
#include <functional>
#include <string_view>

#include "vt/tensor.h"

namespace vt {

// Where the outputs' dtype comes from.
enum class OutputDtype {
  Common,  // the promoted type of the inputs (add, mul, ...)
  Bool,    // comparisons
};

struct TensorIteratorConfig {
  std::string_view op_name = "op";
  OutputDtype output_dtype = OutputDtype::Common;
  bool promote_integer_inputs_to_float = false;  // true division, exp, sqrt, ...
  bool allow_bool = true;                        // false: "not supported for bool tensors"
  // copy_ and to(): inputs keep their dtypes and the kernel converts.
  bool keep_input_dtypes = false;
  // `out=` must have exactly the result's dtype (torch's rule for neg, abs, ...).
  bool exact_out_dtype = false;
  // With keep_input_dtypes and no output given: the dtype of the allocated output.
  ScalarType static_output_dtype = ScalarType::Undefined;
};

class TensorIterator {
 public:
  static constexpr int kMaxOperands = 4;

  // One output (undefined: allocate; defined: `out=` or in-place) and the inputs.
  // `is_inplace` means the output is also the first input: it may not be resized or broadcast.
  TensorIterator(const TensorIteratorConfig& config, const Tensor& output,
                 std::initializer_list<const Tensor*> inputs, bool is_inplace = false);

  // The type the kernel computes in (the promoted input type).
  ScalarType common_dtype() const { return common_dtype_; }
  ScalarType dtype(int operand) const { return operands_[operand].dtype(); }
  int num_operands() const { return num_operands_; }
  int64_t numel() const { return numel_; }

  // loop(data, strides, n): data[0] is the output, data[1..] the inputs; strides in bytes.
  using Loop = void (*)(void* ctx, char** data, const int64_t* strides, int64_t n);
  template <class F>
  void for_each(F&& loop) {
    run([](void* ctx, char** data, const int64_t* strides, int64_t n) { (*static_cast<F*>(ctx))(data, strides, n); },
        &loop);
  }

  // For a device backend, which launches its own kernel over the operands instead of
  // for_each, then calls finish(). The shape puts the fastest-moving dimension first; the
  // strides are in bytes, in the same order.
  IntArrayRef shape() const { return shape_; }
  IntArrayRef strides(int operand) const { return strides_[operand]; }
  const Tensor& operand(int i) const { return operands_[i]; }
  // Writes the result to the user's `out=` if the kernel wrote a temporary of another dtype.
  void finish();

  // The result, after for_each (written back to the user's `out=` if a cast was needed).
  const Tensor& output() const { return user_output_.defined() ? user_output_ : operands_[0]; }

 private:
  void run(Loop loop, void* ctx);
  void serial_run(Loop loop, void* ctx, int64_t begin, int64_t end) const;
  void compute_shape(bool is_inplace);
  void compute_dtypes(bool is_inplace);
  void compute_strides_and_allocate();
  void coalesce_dimensions();

  TensorIteratorConfig config_;
  Tensor operands_[kMaxOperands];
  Tensor user_output_;  // the user's `out=` when the kernel writes a temporary of another dtype
  bool output_given_ = false;
  int num_operands_ = 0;
  ScalarType common_dtype_ = ScalarType::Undefined;
  DimVector shape_;  // broadcast shape; after reordering: fastest-moving dimension first
  DimVector perm_;   // perm_[i] = original dimension placed at position i
  SmallVector<int64_t, 6> strides_[kMaxOperands];  // bytes, in perm_ order
  int64_t numel_ = 0;
};

// torch's overlap rules for a written tensor, which every TensorIterator with an output
// applies; kernels that write without one (CUDA's copy_) call them too. No element may be
// written twice (an expanded output), and an input may share memory with the output only
// exactly (x.add_(x)), not in part.
void check_no_internal_overlap(const Tensor& out, std::string_view op);
void check_overlap(const Tensor& out, const Tensor& input, std::string_view op);

}  // namespace vt
