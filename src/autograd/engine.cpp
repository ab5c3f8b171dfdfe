// The backward engine. One pass counts, for each node reachable from the outputs, how many
// edges point at it; a node runs when all of its gradients have arrived (its count is zero).
// Ready nodes run latest-created first, so the order is deterministic and matches torch.
//
// CUDA streams follow torch's rules: a node runs on the stream its forward ran on; a gradient
// that crosses to another stream makes the receiving stream wait for the producing one; the
// caller's gradients reach the first nodes the same way; and when backward returns, the
// caller's current streams wait for every stream the backward used.
#include "vt/autograd/engine.h"

#include <algorithm>
#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "vt/autograd/meta.h"
#include "vt/cuda.h"
#include "vt/ops.h"
#include "vt/profiler.h"

namespace vt::autograd {

namespace {

struct NodeTask {
  TensorList buffer;    // gradients arriving at each input slot, summed
  int dependencies = 0;
};

struct LaterFirst {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

// Checks a gradient `producer` computed against what the receiving node expects, and casts
// it to the expected dtype and device (the gradient of a copy between devices goes back to
// the source's device, as in torch).
Tensor validate_grad(const Tensor& grad, const Node& producer, size_t index, const Node& receiver, uint32_t slot) {
  const TensorMeta& m = receiver.input_meta()[slot];
  VT_CHECK(std::equal(grad.sizes().begin(), grad.sizes().end(), m.sizes.begin(), m.sizes.end()),
           "Function ", producer.name(), " returned an invalid gradient at index ", index, " - got ",
           shape_str(grad.sizes()), " but expected shape compatible with ", shape_str(m.sizes));
  if (grad.dtype() == m.dtype && grad.device() == m.device) return grad;
  return to(grad, m.dtype, m.device);
}

void accumulate(Tensor& slot, Tensor grad) {
  slot = slot.defined() ? add(slot, grad) : std::move(grad);
}

// The stream `node` runs on, when that is not already the current device and stream.
std::optional<cuda::Stream> stream_to_enter(const Node& node) {
  const std::optional<cuda::Stream>& stream = node.stream();
  if (!stream) return std::nullopt;
  if (*stream == cuda::current_stream(stream->device()) && cuda::current_device() == stream->device()) {
    return std::nullopt;
  }
  return stream;
}

// Makes `grad`, queued on the current stream of its device, safe to use on `receiver`'s stream:
// that stream waits for the current one, and the allocator will not reuse grad's memory
// before the receiver's work on it is done. Returns the stream to accumulate on, if it differs.
std::optional<cuda::Stream> hand_over(const Tensor& grad, const Node& receiver) {
  const std::optional<cuda::Stream>& stream = receiver.stream();
  if (!stream || !grad.device().is_cuda() || grad.device().index != stream->device()) return std::nullopt;
  const cuda::Stream producer = cuda::current_stream(stream->device());
  if (producer == *stream) return std::nullopt;
  stream->wait_stream(producer);
  cuda::record_stream(grad.storage(), *stream);
  return stream;
}

// Adds `grad` into a receiver's slot, on the receiver's stream.
void deliver(Tensor& slot, Tensor grad, const Node& receiver) {
  std::optional<cuda::StreamGuard> on_receiver;
  if (std::optional<cuda::Stream> stream = hand_over(grad, receiver)) on_receiver.emplace(*stream);
  accumulate(slot, std::move(grad));
}

// Streams the backward ran nodes on; the caller's current streams wait for them at the end,
// also when a node throws (the work already queued must not race the caller's, and a capture
// needs every stream it forked joined back).
class StreamsUsed {
 public:
  StreamsUsed() = default;
  StreamsUsed(const StreamsUsed&) = delete;
  StreamsUsed& operator=(const StreamsUsed&) = delete;
  ~StreamsUsed() {
    try {
      join_current();
    } catch (...) {  // unwinding from another error already: that one is reported
    }
  }
  void add(const std::optional<cuda::Stream>& stream) {
    if (stream && std::find(streams_.begin(), streams_.end(), *stream) == streams_.end()) streams_.push_back(*stream);
  }
  void join_current() {
    for (const cuda::Stream& stream : streams_) {
      const cuda::Stream current = cuda::current_stream(stream.device());
      if (current != stream) current.wait_stream(stream);
    }
    streams_.clear();
  }

