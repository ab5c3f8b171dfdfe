// Losses, normalizations and variance, composed of differentiable ops (so their gradients,
// double backward and forward-mode come from their parts). Fused kernels can replace them
// later without changing the schemas.
#include "src/ops/norm.h"
#include "vt/autograd/meta.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

// torch's reduction codes.
enum Reduction : int64_t { kNone = 0, kMean = 1, kSum = 2 };

Tensor reduce_loss(const Tensor& loss, int64_t reduction) {
  if (reduction == kNone) return loss;
  return reduction == kSum ? sum(loss) : mean(loss);
}

void check_same_shape(const Tensor& input, const Tensor& target, const char* op) {
  VT_CHECK(std::equal(input.sizes().begin(), input.sizes().end(), target.sizes().begin(), target.sizes().end()),
           op, "(): Using a target size (", shape_str(target.sizes()), ") that is different to the input size (",
           shape_str(input.sizes()), ") is not supported");
}

Tensor mse_loss_composite(const Tensor& input, const Tensor& target, int64_t reduction) {
  Tensor diff = sub(input, target);
  return reduce_loss(mul(diff, diff), reduction);
}

Tensor l1_loss_composite(const Tensor& input, const Tensor& target, int64_t reduction) {
  return reduce_loss(abs(sub(input, target)), reduction);
}

Tensor smooth_l1_loss_composite(const Tensor& input, const Tensor& target, int64_t reduction, double beta) {
  VT_CHECK(beta >= 0, "smooth_l1_loss does not support negative values for beta.");
  Tensor diff = abs(sub(input, target));
  if (beta == 0) return reduce_loss(diff, reduction);
  Tensor quadratic = mul(mul(diff, diff), scalar_to_tensor(0.5 / beta));
  Tensor linear = sub(diff, scalar_to_tensor(0.5 * beta));
  return reduce_loss(where(lt(diff, scalar_to_tensor(beta)), quadratic, linear), reduction);
}

Tensor bce_composite(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight, int64_t reduction) {
  check_same_shape(input, target, "binary_cross_entropy");
  // torch clamps the logs at -100 so that 0 * log(0) gives 0 rather than NaN.
  Tensor floor_value = scalar_to_tensor(-100.0);
  Tensor log_p = maximum(log(input), floor_value);
  Tensor log_not_p = maximum(log(sub(scalar_to_tensor(1.0), input)), floor_value);
  Tensor loss = neg(add(mul(target, log_p), mul(sub(scalar_to_tensor(1.0), target), log_not_p)));
  if (weight) loss = mul(loss, *weight);
  return reduce_loss(loss, reduction);
}

Tensor bce_with_logits_composite(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                                 const std::optional<Tensor>& pos_weight, int64_t reduction) {
  check_same_shape(input, target, "binary_cross_entropy_with_logits");
  // (1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x)), with log(1 + exp(-x)) computed stably.
  Tensor one = scalar_to_tensor(1.0);
  Tensor log_sigmoid_neg = add(log1p(exp(neg(abs(input)))), maximum(neg(input), scalar_to_tensor(0.0)));
  Tensor coefficient = pos_weight ? add(one, mul(sub(*pos_weight, one), target)) : Tensor();
  Tensor loss = add(mul(sub(one, target), input), pos_weight ? mul(coefficient, log_sigmoid_neg) : log_sigmoid_neg);
  if (weight) loss = mul(loss, *weight);
  return reduce_loss(loss, reduction);
}

