// safetensors files from Python: `vibetensor.safetensors` and vt.save/vt.load build on these.
#include <unistd.h>

#include <cerrno>

#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include "src/python/bindings.h"
#include "vt/safetensors.h"

namespace vt::python {

void bind_safetensors(nb::module_& m) {
  using safetensors::File;
  nb::class_<File>(m, "_SafetensorsFile")
      .def_static("open", [](const std::string& path) {
        // Python's own OSError subclasses (FileNotFoundError, PermissionError, ...) for a
        // file that cannot be read, as open() raises them.
        if (::access(path.c_str(), R_OK) != 0) {
          PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.c_str());
          throw nb::python_error();
        }
        return File::open(path);
      }, nb::arg("path"))
      .def_static("from_bytes", [](nb::bytes data, std::string source) {
        return File::from_bytes(std::string(data.c_str(), data.size()), std::move(source));
      }, nb::arg("data"), nb::arg("source"))
      .def("keys", [](const File& f) {
        std::vector<std::string> names;
        for (const auto& e : f.header().entries) names.push_back(e.name);
        return names;
      })
      .def("metadata", &File::metadata)
      .def("__contains__", &File::contains)
      .def("tensor", &File::tensor, nb::arg("name"));
  m.def("_safetensors_serialize", [](const std::vector<std::pair<std::string, Tensor>>& tensors,
                                     const std::vector<std::pair<std::string, std::string>>& metadata) {
    std::string file = safetensors::serialize(tensors, metadata);
    return nb::bytes(file.data(), file.size());
  }, nb::arg("tensors"), nb::arg("metadata"));
  m.def("_safetensors_save_file", &safetensors::save_file, nb::arg("tensors"), nb::arg("metadata"),
        nb::arg("path"));
}

}  // namespace vt::python
