// Random ops: uniform_, normal_, bernoulli (p per element), random integers, randperm, and the
// composites on top (rand, randn, randint, dropout). Every op draws from a Generator
// (the default one unless given), one Philox counter per element.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "vt/autograd/record.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"
#include "vt/random.h"
#include "src/ops/random_fills.h"

namespace vt {

Generator& default_generator() {
  static Generator* generator = new Generator();
  return *generator;
}
void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace {
// The largest value an integer dtype holds (bool: 1), or nullopt for floating types.
std::optional<int64_t> integer_max(ScalarType type) {
  switch (type) {
    case ScalarType::Bool: return 1;
    case ScalarType::UInt8: return 255;
    case ScalarType::Int8: return 127;
    case ScalarType::Int16: return 32767;
    case ScalarType::Int32: return 2147483647;
    case ScalarType::Int64: return std::numeric_limits<int64_t>::max();
    default: return std::nullopt;
  }
}
}  // namespace

namespace random_fill {

void check_uniform(const Tensor& self, double from, double to) {
  VT_CHECK(from <= to, "uniform_ expects to return a [from, to) range, but found from=", from, " > to=", to);
  VT_CHECK(is_floating_point(self.dtype()), "\"uniform_\" not implemented for '", dtype_short_name(self.dtype()), "'");
}

void check_normal(const Tensor& self, double std) {
  VT_CHECK(std >= 0, "normal expects std >= 0.0, but found std ", std);
  VT_CHECK(is_floating_point(self.dtype()), "\"normal_kernel_cpu\" not implemented for '",
           dtype_short_name(self.dtype()), "'");
}

uint64_t check_random_range(const Tensor& self, int64_t low, int64_t high) {
  VT_CHECK(low < high, "random_ expects 'from' to be less than 'to', but got from=", low, " >= to=", high);
  if (auto top = integer_max(self.dtype())) {
    int64_t bottom = self.dtype() == ScalarType::Bool ? 0 : (self.dtype() == ScalarType::UInt8 ? 0 : -*top - 1);
    VT_CHECK(low >= bottom && high - 1 <= *top, "random_ expects 'from' and 'to' - 1 to be in the range of ",
             dtype_short_name(self.dtype()), " [", bottom, ", ", *top, "], but got from=", low, " and to=", high);
  }
  return static_cast<uint64_t>(high - low);
}

Tensor bernoulli_probabilities(const Tensor& self, const Tensor& p) {
  // Checked on the host, before broadcasting (p is a scalar or a small tensor in practice).
  Tensor host = contiguous(to(p, ScalarType::Float64, Device()));
  const double* prob = host.data<double>();
  for (int64_t i = 0; i < host.numel(); ++i) {
    VT_CHECK(prob[i] >= 0 && prob[i] <= 1, "bernoulli_(): p must be in [0, 1], but got ", prob[i]);
  }
  return contiguous(to(expand(p, self.sizes()), ScalarType::Float64, self.device()));
}

}  // namespace random_fill

namespace {

// Writes Fill<T>{args...}(random words, element index) into every element of a contiguous copy of
// `self`, then back.
template <template <class> class Fill, class Dispatch, class... Args>
const Tensor& fill_random(const Tensor& self, Generator* generator, std::string_view op, Dispatch dispatch,
                          Args... args) {
  Tensor target = self.is_contiguous() ? self : empty(self.sizes(), self.dtype(), self.device());
  Generator& g = random_fill::generator_or_default(generator);
  uint64_t first = g.reserve(static_cast<uint64_t>(target.numel()));
  uint64_t seed = g.initial_seed();
  dispatch(target.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const Fill<T> fill{args...};
    T* data = target.data<T>();
    parallel_for(0, target.numel(), kGrainSize, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) data[i] = fill(philox(first + static_cast<uint64_t>(i), seed), i);
    });
  });
  if (!target.is_same(self)) copy_(self, target);
  self.bump_version();
  return self;
}
auto floating_types = [](ScalarType t, std::string_view n, auto&& f) { dispatch_floating_types(t, n, f); };
auto all_types = [](ScalarType t, std::string_view n, auto&& f) { dispatch_all_types(t, n, f); };

const Tensor& uniform_kernel(const Tensor& self, double from, double to, Generator* generator) {
  random_fill::check_uniform(self, from, to);
  return fill_random<random_fill::Uniform>(self, generator, "uniform_", floating_types, from, to);
}

const Tensor& normal_kernel(const Tensor& self, double mean, double std, Generator* generator) {
  random_fill::check_normal(self, std);
  return fill_random<random_fill::Normal>(self, generator, "normal_", floating_types, mean, std);
}

const Tensor& random_kernel(const Tensor& self, int64_t low, int64_t high, Generator* generator) {
  uint64_t range = random_fill::check_random_range(self, low, high);
  return fill_random<random_fill::RandomInt>(self, generator, "random_", all_types, low, range);
}

