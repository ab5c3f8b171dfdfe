// CPU im2col and col2im: the windows of an image as columns [N, C*KH*KW, OH*OW] and the
// sum of columns back into an image. conv2d is a matrix product over im2col's columns, and
// each of these is the other's derivative. Each (sample, channel) plane is independent,
// so planes run in parallel without write conflicts.
// The float32 forward of a one-group conv2d skips laying the columns out: our GEMM packs its
// blocks of them straight from the image (an implicit GEMM), so the columns, nine times the
// image for a 3x3 kernel, never travel through memory.
#include <algorithm>
#include <cstring>
#include <vector>

#include "src/cpu/sgemm.h"
#include "src/cpu/vec_math.h"
#include "src/ops/conv.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::cpu {
namespace {

struct Geometry {
  int64_t n, c, h, w, kh, kw, dh, dw, ph, pw, sh, sw, oh, ow;
};

int64_t at(IntArrayRef v, size_t i, const char* op, const char* name) {
  VT_CHECK(v.size() == 2, op, "(): ", name, " must have 2 elements");
  return v[i];
}

Geometry geometry(int64_t n, int64_t c, int64_t h, int64_t w, IntArrayRef kernel, IntArrayRef dilation,
                  IntArrayRef padding, IntArrayRef stride, const char* op) {
  Geometry g{n, c, h, w, at(kernel, 0, op, "kernel_size"), at(kernel, 1, op, "kernel_size"),
             at(dilation, 0, op, "dilation"), at(dilation, 1, op, "dilation"), at(padding, 0, op, "padding"),
             at(padding, 1, op, "padding"), at(stride, 0, op, "stride"), at(stride, 1, op, "stride"), 0, 0};
  VT_CHECK(g.kh > 0 && g.kw > 0, op, "(): kernel size should be greater than zero");
  VT_CHECK(g.dh > 0 && g.dw > 0, op, "(): dilation should be greater than zero");
  VT_CHECK(g.sh > 0 && g.sw > 0, op, "(): stride should be greater than zero");
  VT_CHECK(g.ph >= 0 && g.pw >= 0, op, "(): padding should be non-negative");
  g.oh = (h + 2 * g.ph - (g.dh * (g.kh - 1) + 1)) / g.sh + 1;
  g.ow = (w + 2 * g.pw - (g.dw * (g.kw - 1) + 1)) / g.sw + 1;
  return g;
}

// For every (plane, ki, kj, oh) row segment of the columns, calls
// fn(image_row_or_null, column_row, iw0, lo, hi): the image row it reads (null in the
// padding), where output column ow reads image column iw0 + ow * sw, and [lo, hi) are the
// output columns that land inside the row (the rest read padding).
// Columns [N, C*KH*KW, L] are addressed through strides (n_stride, row_stride, 1).
template <class T, class Fn>
void for_each_segment(const Geometry& g, T* image, T* cols, int64_t n_stride, int64_t row_stride, Fn fn) {
  int64_t planes = g.n * g.c, plane_size = g.h * g.w, k = g.kh * g.kw;
  parallel_for(0, planes, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      T* plane = image + p * plane_size;
      int64_t n = p / g.c, c = p % g.c;
      for (int64_t ki = 0; ki < g.kh; ++ki) {
        for (int64_t kj = 0; kj < g.kw; ++kj) {
          T* row_cols = cols + n * n_stride + (c * k + ki * g.kw + kj) * row_stride;
          int64_t iw0 = kj * g.dw - g.pw;
          int64_t lo = iw0 >= 0 ? 0 : std::min<int64_t>(g.ow, (-iw0 + g.sw - 1) / g.sw);
          int64_t hi = g.w - iw0 <= 0 ? 0 : std::min<int64_t>(g.ow, (g.w - iw0 + g.sw - 1) / g.sw);
          hi = std::max(hi, lo);
          for (int64_t oh = 0; oh < g.oh; ++oh) {
            int64_t ih = oh * g.sh - g.ph + ki * g.dh;
            T* image_row = ih >= 0 && ih < g.h ? plane + ih * g.w : nullptr;
            fn(image_row, row_cols + oh * g.ow, iw0, lo, hi);
          }
        }
      }
    }
  });
}

