// The autograd graph: a Node is the backward of one recorded op. Its edges point at the
// nodes that produced its forward inputs (or at a leaf's gradient accumulator).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vt/cuda.h"
#include "vt/tensor.h"

namespace vt::autograd {

class Node;
using TensorList = std::vector<Tensor>;

// Where a gradient goes: input `input_nr` of `function`. An edge without a function means
// "this forward input needs no gradient".
struct Edge {
  std::shared_ptr<Node> function;
  uint32_t input_nr = 0;
  bool valid() const { return function != nullptr; }
};

// Shape and dtype of a gradient a node receives (its forward output), so the engine can
// check incoming gradients, cast them, and materialize zeros for missing ones.
struct TensorMeta {
  DimVector sizes;
  ScalarType dtype = ScalarType::Float32;
  Device device;
};

// A hook on the gradient flowing into a node's input slot; may return a replacement.
using GradHook = std::function<Tensor(const Tensor&)>;

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual std::string name() const = 0;
  // Gradients of the forward inputs (one per next edge) from those of the forward outputs.
  virtual TensorList apply(TensorList&& grad_outputs) = 0;
  // Drops saved tensors after a backward without retain_graph.
  virtual void release_saved() {}

  const std::vector<Edge>& next_edges() const { return next_edges_; }
  void add_next_edge(Edge edge) { next_edges_.push_back(std::move(edge)); }
  bool needs_input_grad(size_t i) const { return i < next_edges_.size() && next_edges_[i].valid(); }

  const std::vector<TensorMeta>& input_meta() const { return input_meta_; }
  uint32_t add_input_meta(const Tensor& t);
  // The CUDA stream the forward ran on (current when its first CUDA output was recorded);
  // the engine runs this node's backward on it, as torch does. None for CPU nodes.
  const std::optional<cuda::Stream>& stream() const { return stream_; }

  // Creation order; the engine runs later nodes first, as torch does.
  uint64_t sequence_nr() const { return sequence_nr_; }

  void add_pre_hook(uint32_t input_nr, GradHook hook);
  std::vector<std::pair<uint32_t, GradHook>>& pre_hooks() { return pre_hooks_; }
  // retain_grad's hooks: they run after every other hook, so .grad sees the final value.
  void add_retain_hook(uint32_t input_nr, GradHook hook);
  std::vector<std::pair<uint32_t, GradHook>>& retain_hooks() { return retain_hooks_; }

 private:
  std::vector<Edge> next_edges_;
  std::vector<TensorMeta> input_meta_;
  std::optional<cuda::Stream> stream_;
  std::vector<std::pair<uint32_t, GradHook>> pre_hooks_;
  std::vector<std::pair<uint32_t, GradHook>> retain_hooks_;
  uint64_t sequence_nr_;
};

// A tensor kept for backward. It remembers the version it was saved at, so backward can
// refuse values that an in-place op has since changed. A saved output keeps only a weak
// reference to its grad_fn (the node saving it), which avoids a reference cycle.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(const Tensor& tensor, bool is_output);
  // The saved value, with its autograd history (for double backward). Raises if released
  // or modified in place since it was saved.
  Tensor unpack(const Node& owner) const;
  void release();
  bool defined() const { return was_defined_; }

 private:
  Tensor data_;
  std::weak_ptr<Node> grad_fn_;
  uint32_t output_nr_ = 0;
  uint64_t saved_version_ = 0;
  bool was_defined_ = false;
  bool is_output_ = false;
  bool requires_grad_ = false;
  bool released_ = false;
};

// The backward of an op, written as a function of the node (for saved tensors) and the
// output gradients. Each op's derivative is one of these, declared next to the op.
class FunctionNode final : public Node {
 public:
  using Backward = std::function<TensorList(FunctionNode& node, const TensorList& grads)>;
  FunctionNode(std::string name, Backward backward) : name_(std::move(name)), backward_(std::move(backward)) {}

  std::string name() const override { return name_; }
  TensorList apply(TensorList&& grad_outputs) override;
  void release_saved() override;

  size_t save(const Tensor& t, bool is_output = false);
  Tensor saved(size_t i) const { return saved_[i].unpack(*this); }

 private:
  std::string name_;
  Backward backward_;
  std::vector<SavedTensor> saved_;
};

// Destroys a node without recursion: a long chain (y = y * 1 a million times) would otherwise
// release node after node on the C++ stack and overflow it. Deleting one node may release
// others; they queue up and are deleted in a loop.
void delete_node(Node* node);

// Every node is created through this, so its deletion goes through delete_node.
template <class T, class... Args>
std::shared_ptr<T> new_node(Args&&... args) {
  return std::shared_ptr<T>(new T(std::forward<Args>(args)...), [](T* node) { delete_node(node); });
}

// Accumulates into a leaf's .grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(Tensor leaf);
  std::string name() const override { return "AccumulateGrad"; }
  TensorList apply(TensorList&& grad_outputs) override;
  const Tensor& leaf() const { return leaf_; }

 private:
  Tensor leaf_;
};

}  // namespace vt::autograd
