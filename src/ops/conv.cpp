// Convolution and pooling as compositions: convolution is im2col (a CPU kernel; a strided
// `unfold` view elsewhere) then a matrix product; pooling reduces over window views.
// Differentiable on every backend through their parts, except one-group convolution, which is
// its own op (_conv2d_dense: the CPU computes it without laying out the columns) with its
// derivative written here.
#include <atomic>

#include "src/ops/conv.h"
#include "vt/autograd/record.h"
#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

struct Window2d {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
};

Window2d window_of(IntArrayRef kernel, IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation, const char* op) {
  auto pick = [op](IntArrayRef v, size_t i, int64_t fallback, const char* name) {
    if (v.empty()) return fallback;
    VT_CHECK(v.size() == 1 || v.size() == 2, op, "(): ", name, " must be a single int or a pair of ints");
    return v.size() == 1 ? v[0] : v[i];
  };
  Window2d w{pick(kernel, 0, 1, "kernel_size"), pick(kernel, 1, 1, "kernel_size"), pick(stride, 0, 1, "stride"),
             pick(stride, 1, 1, "stride"), pick(padding, 0, 0, "padding"), pick(padding, 1, 0, "padding"),
             pick(dilation, 0, 1, "dilation"), pick(dilation, 1, 1, "dilation")};
  VT_CHECK(w.sh > 0 && w.sw > 0, op, "(): stride should be greater than zero");
  VT_CHECK(w.dh > 0 && w.dw > 0, op, "(): dilation should be greater than zero");
  VT_CHECK(w.ph >= 0 && w.pw >= 0, op, "(): negative padding is not supported");
  return w;
}

