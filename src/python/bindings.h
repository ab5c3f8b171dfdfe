// Shared declarations of the binding files.
#pragma once
#include "src/python/convert.h"

namespace vt::python {

nb::class_<Tensor> bind_tensor(nb::module_& m);
void bind_autograd(nb::module_& m, nb::class_<Tensor>& cls);
void bind_random(nb::module_& m, nb::class_<Tensor>& cls);
// A vibetensor.Size (a tuple subclass, like torch.Size).
nb::object size_object(IntArrayRef sizes);

}  // namespace vt::python
