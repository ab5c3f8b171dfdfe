// Resampling (F.interpolate): nearest, nearest-exact and (bi/tri)linear, separable along
// each spatial dim, as index_select of source positions (and a blend of two neighbours for
// linear). Positions follow torch's formulas, so results match it.
#include <cmath>

#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

enum class Resample { Nearest, NearestExact, Linear };

Tensor index_tensor(const std::vector<int64_t>& values, Device device) {
  Tensor t = empty(std::vector<int64_t>{static_cast<int64_t>(values.size())}, ScalarType::Int64);
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return to(t, std::nullopt, device);
}

// Source coordinate per output position; `scale` is in/out, or 1/scale_factor when given.
double source_scale(int64_t in, int64_t out, std::optional<double> scale_factor, bool align_corners) {
  if (align_corners) return out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  if (scale_factor && *scale_factor > 0) return 1.0 / *scale_factor;
  return static_cast<double>(in) / static_cast<double>(out);
}

Tensor resample_dim(const Tensor& x, int64_t d, int64_t out, std::optional<double> scale_factor, Resample mode,
                    bool align_corners) {
  int64_t in = x.size(d);
  if (in == out && mode != Resample::Linear) return x;
  double scale = source_scale(in, out, scale_factor, mode == Resample::Linear && align_corners);
  if (mode != Resample::Linear) {
    // In float, as torch computes nearest positions, so ties round the same way.
    float s = static_cast<float>(scale);
    std::vector<int64_t> src(out);
    for (int64_t i = 0; i < out; ++i) {
      float pos = mode == Resample::Nearest ? std::floor(static_cast<float>(i) * s)
                                            : std::floor((static_cast<float>(i) + 0.5f) * s);
      src[i] = std::min<int64_t>(static_cast<int64_t>(pos), in - 1);
    }
    return index_select(x, d, index_tensor(src, x.device()));
  }
  std::vector<int64_t> lo(out), hi(out);
  Tensor weight = empty(std::vector<int64_t>{out}, ScalarType::Float64);
  double* w = weight.data<double>();
  for (int64_t i = 0; i < out; ++i) {
    double pos = align_corners ? i * scale : std::max(0.0, (i + 0.5) * scale - 0.5);
    int64_t i0 = std::min<int64_t>(static_cast<int64_t>(pos), in - 1);
    lo[i] = i0;
    hi[i] = i0 < in - 1 ? i0 + 1 : i0;
    w[i] = pos - static_cast<double>(i0);
  }
  DimVector shape(x.dim(), 1);
  shape[d] = out;
  Tensor lambda = reshape(to(weight, x.dtype(), x.device()), shape);
  Tensor a = index_select(x, d, index_tensor(lo, x.device())), b = index_select(x, d, index_tensor(hi, x.device()));
  return add(mul(a, sub(scalar_to_tensor(1), lambda)), mul(b, lambda));
}

Tensor upsample(const Tensor& input, std::optional<std::vector<int64_t>> output_size,
                std::optional<std::vector<double>> scale_factors, Resample mode, bool align_corners, int64_t spatial,
                const char* op) {
  VT_CHECK(input.dim() == spatial + 2, op, "(): expected a ", spatial + 2, "-D input (batch, channels and ", spatial,
           " spatial dims), got ", shape_str(input.sizes()));
  VT_CHECK(output_size.has_value() != scale_factors.has_value(), op, "(): must specify exactly one of output_size and ",
           "scale_factors");
  VT_CHECK(is_floating_point(input.dtype()) || mode != Resample::Linear, "\"", op, "\" not implemented for '",
           dtype_short_name(input.dtype()), "'");
  if (output_size) VT_CHECK(static_cast<int64_t>(output_size->size()) == spatial, op, "(): output_size must have ", spatial, " elements");
  if (scale_factors) VT_CHECK(static_cast<int64_t>(scale_factors->size()) == spatial, op, "(): scale_factors must have ", spatial, " elements");
  Tensor out = input;
  for (int64_t k = 0; k < spatial; ++k) {
    int64_t d = 2 + k, in = input.size(d);
    std::optional<double> factor;
    int64_t size;
    if (output_size) {
      size = (*output_size)[k];
    } else {
      factor = (*scale_factors)[k];
      size = static_cast<int64_t>(std::floor(static_cast<double>(in) * *factor));
    }
    VT_CHECK(size > 0 && in > 0, op, "(): Input and output sizes should be greater than 0, but got input (",
             shape_str(input.sizes()), ") and output size ", size);
    out = resample_dim(out, d, size, factor, mode, align_corners);
  }
  return out.is_same(input) ? clone(input) : out;
}

