// Ops that rearrange elements, composed of views, index_select and cat: tile,
// repeat_interleave, roll and pad (constant, reflect, replicate, circular). Differentiable
// and device-generic through their parts.
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace {

Tensor long_arange(int64_t start, int64_t end, Device device) {
  return arange(start, end, 1, ScalarType::Int64, device);
}

Tensor tile_composite(const Tensor& self, IntArrayRef dims) {
  // Fewer reps than dims: leading 1s; more: repeat adds the leading dims.
  std::vector<int64_t> reps(dims.begin(), dims.end());
  while (static_cast<int64_t>(reps.size()) < self.dim()) reps.insert(reps.begin(), 1);
  return repeat(self, reps);
}

// Each element (or slice along dim) `repeats` times in a row.
Tensor repeat_interleave_tensor_composite(const Tensor& self, const Tensor& repeats, std::optional<int64_t> dim,
                                          std::optional<int64_t> output_size) {
  VT_CHECK(repeats.dim() <= 1, "repeat_interleave only accept 1D vector as repeat");
  VT_CHECK(repeats.dtype() == ScalarType::Int64 || repeats.dtype() == ScalarType::Int32,
           "repeat_interleave: repeats has to be Long or Int tensor");
  Tensor input = dim ? self : reshape(self, std::vector<int64_t>{-1});
  int64_t d = dim ? wrap_dim(*dim, std::max<int64_t>(input.dim(), 1)) : 0;
  int64_t size = input.dim() == 0 ? 1 : input.size(d);
  Tensor counts = to(reshape(repeats, std::vector<int64_t>{-1}), ScalarType::Int64);
  if (counts.numel() == 1) counts = expand(counts, std::vector<int64_t>{size});
  VT_CHECK(counts.numel() == size, "repeats must have the same size as input along dim, but got repeats.size(0) = ",
           counts.numel(), " and input.size(", d, ") = ", size);
  if (counts.numel() > 0) VT_CHECK(min(counts).item().to_int() >= 0, "repeats can not be negative");
  // Slice k appears counts[k] times.
  Tensor positions = repeat_interleave(contiguous(counts), output_size);
  return index_select(input.dim() == 0 ? reshape(input, std::vector<int64_t>{1}) : input, d, positions);
}

Tensor repeat_interleave_int_composite(const Tensor& self, int64_t repeats, std::optional<int64_t> dim,
                                       std::optional<int64_t> output_size) {
  VT_CHECK(repeats >= 0, "repeats can not be negative");
  return repeat_interleave_tensor_composite(self, full({}, repeats, ScalarType::Int64, self.device()), dim, output_size);
}

// Positions 0..n-1, each counts[k] times: what the other forms index with.
Tensor repeat_interleave_counts_composite(const Tensor& repeats, std::optional<int64_t> output_size) {
  VT_CHECK(repeats.dim() == 1, "repeat_interleave only accept 1D vector as repeat");
  VT_CHECK(repeats.dtype() == ScalarType::Int64 || repeats.dtype() == ScalarType::Int32,
           "repeat_interleave: repeats has to be Long or Int tensor");
  Tensor counts = to(repeats, ScalarType::Int64);
  int64_t n = counts.numel();
  if (n == 0) return zeros(std::vector<int64_t>{0}, ScalarType::Int64, repeats.device());
  VT_CHECK(min(counts).item().to_int() >= 0, "repeats can not be negative");
  int64_t total = sum(counts).item().to_int();
  if (output_size) VT_CHECK(total == *output_size, "repeat_interleave: Allocated size does not match required size");
  // Mark where each run starts and number the runs: position k starts at cumsum(counts)[k-1].
  Tensor ends = cumsum(counts, 0);
  Tensor starts = sub(ends, counts);
  Tensor nonempty = gt(counts, scalar_to_tensor(0));
  Tensor marks = zeros(std::vector<int64_t>{total + 1}, ScalarType::Int64, repeats.device());
  marks = index_add(marks, 0, masked_select(starts, nonempty), ones(std::vector<int64_t>{sum(nonempty).item().to_int()},
                                                                     ScalarType::Int64, repeats.device()));
  // The run number of each output position is the count of runs started so far, minus one,
  // mapped back to the run's position k (skipping empty runs).
  Tensor run = sub(cumsum(narrow(marks, 0, 0, total), 0), scalar_to_tensor(1));
  Tensor run_positions = masked_select(long_arange(0, n, repeats.device()), nonempty);
  return index_select(run_positions, 0, run);
}

Tensor roll_composite(const Tensor& self, IntArrayRef shifts, IntArrayRef dims) {
  if (dims.empty()) {
    VT_CHECK(shifts.size() == 1, "roll(): shifts must be a single int when dims is empty");
    return reshape(roll(reshape(self, std::vector<int64_t>{-1}), shifts, std::vector<int64_t>{0}), self.sizes());
  }
  VT_CHECK(shifts.size() == dims.size(), "shifts and dimensions must align. shifts: ", shifts.size(), ", dims:",
           dims.size());
  VT_CHECK_INDEX(self.dim() > 0, "Dimension specified as ", dims[0], " but tensor has no dimensions");
  Tensor out = self;
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], self.dim());
    int64_t n = self.size(d);
    if (n == 0) continue;
    int64_t shift = ((shifts[i] % n) + n) % n;
    if (shift == 0) continue;
    Tensor parts[] = {narrow(out, d, n - shift, shift), narrow(out, d, 0, n - shift)};
    out = cat(parts, d);
  }
  return out.is_same(self) ? clone(self) : out;
}

