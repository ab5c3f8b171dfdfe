"""Autograd errors against torch: each scenario runs on torch and on vibetensor, both must raise
the same exception type, and the key words of torch's message must appear in vibetensor's."""
import pytest
import torch

import vibetensor as vt


def raises_like_torch(scenario, *key_words):
    """`scenario(m)` with m = torch, then m = vt. Key words are checked in torch's message too,
    so a test can't go stale when torch rewords it."""
    with pytest.raises(Exception) as torch_error:
        scenario(torch)
    with pytest.raises(Exception) as vt_error:
        scenario(vt)
    expected_type, actual = type(torch_error.value), vt_error.value
    assert isinstance(actual, expected_type), (
        f"torch raised {expected_type.__name__}({torch_error.value}); "
        f"vibetensor raised {type(actual).__name__}({actual})")
    for word in key_words:
        assert word.lower() in str(torch_error.value).lower(), f"key word {word!r} is not in torch's message"
        assert word.lower() in str(actual).lower(), f"{word!r} missing from vibetensor's message: {actual}"
    return vt_error.value


def leaf(m, *values):
    return m.tensor(list(values) or [1.0, 2.0], requires_grad=True)


# ---- second backward without retain_graph

FREED = ("backward through the graph a second time", "retain_graph=True")


def test_second_backward_saved_input():
    def scenario(m):
        y = (leaf(m) * leaf(m)).sum()
        y.backward()
        y.backward()
    raises_like_torch(scenario, *FREED)


def test_second_backward_saved_output():
    def scenario(m):
        y = leaf(m).exp().sum()
        y.backward()
        y.backward()
    raises_like_torch(scenario, *FREED)


def test_second_grad_without_retain_graph():
    def scenario(m):
        x = leaf(m)
        y = (x.sigmoid() * 2).sum()
        m.autograd.grad(y, x)
        m.autograd.grad(y, x)
    raises_like_torch(scenario, *FREED)


def test_second_backward_after_retain_graph_then_without():
    def scenario(m):
        x = leaf(m)
        y = (x.tanh() * x).sum()
        y.backward(retain_graph=True)
        y.backward()  # allowed, and frees the graph
        y.backward()
    raises_like_torch(scenario, *FREED)


def test_second_backward_of_graph_without_saved_tensors_is_allowed():
    """torch refuses only when a freed saved tensor is needed."""
    grads = []
    for m in (torch, vt):
        x = leaf(m)
        y = (x + 1).sum()
        y.backward()
        y.backward()
        grads.append(x.grad.tolist())
    assert grads[1] == grads[0]


# ---- a saved tensor modified in place

MODIFIED = ("modified by an inplace operation", "is at version 1; expected version 0 instead")


def test_saved_input_modified_in_place():
    def scenario(m):
        x = leaf(m)
        a = x * 1
        b = a * a
        a.mul_(2)
        b.sum().backward()
    raises_like_torch(scenario, *MODIFIED)


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "sqrt", "rsqrt", "relu"])
def test_saved_output_modified_in_place(op):
    def scenario(m):
        y = getattr(leaf(m), op)()
        y.add_(1)
        y.sum().backward()
    raises_like_torch(scenario, *MODIFIED, "which is output 0 of")


def test_saved_leaf_modified_through_detach():
    def scenario(m):
        x = leaf(m)
        y = x * x
        x.detach().add_(1)  # shares x's version counter
        y.sum().backward()
    raises_like_torch(scenario, *MODIFIED)


def test_saved_tensor_modified_under_no_grad():
    def scenario(m):
        x = leaf(m)
        w = m.tensor([3.0, 4.0])
        y = x * w
        with m.no_grad():
            w.mul_(2)
        y.sum().backward()
    raises_like_torch(scenario, *MODIFIED)


def test_saved_result_of_inplace_then_modified_again():
    """torch raises (exp_ saved its result, which mul_ then changed). vibetensor's in-place ops
    save the value computed out of place, so it can and does give the right gradient."""
    def scenario(m):
        x = leaf(m)
        y = (x * 1).exp_()
        y.mul_(2)
        y.sum().backward()
        return x.grad
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        scenario(torch)
    x = leaf(torch)
    (x.exp() * 2).sum().backward()
    assert scenario(vt).tolist() == pytest.approx(x.grad.tolist())