using Sizes = std::optional<std::vector<int64_t>>;
using Scales = std::optional<std::vector<double>>;
template <int Spatial>
Tensor nearest(const Tensor& input, Sizes output_size, Scales scales) {
  return upsample(input, output_size, scales, Resample::Nearest, false, Spatial, "upsample_nearest");
}
template <int Spatial>
Tensor nearest_exact(const Tensor& input, Sizes output_size, Scales scales) {
  return upsample(input, output_size, scales, Resample::NearestExact, false, Spatial, "upsample_nearest_exact");
}
template <int Spatial>
Tensor linear(const Tensor& input, Sizes output_size, bool align_corners, Scales scales) {
  return upsample(input, output_size, scales, Resample::Linear, align_corners, Spatial, "upsample_linear");
}

}  // namespace

VT_REGISTRATION(sampling_ops) {
  Registry& r = Registry::instance();
  for (const char* name : {"upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "_upsample_nearest_exact1d",
                           "_upsample_nearest_exact2d", "_upsample_nearest_exact3d"}) {
    r.define(std::string(name) + ".vec(Tensor input, SymInt[]? output_size, float[]? scale_factors) -> Tensor");
  }
  for (const char* name : {"upsample_linear1d", "upsample_bilinear2d", "upsample_trilinear3d"}) {
    r.define(std::string(name) + ".vec(Tensor input, SymInt[]? output_size, bool align_corners, float[]? scale_factors) -> Tensor");
  }
  register_composite("upsample_nearest1d.vec", &nearest<1>);
  register_composite("upsample_nearest2d.vec", &nearest<2>);
  register_composite("upsample_nearest3d.vec", &nearest<3>);
  register_composite("_upsample_nearest_exact1d.vec", &nearest_exact<1>);
  register_composite("_upsample_nearest_exact2d.vec", &nearest_exact<2>);
  register_composite("_upsample_nearest_exact3d.vec", &nearest_exact<3>);
  register_composite("upsample_linear1d.vec", &linear<1>);
  register_composite("upsample_bilinear2d.vec", &linear<2>);
  register_composite("upsample_trilinear3d.vec", &linear<3>);
}

// mode: "nearest", "nearest-exact", "linear" (any of linear/bilinear/trilinear, by the
// input's rank).
Tensor upsample(const Tensor& input, std::string_view mode, std::optional<std::vector<int64_t>> output_size,
                std::optional<std::vector<double>> scale_factors, bool align_corners) {
  using NearestOp = TypedOp<Tensor(const Tensor&, Sizes, Scales)>;
  using LinearOp = TypedOp<Tensor(const Tensor&, Sizes, bool, Scales)>;
  static const NearestOp nearest_ops[] = {NearestOp("upsample_nearest1d.vec"), NearestOp("upsample_nearest2d.vec"),
                                          NearestOp("upsample_nearest3d.vec")};
  static const NearestOp exact_ops[] = {NearestOp("_upsample_nearest_exact1d.vec"),
                                        NearestOp("_upsample_nearest_exact2d.vec"),
                                        NearestOp("_upsample_nearest_exact3d.vec")};
  static const LinearOp linear_ops[] = {LinearOp("upsample_linear1d.vec"), LinearOp("upsample_bilinear2d.vec"),
                                        LinearOp("upsample_trilinear3d.vec")};
  int64_t spatial = input.dim() - 2;
  VT_CHECK_KIND(spatial >= 1 && spatial <= 3, ErrorKind::NotImplemented, "Input Error: Only 3D, 4D and 5D input ",
                "Tensors supported (got ", input.dim(), "D) for the modes: nearest | linear | bilinear | bicubic | ",
                "trilinear | area | nearest-exact (got ", mode, ")");
  if (mode == "nearest") return nearest_ops[spatial - 1](input, output_size, scale_factors);
  if (mode == "nearest-exact") return exact_ops[spatial - 1](input, output_size, scale_factors);
  VT_CHECK_KIND(mode == "linear", ErrorKind::NotImplemented, "upsample(): mode ", mode, " is not supported yet");
  return linear_ops[spatial - 1](input, output_size, align_corners, scale_factors);
}

}  // namespace vt