 private:
  std::vector<cuda::Stream> streams_;
};

struct Capture {
  Node* node;
  uint32_t slot;
};

// Runs the graph. With `captures`, the gradients reaching those (node, slot) pairs are
// returned and only the nodes leading to them run (autograd.grad); otherwise every node
// runs and leaves accumulate (backward), restricted to `accumulate_into` when non-empty.
TensorList run(const TensorList& outputs, const TensorList& grad_outputs, bool keep_graph, bool create_graph,
               const std::vector<Capture>& captures, const std::unordered_set<Node*>* accumulate_into) {
  VT_CHECK(outputs.size() == grad_outputs.size(), "grad_outputs must have the same length as outputs: got ",
           grad_outputs.size(), " and ", outputs.size());
  std::unordered_map<Node*, NodeTask> tasks;
  std::vector<std::shared_ptr<Node>> roots;  // keeps root nodes alive while running

  for (size_t i = 0; i < outputs.size(); ++i) {
    Edge edge = gradient_edge(outputs[i]);
    VT_CHECK(edge.valid(), "element ", i, " of tensors does not require grad and does not have a grad_fn");
    roots.push_back(edge.function);
  }

  // Count dependencies over the reachable graph.
  std::vector<Node*> stack;
  for (auto& root : roots) {
    if (tasks.emplace(root.get(), NodeTask{}).second) stack.push_back(root.get());
  }
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& edge : node->next_edges()) {
      if (!edge.valid()) continue;
      auto [it, inserted] = tasks.emplace(edge.function.get(), NodeTask{});
      it->second.dependencies++;
      if (inserted) stack.push_back(edge.function.get());
    }
  }

  // With captures, a node runs only if a captured slot is reachable from it. Decide in
  // reverse topological order (children first), found with the dependency counts.
  std::unordered_set<Node*> needed;
  if (!captures.empty()) {
    std::unordered_set<Node*> capture_nodes;
    for (const Capture& c : captures) capture_nodes.insert(c.node);
    std::unordered_map<Node*, int> remaining;
    for (auto& [node, task] : tasks) remaining[node] = task.dependencies;
    std::vector<Node*> topological;
    for (auto& root : roots) {
      if (remaining[root.get()] == 0) {
        remaining[root.get()] = -1;  // queued
        topological.push_back(root.get());
      }
    }
    for (size_t i = 0; i < topological.size(); ++i) {
      for (const Edge& edge : topological[i]->next_edges()) {
        if (edge.valid() && --remaining[edge.function.get()] == 0) topological.push_back(edge.function.get());
      }
    }
    for (auto it = topological.rbegin(); it != topological.rend(); ++it) {
      Node* node = *it;
      bool leads = capture_nodes.count(node) > 0;
      for (const Edge& edge : node->next_edges()) leads = leads || (edge.valid() && needed.count(edge.function.get()));
      if (leads) needed.insert(node);
    }
  }

  for (auto& [node, task] : tasks) task.buffer.resize(node->input_meta().size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    Edge edge = gradient_edge(outputs[i]);
    const TensorMeta& m = edge.function->input_meta()[edge.input_nr];
    const Tensor& given = grad_outputs[i];
    VT_CHECK(std::equal(given.sizes().begin(), given.sizes().end(), m.sizes.begin(), m.sizes.end()),
             "Mismatch in shape: grad_output[", i, "] has a shape of ", shape_str(given.sizes()), " and output[", i,
             "] has a shape of ", shape_str(m.sizes), ".");
    deliver(tasks[edge.function.get()].buffer[edge.input_nr], given.dtype() == m.dtype ? given : to(given, m.dtype),
            *edge.function);
  }

  std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
  for (auto& root : roots) {
    if (tasks[root.get()].dependencies == 0) ready.push(root.get());
  }
  std::unordered_set<Node*> queued;

  GradModeGuard grad_mode(create_graph);
  TensorList captured(captures.size());
  StreamsUsed streams_used;
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    if (!queued.insert(node).second) continue;
    streams_used.add(node->stream());
    std::optional<cuda::StreamGuard> on_node_stream;
    if (std::optional<cuda::Stream> stream = stream_to_enter(*node)) on_node_stream.emplace(*stream);
    NodeTask& task = tasks[node];
    TensorList inputs = std::move(task.buffer);