const Tensor& bernoulli_kernel(const Tensor& self, const Tensor& p, Generator* generator) {
  Tensor probabilities = random_fill::bernoulli_probabilities(self, p);
  return fill_random<random_fill::Bernoulli>(self, generator, "bernoulli_", all_types,
                                             probabilities.data<double>());
}

// A random permutation: the stable order of n uniform keys (ties broken by position).
Tensor randperm_composite(int64_t n, Generator* generator, std::optional<ScalarType> dtype, Device device) {
  VT_CHECK(n >= 0, "randperm(): n must be non-negative, got ", n);
  if (auto top = integer_max(dtype.value_or(ScalarType::Int64))) {
    VT_CHECK(n - 1 <= *top, "n is too large for result tensor type: '", dtype_short_name(*dtype), "'");
  }
  Tensor keys = empty(std::vector<int64_t>{n}, ScalarType::Float64, device);
  uniform_(keys, 0, 1, generator);
  Tensor out = std::get<1>(sort(keys, 0, false));
  return dtype && *dtype != ScalarType::Int64 ? to(out, *dtype) : out;
}

// Category indices drawn from each row of (unnormalized) probabilities, from tensor ops that
// every backend has. With replacement: inverse CDF of one uniform per sample; without: the
// num_samples smallest of -log(1 - u) / p (exponential races), in the order they finish,
// which draws without replacement with torch's distribution.
Tensor multinomial_composite(const Tensor& self, int64_t num_samples, bool replacement, Generator* generator) {
  VT_CHECK(self.dim() == 1 || self.dim() == 2, "prob_dist must be 1 or 2 dim");
  VT_CHECK(is_floating_point(self.dtype()), "multinomial only supports floating-point dtypes for input, got: ",
           dtype_short_name(self.dtype()));
  VT_CHECK(num_samples > 0, "cannot sample n_sample <= 0 samples");
  const int64_t k = self.size(-1), rows = self.dim() == 2 ? self.size(0) : 1;
  VT_CHECK(k > 0, "multinomial(): the probability distribution must have at least one category");
  VT_CHECK(replacement || num_samples <= k, "cannot sample n_sample > prob_dist.size(-1) samples without replacement");
  autograd::BelowAutogradGuard no_history;
  const Device device = self.device();
  const Tensor p = contiguous(to(reshape(self, std::vector<int64_t>{rows, k}), ScalarType::Float64));
  const Tensor zero = scalar_to_tensor(0.0);
  VT_CHECK(all(logical_and(isfinite(p), ge(p, zero))).item().to_int() != 0,
           "probability tensor contains either `inf`, `nan` or element < 0");
  const std::vector<int64_t> last{-1};
  const Tensor total = sum(p, last, true);
  VT_CHECK(all(gt(total, zero)).item().to_int() != 0, "invalid multinomial distribution (sum of probabilities <= 0)");
  Tensor u = empty(std::vector<int64_t>{rows, replacement ? num_samples : k}, ScalarType::Float64, device);
  uniform_(u, 0, 1, generator);
  Tensor out;
  if (replacement) {
    out = searchsorted(cumsum(p, -1), mul(u, total), false, true, std::nullopt, std::nullopt);
    // u * total may round up to the row's total, past every category: such a draw takes the
    // last category that can occur. (Below the total, the CDF's first value above a draw
    // always belongs to a category of nonzero probability.)
    const Tensor positions = arange(0, k, 1, ScalarType::Int64, device);
    const Tensor last_possible = amax(where(gt(p, zero), positions, scalar_to_tensor(int64_t{-1})), last, true);
    out = where(ge(out, scalar_to_tensor(k)), last_possible, out);
  } else {
    VT_CHECK(rows == 0 || amin(sum(gt(p, zero), last)).item().to_int() >= num_samples, "invalid multinomial distribution (with ",
             "replacement=False, not enough non-negative category to sample)");
    const Tensor finish = div(neg(log(sub(scalar_to_tensor(1.0), u))), p);
    const Tensor race = where(gt(p, zero), finish, scalar_to_tensor(std::numeric_limits<double>::infinity()));
    out = std::get<1>(topk(race, num_samples, -1, false, true));
  }
  return self.dim() == 1 ? reshape(out, std::vector<int64_t>{num_samples}) : out;
}

Tensor dropout_composite(const Tensor& input, double p, bool train) {
  VT_CHECK_VALUE(p >= 0 && p <= 1, "dropout probability has to be between 0 and 1, but got ", p);
  if (!train || p == 0) return input;
  if (p == 1) return mul(input, zeros_like(input));
  Tensor mask = empty(input.sizes(), input.dtype(), input.device());
  {
    autograd::BelowAutogradGuard no_history;
    bernoulli_(mask, full({}, 1.0 - p, ScalarType::Float64), nullptr);
  }
  return mul(input, mul(mask, scalar_to_tensor(1.0 / (1.0 - p))));
}

