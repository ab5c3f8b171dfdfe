// The C++ API: one function per op, each a call through the dispatcher. Schemas, shape and
// dtype rules live in src/ops/<family>.cpp; kernels in src/cpu (and src/cuda).
#pragma once
#include <array>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

#include "vt/random.h"
#include "vt/tensor.h"

namespace vt {

using OptionalDims = std::optional<std::vector<int64_t>>;

// ---- factories (src/ops/factory.cpp)
Tensor empty(IntArrayRef size, ScalarType dtype, Device device = Device());
Tensor full(IntArrayRef size, const Scalar& value, std::optional<ScalarType> dtype = std::nullopt, Device device = Device());
Tensor zeros(IntArrayRef size, ScalarType dtype, Device device = Device());
Tensor ones(IntArrayRef size, ScalarType dtype, Device device = Device());
// Zeros with t's shape, dtype and device.
inline Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), t.dtype(), t.device()); }
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, std::optional<ScalarType> dtype = std::nullopt,
              Device device = Device());
// An uninitialized tensor shaped like `self`, keeping its strides when they are a
// permutation of a contiguous layout (torch's preserve_format), contiguous otherwise.
Tensor empty_like(const Tensor& self, std::optional<ScalarType> dtype = std::nullopt,
                  std::optional<Device> device = std::nullopt);
// A 0-dim tensor holding a Python number, marked as a wrapped number for type promotion.
Tensor scalar_to_tensor(const Scalar& value);

// ---- copies and conversion (src/ops/copy.cpp)
// non_blocking: a copy between host and device may return before it completes (from or to
// pinned memory); the caller synchronizes.
const Tensor& copy_(const Tensor& self, const Tensor& src, bool non_blocking = false);
const Tensor& fill_(const Tensor& self, const Scalar& value);
Tensor clone(const Tensor& self);
Tensor contiguous(const Tensor& self);
// Returns `self` when nothing changes, else a converted copy (torch's `to`).
Tensor to(const Tensor& self, std::optional<ScalarType> dtype, std::optional<Device> device = std::nullopt, bool copy = false,
          bool non_blocking = false);

// ---- views and shape (src/ops/shape.cpp); every result aliases `self`'s storage
Tensor view(const Tensor& self, IntArrayRef size);
Tensor reshape(const Tensor& self, IntArrayRef size);
Tensor permute(const Tensor& self, IntArrayRef dims);
Tensor transpose(const Tensor& self, int64_t dim0, int64_t dim1);
Tensor t(const Tensor& self);
Tensor expand(const Tensor& self, IntArrayRef size);
Tensor squeeze(const Tensor& self, OptionalDims dims = std::nullopt);
Tensor unsqueeze(const Tensor& self, int64_t dim);
Tensor flatten(const Tensor& self, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor unflatten(const Tensor& self, int64_t dim, IntArrayRef sizes);
Tensor narrow(const Tensor& self, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& self, int64_t dim, int64_t index);
Tensor slice(const Tensor& self, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step);
Tensor as_strided(const Tensor& self, IntArrayRef size, IntArrayRef stride, std::optional<int64_t> storage_offset);
Tensor diagonal(const Tensor& self, int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1);
Tensor unfold(const Tensor& self, int64_t dimension, int64_t size, int64_t step);

// ---- indexing by index tensors (src/ops/index.cpp)
Tensor gather(const Tensor& self, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index);
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha = 1);
Tensor masked_fill(const Tensor& self, const Tensor& mask, const Scalar& value);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Scalar& value);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, std::string_view reduce);
// reduce: "sum", "prod", "mean", "amax" or "amin".
Tensor scatter_reduce(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src, std::string_view reduce,
                      bool include_self = true);
// ---- advanced indexing (src/ops/advanced_index.cpp). In `indices`, an undefined tensor
// leaves its dim alone (a `:`); boolean tensors are masks.
Tensor nonzero(const Tensor& self);
Tensor index(const Tensor& self, std::span<const Tensor> indices);
Tensor index_put(const Tensor& self, std::span<const Tensor> indices, const Tensor& values, bool accumulate = false);
Tensor index_copy(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source);
// value: a 0-dim tensor.
Tensor index_fill(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& value);
Tensor masked_select(const Tensor& self, const Tensor& mask);
Tensor masked_scatter(const Tensor& self, const Tensor& mask, const Tensor& source);
Tensor take(const Tensor& self, const Tensor& index);
Tensor take_along_dim(const Tensor& self, const Tensor& indices, std::optional<int64_t> dim = std::nullopt);
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx = -1, bool scale_grad_by_freq = false,
                 bool sparse = false);