Tensor im2col_cpu(const Tensor& self, IntArrayRef kernel_size, IntArrayRef dilation, IntArrayRef padding,
                  IntArrayRef stride) {
  bool unbatched = self.dim() == 3;
  VT_CHECK(self.dim() == 3 || self.dim() == 4, "Expected 3D or 4D (batch mode) tensor for input with possibly 0 batch ",
           "size and non-zero dimensions for input, but got: ", shape_str(self.sizes()));
  Tensor x = contiguous(unbatched ? unsqueeze(self, 0) : self);
  Geometry g = geometry(x.size(0), x.size(1), x.size(2), x.size(3), kernel_size, dilation, padding, stride, "im2col");
  VT_CHECK(g.oh > 0 && g.ow > 0, "im2col(): Given input with spatial size (", g.h, ", ", g.w, "), kernel_size=(", g.kh,
           ", ", g.kw, "), dilation=(", g.dh, ", ", g.dw, "), padding=(", g.ph, ", ", g.pw, "), calculated shape of the ",
           "array of sliding blocks as (", g.oh, ", ", g.ow, "), but its components must be at least one.");
  // Laid out as [C*KH*KW, N, L] (returned as an [N, C*KH*KW, L] view), so conv2d can multiply
  // all samples' columns in one matrix product without a copy.
  int64_t rows = g.c * g.kh * g.kw, l = g.oh * g.ow;
  Tensor buffer = empty_tensor(std::vector<int64_t>{rows, g.n, l}, x.dtype(), x.device());
  Tensor cols = make_alias(buffer, std::vector<int64_t>{g.n, rows, l}, std::vector<int64_t>{l, g.n * l, 1}, 0);
  // Written in the buffer's order (row by row, each row over samples and output pixels):
  // sequential stores; the image planes it reads are small and stay in cache.
  int64_t k = g.kh * g.kw;
  dispatch_all_types(x.dtype(), "im2col", [&](auto tag) {
    using T = decltype(tag);
    const T* image = x.data<T>();
    T* columns = buffer.data<T>();
    parallel_for(0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(g.n * l, 1)), [&](int64_t lo_row, int64_t hi_row) {
      for (int64_t r = lo_row; r < hi_row; ++r) {
        int64_t c = r / k, ki = (r % k) / g.kw, kj = r % g.kw;
        int64_t iw0 = kj * g.dw - g.pw;
        int64_t lo = iw0 >= 0 ? 0 : std::min<int64_t>(g.ow, (-iw0 + g.sw - 1) / g.sw);
        int64_t hi = std::max(lo, g.w - iw0 <= 0 ? 0 : std::min<int64_t>(g.ow, (g.w - iw0 + g.sw - 1) / g.sw));
        T* out = columns + r * g.n * l;
        for (int64_t n = 0; n < g.n; ++n) {
          const T* plane = image + (n * g.c + c) * g.h * g.w;
          for (int64_t oh = 0; oh < g.oh; ++oh, out += g.ow) {
            int64_t ih = oh * g.sh - g.ph + ki * g.dh;
            if (ih < 0 || ih >= g.h) {
              std::fill(out, out + g.ow, T(0));
              continue;
            }
            const T* image_row = plane + ih * g.w;
            std::fill(out, out + lo, T(0));
            if (g.sw == 1) {
              if (hi > lo) std::memcpy(out + lo, image_row + iw0 + lo, (hi - lo) * sizeof(T));
            } else {
              for (int64_t ow = lo; ow < hi; ++ow) out[ow] = image_row[iw0 + ow * g.sw];
            }
            std::fill(out + hi, out + g.ow, T(0));
          }
        }
      }
    });
  });
  return unbatched ? squeeze(cols, std::vector<int64_t>{0}) : cols;
}

Tensor col2im_cpu(const Tensor& self, IntArrayRef output_size, IntArrayRef kernel_size, IntArrayRef dilation,
                  IntArrayRef padding, IntArrayRef stride) {
  bool unbatched = self.dim() == 2;
  VT_CHECK(self.dim() == 2 || self.dim() == 3, "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch ",
           "size and non-zero dimensions for input, but got: ", shape_str(self.sizes()));
  VT_CHECK(output_size.size() == 2, "col2im(): output_size must have 2 elements");
  Tensor cols = unbatched ? unsqueeze(self, 0) : self;
  if (cols.strides()[2] != 1) cols = contiguous(cols);
  int64_t k = at(kernel_size, 0, "col2im", "kernel_size") * at(kernel_size, 1, "col2im", "kernel_size");
  VT_CHECK(k > 0 && cols.size(1) % k == 0, "Expected size of input's dimension 1 to be divisible by the product of ",
           "kernel_size, but got input.size(1)=", cols.size(1), " and kernel_size=", shape_str(kernel_size));
  Geometry g = geometry(cols.size(0), cols.size(1) / k, output_size[0], output_size[1], kernel_size, dilation, padding,
                        stride, "col2im");
  VT_CHECK(g.oh > 0 && g.ow > 0 && cols.size(2) == g.oh * g.ow, "Given output_size=", shape_str(output_size),
           ", kernel_size=", shape_str(kernel_size), ", dilation=", shape_str(dilation), ", padding=",
           shape_str(padding), ", stride=", shape_str(stride), ", expected size of input's dimension 2 to match the ",
           "calculated number of sliding blocks ", g.oh, " * ", g.ow, " = ", g.oh * g.ow, ", but got input.size(2)=",
           cols.size(2), ".");
  Tensor image = zeros(std::vector<int64_t>{g.n, g.c, g.h, g.w}, cols.dtype(), cols.device());
  dispatch_numeric_types(cols.dtype(), "col2im", [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    for_each_segment(g, image.data<T>(), cols.data<T>(), cols.strides()[0], cols.strides()[1],
                     [&](T* image_row, T* in, int64_t iw0, int64_t lo, int64_t hi) {
      if (!image_row) return;
      for (int64_t ow = lo; ow < hi; ++ow) {
        T& target = image_row[iw0 + ow * g.sw];
        target = static_cast<T>(static_cast<C>(target) + static_cast<C>(in[ow]));
      }
    });
  });
  return unbatched ? squeeze(image, std::vector<int64_t>{0}) : image;
}


