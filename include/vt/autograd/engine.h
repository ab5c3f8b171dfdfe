// The backward engine: runs the graph from some outputs back to the leaves (or to chosen
// inputs), in dependency order.
#pragma once
#include "vt/autograd/node.h"

namespace vt::autograd {

// tensor.backward() / torch.autograd.backward: accumulates into .grad of the leaves (or of
// `inputs` only, when given).
void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph, bool create_graph,
              const TensorList& inputs = {});

// torch.autograd.grad: returns d(outputs)/d(inputs) without touching any .grad.
TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool create_graph, bool allow_unused);

}  // namespace vt::autograd