// Positions along a dim of size n for a padding of (before, after) in the given mode.
Tensor pad_positions(int64_t n, int64_t before, int64_t after, const std::string_view mode, Device device) {
  Tensor p = long_arange(-before, n + after, device);
  Tensor zero = scalar_to_tensor(0), last = scalar_to_tensor(n - 1);
  if (mode == "replicate") return clamp(p, Scalar(0), Scalar(n - 1));
  if (mode == "circular") return remainder(p, scalar_to_tensor(n));
  // reflect: mirror at both ends without repeating the edge element.
  p = abs(p);
  return sub(last, abs(sub(last, p)));
}

Tensor pad_composite(const Tensor& self, IntArrayRef pad, std::string_view mode, std::optional<double> value) {
  VT_CHECK(pad.size() % 2 == 0, "Padding length must be divisible by 2");
  int64_t padded_dims = static_cast<int64_t>(pad.size()) / 2;
  VT_CHECK(padded_dims <= self.dim(), "Padding length should be less than or equal to two times the input dimension ",
           "but got padding length ", pad.size(), " and input of dimension ", self.dim());
  if (mode == "constant") return constant_pad_nd(self, pad, value.value_or(0.0));
  VT_CHECK_KIND(mode == "reflect" || mode == "replicate" || mode == "circular", ErrorKind::NotImplemented,
                "Unrecognised padding mode ", mode);
  VT_CHECK(!value || *value == 0, "Padding mode \"", mode, "\" doesn't take in value argument");
  // torch pads the last 1-3 dims of a batched (or unbatched) input in these modes.
  VT_CHECK(padded_dims <= 3 && self.dim() >= padded_dims + 1, "Only 2D, 3D, 4D, 5D padding with non-constant padding ",
           "are supported for now");
  Tensor out = self;
  for (int64_t k = 0; k < padded_dims; ++k) {
    int64_t d = self.dim() - 1 - k;
    int64_t before = pad[2 * k], after = pad[2 * k + 1], n = self.size(d);
    if (mode == "reflect") {
      VT_CHECK(before < n && after < n, "Argument #4: Padding size should be less than the corresponding input ",
               "dimension, but got: padding (", before, ", ", after, ") at dimension ", d, " of input ",
               shape_str(self.sizes()));
    }
    if (mode == "circular") {
      VT_CHECK(before <= n && after <= n, "Padding value causes wrapping around more than once.");
    }
    VT_CHECK(n > 0 || (before == 0 && after == 0), "pad(): cannot pad an empty dimension in mode ", mode);
    if (before < 0 || after < 0) {  // negative padding crops
      int64_t start = std::max<int64_t>(0, -before), end = n - std::max<int64_t>(0, -after);
      out = narrow(out, d, start, end - start);
      n = end - start;
      before = std::max<int64_t>(before, 0);
      after = std::max<int64_t>(after, 0);
    }
    out = index_select(out, d, pad_positions(n, before, after, mode, self.device()));
  }
  return out;
}

}  // namespace

VT_REGISTRATION(rearrange_ops) {
  Registry& r = Registry::instance();
  r.define("tile(Tensor self, SymInt[] dims) -> Tensor");
  r.define("repeat_interleave.Tensor(Tensor repeats, *, SymInt? output_size=None) -> Tensor");
  r.define("repeat_interleave.self_Tensor(Tensor self, Tensor repeats, int? dim=None, *, SymInt? output_size=None) -> Tensor");
  r.define("repeat_interleave.self_int(Tensor self, SymInt repeats, int? dim=None, *, SymInt? output_size=None) -> Tensor");
  r.define("roll(Tensor self, SymInt[1] shifts, int[1] dims=[]) -> Tensor");
  r.define("pad(Tensor self, SymInt[] pad, str mode=\"constant\", float? value=None) -> Tensor");
  register_composite("tile", &tile_composite);
  register_composite("repeat_interleave.Tensor", &repeat_interleave_counts_composite);
  register_composite("repeat_interleave.self_Tensor", &repeat_interleave_tensor_composite);
  register_composite("repeat_interleave.self_int", &repeat_interleave_int_composite);
  register_composite("roll", &roll_composite);
  register_composite("pad", &pad_composite);
}

Tensor tile(const Tensor& self, IntArrayRef dims) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef)> op("tile");
  return op(self, dims);
}
Tensor repeat_interleave(const Tensor& repeats, std::optional<int64_t> output_size) {
  static const TypedOp<Tensor(const Tensor&, std::optional<int64_t>)> op("repeat_interleave.Tensor");
  return op(repeats, output_size);
}
Tensor repeat_interleave(const Tensor& self, const Tensor& repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&, std::optional<int64_t>, std::optional<int64_t>)> op(
      "repeat_interleave.self_Tensor");
  return op(self, repeats, dim, output_size);
}
Tensor repeat_interleave(const Tensor& self, int64_t repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size) {
  static const TypedOp<Tensor(const Tensor&, int64_t, std::optional<int64_t>, std::optional<int64_t>)> op(
      "repeat_interleave.self_int");
  return op(self, repeats, dim, output_size);
}
Tensor roll(const Tensor& self, IntArrayRef shifts, IntArrayRef dims) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef, IntArrayRef)> op("roll");
  return op(self, shifts, dims);
}
Tensor pad(const Tensor& self, IntArrayRef pad, std::string_view mode, std::optional<double> value) {
  static const TypedOp<Tensor(const Tensor&, IntArrayRef, std::string_view, std::optional<double>)> op("pad");
  return op(self, pad, mode, value);
}

}  // namespace vt