// Pooling output size along one dim. ceil_mode adds a last, partial window, unless it would
// start in the right padding.
int64_t pooled_size(int64_t in, int64_t span, int64_t stride, int64_t pad, bool ceil_mode) {
  int64_t room = in + 2 * pad - span;
  int64_t out = (ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

// Extra rows and columns past the bottom-right padding that ceil_mode's last windows cover.
std::pair<int64_t, int64_t> ceil_overhang(const Tensor& x, const Window2d& w, bool ceil_mode) {
  if (!ceil_mode) return {0, 0};
  int64_t span_h = (w.kh - 1) * w.dh + 1, span_w = (w.kw - 1) * w.dw + 1;
  int64_t oh = pooled_size(x.size(2), span_h, w.sh, w.ph, true), ow = pooled_size(x.size(3), span_w, w.sw, w.pw, true);
  return {std::max<int64_t>(0, (oh - 1) * w.sh + span_h - (x.size(2) + 2 * w.ph)),
          std::max<int64_t>(0, (ow - 1) * w.sw + span_w - (x.size(3) + 2 * w.pw))};
}

// [N, C, H, W] -> [N, C, OH, OW, KH, KW]: every window as a view (after padding, plus
// `overhang` extra rows/columns at the bottom and right for ceil_mode).
Tensor windows(const Tensor& input, const Window2d& w, const Scalar& pad_value, const char* op,
               std::pair<int64_t, int64_t> overhang = {0, 0}) {
  auto [eh, ew] = overhang;
  bool padded = w.ph || w.pw || eh || ew;
  Tensor x = padded ? constant_pad_nd(input, std::vector<int64_t>{w.pw, w.pw + ew, w.ph, w.ph + eh}, pad_value) : input;
  int64_t span_h = (w.kh - 1) * w.dh + 1, span_w = (w.kw - 1) * w.dw + 1;
  VT_CHECK(x.size(2) >= span_h && x.size(3) >= span_w, op, "(): Kernel size can't be greater than actual input size");
  Tensor cols = unfold(unfold(x, 2, span_h, w.sh), 3, span_w, w.sw);  // [N, C, OH, OW, span_h, span_w]
  if (w.dh > 1) cols = slice(cols, 4, std::nullopt, std::nullopt, w.dh);
  if (w.dw > 1) cols = slice(cols, 5, std::nullopt, std::nullopt, w.dw);
  return cols;
}

// im2col's columns times the weight as a matrix: [O, C*KH*KW] @ [C*KH*KW, N*L] (per group
// with groups), then in NCHW order. Derivatives come from matmul and im2col (whose
// derivative is col2im).
Tensor conv2d_composite(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
                        IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  bool unbatched = input.dim() == 3;
  VT_CHECK(input.dim() == 4 || unbatched, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: ",
           shape_str(input.sizes()));
  VT_CHECK(weight.dim() == 4, "conv2d(): weight should be 4-D, got ", weight.dim(), "-D");
  VT_CHECK(groups > 0, "non-positive groups is not supported");
  Tensor x = unbatched ? unsqueeze(input, 0) : input;
  int64_t channels = x.size(1), out_channels = weight.size(0);
  VT_CHECK(channels == weight.size(1) * groups, "Given groups=", groups, ", weight of size ", shape_str(weight.sizes()),
           ", expected input", shape_str(x.sizes()), " to have ", weight.size(1) * groups, " channels, but got ", channels,
           " channels instead");
  VT_CHECK(out_channels % groups == 0, "out_channels must be divisible by groups");
  VT_CHECK(!bias || (bias->dim() == 1 && bias->size(0) == out_channels), "Given weight of size ",
           shape_str(weight.sizes()), ", expected bias to be 1-dimensional with ", out_channels,
           " elements, but got bias of size ", bias ? shape_str(bias->sizes()) : "", " instead");
  Window2d w = window_of(std::vector<int64_t>{weight.size(2), weight.size(3)}, stride, padding, dilation, "conv2d");
  int64_t span_h = (w.kh - 1) * w.dh + 1, span_w = (w.kw - 1) * w.dw + 1;
  VT_CHECK(x.size(2) + 2 * w.ph >= span_h && x.size(3) + 2 * w.pw >= span_w, "conv2d(): Kernel size can't be greater ",
           "than actual input size");
  if (groups == 1) {
    Tensor out = _conv2d_dense(x, weight, bias, std::vector<int64_t>{w.sh, w.sw}, std::vector<int64_t>{w.ph, w.pw},
                               std::vector<int64_t>{w.dh, w.dw});
    return unbatched ? squeeze(out, std::vector<int64_t>{0}) : out;
  }
  int64_t n = x.size(0), oh = (x.size(2) + 2 * w.ph - span_h) / w.sh + 1, ow = (x.size(3) + 2 * w.pw - span_w) / w.sw + 1;
  Tensor cols = im2col(x, std::vector<int64_t>{w.kh, w.kw}, std::vector<int64_t>{w.dh, w.dw},
                       std::vector<int64_t>{w.ph, w.pw}, std::vector<int64_t>{w.sh, w.sw});
  int64_t per_group = cols.size(1) / groups;
  Tensor kernel = reshape(weight, std::vector<int64_t>{groups, out_channels / groups, per_group});
  Tensor grouped = reshape(cols, std::vector<int64_t>{n, groups, per_group, oh * ow});
  Tensor out = reshape(matmul(kernel, grouped), std::vector<int64_t>{n, out_channels, oh, ow});
  if (bias) out = add(out, reshape(*bias, std::vector<int64_t>{1, out_channels, 1, 1}));
  return unbatched ? squeeze(out, std::vector<int64_t>{0}) : out;
}

Tensor conv1d_composite(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
                        IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  VT_CHECK(input.dim() == 3 || input.dim() == 2, "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input "
           "of size: ", shape_str(input.sizes()));
  VT_CHECK(weight.dim() == 3, "conv1d(): weight should be 3-D, got ", weight.dim(), "-D");
  auto pair = [](IntArrayRef v, int64_t fallback) {
    return std::vector<int64_t>{1, v.empty() ? fallback : v[0]};
  };
  std::vector<int64_t> no_padding{0, padding.empty() ? 0 : padding[0]};
  Tensor out = conv2d_composite(unsqueeze(input, -2), unsqueeze(weight, -2), bias, pair(stride, 1), no_padding,
                                pair(dilation, 1), groups);
  return squeeze(out, std::vector<int64_t>{-2});
}

Tensor max_pool2d_composite(const Tensor& input, IntArrayRef kernel, IntArrayRef stride, IntArrayRef padding,
                            IntArrayRef dilation, bool ceil_mode) {
  bool unbatched = input.dim() == 3;
  Tensor x = unbatched ? unsqueeze(input, 0) : input;
  Window2d w = window_of(kernel, stride.empty() ? kernel : stride, padding, dilation, "max_pool2d");
  VT_CHECK(w.ph <= w.kh / 2 && w.pw <= w.kw / 2, "pad should be at most half of effective kernel size");
  Tensor cols = windows(x, w, -std::numeric_limits<double>::infinity(), "max_pool2d", ceil_overhang(x, w, ceil_mode));
  // max over the flattened window picks the first maximum, so its gradient goes where torch's does.
  Tensor flat = reshape(cols, std::vector<int64_t>{cols.size(0), cols.size(1), cols.size(2), cols.size(3), -1});
  Tensor out = std::get<0>(max_dim(flat, -1));
  return unbatched ? squeeze(out, std::vector<int64_t>{0}) : out;
}

Tensor avg_pool2d_composite(const Tensor& input, IntArrayRef kernel, IntArrayRef stride, IntArrayRef padding,
                            bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
  bool unbatched = input.dim() == 3;
  Tensor x = unbatched ? unsqueeze(input, 0) : input;
  Window2d w = window_of(kernel, stride.empty() ? kernel : stride, padding, {}, "avg_pool2d");
  VT_CHECK(w.ph <= w.kh / 2 && w.pw <= w.kw / 2, "pad should be at most half of effective kernel size");
  auto overhang = ceil_overhang(x, w, ceil_mode);
  Tensor sums = sum(windows(x, w, 0, "avg_pool2d", overhang), std::vector<int64_t>{4, 5});
  Tensor out;
  bool plain = (w.ph == 0 && w.pw == 0) || count_include_pad;
  if (divisor_override) {
    out = div(sums, scalar_to_tensor(static_cast<double>(*divisor_override)));
  } else if (plain && overhang == std::pair<int64_t, int64_t>{0, 0}) {
    out = div(sums, scalar_to_tensor(static_cast<double>(w.kh * w.kw)));
  } else {
    // Divide by the window's count of input elements, plus its padding when
    // count_include_pad; never the ceil_mode overhang (as torch).
    Tensor ones_map = ones(std::vector<int64_t>{1, 1, x.size(2), x.size(3)}, x.dtype(), x.device());
    if (count_include_pad) ones_map = constant_pad_nd(ones_map, std::vector<int64_t>{w.pw, w.pw, w.ph, w.ph}, 1);
    Window2d counted = w;
    if (count_include_pad) counted.ph = counted.pw = 0;
    out = div(sums, sum(windows(ones_map, counted, 0, "avg_pool2d", overhang), std::vector<int64_t>{4, 5}));
  }
  return unbatched ? squeeze(out, std::vector<int64_t>{0}) : out;
}

Tensor adaptive_avg_pool2d_composite(const Tensor& input, IntArrayRef output_size) {
  VT_CHECK(output_size.size() == 2, "adaptive_avg_pool2d: output_size must be 2");
  bool unbatched = input.dim() == 3;
  Tensor x = unbatched ? unsqueeze(input, 0) : input;
  int64_t h = x.size(2), w = x.size(3), oh = output_size[0], ow = output_size[1];
  Tensor out;
  if (h % oh == 0 && w % ow == 0) {
    out = avg_pool2d_composite(x, std::vector<int64_t>{h / oh, w / ow}, std::vector<int64_t>{h / oh, w / ow}, {}, false,
                               true, std::nullopt);
  } else {
    // Cell (i, j) averages rows [floor(i*h/oh), ceil((i+1)*h/oh)) and the same for columns.
    std::vector<Tensor> rows;
    for (int64_t i = 0; i < oh; ++i) {
      int64_t r0 = i * h / oh, r1 = ((i + 1) * h + oh - 1) / oh;
      std::vector<Tensor> cells;
      for (int64_t j = 0; j < ow; ++j) {
        int64_t c0 = j * w / ow, c1 = ((j + 1) * w + ow - 1) / ow;
        cells.push_back(mean(narrow(narrow(x, 2, r0, r1 - r0), 3, c0, c1 - c0), std::vector<int64_t>{2, 3}));
      }
      rows.push_back(stack(cells, -1));
    }
    out = stack(rows, -2);
  }
  return unbatched ? squeeze(out, std::vector<int64_t>{0}) : out;
}

// F.unfold: [N, C, H, W] -> [N, C*KH*KW, L], the windows as columns.
Tensor im2col_composite(const Tensor& self, IntArrayRef kernel_size, IntArrayRef dilation, IntArrayRef padding,
                        IntArrayRef stride) {
  bool unbatched = self.dim() == 3;
  VT_CHECK(self.dim() == 3 || self.dim() == 4, "Expected 3D or 4D (batch mode) tensor for input with possibly 0 batch ",
           "size and non-zero dimensions for input, but got: ", shape_str(self.sizes()));
  Tensor x = unbatched ? unsqueeze(self, 0) : self;
  Window2d w = window_of(kernel_size, stride, padding, dilation, "im2col");
  Tensor cols = windows(x, w, 0, "im2col");  // [N, C, OH, OW, KH, KW]
  int64_t n = cols.size(0), c = cols.size(1), l = cols.size(2) * cols.size(3);
  Tensor out = reshape(permute(cols, std::vector<int64_t>{0, 1, 4, 5, 2, 3}), std::vector<int64_t>{n, c * w.kh * w.kw, l});
  return unbatched ? squeeze(out, std::vector<int64_t>{0}) : out;
}

// F.fold, im2col's adjoint: [N, C*KH*KW, L] -> [N, C, H, W], overlapping windows summed (index_add
// into the padded image, then the padding cropped).
Tensor col2im_composite(const Tensor& self, IntArrayRef output_size, IntArrayRef kernel_size, IntArrayRef dilation,
                        IntArrayRef padding, IntArrayRef stride) {
  bool unbatched = self.dim() == 2;
  VT_CHECK(self.dim() == 2 || self.dim() == 3, "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch ",
           "size and non-zero dimensions for input, but got: ", shape_str(self.sizes()));
  VT_CHECK(output_size.size() == 2, "col2im: output_size must be 2");
  Tensor cols = unbatched ? unsqueeze(self, 0) : self;
  Window2d w = window_of(kernel_size, stride, padding, dilation, "col2im");
  int64_t h = output_size[0], wd = output_size[1], hp = h + 2 * w.ph, wp = wd + 2 * w.pw;
  int64_t span_h = (w.kh - 1) * w.dh + 1, span_w = (w.kw - 1) * w.dw + 1;
  int64_t oh = (hp - span_h) / w.sh + 1, ow = (wp - span_w) / w.sw + 1;
  int64_t window = w.kh * w.kw;
  VT_CHECK(cols.size(1) % window == 0, "Expected size of input's dimension 1 to be divisible by the product of ",
           "kernel_size, but got input.size(1)=", cols.size(1), " and kernel_size=(", w.kh, ", ", w.kw, ")");
  VT_CHECK(oh > 0 && ow > 0 && cols.size(2) == oh * ow, "Given output_size=(", h, ", ", wd, "), kernel_size=(", w.kh,
           ", ", w.kw, "), dilation=(", w.dh, ", ", w.dw, "), padding=(", w.ph, ", ", w.pw, "), stride=(", w.sh, ", ",
           w.sw, "), expected size of input's dimension 2 to match the calculated number of sliding blocks ", oh, " * ",
           ow, " = ", oh * ow, ", but got input.size(2)=", cols.size(2), ".");
  int64_t n = cols.size(0), c = cols.size(1) / window;
  // Target of (ki, kj, i, j) in the padded image: (i*sh + ki*dh) * wp + j*sw + kj*dw.
  auto axis = [&](int64_t count, int64_t step, std::vector<int64_t> shape) {
    return reshape(arange(0, count * step, step, ScalarType::Int64, self.device()), shape);
  };
  Tensor rows = add(axis(w.kh, w.dh * wp, {w.kh, 1, 1, 1}), axis(oh, w.sh * wp, {1, 1, oh, 1}));
  Tensor columns = add(axis(w.kw, w.dw, {1, w.kw, 1, 1}), axis(ow, w.sw, {1, 1, 1, ow}));
  Tensor targets = reshape(add(rows, columns), std::vector<int64_t>{-1});
  Tensor values = reshape(cols, std::vector<int64_t>{n, c, window * oh * ow});
  Tensor image = index_add(zeros(std::vector<int64_t>{n, c, hp * wp}, cols.dtype(), cols.device()), 2, targets, values);
  Tensor out = narrow(narrow(reshape(image, std::vector<int64_t>{n, c, hp, wp}), 2, w.ph, h), 3, w.pw, wd);
  return unbatched ? squeeze(out, std::vector<int64_t>{0}) : out;
}

// _conv2d_dense: conv2d with one group on a 4-D input, arguments already checked by conv2d.
// Its kernels compute the forward in one go (on the CPU without laying out im2col's columns
// where it can); the derivatives below are written with im2col, col2im and mm.

// [N, C*KH*KW, L] columns of x viewed as one [C*KH*KW, N*L] matrix (im2col lays them out
// that way, so this is a view).
Tensor columns_of(const Tensor& x, const Window2d& w) {
  Tensor cols = im2col(x, std::vector<int64_t>{w.kh, w.kw}, std::vector<int64_t>{w.dh, w.dw},
                       std::vector<int64_t>{w.ph, w.pw}, std::vector<int64_t>{w.sh, w.sw});
  return reshape(permute(cols, std::vector<int64_t>{1, 0, 2}), std::vector<int64_t>{cols.size(1), -1});
}

Window2d dense_window(const Tensor& weight, IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation) {
  return window_of(std::vector<int64_t>{weight.size(2), weight.size(3)}, stride, padding, dilation, "conv2d");
}

// A 1x1 window with stride 1 and no padding maps each sample's [C, H*W] matrix by a matrix
// product, so neither the input nor the output needs im2col's layout (two full copies).
bool is_pointwise(const Window2d& w) {
  return w.kh == 1 && w.kw == 1 && w.sh == 1 && w.sw == 1 && w.ph == 0 && w.pw == 0;
}

// left [A, B] times each sample of [N, B, ...] (viewed as [N, B, P]), as [N, A, P].
Tensor per_sample_product(const Tensor& left, const Tensor& samples) {
  int64_t n = samples.size(0);
  Tensor right = reshape(samples, std::vector<int64_t>{n, samples.size(1), -1});
  return bmm(expand(left, std::vector<int64_t>{n, left.size(0), left.size(1)}), right);
}

Tensor conv2d_dense_grad(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
                         IntArrayRef padding, IntArrayRef dilation) {
  Tensor out = autograd::below_autograd([&] { return _conv2d_dense(x, weight, bias, stride, padding, dilation); });
  std::vector<int64_t> s(stride.begin(), stride.end()), p(padding.begin(), padding.end()),
      d(dilation.begin(), dilation.end());
  Tensor no_bias;
  const Tensor& b = bias ? *bias : no_bias;
  autograd::forward_tangent(out, {&x, &weight, &b}, [&] {
    Tensor tangent = _conv2d_dense(autograd::tangent_or_zeros(x), weight, std::nullopt, s, p, d);
    std::optional<Tensor> bias_tangent;
    if (bias) bias_tangent = autograd::tangent_or_zeros(*bias);
    return add(tangent, _conv2d_dense(x, autograd::tangent_or_zeros(weight), bias_tangent, s, p, d));
  });
  if (!autograd::any_requires_grad({&x, &weight, &b})) return out;
  auto node = autograd::make_node("ConvolutionBackward0", {&x, &weight, &b},
                                  [=](autograd::FunctionNode& node, const autograd::TensorList& g) {
    const std::array<bool, 3> mask{node.needs_input_grad(0), node.needs_input_grad(1), node.needs_input_grad(2)};
    // create_graph: the backward must itself be differentiable, so it is written in ops that are;
    // otherwise the backend's kernel (cuDNN's on CUDA) computes it.
    auto [grad_x, grad_weight, grad_bias] =
        autograd::is_grad_enabled()
            ? conv::conv2d_dense_backward_decomposed(g[0], node.saved(0), node.saved(1), s, p, d, mask)
            : _conv2d_dense_backward(g[0], node.saved(0), node.saved(1), s, p, d, mask);
    return autograd::TensorList{grad_x, grad_weight, grad_bias};
  });
  node->save(x);
  node->save(weight);
  autograd::set_history(out, node);
  return out;
}

// im2col and col2im are linear and each other's adjoint: each one's derivative is the other.
Tensor im2col_grad(const Tensor& self, IntArrayRef kernel_size, IntArrayRef dilation, IntArrayRef padding,
                   IntArrayRef stride) {
  Tensor out = autograd::below_autograd([&] { return im2col(self, kernel_size, dilation, padding, stride); });
  std::vector<int64_t> k(kernel_size.begin(), kernel_size.end()), d(dilation.begin(), dilation.end()),
      p(padding.begin(), padding.end()), s(stride.begin(), stride.end());
  autograd::forward_tangent(out, {&self}, [&] { return im2col(autograd::tangent_of(self), k, d, p, s); });
  if (!self.requires_grad()) return out;
  std::vector<int64_t> image{self.size(-2), self.size(-1)};
  auto node = autograd::make_node("Im2ColBackward0", {&self}, [=](autograd::FunctionNode&, const autograd::TensorList& g) {
    return autograd::TensorList{col2im(g[0], image, k, d, p, s)};
  });
  autograd::set_history(out, node);
  return out;
}

Tensor col2im_grad(const Tensor& self, IntArrayRef output_size, IntArrayRef kernel_size, IntArrayRef dilation,
                   IntArrayRef padding, IntArrayRef stride) {
  Tensor out = autograd::below_autograd([&] { return col2im(self, output_size, kernel_size, dilation, padding, stride); });
  std::vector<int64_t> k(kernel_size.begin(), kernel_size.end()), d(dilation.begin(), dilation.end()),
      p(padding.begin(), padding.end()), s(stride.begin(), stride.end());
  autograd::forward_tangent(out, {&self}, [&] {
    return col2im(autograd::tangent_of(self), output_size, k, d, p, s);
  });
  if (!self.requires_grad()) return out;
  auto node = autograd::make_node("Col2ImBackward0", {&self}, [=](autograd::FunctionNode&, const autograd::TensorList& g) {
    return autograd::TensorList{im2col(g[0], k, d, p, s)};
  });
  autograd::set_history(out, node);
  return out;
}

// Called directly with inputs that require grad (torch differentiates it; we do not).
std::tuple<Tensor, Tensor, Tensor> conv2d_dense_backward_autograd(const Tensor& grad_output, const Tensor& x,
                                                                 const Tensor& weight, IntArrayRef stride,
                                                                 IntArrayRef padding, IntArrayRef dilation,
                                                                 std::array<bool, 3> output_mask) {
  VT_CHECK_KIND(!autograd::is_grad_enabled() || !autograd::any_requires_grad({&grad_output, &x, &weight}),
                ErrorKind::NotImplemented,
                "the derivative of _conv2d_dense_backward is not implemented (differentiate conv2d with "
                "create_graph=True instead)");
  return autograd::below_autograd(
      [&] { return _conv2d_dense_backward(grad_output, x, weight, stride, padding, dilation, output_mask); });
}

}  // namespace

namespace conv {

// [O, C*KH*KW] @ [C*KH*KW, N*L], then in NCHW order, plus the bias: the kernel for backends
// without their own (and the CPU's for what its fast path does not take).
Tensor conv2d_dense_decomposed(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
                               IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation) {
  Window2d w = dense_window(weight, stride, padding, dilation);
  int64_t n = x.size(0), out_channels = weight.size(0);
  int64_t oh = (x.size(2) + 2 * w.ph - ((w.kh - 1) * w.dh + 1)) / w.sh + 1;
  int64_t ow = (x.size(3) + 2 * w.pw - ((w.kw - 1) * w.dw + 1)) / w.sw + 1;
  Tensor weight_matrix = reshape(weight, std::vector<int64_t>{out_channels, -1});
  Tensor out;
  if (is_pointwise(w) && n > 0) {
    out = reshape(per_sample_product(weight_matrix, x), std::vector<int64_t>{n, out_channels, oh, ow});
  } else {
    Tensor product = mm(weight_matrix, columns_of(x, w));
    out = contiguous(permute(reshape(product, std::vector<int64_t>{out_channels, n, oh, ow}),
                             std::vector<int64_t>{1, 0, 2, 3}));
  }
  if (bias) out = add(out, reshape(*bias, std::vector<int64_t>{1, out_channels, 1, 1}));
  return out;
}

// With G the output gradient as [O, N*L] and X the input's columns: dW = G X^T, dx =
// col2im(W^T G), db = G summed over samples and pixels.
std::tuple<Tensor, Tensor, Tensor> conv2d_dense_backward_decomposed(const Tensor& grad_output, const Tensor& x,
                                                                   const Tensor& weight, IntArrayRef stride,
                                                                   IntArrayRef padding, IntArrayRef dilation,
                                                                   std::array<bool, 3> output_mask) {
  Window2d w = dense_window(weight, stride, padding, dilation);
  int64_t n = grad_output.size(0), out_channels = grad_output.size(1);
  bool pointwise_grad_x = is_pointwise(w) && n > 0;
  Tensor grad;  // [O, N*L], a copy: made only when needed
  if ((output_mask[0] && !pointwise_grad_x) || output_mask[1]) {
    grad = reshape(permute(grad_output, std::vector<int64_t>{1, 0, 2, 3}), std::vector<int64_t>{out_channels, -1});
  }
  Tensor grad_x, grad_weight, grad_bias;
  if (output_mask[0] && pointwise_grad_x) {
    grad_x = reshape(per_sample_product(t(reshape(weight, std::vector<int64_t>{out_channels, -1})), grad_output),
                     x.sizes());
  } else if (output_mask[0]) {
    Tensor cols = mm(t(reshape(weight, std::vector<int64_t>{out_channels, -1})), grad);  // [CKK, N*L]
    const int64_t pixels = grad_output.size(2) * grad_output.size(3);  // not -1: n may be 0
    cols = permute(reshape(cols, std::vector<int64_t>{cols.size(0), n, pixels}), std::vector<int64_t>{1, 0, 2});
    grad_x = col2im(cols, std::vector<int64_t>{x.size(2), x.size(3)}, std::vector<int64_t>{w.kh, w.kw},
                    std::vector<int64_t>{w.dh, w.dw}, std::vector<int64_t>{w.ph, w.pw}, std::vector<int64_t>{w.sh, w.sw});
  }
  // One product over every sample and pixel (not a sum of per-sample ones): float16 and
  // bfloat16 then accumulate in float32 all the way, as torch's.
  if (output_mask[1]) grad_weight = reshape(mm(grad, t(columns_of(x, w))), weight.sizes());
  if (output_mask[2]) grad_bias = sum(grad_output, std::vector<int64_t>{0, 2, 3});
  return {grad_x, grad_weight, grad_bias};
}

}  // namespace conv

namespace cuda {
namespace {
std::atomic<bool> g_cudnn_flags[] = {true, true, false, false};  // in CudnnFlag's order
}  // namespace
bool cudnn_flag(CudnnFlag flag) { return g_cudnn_flags[static_cast<int>(flag)].load(std::memory_order_relaxed); }
void set_cudnn_flag(CudnnFlag flag, bool value) {
  g_cudnn_flags[static_cast<int>(flag)].store(value, std::memory_order_relaxed);
}
}  // namespace cuda

VT_REGISTRATION(conv_ops) {
  Registry& r = Registry::instance();
  r.define("conv2d(Tensor input, Tensor weight, Tensor? bias=None, SymInt[2] stride=[1, 1], SymInt[2] padding=[0, 0], SymInt[2] dilation=[1, 1], SymInt groups=1) -> Tensor");
  r.define("conv1d(Tensor input, Tensor weight, Tensor? bias=None, SymInt[1] stride=[1], SymInt[1] padding=[0], SymInt[1] dilation=[1], SymInt groups=1) -> Tensor");
  r.define("max_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0, int[2] dilation=1, bool ceil_mode=False) -> Tensor");
  r.define("avg_pool2d(Tensor self, int[2] kernel_size, int[2] stride=[], int[2] padding=0, bool ceil_mode=False, bool count_include_pad=True, int? divisor_override=None) -> Tensor");
  r.define("adaptive_avg_pool2d(Tensor self, SymInt[2] output_size) -> Tensor");
  register_composite("conv2d", &conv2d_composite);
  // The CPU's _conv2d_dense is in src/cpu/conv_kernels.cpp; CUDA's kernels are cuDNN's
  // (src/cuda/conv_cudnn.cpp) or, in a build without cuDNN, the decomposed ones
  // (src/cuda/conv_without_cudnn.cpp).
  r.define("_conv2d_dense(Tensor input, Tensor weight, Tensor? bias, int[2] stride, int[2] padding, int[2] dilation) -> Tensor");
  r.define("_conv2d_dense_backward(Tensor grad_output, Tensor input, Tensor weight, int[2] stride, int[2] padding, "
           "int[2] dilation, bool[3] output_mask) -> (Tensor, Tensor, Tensor)");
  register_kernel("_conv2d_dense", DispatchKey::Autograd, &conv2d_dense_grad);
  register_kernel("_conv2d_dense_backward", DispatchKey::CPU, &conv::conv2d_dense_backward_decomposed);
  autograd::register_autograd("_conv2d_dense_backward", &conv2d_dense_backward_autograd);
  register_composite("conv1d", &conv1d_composite);
  register_composite("max_pool2d", &max_pool2d_composite);
  register_composite("avg_pool2d", &avg_pool2d_composite);
  register_composite("adaptive_avg_pool2d", &adaptive_avg_pool2d_composite);
  r.define("im2col(Tensor self, int[2] kernel_size, int[2] dilation, int[2] padding, int[2] stride) -> Tensor");
  r.define("col2im(Tensor self, SymInt[2] output_size, int[2] kernel_size, int[2] dilation, int[2] padding, int[2] stride) -> Tensor");
  // The CPU kernels are in src/cpu/conv_kernels.cpp; these compositions serve other backends.
  register_kernel("im2col", DispatchKey::CUDA, &im2col_composite);
  register_kernel("col2im", DispatchKey::CUDA, &col2im_composite);
  register_kernel("im2col", DispatchKey::Autograd, &im2col_grad);
  register_kernel("col2im", DispatchKey::Autograd, &col2im_grad);
}

using ConvSignature = Tensor(const Tensor&, const Tensor&, const std::optional<Tensor>&, IntArrayRef, IntArrayRef,
                             IntArrayRef, int64_t);
Tensor conv2d(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  static const TypedOp<ConvSignature> op("conv2d");
  return op(input, weight, bias, stride, padding, dilation, groups);
}
Tensor _conv2d_dense(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
                     IntArrayRef padding, IntArrayRef dilation) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, const std::optional<Tensor>&, IntArrayRef, IntArrayRef,
                              IntArrayRef)> op("_conv2d_dense");
  return op(input, weight, bias, stride, padding, dilation);
}
std::tuple<Tensor, Tensor, Tensor> _conv2d_dense_backward(const Tensor& grad_output, const Tensor& input,
                                                          const Tensor& weight, IntArrayRef stride, IntArrayRef padding,
                                                          IntArrayRef dilation, std::array<bool, 3> output_mask) {
  static const TypedOp<std::tuple<Tensor, Tensor, Tensor>(const Tensor&, const Tensor&, const Tensor&, IntArrayRef,
                                                          IntArrayRef, IntArrayRef, std::array<bool, 3>)>
      op("_conv2d_dense_backward");
  return op(grad_output, input, weight, stride, padding, dilation, output_mask);
}
Tensor conv1d(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  static const TypedOp<ConvSignature> op("conv1d");
  return op(input, weight, bias, stride, padding, dilation, groups);
}
Tensor max_pool2d(const Tensor& input, IntArrayRef kernel, IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation,
                  bool ceil_mode) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef, IntArrayRef, IntArrayRef, IntArrayRef, bool)> op("max_pool2d");
  return op(input, kernel, stride, padding, dilation, ceil_mode);
}
Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel, IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                  bool count_include_pad, std::optional<int64_t> divisor_override) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef, IntArrayRef, IntArrayRef, bool, bool, std::optional<int64_t>)> op(
      "avg_pool2d");
  return op(input, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override);
}
Tensor im2col(const Tensor& self, IntArrayRef kernel_size, IntArrayRef dilation, IntArrayRef padding,
              IntArrayRef stride) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef, IntArrayRef, IntArrayRef, IntArrayRef)> op("im2col");
  return op(self, kernel_size, dilation, padding, stride);
}
Tensor col2im(const Tensor& self, IntArrayRef output_size, IntArrayRef kernel_size, IntArrayRef dilation,
              IntArrayRef padding, IntArrayRef stride) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef, IntArrayRef, IntArrayRef, IntArrayRef, IntArrayRef)> op(
      "col2im");
  return op(self, output_size, kernel_size, dilation, padding, stride);
}
Tensor adaptive_avg_pool2d(const Tensor& input, IntArrayRef output_size) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef)> op("adaptive_avg_pool2d");
  return op(input, output_size);
}

}  // namespace vt