// Under autograd a sampler is an in-place write of values that do not depend on the graph:
// refused on leaves that require grad, and self's old history gets a zero gradient.
template <class Sample>
const Tensor& sample_with_autograd(const Tensor& self, std::string_view op, Sample sample) {
  return autograd::apply_inplace(self, op, [&](const Tensor& original) {
    Tensor fresh = empty_like(original);
    autograd::below_autograd([&] { return sample(fresh); });
    return fresh;
  });
}
const Tensor& uniform_grad(const Tensor& self, double from, double to, Generator* g) {
  return sample_with_autograd(self, "uniform_", [&](const Tensor& t) { return uniform_(t, from, to, g); });
}
const Tensor& normal_grad(const Tensor& self, double mean, double std, Generator* g) {
  return sample_with_autograd(self, "normal_", [&](const Tensor& t) { return normal_(t, mean, std, g); });
}
const Tensor& random_grad(const Tensor& self, int64_t low, int64_t high, Generator* g) {
  return sample_with_autograd(self, "random_", [&](const Tensor& t) { return random_(t, low, high, g); });
}
const Tensor& bernoulli_grad(const Tensor& self, const Tensor& p, Generator* g) {
  return sample_with_autograd(self, "bernoulli_", [&](const Tensor& t) { return bernoulli_(t, p, g); });
}

}  // namespace

VT_REGISTRATION(random_ops) {
  Registry& r = Registry::instance();
  r.define("uniform_(Tensor(a!) self, float from=0, float to=1, *, Generator? generator=None) -> Tensor(a!)");
  r.define("normal_(Tensor(a!) self, float mean=0, float std=1, *, Generator? generator=None) -> Tensor(a!)");
  r.define("random_.from(Tensor(a!) self, int from, int? to, *, Generator? generator=None) -> Tensor(a!)");
  r.define("bernoulli_.Tensor(Tensor(a!) self, Tensor p, *, Generator? generator=None) -> Tensor(a!)");
  r.define("randperm(SymInt n, *, Generator? generator=None, ScalarType? dtype=None, Device device) -> Tensor");
  r.define("dropout(Tensor input, float p, bool train) -> Tensor");
  r.define("multinomial(Tensor self, SymInt num_samples, bool replacement=False, *, Generator? generator=None) -> Tensor");
  register_composite("multinomial", &multinomial_composite);
  register_kernel("uniform_", DispatchKey::CPU, &uniform_kernel);
  register_kernel("normal_", DispatchKey::CPU, &normal_kernel);
  register_kernel("random_.from", DispatchKey::CPU, &random_kernel);
  register_kernel("bernoulli_.Tensor", DispatchKey::CPU, &bernoulli_kernel);
  register_composite("randperm", &randperm_composite);
  register_composite("dropout", &dropout_composite);
  register_kernel("uniform_", DispatchKey::Autograd, &uniform_grad);
  register_kernel("normal_", DispatchKey::Autograd, &normal_grad);
  register_kernel("random_.from", DispatchKey::Autograd, &random_grad);
  register_kernel("bernoulli_.Tensor", DispatchKey::Autograd, &bernoulli_grad);
}

const Tensor& uniform_(const Tensor& self, double from, double to, Generator* generator) {
  static const TypedOp<const Tensor&(const Tensor&, double, double, Generator*)> op("uniform_");
  return op(self, from, to, generator);
}
const Tensor& normal_(const Tensor& self, double mean, double std, Generator* generator) {
  static const TypedOp<const Tensor&(const Tensor&, double, double, Generator*)> op("normal_");
  return op(self, mean, std, generator);
}
const Tensor& random_(const Tensor& self, int64_t low, int64_t high, Generator* generator) {
  static const TypedOp<const Tensor&(const Tensor&, int64_t, int64_t, Generator*)> op("random_.from");
  return op(self, low, high, generator);
}
const Tensor& bernoulli_(const Tensor& self, const Tensor& p, Generator* generator) {
  static const TypedOp<const Tensor&(const Tensor&, const Tensor&, Generator*)> op("bernoulli_.Tensor");
  return op(self, p, generator);
}
Tensor randperm(int64_t n, std::optional<ScalarType> dtype, Device device, Generator* generator) {
  static const TypedOp<Tensor(int64_t, Generator*, std::optional<ScalarType>, Device)> op("randperm");
  return op(n, generator, dtype, device);
}
Tensor multinomial(const Tensor& self, int64_t num_samples, bool replacement, Generator* generator) {
  static const TypedOp<Tensor(const Tensor&, int64_t, bool, Generator*)> op("multinomial");
  return op(self, num_samples, replacement, generator);
}
Tensor dropout(const Tensor& input, double p, bool train) {
  static const TypedOp<Tensor(const Tensor&, double, bool)> op("dropout");
  return op(input, p, train);
}

}  // namespace vt
