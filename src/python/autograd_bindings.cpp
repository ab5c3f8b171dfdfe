// Autograd from Python: Tensor's autograd attributes, graph nodes, the engine entry points,
// grad mode, and the node that runs a Python `autograd.Function.backward`.
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "vt/autograd/record.h"
#include "src/python/bindings.h"
#include "vt/autograd/engine.h"

namespace vt::python {

namespace {

using autograd::Node;
using autograd::TensorList;

// The backward of a Python autograd.Function: calls `backward(ctx, *grads)` under the GIL.
class PythonFunctionNode final : public Node {
 public:
  PythonFunctionNode(std::string name, nb::object ctx, nb::object backward)
      : name_(std::move(name)), ctx_(std::move(ctx)), backward_(std::move(backward)) {}
  ~PythonFunctionNode() override {
    nb::gil_scoped_acquire gil;
    ctx_.reset();
    backward_.reset();
  }

  std::string name() const override { return name_; }

  TensorList apply(TensorList&& grad_outputs) override {
    nb::gil_scoped_acquire gil;
    nb::list args;
    args.append(ctx_);
    for (size_t i = 0; i < grad_outputs.size(); ++i) {
      if (grad_outputs[i].defined()) {
        args.append(nb::cast(grad_outputs[i]));
      } else {
        const autograd::TensorMeta& m = input_meta()[i];
        args.append(nb::cast(zeros(m.sizes, m.dtype, m.device)));
      }
    }
    nb::object result = backward_(*nb::tuple(args));
    TensorList grads;
    if (PyTuple_Check(result.ptr()) || PyList_Check(result.ptr())) {
      for (nb::handle item : nb::borrow<nb::sequence>(result)) grads.push_back(item.is_none() ? Tensor() : nb::cast<Tensor>(item));
    } else {
      grads.push_back(result.is_none() ? Tensor() : nb::cast<Tensor>(result));
    }
    VT_CHECK(grads.size() == next_edges().size(), "function ", name_, " returned an incorrect number of gradients "
             "(expected ", next_edges().size(), ", got ", grads.size(), ")");
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!next_edges()[i].valid()) grads[i] = Tensor();
    }
    return grads;
  }

  void release_saved() override {
    nb::gil_scoped_acquire gil;
    if (nb::hasattr(ctx_, "_release_saved")) ctx_.attr("_release_saved")();
  }

 private:
  std::string name_;
  nb::object ctx_;
  nb::object backward_;
};

// A hook that can be switched off by the handle register_hook returns.
struct HookHandle {
  std::shared_ptr<bool> enabled = std::make_shared<bool>(true);
  void remove() { *enabled = false; }
};

HookHandle add_python_hook(const Tensor& t, nb::object fn) {
  HookHandle handle;
  auto shared_fn = std::make_shared<nb::object>(std::move(fn));
  std::shared_ptr<nb::object> holder(shared_fn.get(), [shared_fn](nb::object*) mutable {
    nb::gil_scoped_acquire gil;
    shared_fn.reset();
  });
  std::shared_ptr<bool> enabled = handle.enabled;
  autograd::register_hook(t, [holder, enabled](const Tensor& grad) -> Tensor {
    if (!*enabled) return Tensor();
    nb::gil_scoped_acquire gil;
    nb::object result = (*holder)(nb::cast(grad));
    return result.is_none() ? Tensor() : nb::cast<Tensor>(result);
  });
  return handle;
}

TensorList tensors_from(nb::handle h) {
  TensorList out;
  if (h.is_none()) return out;
  if (nb::isinstance<Tensor>(h)) {
    out.push_back(nb::cast<Tensor>(h));
    return out;
  }
  for (nb::handle item : nb::borrow<nb::sequence>(h)) out.push_back(item.is_none() ? Tensor() : nb::cast<Tensor>(item));
  return out;
}

}  // namespace