// Room past the end of a padded sample: the stride 1 and 2 gathers below read 16 * stride
// floats from where a row segment starts, however few of them it keeps.
constexpr int64_t kGatherSlack = 32;

// One sample's im2col columns as the B of a GEMM: row p is the window position (channel,
// ki, kj), column j the output pixel (oh, ow), and the element the image value that window
// position sees from that pixel. The image is given with its zero padding already in place
// (`padded`, [C, H + 2 ph, W + 2 pw] and kGatherSlack floats more), so every window read is in
// bounds. `pack` writes a block of the columns in the GEMM's panel layout (sgemm.h).
struct WindowColumns {
  const float* padded;
  const Geometry& g;

  // Each row of the block is gathered into a contiguous buffer first, output row by output
  // row, then cut into the panels in whole 32-float moves: a scatter element by element into
  // the panels took longer than the GEMM itself.
  VT_AVX512 void pack(int64_t p0, int64_t depth, int64_t j0, int64_t cols, float* out) const {
    constexpr int64_t kPanel = kSgemmPanelColumns;
    const int64_t panels = (cols + kPanel - 1) / kPanel;
    thread_local std::vector<float> row_values;
    // A segment's gather stores 16 floats, up to 15 past the segment's end.
    row_values.resize(panels * kPanel + 16);
    const int64_t width = g.w + 2 * g.pw, plane_size = (g.h + 2 * g.ph) * width;
    // The window position of row p, stepped along with p (divisions per row cost as much as
    // gathering a small row).
    int64_t c = p0 / (g.kh * g.kw), ki = p0 % (g.kh * g.kw) / g.kw, kj = p0 % g.kw;
    for (int64_t p = p0; p < p0 + depth; ++p) {
      // Output pixel (oh, ow) reads origin[oh * sh * width + ow * sw].
      const float* origin = padded + c * plane_size + ki * g.dh * width + kj * g.dw;
      float* segment = row_values.data() - j0 % g.ow;  // indexed by ow within the current output row
      for (int64_t oh = j0 / g.ow, first = j0 % g.ow, left = cols; left > 0; ++oh, first = 0) {
        const int64_t last = std::min(g.ow, first + left);
        gather_segment(origin + oh * g.sh * width, first, last, segment);
        left -= last - first;
        segment += g.ow;
      }
      // The last panel's columns past `cols` must be zeros (sgemm.h).
      std::fill(row_values.data() + cols, row_values.data() + panels * kPanel, 0.0f);
      float* dst = out + (p - p0) * kPanel;
      for (int64_t q = 0; q < panels; ++q) {
        const float* values = row_values.data() + q * kPanel;
        store_vec(dst + q * depth * kPanel, load_vec<f16>(values));
        store_vec(dst + q * depth * kPanel + 16, load_vec<f16>(values + 16));
      }
      if (++kj == g.kw) {
        kj = 0;
        if (++ki == g.kh) ki = 0, ++c;
      }
    }
  }

  // out[ow] = row[ow * sw] for ow in [first, last); stores up to 15 floats past out + last.
  // Strides 1 and 2 (most convolutions) move 16 values per load and store.
  VT_AVX512 void gather_segment(const float* row, int64_t first, int64_t last, float* out) const {
    if (g.sw == 1) {
      for (int64_t ow = first; ow < last; ow += 16) store_vec(out + ow, load_vec<f16>(row + ow));
    } else if (g.sw == 2) {
      for (int64_t ow = first; ow < last; ow += 16) {
        const f16 lo = load_vec<f16>(row + 2 * ow), hi = load_vec<f16>(row + 2 * ow + 16);
        store_vec(out + ow, f16(__builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                                        28, 30)));
      }
    } else {
      for (int64_t ow = first; ow < last; ++ow) out[ow] = row[ow * g.sw];
    }
  }
};