def test_custom_function_saved_tensor_modified():
    def scenario(m):
        class Square(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad

        a = leaf(m) * 1
        y = Square.apply(a)
        a.add_(1)
        y.sum().backward()
    raises_like_torch(scenario, *MODIFIED)


# ---- in-place on a leaf that requires grad

LEAF_INPLACE = ("a leaf Variable that requires grad is being used in an in-place operation",)


@pytest.mark.parametrize("inplace", [
    lambda m, x: x.add_(1), lambda m, x: x.mul_(x), lambda m, x: x.exp_(), lambda m, x: x.clamp_(0, 1),
    lambda m, x: x.fill_(0), lambda m, x: x.zero_(), lambda m, x: x.copy_(m.ones(2)), lambda m, x: x.relu_(),
], ids=["add_", "mul_", "exp_", "clamp_", "fill_", "zero_", "copy_", "relu_"])
def test_inplace_on_leaf(inplace):
    raises_like_torch(lambda m: inplace(m, leaf(m)), *LEAF_INPLACE)


def test_iadd_on_leaf():
    def scenario(m):
        x = leaf(m)
        x += 1
    raises_like_torch(scenario, *LEAF_INPLACE)


@pytest.mark.parametrize("inplace", [lambda x: x[0:1].add_(1), lambda x: x[0].fill_(1)],
                         ids=["slice add_", "select fill_"])
def test_inplace_on_view_of_leaf(inplace):
    raises_like_torch(lambda m: inplace(leaf(m)), "a view of a leaf Variable", "in-place operation")


def test_inplace_on_leaf_allowed_under_no_grad():
    for m in (torch, vt):
        x = leaf(m)
        with m.no_grad():
            x.mul_(2)
        assert x.requires_grad and x.is_leaf and x.grad_fn is None
        assert x.tolist() == [2.0, 4.0]


# ---- backward on a non-scalar without gradient, on a tensor without grad

def test_backward_non_scalar_without_gradient():
    raises_like_torch(lambda m: (leaf(m) * 2).backward(), "grad can be implicitly created only for scalar outputs")


def test_grad_non_scalar_without_grad_outputs():
    def scenario(m):
        x = leaf(m)
        m.autograd.grad(x * 2, x)
    raises_like_torch(scenario, "grad can be implicitly created only for scalar outputs")


def test_backward_on_tensor_without_grad():
    raises_like_torch(lambda m: m.tensor([1.0, 2.0]).sum().backward(),
                      "element 0 of tensors does not require grad and does not have a grad_fn")


def test_backward_on_result_computed_under_no_grad():
    def scenario(m):
        x = leaf(m)
        with m.no_grad():
            y = (x * 2).sum()
        y.backward()
    raises_like_torch(scenario, "does not require grad and does not have a grad_fn")


def test_backward_on_detached():
    raises_like_torch(lambda m: (leaf(m) * 2).sum().detach().backward(), "does not require grad")


def test_backward_with_gradient_of_wrong_shape():
    raises_like_torch(lambda m: (leaf(m) * 2).backward(m.ones(3)), "shape")


def test_backward_with_gradient_of_wrong_shape_message():
    raises_like_torch(lambda m: (leaf(m) * 2).backward(m.ones(3)), "Mismatch in shape", "grad_output[0]")


def wrong_shape_from_custom_backward(m):
    class WrongShape(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return m.ones(3)

    WrongShape.apply(leaf(m)).sum().backward()


def test_custom_backward_returns_wrong_shape():
    raises_like_torch(wrong_shape_from_custom_backward, "returned an invalid gradient at index 0", "got [3]")


def test_custom_backward_returns_wrong_shape_names_the_function():
    raises_like_torch(wrong_shape_from_custom_backward, "Function WrongShapeBackward returned")


def test_grad_with_respect_to_tensor_without_grad():
    def scenario(m):
        x, z = leaf(m), m.tensor([1.0, 2.0])
        m.autograd.grad((x * z).sum(), [x, z])
    raises_like_torch(scenario, "One of the differentiated Tensors does not require grad")


# ---- requires_grad on integer tensors

FLOAT_ONLY = ("floating point", "can require gradients")


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1, 2], requires_grad=True),
    lambda m: m.tensor([True], requires_grad=True),
    lambda m: m.ones(2, dtype=m.int64, requires_grad=True),
    lambda m: m.zeros(2, dtype=m.int32, requires_grad=True),
    lambda m: m.tensor([1, 2]).requires_grad_(),
    lambda m: setattr(m.tensor([1, 2], dtype=m.uint8), "requires_grad", True),
], ids=["tensor int", "tensor bool", "ones int64", "zeros int32", "requires_grad_", "setter"])
def test_requires_grad_on_integer_tensor(make):
    raises_like_torch(make, *FLOAT_ONLY)