void bind_autograd(nb::module_& m, nb::class_<Tensor>& cls) {
  nb::class_<Node>(m, "Node")
      .def("name", &Node::name)
      .def_prop_ro("next_functions", [](const Node& node) {
        nb::list out;
        for (const autograd::Edge& edge : node.next_edges()) {
          out.append(nb::make_tuple(edge.function ? nb::cast(edge.function) : nb::none(), edge.input_nr));
        }
        return nb::tuple(out);
      })
      .def_prop_ro("variable", [](const Node& node) -> Tensor {
        auto* accumulator = dynamic_cast<const autograd::AccumulateGrad*>(&node);
        VT_CHECK(accumulator != nullptr, "'", node.name(), "' object has no attribute 'variable'");
        return accumulator->leaf();
      })
      .def("__repr__", [](const Node& node) { return "<" + node.name() + " object>"; });

  nb::class_<HookHandle>(m, "RemovableHandle").def("remove", &HookHandle::remove);

  cls.def_prop_rw("requires_grad", [](const Tensor& t) { return t.requires_grad(); },
                  [](const Tensor& t, bool value) { autograd::set_requires_grad(t, value); })
      .def("requires_grad_", [](const Tensor& t, bool value) {
        autograd::set_requires_grad(t, value);
        return t;
      }, nb::arg("requires_grad") = true)
      .def_prop_ro("is_leaf", [](const Tensor& t) { return autograd::is_leaf(t); })
      .def_prop_rw("grad", [](const Tensor& t) -> std::optional<Tensor> {
        autograd::AutogradMeta* m = autograd::meta(t);
        if (!m || !m->grad.defined()) return std::nullopt;
        return m->grad;
      }, [](const Tensor& t, std::optional<Tensor> grad) {
        if (grad) {
          VT_CHECK(std::equal(grad->sizes().begin(), grad->sizes().end(), t.sizes().begin(), t.sizes().end()),
                   "assigned grad has data of a different size");
          VT_CHECK(grad->dtype() == t.dtype(), "assigned grad has data of a different type");
        }
        autograd::materialize_meta(t).grad = grad.value_or(Tensor());
      }, nb::arg("grad").none())
      .def_prop_ro("grad_fn", [](const Tensor& t) { return autograd::grad_fn(t); })
      .def_prop_ro("retains_grad", [](const Tensor& t) {
        autograd::AutogradMeta* m = autograd::meta(t);
        return m && m->retains_grad;
      })
      .def("retain_grad", [](const Tensor& t) { autograd::retain_grad(t); })
      .def("detach", [](const Tensor& t) { return autograd::detach(t); })
      // `t.data`: the same values without history; assigning swaps in another tensor's data
      // while `t` keeps its identity for autograd and for the optimizers holding it.
      .def_prop_rw("data", [](const Tensor& t) { return autograd::detach(t); },
                   [](const Tensor& t, const Tensor& other) { t.impl()->set_data(*other.impl()); })
      .def("detach_", [](const Tensor& t) {
        VT_CHECK(!t.impl()->is_view() || !t.requires_grad(), "Can't detach views in-place. Use detach() instead.");
        if (autograd::AutogradMeta* m = autograd::meta(t)) {
          m->grad_fn.reset();
          m->requires_grad = false;
        }
        t.impl()->set_requires_grad(false);
        return t;
      })
      .def("register_hook", &add_python_hook, nb::arg("hook"))
      .def("backward", [](const Tensor& t, std::optional<Tensor> gradient, std::optional<bool> retain_graph,
                          bool create_graph, nb::handle inputs) {
        TensorList grads;
        if (gradient) grads.push_back(*gradient);
        autograd::backward({t}, grads, retain_graph.value_or(create_graph), create_graph, tensors_from(inputs));
      }, nb::arg("gradient") = nb::none(), nb::arg("retain_graph") = nb::none(), nb::arg("create_graph") = false,
         nb::arg("inputs") = nb::none());

  m.def("_backward", [](nb::handle tensors, nb::handle grad_tensors, std::optional<bool> retain_graph,
                        bool create_graph, nb::handle inputs) {
    autograd::backward(tensors_from(tensors), tensors_from(grad_tensors), retain_graph.value_or(create_graph),
                       create_graph, tensors_from(inputs));
  }, nb::arg("tensors"), nb::arg("grad_tensors").none(), nb::arg("retain_graph").none(), nb::arg("create_graph"),
     nb::arg("inputs").none());
  m.def("_grad", [](nb::handle outputs, nb::handle inputs, nb::handle grad_outputs, std::optional<bool> retain_graph,
                    bool create_graph, bool allow_unused) {
    TensorList result = autograd::grad(tensors_from(outputs), tensors_from(inputs), tensors_from(grad_outputs),
                                       retain_graph.value_or(create_graph), create_graph, allow_unused);
    nb::list out;
    for (const Tensor& t : result) out.append(t.defined() ? nb::cast(t) : nb::none());
    return nb::tuple(out);
  }, nb::arg("outputs"), nb::arg("inputs"), nb::arg("grad_outputs").none(), nb::arg("retain_graph").none(),
     nb::arg("create_graph"), nb::arg("allow_unused"));
  m.def("_enter_dual_level", &autograd::enter_dual_level);
  m.def("_exit_dual_level", &autograd::exit_dual_level, nb::arg("level"));
  m.def("_make_dual", &autograd::make_dual, nb::arg("tensor"), nb::arg("tangent"), nb::arg("level"));
  m.def("_unpack_dual", [](const Tensor& t) {
    Tensor tangent = autograd::tangent_of(t);
    if (!tangent.defined()) return nb::make_tuple(t, nb::none());
    // The primal: a view of `t` (still in its backward graph) without the tangent.
    Tensor primal = view(t, t.sizes());
    autograd::materialize_meta(primal).tangent = Tensor();
    primal.impl()->set_has_tangent(false);
    return nb::make_tuple(primal, tangent);
  }, nb::arg("tensor"));
  m.def("is_grad_enabled", &autograd::is_grad_enabled);
  m.def("_set_grad_enabled", &autograd::set_grad_enabled);

  // autograd.Function.apply: makes `outputs` the results of a node running `backward`.
  m.def("_record_function", [](std::string name, nb::object ctx, nb::object backward, nb::handle inputs,
                               nb::handle outputs, nb::handle non_differentiable) {
    TensorList ins = tensors_from(inputs);
    TensorList outs = tensors_from(outputs);
    TensorList skip = tensors_from(non_differentiable);
    auto node = autograd::new_node<PythonFunctionNode>(std::move(name), std::move(ctx), std::move(backward));
    for (const Tensor& t : ins) node->add_next_edge(t.defined() ? autograd::gradient_edge(t) : autograd::Edge{});
    for (const Tensor& out : outs) {
      if (!out.defined()) continue;
      bool differentiable = is_floating_point(out.dtype());
      for (const Tensor& s : skip) differentiable = differentiable && !s.is_same(out);
      if (differentiable) autograd::set_history(out, node);
      else node->add_input_meta(out);
    }
  }, nb::arg("name"), nb::arg("ctx"), nb::arg("backward"), nb::arg("inputs"), nb::arg("outputs"),
     nb::arg("non_differentiable"));
}

}  // namespace vt::python