// The sample [C, H, W] with a zero border of ph rows and pw columns, and kGatherSlack zeros
// after it, in `out`.
void pad_sample(const float* image, const Geometry& g, std::vector<float>& out) {
  const int64_t width = g.w + 2 * g.pw, height = g.h + 2 * g.ph;
  out.assign(g.c * height * width + kGatherSlack, 0.0f);
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t ih = 0; ih < g.h; ++ih) {
      std::memcpy(out.data() + (c * height + ih + g.ph) * width + g.pw, image + (c * g.h + ih) * g.w, g.w * sizeof(float));
    }
  }
}

// out[n] = weight [O, C*KH*KW] @ columns(x[n]) (+ bias), one GEMM per sample (or per part of
// a sample's pixels when there are fewer samples than threads), written in NCHW order.
Tensor conv2d_implicit_gemm(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias,
                            IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation) {
  Tensor x = contiguous(input), kernel = contiguous(weight);
  Geometry g = geometry(x.size(0), x.size(1), x.size(2), x.size(3), std::vector<int64_t>{kernel.size(2), kernel.size(3)},
                        dilation, padding, stride, "conv2d");
  const int64_t out_channels = kernel.size(0), depth = g.c * g.kh * g.kw, pixels = g.oh * g.ow;
  Tensor out = empty_tensor(std::vector<int64_t>{g.n, out_channels, g.oh, g.ow}, ScalarType::Float32, x.device());
  if (out.numel() == 0) return out;
  if (depth == 0) return conv::conv2d_dense_decomposed(input, weight, bias, stride, padding, dilation);
  const float* image = x.data<float>();
  const float* w = kernel.data<float>();
  Tensor bias_values = bias ? contiguous(*bias) : Tensor();
  const float* b = bias ? bias_values.data<float>() : nullptr;
  float* y = out.data<float>();
  // Parts of each sample's pixels, in whole panels, so that every thread has work.
  const int64_t parts = std::max<int64_t>(1, std::min((num_threads() + g.n - 1) / g.n,
                                                      (pixels + kSgemmPanelColumns - 1) / kSgemmPanelColumns));
  const int64_t part_size = ((pixels + parts - 1) / parts + kSgemmPanelColumns - 1) / kSgemmPanelColumns * kSgemmPanelColumns;
  parallel_for(0, g.n * parts, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t item = lo; item < hi; ++item) {
      const int64_t n = item / parts, first = item % parts * part_size, count = std::min(part_size, pixels - first);
      if (count <= 0) continue;
      float* c = y + n * out_channels * pixels + first;
      if (b) {
        for (int64_t o = 0; o < out_channels; ++o) std::fill_n(c + o * pixels, count, b[o]);
      }
      const float* sample = image + n * g.c * g.h * g.w;
      // Copied even without padding, for the slack that the gathers read past the end.
      thread_local std::vector<float> padded;
      pad_sample(sample, g, padded);
      WindowColumns columns{padded.data(), g};
      sgemm_avx512_packing_b(out_channels, count, depth, 1.0f, w, depth, 1,
                             [&](int64_t p0, int64_t rows, int64_t j0, int64_t cols, float* panels) {
                               columns.pack(p0, rows, first + j0, cols, panels);
                             },
                             b ? 1.0f : 0.0f, c, pixels);
    }
  });
  return out;
}

Tensor conv2d_dense_cpu(const Tensor& input, const Tensor& weight, const std::optional<Tensor>& bias, IntArrayRef stride,
                        IntArrayRef padding, IntArrayRef dilation) {
  const bool float32 = input.dtype() == ScalarType::Float32 && weight.dtype() == ScalarType::Float32 &&
                       (!bias || (bias->dtype() == ScalarType::Float32 && bias->dim() == 1));
  if (float32 && has_avx512()) return conv2d_implicit_gemm(input, weight, bias, stride, padding, dilation);
  return conv::conv2d_dense_decomposed(input, weight, bias, stride, padding, dilation);
}

}  // namespace

VT_REGISTRATION(conv_cpu) {
  register_kernel("im2col", DispatchKey::CPU, &im2col_cpu);
  register_kernel("col2im", DispatchKey::CPU, &col2im_cpu);
  register_kernel("_conv2d_dense", DispatchKey::CPU, &conv2d_dense_cpu);
}

}  // namespace vt::cpu