Tensor nll_loss_composite(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                          int64_t reduction, int64_t ignore_index) {
  VT_CHECK(input.dim() >= 1, "nll_loss(): input tensor should be 1D or more");
  VT_CHECK(target.dtype() == ScalarType::Int64, "nll_loss(): expected scalar type Long but found ",
           dtype_short_name(target.dtype()));
  bool unbatched = input.dim() == 1;
  Tensor x = unbatched ? unsqueeze(input, 0) : input;
  Tensor t = unbatched ? unsqueeze(target, 0) : target;
  VT_CHECK(t.dim() == x.dim() - 1 && t.size(0) == x.size(0), "Expected input batch_size (", x.size(0),
           ") to match target batch_size (", t.dim() > 0 ? t.size(0) : 0, ").");
  int64_t classes = x.size(1);
  VT_CHECK(!weight || (weight->dim() == 1 && weight->numel() == classes), "weight tensor should be defined either for all ",
           classes, " classes or no classes but got weight tensor of shape: ", shape_str(weight->sizes()));
  for (int64_t d = 1; d < t.dim(); ++d) {
    VT_CHECK(t.size(d) == x.size(d + 1), "Expected target size ", shape_str(IntArrayRef(x.sizes()).subspan(0, 1)),
             "+", shape_str(IntArrayRef(x.sizes()).subspan(2)), ", got ", shape_str(t.sizes()));
  }
  Tensor keep = ne(t, scalar_to_tensor(ignore_index));
  if (t.numel() > 0) {
    // Every target that is not ignored must name a class.
    Tensor bad = logical_and(keep, logical_or(lt(t, scalar_to_tensor(int64_t{0})), ge(t, scalar_to_tensor(classes))));
    if (any(bad).item().to_int()) {
      Tensor bad_values = where(bad, t, scalar_to_tensor(int64_t{0}));
      int64_t lowest = amin(bad_values).item().to_int();
      fail(ErrorKind::Index, "Target ", lowest < 0 ? lowest : amax(bad_values).item().to_int(), " is out of bounds.");
    }
  }
  Tensor safe = where(keep, t, scalar_to_tensor(int64_t{0}));  // ignored targets read class 0, then count for 0
  Tensor picked = squeeze(gather(x, 1, unsqueeze(safe, 1)), std::vector<int64_t>{1});
  Tensor w = weight ? reshape(index_select(*weight, 0, reshape(safe, std::vector<int64_t>{-1})), safe.sizes())
                    : ones(safe.sizes(), x.dtype(), x.device());
  w = mul(w, keep);
  Tensor loss = neg(mul(picked, w));
  if (reduction == kNone) return unbatched ? squeeze(loss, std::vector<int64_t>{0}) : loss;
  if (reduction == kSum) return sum(loss);
  return div(sum(loss), sum(w));
}

Tensor cross_entropy_composite(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                               int64_t reduction, int64_t ignore_index, double label_smoothing) {
  VT_CHECK(label_smoothing >= 0 && label_smoothing <= 1,
           "label_smoothing must be between 0.0 and 1.0. Got: ", label_smoothing);
  int64_t class_dim = input.dim() == 1 ? 0 : 1;
  Tensor log_p = log_softmax(input, class_dim);
  int64_t classes = input.size(class_dim);
  // A weight of shape [C] lines up with the class dim.
  auto class_weight = [&]() {
    DimVector shape(input.dim(), 1);
    shape[class_dim] = classes;
    return reshape(*weight, shape);
  };
  if (is_floating_point(target.dtype())) {
    // Class probabilities.
    check_same_shape(input, target, "cross_entropy");
    Tensor t = label_smoothing > 0 ? add(mul(target, scalar_to_tensor(1.0 - label_smoothing)),
                                         scalar_to_tensor(label_smoothing / static_cast<double>(classes)))
                                   : target;
    Tensor terms = mul(log_p, t);
    if (weight) terms = mul(terms, class_weight());
    Tensor loss = neg(sum(terms, std::vector<int64_t>{class_dim}));
    if (reduction == kNone) return loss;
    if (reduction == kSum) return sum(loss);
    return mean(loss);  // over the batch and any spatial dims
  }
  Tensor nll = nll_loss_composite(log_p, target, weight, reduction, ignore_index);
  if (label_smoothing == 0) return nll;
  // Smoothing: the mean over classes of -log p, weighted and masked like the targets.
  Tensor keep = ne(target, scalar_to_tensor(ignore_index));
  Tensor terms = weight ? mul(log_p, class_weight()) : log_p;
  Tensor smooth = mul(neg(sum(terms, std::vector<int64_t>{class_dim})), keep);
  Tensor smooth_reduced;
  if (reduction == kNone) {
    smooth_reduced = smooth;
  } else if (reduction == kSum) {
    smooth_reduced = sum(smooth);
  } else {
    Tensor safe = where(keep, target, scalar_to_tensor(int64_t{0}));
    Tensor denominator = weight ? sum(mul(reshape(index_select(*weight, 0, reshape(safe, std::vector<int64_t>{-1})),
                                                  safe.sizes()), keep))
                                : sum(keep);
    smooth_reduced = div(sum(smooth), denominator);
  }
  return add(mul(nll, scalar_to_tensor(1.0 - label_smoothing)),
             mul(smooth_reduced, scalar_to_tensor(label_smoothing / static_cast<double>(classes))));
}

