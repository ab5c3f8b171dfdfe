// Random numbers from Python: Generator objects, manual_seed, the random factories and the
// in-place samplers, and dropout.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "src/python/bindings.h"
#include "vt/autograd/meta.h"
#include "vt/random.h"

namespace vt::python {

namespace {

using OptDType = std::optional<DType>;

Generator* generator_arg(nb::handle h) {
  if (h.is_none()) return nullptr;
  VT_CHECK_TYPE(nb::isinstance<Generator>(h), "generator must be a vibetensor.Generator, not ", nb::type_name(h.type()).c_str());
  return nb::inst_ptr<Generator>(h);
}

Tensor finish(Tensor t, bool requires_grad) {
  if (requires_grad) autograd::set_requires_grad(t, true);
  return t;
}

}  // namespace

void bind_random(nb::module_& m, nb::class_<Tensor>& cls) {
  nb::class_<Generator>(m, "Generator")
      .def(nb::init<>())
      .def("__init__", [](Generator* self, std::string_view device) {
        VT_CHECK(device == "cpu", "Generator: only 'cpu' generators exist in this build, got '", device, "'");
        new (self) Generator();
      }, nb::arg("device"))
      .def("manual_seed", [](nb::handle self, int64_t seed) {
        nb::inst_ptr<Generator>(self)->manual_seed(static_cast<uint64_t>(seed));
        return nb::borrow(self);
      }, nb::arg("seed"))
      .def("initial_seed", [](const Generator& g) { return static_cast<int64_t>(g.initial_seed()); })
      .def("get_state", [](const Generator& g) {
        // (seed, offset): the whole state of a counter-based generator.
        Tensor state = empty(std::vector<int64_t>{2}, ScalarType::Int64);
        state.data<int64_t>()[0] = static_cast<int64_t>(g.initial_seed());
        state.data<int64_t>()[1] = static_cast<int64_t>(g.offset());
        return state;
      })
      .def("set_state", [](Generator& g, const Tensor& state) {
        VT_CHECK(state.dtype() == ScalarType::Int64 && state.numel() == 2 && state.is_contiguous(),
                 "set_state(): expected the int64 tensor of 2 elements that get_state() returns");
        g.manual_seed(static_cast<uint64_t>(state.data<int64_t>()[0]));
        g.set_offset(static_cast<uint64_t>(state.data<int64_t>()[1]));
      }, nb::arg("new_state"));
  m.attr("default_generator") = nb::cast(&default_generator(), nb::rv_policy::reference);
  m.def("manual_seed", [](int64_t seed) {
    manual_seed(static_cast<uint64_t>(seed));
    return nb::cast(&default_generator(), nb::rv_policy::reference);
  }, nb::arg("seed"));
  m.def("initial_seed", [] { return static_cast<int64_t>(default_generator().initial_seed()); });

  auto device_of = [](const std::optional<Device>& d) { return d.value_or(Device()); };
  auto float_dtype = [](const OptDType& d) { return d ? d->type : default_dtype(); };
  m.def("rand", [=](nb::args size, nb::handle generator, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    Tensor t = empty(sizes_from_args(size, "rand"), float_dtype(dtype), device_of(device));
    uniform_(t, 0, 1, generator_arg(generator));
    return finish(t, requires_grad);
  }, nb::arg("size"), nb::arg("generator").none() = nb::none(), nb::arg("dtype").none() = nb::none(),
     nb::arg("device").none() = nb::none(), nb::arg("requires_grad") = false);
  m.def("randn", [=](nb::args size, nb::handle generator, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    Tensor t = empty(sizes_from_args(size, "randn"), float_dtype(dtype), device_of(device));
    normal_(t, 0, 1, generator_arg(generator));
    return finish(t, requires_grad);
  }, nb::arg("size"), nb::arg("generator").none() = nb::none(), nb::arg("dtype").none() = nb::none(),
     nb::arg("device").none() = nb::none(), nb::arg("requires_grad") = false);
  m.def("rand_like", [](const Tensor& t, OptDType dtype, bool requires_grad) {
    Tensor out = empty_like(t, dtype ? std::optional<ScalarType>(dtype->type) : std::nullopt);
    uniform_(out, 0, 1);
    return finish(out, requires_grad);
  }, nb::arg("input"), nb::kw_only(), nb::arg("dtype").none() = nb::none(), nb::arg("requires_grad") = false);
  m.def("randn_like", [](const Tensor& t, OptDType dtype, bool requires_grad) {
    Tensor out = empty_like(t, dtype ? std::optional<ScalarType>(dtype->type) : std::nullopt);
    normal_(out, 0, 1);
    return finish(out, requires_grad);
  }, nb::arg("input"), nb::kw_only(), nb::arg("dtype").none() = nb::none(), nb::arg("requires_grad") = false);
  // randint(high, size) or randint(low, high, size)
  // randint(high, size), randint(low, high, size), any of them by keyword (torch's overloads).
  m.def("randint", [=](nb::args args, nb::handle low_kw, nb::handle high_kw, nb::handle size_kw, nb::handle generator,
                       OptDType dtype, std::optional<Device> device, bool requires_grad) {
    std::vector<nb::handle> positional(args.begin(), args.end());
    nb::handle size = size_kw;
    if (size.is_none()) {
      VT_CHECK_TYPE(!positional.empty(), "randint() missing required argument 'size'");
      size = positional.back();
      positional.pop_back();
    }
    VT_CHECK_TYPE(positional.size() <= 2, "randint() takes (high, size) or (low, high, size)");
    nb::handle low = low_kw, high = high_kw;
    if (positional.size() == 2) {
      low = positional[0];
      high = positional[1];
    } else if (positional.size() == 1) {
      high = positional[0];
    }
    VT_CHECK_TYPE(!high.is_none(), "randint() missing required argument 'high'");
    Tensor t = empty(nb::cast<std::vector<int64_t>>(size), dtype ? dtype->type : ScalarType::Int64, device_of(device));
    random_(t, low.is_none() ? 0 : nb::cast<int64_t>(low), nb::cast<int64_t>(high), generator_arg(generator));
    return finish(t, requires_grad);
  }, nb::arg("args"), nb::kw_only(), nb::arg("low").none() = nb::none(), nb::arg("high").none() = nb::none(),
     nb::arg("size").none() = nb::none(), nb::arg("generator").none() = nb::none(), nb::arg("dtype").none() = nb::none(),
     nb::arg("device").none() = nb::none(), nb::arg("requires_grad") = false);
  m.def("randperm", [=](int64_t n, nb::handle generator, OptDType dtype, std::optional<Device> device, bool requires_grad) {
    return finish(randperm(n, dtype ? std::optional<ScalarType>(dtype->type) : std::nullopt, device_of(device),
                           generator_arg(generator)), requires_grad);
  }, nb::arg("n"), nb::kw_only(), nb::arg("generator").none() = nb::none(), nb::arg("dtype").none() = nb::none(),
     nb::arg("device").none() = nb::none(), nb::arg("requires_grad") = false);
  bind_both(cls, m, "multinomial", [](const Tensor& t, int64_t num_samples, bool replacement, nb::handle generator) {
    return multinomial(t, num_samples, replacement, generator_arg(generator));
  }, nb::arg("num_samples"), nb::arg("replacement") = false, nb::kw_only(), nb::arg("generator").none() = nb::none());
  m.def("bernoulli", [](const Tensor& input, std::optional<double> p, nb::handle generator) {
    Tensor out = empty_like(input);
    bernoulli_(out, p ? full({}, *p, ScalarType::Float64) : input, generator_arg(generator));
    return out;
  }, nb::arg("input"), nb::arg("p").none() = nb::none(), nb::kw_only(), nb::arg("generator").none() = nb::none());
  m.def("normal", [](double mean, double std, std::vector<int64_t> size, nb::handle generator, OptDType dtype) {
    Tensor out = empty(size, dtype ? dtype->type : default_dtype());
    normal_(out, mean, std, generator_arg(generator));
    return out;
  }, nb::arg("mean"), nb::arg("std"), nb::arg("size"), nb::kw_only(), nb::arg("generator").none() = nb::none(),
     nb::arg("dtype").none() = nb::none());

  cls.def("uniform_", [](nb::handle self, double from, double to, nb::handle generator) {
    uniform_(*nb::inst_ptr<Tensor>(self), from, to, generator_arg(generator));
    return nb::borrow(self);
  }, nb::arg("from") = 0.0, nb::arg("to") = 1.0, nb::kw_only(), nb::arg("generator").none() = nb::none());
  cls.def("normal_", [](nb::handle self, double mean, double std, nb::handle generator) {
    normal_(*nb::inst_ptr<Tensor>(self), mean, std, generator_arg(generator));
    return nb::borrow(self);
  }, nb::arg("mean") = 0.0, nb::arg("std") = 1.0, nb::kw_only(), nb::arg("generator").none() = nb::none());
  cls.def("random_", [](nb::handle self, int64_t low, std::optional<int64_t> high, nb::handle generator) {
    // random_(to) or random_(from, to)
    int64_t from = high ? low : 0, to = high ? *high : low;
    random_(*nb::inst_ptr<Tensor>(self), from, to, generator_arg(generator));
    return nb::borrow(self);
  }, nb::arg("from"), nb::arg("to").none() = nb::none(), nb::kw_only(), nb::arg("generator").none() = nb::none());
  cls.def("bernoulli_", [](nb::handle self, nb::handle p, nb::handle generator) {
    Tensor probability = nb::isinstance<Tensor>(p) ? *nb::inst_ptr<Tensor>(p) : full({}, nb::cast<double>(p), ScalarType::Float64);
    bernoulli_(*nb::inst_ptr<Tensor>(self), probability, generator_arg(generator));
    return nb::borrow(self);
  }, nb::arg("p") = 0.5, nb::kw_only(), nb::arg("generator").none() = nb::none());

  nb::module_ nn = nb::borrow<nb::module_>(m.attr("_nn"));
  nn.def("dropout", [](nb::handle input, double p, bool training, bool inplace) -> nb::object {
    const Tensor& x = *nb::inst_ptr<Tensor>(input);
    Tensor result = dropout(x, p, training);
    if (!inplace) return nb::cast(result);
    if (!result.is_same(x)) copy_(x, result);
    return nb::borrow(input);
  }, nb::arg("input"), nb::arg("p") = 0.5, nb::arg("training") = true, nb::arg("inplace") = false);
}

}  // namespace vt::python
