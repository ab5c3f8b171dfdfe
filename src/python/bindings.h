// Shared declarations of the binding files.
#pragma once
#include "src/python/convert.h"

namespace vt::python {

void bind_tensor(nb::module_& m);
// A vibetensor.Size (a tuple subclass, like torch.Size).
nb::object size_object(IntArrayRef sizes);

}  // namespace vt::python