// ---- losses and normalizations (src/ops/loss.cpp); reduction: 0 none, 1 mean, 2 sum
Tensor mse_loss(const Tensor& input, const Tensor& target, int64_t reduction = 1);
Tensor l1_loss(const Tensor& input, const Tensor& target, int64_t reduction = 1);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, int64_t reduction = 1, double beta = 1.0);
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                            int64_t reduction = 1);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                                        const std::optional<Tensor>& pos_weight, int64_t reduction = 1);
Tensor nll_loss(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight, int64_t reduction = 1,
                int64_t ignore_index = -100);
Tensor cross_entropy(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                     int64_t reduction = 1, int64_t ignore_index = -100, double label_smoothing = 0.0);
Tensor var(const Tensor& self, OptionalDims dims, const Scalar& correction = 1, bool keepdim = false);
// The layer_norm output with the row means and reciprocal standard deviations (torch's shapes).
std::tuple<Tensor, Tensor, Tensor> native_layer_norm(const Tensor& input, IntArrayRef normalized_shape,
                                                     const std::optional<Tensor>& weight,
                                                     const std::optional<Tensor>& bias, double eps);
std::tuple<Tensor, Tensor, Tensor> native_layer_norm_backward(const Tensor& grad_out, const Tensor& input,
                                                              IntArrayRef normalized_shape, const Tensor& mean,
                                                              const Tensor& rstd, const std::optional<Tensor>& weight,
                                                              const std::optional<Tensor>& bias,
                                                              std::array<bool, 3> output_mask);
Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& bias, double eps = 1e-5, bool cudnn_enable = true);
Tensor rms_norm(const Tensor& input, IntArrayRef normalized_shape, const std::optional<Tensor>& weight,
                std::optional<double> eps = std::nullopt);

// ---- random (src/ops/random.cpp); generator null: the default generator
const Tensor& uniform_(const Tensor& self, double from = 0, double to = 1, Generator* generator = nullptr);
const Tensor& normal_(const Tensor& self, double mean = 0, double std = 1, Generator* generator = nullptr);
const Tensor& random_(const Tensor& self, int64_t low, int64_t high, Generator* generator = nullptr);
const Tensor& bernoulli_(const Tensor& self, const Tensor& p, Generator* generator = nullptr);
Tensor randperm(int64_t n, std::optional<ScalarType> dtype = std::nullopt, Device device = Device(),
                Generator* generator = nullptr);
Tensor dropout(const Tensor& input, double p, bool train);
// Rows of `self` are unnormalized category probabilities (1-D: one row).
Tensor multinomial(const Tensor& self, int64_t num_samples, bool replacement = false, Generator* generator = nullptr);

// ---- composites (src/ops/composite.cpp)
Tensor linear(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias);
Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta = 1, const Scalar& alpha = 1);
Tensor baddbmm(const Tensor& self, const Tensor& batch1, const Tensor& batch2, const Scalar& beta = 1,
               const Scalar& alpha = 1);
Tensor outer(const Tensor& self, const Tensor& vec2);
Tensor dot(const Tensor& self, const Tensor& other);
Tensor triu(const Tensor& self, int64_t diagonal = 0);
Tensor tril(const Tensor& self, int64_t diagonal = 0);
Tensor one_hot(const Tensor& self, int64_t num_classes = -1);
Tensor repeat(const Tensor& self, IntArrayRef repeats);
Tensor flip(const Tensor& self, IntArrayRef dims);
Tensor movedim(const Tensor& self, IntArrayRef source, IntArrayRef destination);
Tensor any(const Tensor& self, OptionalDims dims = std::nullopt, bool keepdim = false);
Tensor all(const Tensor& self, OptionalDims dims = std::nullopt, bool keepdim = false);
Tensor count_nonzero(const Tensor& self, OptionalDims dims = std::nullopt);
Tensor constant_pad_nd(const Tensor& self, IntArrayRef pad, const Scalar& value = 0);
// Fused attention without mask or dropout (float32/float64 on the CPU): the output and each
// query row's logsumexp, and the gradients from them (src/ops/attention.cpp).
std::tuple<Tensor, Tensor> _scaled_dot_product_flash_attention_for_cpu(
    const Tensor& query, const Tensor& key, const Tensor& value, double dropout_p = 0.0, bool is_causal = false,
    const std::optional<Tensor>& attn_mask = std::nullopt, std::optional<double> scale = std::nullopt);