Tensor var_composite(const Tensor& self, OptionalDims dims, const Scalar& correction, bool keepdim) {
  VT_CHECK(is_floating_point(self.dtype()), "std and var only support floating point and complex dtypes");
  Tensor centered = sub(self, mean(self, dims, true));
  Tensor squares = sum(mul(centered, centered), dims, keepdim);
  int64_t count = 1;
  if (!dims || dims->empty()) count = self.numel();
  else for (int64_t d : *dims) count *= self.size(d);
  double divisor = std::max(0.0, static_cast<double>(count) - correction.to_double());
  return div(squares, scalar_to_tensor(divisor));
}

Tensor layer_norm_composite(const Tensor& input, IntArrayRef normalized_shape, const std::optional<Tensor>& weight,
                            const std::optional<Tensor>& bias, double eps, bool /*cudnn_enable: no cuDNN path*/) {
  normalized_dims(input, normalized_shape, "layer_norm");
  return std::get<0>(native_layer_norm(input, normalized_shape, weight, bias, eps));
}

Tensor rms_norm_composite(const Tensor& input, IntArrayRef normalized_shape, const std::optional<Tensor>& weight,
                          std::optional<double> eps) {
  std::vector<int64_t> dims = normalized_dims(input, normalized_shape, "rms_norm");
  // torch's default eps is the machine epsilon of the input's dtype.
  double e = eps.value_or(input.dtype() == ScalarType::Float64 ? 2.220446049250313e-16
                          : input.dtype() == ScalarType::Float16 ? 0.0009765625
                          : input.dtype() == ScalarType::BFloat16 ? 0.0078125 : 1.1920928955078125e-07);
  Tensor out = mul(input, rsqrt(add(mean(mul(input, input), dims, true), scalar_to_tensor(e))));
  return weight ? mul(out, *weight) : out;
}

// Per-channel statistics over (N, spatial...) in training (updating the running averages
// in place, without history), the running averages in evaluation.
Tensor batch_norm_composite(const Tensor& input, const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                            const std::optional<Tensor>& running_mean, const std::optional<Tensor>& running_var,
                            bool training, double momentum, double eps, bool /*cudnn_enabled: no cuDNN path*/) {
  VT_CHECK(input.dim() >= 2, "batch_norm(): expected at least 2-D input, got ", input.dim(), "-D");
  int64_t channels = input.size(1);
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < input.dim(); ++d) dims.push_back(d);
  DimVector channel_shape(input.dim(), 1);
  channel_shape[1] = channels;
  auto per_channel = [&](const Tensor& t) { return reshape(t, channel_shape); };
  Tensor mean_value, var_value;
  if (training) {
    int64_t count = input.numel() / std::max<int64_t>(channels, 1);
    VT_CHECK(count > 1, "Expected more than 1 value per channel when training, got input size ", shape_str(input.sizes()));
    mean_value = mean(input, dims, true);
    Tensor centered = sub(input, mean_value);
    var_value = mean(mul(centered, centered), dims, true);
    if (running_mean && running_var) {
      autograd::BelowAutogradGuard no_history;
      Tensor batch_mean = reshape(mean_value, std::vector<int64_t>{channels});
      Tensor unbiased = mul(reshape(var_value, std::vector<int64_t>{channels}),
                            scalar_to_tensor(static_cast<double>(count) / static_cast<double>(count - 1)));
      copy_(*running_mean, add(mul(*running_mean, scalar_to_tensor(1 - momentum)), mul(batch_mean, scalar_to_tensor(momentum))));
      copy_(*running_var, add(mul(*running_var, scalar_to_tensor(1 - momentum)), mul(unbiased, scalar_to_tensor(momentum))));
    }
  } else {
    VT_CHECK(running_mean && running_var, "batch_norm(): running_mean and running_var must be defined in evaluation mode");
    mean_value = per_channel(*running_mean);
    var_value = per_channel(*running_var);
  }
  Tensor out = mul(sub(input, mean_value), rsqrt(add(var_value, scalar_to_tensor(eps))));
  if (weight) out = mul(out, per_channel(*weight));
  if (bias) out = add(out, per_channel(*bias));
  return out;
}

