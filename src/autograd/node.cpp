// Nodes, saved tensors and the two node kinds every graph uses.
#include "vt/autograd/node.h"

#include <atomic>

#include "vt/autograd/meta.h"
#include "vt/ops.h"

namespace vt::autograd {

namespace {
std::atomic<uint64_t> g_next_sequence_nr{0};
}

Node::Node() : sequence_nr_(g_next_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {}

uint32_t Node::add_input_meta(const Tensor& t) {
  input_meta_.push_back(TensorMeta{DimVector(t.sizes()), t.dtype(), t.device()});
  if (!stream_ && t.device().is_cuda()) stream_ = cuda::current_stream(t.device().index);
  return static_cast<uint32_t>(input_meta_.size() - 1);
}

void Node::add_pre_hook(uint32_t input_nr, GradHook hook) { pre_hooks_.emplace_back(input_nr, std::move(hook)); }
void Node::add_retain_hook(uint32_t input_nr, GradHook hook) { retain_hooks_.emplace_back(input_nr, std::move(hook)); }

void delete_node(Node* node) {
  thread_local std::vector<Node*> pending;
  thread_local bool deleting = false;
  pending.push_back(node);
  if (deleting) return;  // an outer call is draining the queue
  deleting = true;
  while (!pending.empty()) {
    Node* next = pending.back();
    pending.pop_back();
    delete next;  // may release more nodes, which land in `pending`
  }
  deleting = false;
}

SavedTensor::SavedTensor(const Tensor& tensor, bool is_output) : is_output_(is_output) {
  was_defined_ = tensor.defined();
  if (!was_defined_) return;
  saved_version_ = tensor.version();
  requires_grad_ = tensor.requires_grad();
  if (is_output) {
    // Keep the data but not the history: the history is this node, held weakly.
    data_ = detach(tensor);
    if (AutogradMeta* m = meta(tensor)) {
      grad_fn_ = m->grad_fn;
      output_nr_ = m->output_nr;
    }
  } else {
    data_ = tensor;
  }
}

Tensor SavedTensor::unpack(const Node& owner) const {
  if (!was_defined_) return Tensor();
  VT_CHECK(!released_,
           "Trying to backward through the graph a second time (or directly access saved tensors after they have "
           "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
           "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
           "if you need to access saved tensors after calling backward.");
  if (data_.version() != saved_version_) {
    fail(ErrorKind::Runtime, "one of the variables needed for gradient computation has been modified by an inplace "
         "operation: [", dtype_short_name(data_.dtype()), " ", shape_str(data_.sizes()), "]",
         is_output_ ? ", which is output 0 of " + owner.name() + "," : std::string(), " is at version ",
         data_.version(), "; expected version ", saved_version_, " instead. Hint: the backtrace further above "
         "shows the operation that failed to compute its gradient. The variable in question was changed in there "
         "or anywhere later. Good luck!");
  }
  if (!is_output_ || !requires_grad_) return data_;
  // Re-attach the output to its node so a create_graph backward can differentiate through it.
  std::shared_ptr<Node> fn = grad_fn_.lock();
  if (!fn) return data_;
  Tensor restored = detach(data_);
  AutogradMeta& m = materialize_meta(restored);
  m.grad_fn = std::move(fn);
  m.output_nr = output_nr_;
  restored.impl()->set_requires_grad(true);
  return restored;
}

void SavedTensor::release() {
  data_ = Tensor();
  released_ = true;
}

TensorList FunctionNode::apply(TensorList&& grad_outputs) {
  bool any = false;
  for (size_t i = 0; i < grad_outputs.size(); ++i) {
    if (grad_outputs[i].defined()) {
      any = true;
    }
  }
  if (!any) return TensorList(next_edges().size());
  // A formula may assume every output gradient exists: missing ones are zeros.
  for (size_t i = 0; i < grad_outputs.size(); ++i) {
    if (!grad_outputs[i].defined()) {
      const TensorMeta& m = input_meta()[i];
      grad_outputs[i] = zeros(m.sizes, m.dtype, m.device);
    }
  }
  TensorList grads = backward_(*this, grad_outputs);
  VT_CHECK(grads.size() == next_edges().size(), name(), " returned ", grads.size(), " gradients, expected ",
           next_edges().size());
  return grads;
}

void FunctionNode::release_saved() {
  for (SavedTensor& s : saved_) s.release();
}

size_t FunctionNode::save(const Tensor& t, bool is_output) {
  VT_CHECK(!is_output || grad_fn(t).get() == this, name_, ": save an output only after set_history");
  saved_.emplace_back(t, is_output);
  return saved_.size() - 1;
}

AccumulateGrad::AccumulateGrad(Tensor leaf) : leaf_(std::move(leaf)) { add_input_meta(leaf_); }

TensorList AccumulateGrad::apply(TensorList&& grad_outputs) {
  Tensor grad = std::move(grad_outputs[0]);
  if (!grad.defined()) return {};
  AutogradMeta& m = materialize_meta(leaf_);
  if (!m.grad.defined()) {
    // Own the gradient: a later in-place accumulation must not write into a tensor the
    // user (or the graph) still holds.
    m.grad = is_grad_enabled() ? grad : (grad.is_contiguous() && grad.storage()->use_count() == 1 ? grad : clone(grad));
  } else if (is_grad_enabled()) {
    m.grad = add(m.grad, grad);  // create_graph: keep the history of the sum
  } else {
    add_(m.grad, grad);
  }
  return {};
}

}  // namespace vt::autograd