std::tuple<Tensor, Tensor, Tensor> _scaled_dot_product_flash_attention_for_cpu_backward(
    const Tensor& grad_out, const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& out,
    const Tensor& logsumexp, double dropout_p, bool is_causal, const std::optional<Tensor>& attn_mask = std::nullopt,
    std::optional<double> scale = std::nullopt);
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const std::optional<Tensor>& attn_mask = std::nullopt, double dropout_p = 0.0,
                                    bool is_causal = false, std::optional<double> scale = std::nullopt);

// ---- convolution and pooling (src/ops/conv.cpp)
// conv2d with one group on a 4-D input whose arguments conv2d has checked (its fast path).
Tensor _conv2d_dense(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
                     IntArrayRef padding, IntArrayRef dilation);
// Its gradients of input, weight and bias (those output_mask asks for), for the backward pass.
std::tuple<Tensor, Tensor, Tensor> _conv2d_dense_backward(const Tensor& grad_output, const Tensor& input,
                                                          const Tensor& weight, IntArrayRef stride, IntArrayRef padding,
                                                          IntArrayRef dilation, std::array<bool, 3> output_mask);
Tensor conv2d(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, int64_t groups);
Tensor conv1d(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, int64_t groups);
Tensor max_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
                  IntArrayRef dilation, bool ceil_mode);
Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                  bool count_include_pad, std::optional<int64_t> divisor_override);
Tensor adaptive_avg_pool2d(const Tensor& input, IntArrayRef output_size);
// F.unfold / F.fold.
Tensor im2col(const Tensor& self, IntArrayRef kernel_size, IntArrayRef dilation, IntArrayRef padding, IntArrayRef stride);
Tensor col2im(const Tensor& self, IntArrayRef output_size, IntArrayRef kernel_size, IntArrayRef dilation,
              IntArrayRef padding, IntArrayRef stride);
// ---- resampling (src/ops/sampling.cpp). mode: "nearest", "nearest-exact" or "linear"
// (linear/bilinear/trilinear by the input's rank); exactly one of output_size, scale_factors.
Tensor upsample(const Tensor& input, std::string_view mode, std::optional<std::vector<int64_t>> output_size,
                std::optional<std::vector<double>> scale_factors, bool align_corners = false);

Tensor batch_norm(const Tensor& input, const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                  const std::optional<Tensor>& running_mean, const std::optional<Tensor>& running_var, bool training,
                  double momentum, double eps);
Tensor group_norm(const Tensor& input, int64_t num_groups, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& bias, double eps = 1e-5);