Tensor group_norm_composite(const Tensor& input, int64_t num_groups, const std::optional<Tensor>& weight,
                            const std::optional<Tensor>& bias, double eps, bool /*cudnn_enabled*/) {
  VT_CHECK(input.dim() >= 2, "group_norm(): expected at least 2-D input");
  int64_t n = input.size(0), channels = input.size(1);
  VT_CHECK(num_groups > 0 && channels % num_groups == 0, "Expected number of channels in input to be divisible by "
           "num_groups, but got input of shape ", shape_str(input.sizes()), " and num_groups=", num_groups);
  Tensor grouped = reshape(input, std::vector<int64_t>{n, num_groups, -1});
  std::vector<int64_t> last{2};
  Tensor centered = sub(grouped, mean(grouped, last, true));
  Tensor normalized = mul(centered, rsqrt(add(mean(mul(centered, centered), last, true), scalar_to_tensor(eps))));
  Tensor out = reshape(normalized, input.sizes());
  DimVector channel_shape(input.dim(), 1);
  channel_shape[1] = channels;
  if (weight) out = mul(out, reshape(*weight, channel_shape));
  if (bias) out = add(out, reshape(*bias, channel_shape));
  return out;
}

}  // namespace

VT_REGISTRATION(loss_ops) {
  Registry& r = Registry::instance();
  r.define("mse_loss(Tensor self, Tensor target, int reduction=1) -> Tensor");
  r.define("l1_loss(Tensor self, Tensor target, int reduction=1) -> Tensor");
  r.define("smooth_l1_loss(Tensor self, Tensor target, int reduction=1, float beta=1.0) -> Tensor");
  r.define("binary_cross_entropy(Tensor self, Tensor target, Tensor? weight=None, int reduction=1) -> Tensor");
  r.define("binary_cross_entropy_with_logits(Tensor self, Tensor target, Tensor? weight=None, Tensor? pos_weight=None, int reduction=1) -> Tensor");
  r.define("nll_loss(Tensor self, Tensor target, Tensor? weight=None, int reduction=1, int ignore_index=-100) -> Tensor");
  r.define("cross_entropy_loss(Tensor self, Tensor target, Tensor? weight=None, int reduction=1, int ignore_index=-100, float label_smoothing=0.0) -> Tensor");
  r.define("var.correction(Tensor self, int[1]? dim=None, *, Scalar correction=1, bool keepdim=False) -> Tensor");
  r.define("layer_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, Tensor? bias=None, float eps=1e-05, bool cudnn_enable=True) -> Tensor");
  r.define("rms_norm(Tensor input, int[] normalized_shape, Tensor? weight=None, float? eps=None) -> Tensor");
  r.define("batch_norm(Tensor input, Tensor? weight, Tensor? bias, Tensor? running_mean, Tensor? running_var, bool training, float momentum, float eps, bool cudnn_enabled) -> Tensor");
  r.define("group_norm(Tensor input, int num_groups, Tensor? weight=None, Tensor? bias=None, float eps=1e-05, bool cudnn_enabled=True) -> Tensor");
  register_composite("batch_norm", &batch_norm_composite);
  register_composite("group_norm", &group_norm_composite);
  register_composite("mse_loss", &mse_loss_composite);
  register_composite("l1_loss", &l1_loss_composite);
  register_composite("smooth_l1_loss", &smooth_l1_loss_composite);
  register_composite("binary_cross_entropy", &bce_composite);
  register_composite("binary_cross_entropy_with_logits", &bce_with_logits_composite);
  register_composite("nll_loss", &nll_loss_composite);
  register_composite("cross_entropy_loss", &cross_entropy_composite);
  register_composite("var.correction", &var_composite);
  register_composite("layer_norm", &layer_norm_composite);
  register_composite("rms_norm", &rms_norm_composite);
}