def test_requires_grad_false_on_integer_tensor_is_allowed():
    for m in (torch, vt):
        t = m.tensor([1, 2]).requires_grad_(False)
        assert not t.requires_grad


def test_requires_grad_flag_of_non_leaf():
    raises_like_torch(lambda m: (leaf(m) * 2).requires_grad_(False),
                      "you can only change requires_grad flags of leaf variables")


# ---- out= with inputs that require grad

OUT_REFUSED = ("functions with out=... arguments don't support automatic differentiation", "requires grad")


@pytest.mark.parametrize("op, call", [
    ("add", lambda m, x: m.add(x, x, out=m.zeros(2))),
    ("mul", lambda m, x: m.mul(x, 2.0, out=m.zeros(2))),
    ("exp", lambda m, x: m.exp(x, out=m.zeros(2))),
    ("clamp", lambda m, x: m.clamp(x, 0, 1, out=m.zeros(2))),
    ("add", lambda m, x: m.add(m.ones(2), x, out=m.zeros(2))),
], ids=["add", "mul", "exp", "clamp", "second operand"])
def test_out_with_requires_grad_input(op, call):
    """The message starts with the op's name, as torch's does ('add(): functions with out=...')."""
    error = raises_like_torch(lambda m: call(m, leaf(m)), *OUT_REFUSED, f"{op}():")
    assert str(error).startswith(f"{op}(): functions with out="), str(error)


def test_out_into_tensor_requiring_grad():
    """The out= tensor itself requiring grad: torch refuses as well."""
    def scenario(m):
        m.add(m.ones(2), m.ones(2), out=leaf(m))
    raises_like_torch(scenario, "don't support automatic differentiation")



def test_out_allowed_under_no_grad():
    for m in (torch, vt):
        x, out = leaf(m), m.zeros(2)
        with m.no_grad():
            m.add(x, x, out=out)
        assert out.tolist() == [2.0, 4.0] and not out.requires_grad


# ---- autograd.grad with an unused input

def test_grad_unused_input():
    def scenario(m):
        x, unused = leaf(m), leaf(m)
        m.autograd.grad((x * 2).sum(), [x, unused])
    raises_like_torch(scenario, "appears to not have been used in the graph", "allow_unused=True")


def test_grad_unused_input_allowed():
    results = []
    for m in (torch, vt):
        x, unused = leaf(m), leaf(m)
        gx, gu = m.autograd.grad((x * 3).sum(), [x, unused], allow_unused=True)
        assert gu is None
        results.append(gx.tolist())
    assert results[1] == results[0]


def test_grad_unused_input_materialized():
    for m in (torch, vt):
        x, unused = leaf(m), leaf(m)
        _, gu = m.autograd.grad((x * 3).sum(), [x, unused], materialize_grads=True)
        assert gu.tolist() == [0.0, 0.0]


def test_grad_of_input_not_reached_through_a_used_branch():
    """`unused` requires grad and feeds another output, but not the one differentiated."""
    def scenario(m):
        x, unused = leaf(m), leaf(m)
        other = unused * 2  # noqa: F841
        m.autograd.grad((x * 2).sum(), unused)
    raises_like_torch(scenario, "appears to not have been used in the graph")


# ---- grad setter, hooks, retain_grad, numpy

def test_grad_setter_wrong_shape():
    def scenario(m):
        leaf(m).grad = m.zeros(3)
    raises_like_torch(scenario, "size")


def test_grad_setter_wrong_dtype():
    def scenario(m):
        leaf(m).grad = m.zeros(2, dtype=m.float64)
    raises_like_torch(scenario, "type")


def test_hook_on_tensor_without_grad():
    raises_like_torch(lambda m: m.tensor([1.0]).register_hook(lambda g: g),
                      "cannot register a hook on a tensor that doesn't require gradient")


def test_retain_grad_on_tensor_without_grad():
    raises_like_torch(lambda m: m.tensor([1.0]).retain_grad(),
                      "can't retain_grad on Tensor that has requires_grad=False")


def test_detach_view_in_place():
    raises_like_torch(lambda m: (leaf(m) * 1)[0:1].detach_(), "Can't detach views in-place")


def test_numpy_of_tensor_requiring_grad():
    raises_like_torch(lambda m: leaf(m).numpy(), "Can't call numpy() on Tensor that requires grad")
