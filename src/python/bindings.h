// Shared declarations of the binding files.
#pragma once
#include "src/python/convert.h"

namespace vt::python {

nb::class_<Tensor> bind_tensor(nb::module_& m);
void bind_indexing(nb::module_& m, nb::class_<Tensor>& cls);
void bind_ordering(nb::module_& m, nb::class_<Tensor>& cls);
void bind_math(nb::module_& m, nb::class_<Tensor>& cls);
void bind_autograd(nb::module_& m, nb::class_<Tensor>& cls);
void bind_random(nb::module_& m, nb::class_<Tensor>& cls);
void bind_optim(nb::module_& m);
void bind_autocast(nb::module_& m);
void bind_cuda(nb::module_& m, nb::class_<Tensor>& cls);
void bind_safetensors(nb::module_& m);
void bind_dlpack(nb::module_& m, nb::class_<Tensor>& cls);
// Binds `fn` as a Tensor method and as a module function taking `input` first.
template <class Fn, class... Extra>
void bind_both(nb::class_<Tensor>& cls, nb::module_& m, const char* name, Fn&& fn, const Extra&... extra) {
  cls.def(name, fn, extra...);
  m.def(name, fn, nb::arg("input"), extra...);
}

// The in-place form of a functional op from Python: writes the result into self and returns
// self's own Python object (so `t.op_(...) is t`).
template <class F>
nb::object write_back(nb::handle self, F&& functional) {
  const Tensor& t = *nb::inst_ptr<Tensor>(self);
  copy_(t, functional(t));
  return nb::borrow(self);
}

// A vibetensor.Size (a tuple subclass, like torch.Size).
nb::object size_object(IntArrayRef sizes);

}  // namespace vt::python