#define VT_COMPOSITE_API(ret, name, full_name, signature, params, args) \
  ret name params {                                                    \
    static const TypedOp<signature> op(full_name);                     \
    return op args;                                                    \
  }
VT_COMPOSITE_API(Tensor, mse_loss, "mse_loss", Tensor(const Tensor&, const Tensor&, int64_t),
                 (const Tensor& input, const Tensor& target, int64_t reduction), (input, target, reduction))
VT_COMPOSITE_API(Tensor, l1_loss, "l1_loss", Tensor(const Tensor&, const Tensor&, int64_t),
                 (const Tensor& input, const Tensor& target, int64_t reduction), (input, target, reduction))
VT_COMPOSITE_API(Tensor, smooth_l1_loss, "smooth_l1_loss", Tensor(const Tensor&, const Tensor&, int64_t, double),
                 (const Tensor& input, const Tensor& target, int64_t reduction, double beta), (input, target, reduction, beta))
VT_COMPOSITE_API(Tensor, binary_cross_entropy, "binary_cross_entropy",
                 Tensor(const Tensor&, const Tensor&, const std::optional<Tensor>&, int64_t),
                 (const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight, int64_t reduction),
                 (input, target, weight, reduction))
VT_COMPOSITE_API(Tensor, binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits",
                 Tensor(const Tensor&, const Tensor&, const std::optional<Tensor>&, const std::optional<Tensor>&, int64_t),
                 (const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& pos_weight, int64_t reduction),
                 (input, target, weight, pos_weight, reduction))
VT_COMPOSITE_API(Tensor, nll_loss, "nll_loss", Tensor(const Tensor&, const Tensor&, const std::optional<Tensor>&, int64_t, int64_t),
                 (const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight, int64_t reduction,
                  int64_t ignore_index),
                 (input, target, weight, reduction, ignore_index))
VT_COMPOSITE_API(Tensor, cross_entropy, "cross_entropy_loss",
                 Tensor(const Tensor&, const Tensor&, const std::optional<Tensor>&, int64_t, int64_t, double),
                 (const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight, int64_t reduction,
                  int64_t ignore_index, double label_smoothing),
                 (input, target, weight, reduction, ignore_index, label_smoothing))
VT_COMPOSITE_API(Tensor, var, "var.correction", Tensor(const Tensor&, OptionalDims, const Scalar&, bool),
                 (const Tensor& self, OptionalDims dims, const Scalar& correction, bool keepdim),
                 (self, std::move(dims), correction, keepdim))
VT_COMPOSITE_API(Tensor, layer_norm, "layer_norm",
                 Tensor(const Tensor&, IntArrayRef, const std::optional<Tensor>&, const std::optional<Tensor>&, double, bool),
                 (const Tensor& input, IntArrayRef shape, const std::optional<Tensor>& weight,
                  const std::optional<Tensor>& bias, double eps, bool cudnn_enable),
                 (input, shape, weight, bias, eps, cudnn_enable))
VT_COMPOSITE_API(Tensor, rms_norm, "rms_norm",
                 Tensor(const Tensor&, IntArrayRef, const std::optional<Tensor>&, std::optional<double>),
                 (const Tensor& input, IntArrayRef shape, const std::optional<Tensor>& weight, std::optional<double> eps),
                 (input, shape, weight, eps))
VT_COMPOSITE_API(Tensor, batch_norm, "batch_norm",
                 Tensor(const Tensor&, const std::optional<Tensor>&, const std::optional<Tensor>&, const std::optional<Tensor>&,
                        const std::optional<Tensor>&, bool, double, double, bool),
                 (const Tensor& input, const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                  const std::optional<Tensor>& running_mean, const std::optional<Tensor>& running_var, bool training,
                  double momentum, double eps),
                 (input, weight, bias, running_mean, running_var, training, momentum, eps, true))
VT_COMPOSITE_API(Tensor, group_norm, "group_norm",
                 Tensor(const Tensor&, int64_t, const std::optional<Tensor>&, const std::optional<Tensor>&, double, bool),
                 (const Tensor& input, int64_t groups, const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                  double eps),
                 (input, groups, weight, bias, eps, true))
#undef VT_COMPOSITE_API

}  // namespace vt