// ---- joining and splitting (src/ops/join.cpp)
Tensor cat(std::span<const Tensor> tensors, int64_t dim = 0);
Tensor stack(std::span<const Tensor> tensors, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& self, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split_with_sizes(const Tensor& self, IntArrayRef sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& self, int64_t chunks, int64_t dim = 0);
std::vector<Tensor> unbind(const Tensor& self, int64_t dim = 0);

// ---- pointwise (src/ops/pointwise.cpp). `_` forms write into self; `_out` forms into out.
#define VT_DECLARE_BINARY(name, ...)                                                          \
  Tensor name(const Tensor& self, const Tensor& other __VA_OPT__(, ) __VA_ARGS__);            \
  const Tensor& name##_(const Tensor& self, const Tensor& other __VA_OPT__(, ) __VA_ARGS__);  \
  const Tensor& name##_out(const Tensor& out, const Tensor& self, const Tensor& other __VA_OPT__(, ) __VA_ARGS__);
VT_DECLARE_BINARY(add, const Scalar& alpha = 1)
VT_DECLARE_BINARY(sub, const Scalar& alpha = 1)
VT_DECLARE_BINARY(mul)
VT_DECLARE_BINARY(div, std::optional<std::string_view> rounding_mode = std::nullopt)
VT_DECLARE_BINARY(pow)
VT_DECLARE_BINARY(eq)
VT_DECLARE_BINARY(ne)
VT_DECLARE_BINARY(lt)
VT_DECLARE_BINARY(le)
VT_DECLARE_BINARY(gt)
VT_DECLARE_BINARY(ge)
#define VT_BINARY_OP(name, ...) VT_DECLARE_BINARY(name)
#include "vt/binary_ops.def"
#undef VT_BINARY_OP
#undef VT_DECLARE_BINARY

#define VT_DECLARE_UNARY(name)                  \
  Tensor name(const Tensor& self);              \
  const Tensor& name##_(const Tensor& self);    \
  const Tensor& name##_out(const Tensor& out, const Tensor& self);
VT_DECLARE_UNARY(neg)
VT_DECLARE_UNARY(abs)
VT_DECLARE_UNARY(relu)
#define VT_UNARY_OP(name, ...) VT_DECLARE_UNARY(name)
#include "vt/unary_ops.def"
#undef VT_UNARY_OP
VT_DECLARE_UNARY(logical_not)
VT_DECLARE_UNARY(bitwise_not)
#undef VT_DECLARE_UNARY
// square(x) = x ** 2, with pow's dtype rules (bool squares to int64, as in torch).
Tensor square(const Tensor& self);

Tensor where(const Tensor& condition, const Tensor& self, const Tensor& other);
Tensor isnan(const Tensor& self);
Tensor isinf(const Tensor& self);
Tensor isfinite(const Tensor& self);
Tensor round(const Tensor& self, int64_t decimals);
Tensor nan_to_num(const Tensor& self, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf);

// ---- activations with parameters (src/ops/activation.cpp)
Tensor gelu(const Tensor& self, std::string_view approximate = "none");
// grad_output * d gelu(self) / d self, one fused kernel (the backward of gelu).
Tensor gelu_backward(const Tensor& grad_output, const Tensor& self, std::string_view approximate = "none");
Tensor softplus(const Tensor& self, const Scalar& beta = 1, const Scalar& threshold = 20);
Tensor elu(const Tensor& self, const Scalar& alpha = 1, const Scalar& scale = 1, const Scalar& input_scale = 1);
Tensor leaky_relu(const Tensor& self, const Scalar& negative_slope = 0.01);
Tensor hardtanh(const Tensor& self, const Scalar& min_val = -1, const Scalar& max_val = 1);
Tensor logit(const Tensor& self, std::optional<double> eps = std::nullopt);
Tensor clamp(const Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max);
const Tensor& clamp_(const Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max);
const Tensor& clamp_out(const Tensor& out, const Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max);

// ---- reductions (src/ops/reduce.cpp). `dims` empty or nullopt: every dimension.
Tensor sum(const Tensor& self, OptionalDims dims = std::nullopt, bool keepdim = false,
           std::optional<ScalarType> dtype = std::nullopt);
Tensor mean(const Tensor& self, OptionalDims dims = std::nullopt, bool keepdim = false,
            std::optional<ScalarType> dtype = std::nullopt);
Tensor max(const Tensor& self);
Tensor min(const Tensor& self);
std::tuple<Tensor, Tensor> max_dim(const Tensor& self, int64_t dim, bool keepdim = false);
std::tuple<Tensor, Tensor> min_dim(const Tensor& self, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& self, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);
Tensor argmin(const Tensor& self, std::optional<int64_t> dim = std::nullopt, bool keepdim = false);

Tensor amax(const Tensor& self, OptionalDims dims = std::nullopt, bool keepdim = false);
Tensor amin(const Tensor& self, OptionalDims dims = std::nullopt, bool keepdim = false);
Tensor logsumexp(const Tensor& self, OptionalDims dims, bool keepdim = false);
Tensor softmax(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
// The kernels behind them (src/ops/softmax.cpp): a floating input, softmax along dim.
Tensor _softmax(const Tensor& self, int64_t dim, bool half_to_float = false);
Tensor _log_softmax(const Tensor& self, int64_t dim, bool half_to_float = false);
Tensor _softmax_backward_data(const Tensor& grad_output, const Tensor& output, int64_t dim, ScalarType input_dtype);
Tensor _log_softmax_backward_data(const Tensor& grad_output, const Tensor& output, int64_t dim, ScalarType input_dtype);

// ---- scans and products (src/ops/scan.cpp)
Tensor cumsum(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
Tensor cumprod(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
Tensor prod(const Tensor& self, std::optional<ScalarType> dtype = std::nullopt);
Tensor prod(const Tensor& self, int64_t dim, bool keepdim = false, std::optional<ScalarType> dtype = std::nullopt);
// ---- ordering (src/ops/sort.cpp); sort is stable, NaN orders above every number
std::tuple<Tensor, Tensor> sort(const Tensor& self, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& self, int64_t dim = -1, bool descending = false);
Tensor msort(const Tensor& self);
std::tuple<Tensor, Tensor> topk(const Tensor& self, int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true);
std::tuple<Tensor, Tensor> kthvalue(const Tensor& self, int64_t k, int64_t dim = -1, bool keepdim = false);
Tensor median(const Tensor& self);
std::tuple<Tensor, Tensor> median(const Tensor& self, int64_t dim, bool keepdim = false);
Tensor nanmedian(const Tensor& self);
std::tuple<Tensor, Tensor> nanmedian(const Tensor& self, int64_t dim, bool keepdim = false);
Tensor searchsorted(const Tensor& sorted_sequence, const Tensor& self, bool out_int32 = false, bool right = false,
                    std::optional<std::string_view> side = std::nullopt, const std::optional<Tensor>& sorter = std::nullopt);
Tensor bucketize(const Tensor& self, const Tensor& boundaries, bool out_int32 = false, bool right = false);
Tensor bincount(const Tensor& self, const std::optional<Tensor>& weights = std::nullopt, int64_t minlength = 0);
Tensor histc(const Tensor& self, int64_t bins = 100, const Scalar& min = 0, const Scalar& max = 0);
// (values, inverse, counts); inverse and counts are empty unless asked for.
std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& self, bool sorted = true, bool return_inverse = false,
                                          bool return_counts = false);
std::tuple<Tensor, Tensor, Tensor> unique_consecutive(const Tensor& self, bool return_inverse = false,
                                                      bool return_counts = false,
                                                      std::optional<int64_t> dim = std::nullopt);
// ---- rearrangements (src/ops/rearrange.cpp)
Tensor tile(const Tensor& self, IntArrayRef dims);
// Positions 0..n-1, position k repeated repeats[k] times.
Tensor repeat_interleave(const Tensor& repeats, std::optional<int64_t> output_size = std::nullopt);
Tensor repeat_interleave(const Tensor& self, const Tensor& repeats, std::optional<int64_t> dim = std::nullopt,
                         std::optional<int64_t> output_size = std::nullopt);
Tensor repeat_interleave(const Tensor& self, int64_t repeats, std::optional<int64_t> dim = std::nullopt,
                         std::optional<int64_t> output_size = std::nullopt);
Tensor roll(const Tensor& self, IntArrayRef shifts, IntArrayRef dims = {});
// mode: "constant", "reflect", "replicate" or "circular".
Tensor pad(const Tensor& self, IntArrayRef pad, std::string_view mode = "constant", std::optional<double> value = std::nullopt);
// ---- three-operand pointwise ops (src/ops/pointwise_composite.cpp)
Tensor lerp(const Tensor& self, const Tensor& end, const Scalar& weight);
Tensor lerp(const Tensor& self, const Tensor& end, const Tensor& weight);
Tensor addcmul(const Tensor& self, const Tensor& tensor1, const Tensor& tensor2, const Scalar& value = 1);
Tensor addcdiv(const Tensor& self, const Tensor& tensor1, const Tensor& tensor2, const Scalar& value = 1);
// |self - other| <= atol + rtol * |other| elementwise (torch.isclose).
Tensor isclose(const Tensor& self, const Tensor& other, double rtol = 1e-05, double atol = 1e-08, bool equal_nan = false);
// Whether each element's sign bit is set (-0.0 and negative NaN included) (torch.signbit).
Tensor signbit(const Tensor& self);
// ---- linear algebra composites (src/ops/linalg_composite.cpp)
Tensor einsum(std::string_view equation, std::span<const Tensor> tensors);
Tensor tensordot(const Tensor& self, const Tensor& other, IntArrayRef dims_self, IntArrayRef dims_other);
Tensor linalg_vector_norm(const Tensor& self, const Scalar& ord = 2, OptionalDims dims = std::nullopt,
                          bool keepdim = false, std::optional<ScalarType> dtype = std::nullopt);
// ---- linear algebra (src/ops/linalg.cpp)
Tensor mm(const Tensor& self, const Tensor& mat2);
Tensor bmm(const Tensor& self, const Tensor& mat2);
Tensor matmul(const Tensor& self, const Tensor& other);

// ---- fused optimizer steps, one call per param group (src/ops/optim.cpp); no derivatives
void _foreach_add_(std::span<const Tensor> self, const Scalar& scalar);
void _fused_sgd_(std::span<const Tensor> self, std::span<const Tensor> grads,
                 std::span<const Tensor> momentum_buffer_list, double weight_decay, double momentum, double lr,
                 double dampening, bool nesterov, bool maximize, bool is_first_step,
                 const std::optional<Tensor>& grad_scale = std::nullopt,
                 const std::optional<Tensor>& found_inf = std::nullopt);
void _fused_adam_(std::span<const Tensor> self, std::span<const Tensor> grads, std::span<const Tensor> exp_avgs,
                  std::span<const Tensor> exp_avg_sqs, std::span<const Tensor> max_exp_avg_sqs,
                  std::span<const Tensor> state_steps, double lr, double beta1, double beta2, double weight_decay,
                  double eps, bool amsgrad, bool maximize, const std::optional<Tensor>& grad_scale = std::nullopt,
                  const std::optional<Tensor>& found_inf = std::nullopt);
// Adam with decoupled weight decay: the same arguments as _fused_adam_.
void _fused_adamw_(std::span<const Tensor> self, std::span<const Tensor> grads, std::span<const Tensor> exp_avgs,
                   std::span<const Tensor> exp_avg_sqs, std::span<const Tensor> max_exp_avg_sqs,
                   std::span<const Tensor> state_steps, double lr, double beta1, double beta2, double weight_decay,
                   double eps, bool amsgrad, bool maximize, const std::optional<Tensor>& grad_scale = std::nullopt,
                   const std::optional<Tensor>& found_inf = std::nullopt);
void _fused_adagrad_(std::span<const Tensor> self, std::span<const Tensor> grads, std::span<const Tensor> state_sums,
                     std::span<const Tensor> state_steps, double lr, double lr_decay, double weight_decay, double eps,
                     bool maximize, const std::optional<Tensor>& grad_scale = std::nullopt,
                     const std::optional<Tensor>& found_inf = std::nullopt);
void _fused_rmsprop_(std::span<const Tensor> self, std::span<const Tensor> grads, std::span<const Tensor> square_avgs,
                     std::span<const Tensor> grad_avgs, std::span<const Tensor> momentum_buffer_list, double lr,
                     double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize,
                     const std::optional<Tensor>& grad_scale = std::nullopt,
                     const std::optional<Tensor>& found_inf = std::nullopt);

// torch.result_type over tensors (wrapped numbers count as Python scalars).
ScalarType result_type(std::initializer_list<const Tensor*> tensors);

}  // namespace vt

namespace vt {
// Arithmetic operators for C++ code (derivative formulas, tests): each is one op call.
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, scalar_to_tensor(b)); }
inline Tensor operator-(const Tensor& a, const Scalar& b) { return sub(a, scalar_to_tensor(b)); }
inline Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, scalar_to_tensor(b)); }
inline Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, scalar_to_tensor(b)); }
inline Tensor operator-(const Scalar& a, const Tensor& b) { return sub(scalar_to_tensor(a), b); }
inline Tensor operator+(const Scalar& a, const Tensor& b) { return add(scalar_to_tensor(a), b); }
inline Tensor operator*(const Scalar& a, const Tensor& b) { return mul(scalar_to_tensor(a), b); }
}  // namespace vt