    for (auto& [slot, hook] : node->pre_hooks()) {
      if (!inputs[slot].defined()) continue;
      Tensor replaced = hook(inputs[slot]);
      if (replaced.defined()) inputs[slot] = replaced;
    }
    if (auto* accumulator = dynamic_cast<AccumulateGrad*>(node); accumulator && inputs[0].defined()) {
      // A leaf's own hooks, before its gradient is captured or accumulated.
      if (AutogradMeta* m = meta(accumulator->leaf())) {
        for (const GradHook& hook : m->leaf_hooks) {
          Tensor replaced = hook(inputs[0]);
          if (replaced.defined()) inputs[0] = replaced;
        }
      }
    }
    for (auto& [slot, hook] : node->retain_hooks()) {
      if (inputs[slot].defined()) hook(inputs[slot]);
    }
    for (size_t c = 0; c < captures.size(); ++c) {
      if (captures[c].node == node) captured[c] = inputs[captures[c].slot];
    }

    bool is_accumulator = dynamic_cast<AccumulateGrad*>(node) != nullptr;
    bool runs = captures.empty() ? (!is_accumulator || !accumulate_into || accumulate_into->count(node))
                                 : (needed.count(node) && !is_accumulator);
    TensorList grads;
    if (runs) {
      std::optional<profiler::Scope> timed;
      if (profiler::enabled()) timed.emplace(profiler::intern(node->name()), profiler::EventKind::AutogradNode);
      grads = node->apply(std::move(inputs));
      if (!keep_graph) node->release_saved();
    }
    const auto& edges = node->next_edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge& edge = edges[i];
      if (!edge.valid()) continue;
      NodeTask& next = tasks[edge.function.get()];
      if (i < grads.size() && grads[i].defined()) {
        deliver(next.buffer[edge.input_nr], validate_grad(grads[i], *node, i, *edge.function, edge.input_nr),
                *edge.function);
      }
      if (--next.dependencies == 0) ready.push(edge.function.get());
    }
  }
  streams_used.join_current();
  return captured;
}

TensorList default_grad_outputs(const TensorList& outputs, const TensorList& given) {
  TensorList grads = given;
  grads.resize(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (grads[i].defined()) continue;
    VT_CHECK(outputs[i].numel() == 1, "grad can be implicitly created only for scalar outputs");
    grads[i] = full(outputs[i].sizes(), 1, outputs[i].dtype(), outputs[i].device());
  }
  return grads;
}

}  // namespace

void backward(const TensorList& outputs, const TensorList& grad_outputs, bool retain_graph, bool create_graph,
              const TensorList& inputs) {
  TensorList grads = default_grad_outputs(outputs, grad_outputs);
  if (inputs.empty()) {
    run(outputs, grads, retain_graph || create_graph, create_graph, {}, nullptr);
    return;
  }
  // backward(inputs=...): accumulate only into these; non-leaf inputs get their grad captured.
  std::unordered_set<Node*> accumulate_into;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Edge edge = gradient_edge(inputs[i]);
    VT_CHECK(edge.valid(), "One of the differentiated Tensors does not require grad");
    if (is_leaf(inputs[i])) accumulate_into.insert(edge.function.get());
    else retain_grad(inputs[i]);
  }
  run(outputs, grads, retain_graph || create_graph, create_graph, {}, &accumulate_into);
}

TensorList grad(const TensorList& outputs, const TensorList& inputs, const TensorList& grad_outputs,
                bool retain_graph, bool create_graph, bool allow_unused) {
  TensorList grads = default_grad_outputs(outputs, grad_outputs);
  std::vector<Capture> captures;
  std::vector<std::shared_ptr<Node>> keep_alive;
  for (const Tensor& input : inputs) {
    Edge edge = gradient_edge(input);
    VT_CHECK(edge.valid(), "One of the differentiated Tensors does not require grad");
    keep_alive.push_back(edge.function);
    captures.push_back(Capture{edge.function.get(), edge.input_nr});
  }
  TensorList result = run(outputs, grads, retain_graph || create_graph, create_graph, captures, nullptr);
  for (size_t i = 0; i < result.size(); ++i) {
    VT_CHECK(result[i].defined() || allow_unused, "One of the differentiated Tensors appears to not have been used "
             "in the graph. Set allow_unused=True if this is the desired behavior.");
    if (result[i].defined() && !create_graph) result[i] = detach(result[i]);
  }
  return result;
}

}  // namespace vt::autograd
