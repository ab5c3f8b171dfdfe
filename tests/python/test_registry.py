"""The op registry: every registered op has a schema and a kernel, the first op set is all there
(in the registry and in the Python API), and schemas agree with torch's ATen schemas on argument
names, so keyword calls written for torch work."""
import re

import pytest
import torch

import vibetensor as vt

# The first op set: registry names (overloads named like ATen's).
FIRST_OP_SET = [
    *[f"{op}{suffix}" for op in ["add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge"]
      for suffix in ["", "_", ".out"]],
    *[f"{op}{suffix}" for op in ["neg", "abs", "exp", "log", "sqrt", "rsqrt", "relu", "sigmoid", "tanh", "clamp"]
      for suffix in ["", "_", ".out"]],
    "where.self", "sum.dim_IntList", "mean.dim", "max", "max.dim", "min", "min.dim", "argmax", "argmin",
    "mm", "bmm", "matmul",
    "view", "reshape", "permute", "transpose.int", "t", "expand", "squeeze.dims", "unsqueeze", "flatten.using_ints",
    "unflatten.int", "narrow", "select.int", "slice.Tensor", "as_strided", "diagonal", "unfold", "contiguous",
    "clone", "copy_", "fill_", "to", "empty", "full", "arange",
]

# The Python API of the first op set: module functions and Tensor methods.
MODULE_FUNCTIONS = [
    "tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "zeros_like", "ones_like", "full_like",
    "empty_like", "add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge", "neg", "abs", "exp", "log",
    "sqrt", "rsqrt", "relu", "sigmoid", "tanh", "clamp", "where", "sum", "mean", "max", "min", "argmax", "argmin",
    "mm", "bmm", "matmul", "reshape", "permute", "transpose", "t", "squeeze", "unsqueeze", "flatten", "unflatten",
    "narrow", "select", "as_strided", "diagonal", "clone", "result_type", "promote_types", "can_cast", "device",
    "dtype", "Tensor", "Size",
]
TENSOR_METHODS = [
    "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "pow", "pow_", "eq", "eq_", "ne", "ne_", "lt", "lt_",
    "le", "le_", "gt", "gt_", "ge", "ge_", "neg", "neg_", "abs", "abs_", "exp", "exp_", "log", "log_", "sqrt",
    "sqrt_", "rsqrt", "rsqrt_", "relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "clamp", "clamp_",
    "sum", "mean", "max", "min", "argmax", "argmin", "mm", "bmm", "matmul", "view", "reshape", "permute",
    "transpose", "t", "T", "mT", "expand", "expand_as", "squeeze", "unsqueeze", "flatten", "unflatten", "narrow",
    "select", "as_strided", "diagonal", "unfold", "contiguous", "clone", "copy_", "fill_", "zero_", "to", "float",
    "double", "long", "int", "bool", "half", "bfloat16", "shape", "dtype", "device", "ndim", "size", "stride",
    "numel", "item", "tolist", "numpy", "is_contiguous", "storage_offset", "__getitem__", "__setitem__",
    "__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__isub__", "__mul__", "__rmul__", "__imul__",
    "__truediv__", "__rtruediv__", "__itruediv__", "__floordiv__", "__rfloordiv__", "__ifloordiv__", "__pow__",
    "__rpow__", "__ipow__", "__matmul__", "__neg__", "__abs__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
    "__ge__",
]


def test_list_ops_is_sorted_and_unique():
    names = vt.ops.list_ops()
    assert names == sorted(names)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", FIRST_OP_SET)
def test_first_op_set_registered(name):
    assert name in vt.ops.list_ops()


@pytest.mark.parametrize("name", MODULE_FUNCTIONS)
def test_module_function_exists(name):
    assert hasattr(torch, name), "the test's list is wrong"
    assert callable(getattr(vt, name)), name


@pytest.mark.parametrize("name", TENSOR_METHODS)
def test_tensor_method_exists(name):
    assert hasattr(torch.Tensor, name), "the test's list is wrong"
    assert hasattr(vt.Tensor, name), name


@pytest.mark.parametrize("name", vt.ops.list_ops())
def test_every_op_has_schema_and_kernel(name):
    schema = vt.ops.schema(name)
    assert schema.startswith(name + "("), schema
    assert "->" in schema, schema
    keys = vt.ops.dispatch_keys(name)
    assert keys, f"{name} has no kernel"
    assert any(k in keys for k in ("CPU", "Fallback")), f"{name} has no CPU kernel: {keys}"


@pytest.mark.parametrize("name", vt.ops.list_ops())
def test_schema_mutation_annotations(name):
    """In-place ops write `self`, out= ops write `out`, and both return what they wrote."""
    schema = vt.ops.schema(name)
    base = name.split(".")[0]
    if name.endswith(".out"):
        assert "Tensor(a!) out" in schema and schema.endswith("-> Tensor(a!)"), schema
    elif base.endswith("_") and "Tensor(a!)[] self" in schema:  # list ops (_fused_adam_): ATen returns nothing
        assert schema.startswith(name + "(Tensor(a!)[] self") and schema.endswith("-> ()"), schema
    elif base.endswith("_"):
        assert "(Tensor(a!) self" in schema and schema.endswith("-> Tensor(a!)"), schema


def test_unknown_op():
    with pytest.raises(ValueError):
        vt.ops.schema("no_such_op")
    with pytest.raises(ValueError):
        vt.ops.dispatch_keys("no_such_op")


# ---- schemas against ATen's

# vibetensor name -> ATen overload, where the names differ.
ATEN_OVERLOAD = {
    **{f"{op}": f"{op}.Tensor" for op in ["add", "sub", "mul", "eq", "ne", "lt", "le", "gt", "ge"]},
    **{f"{op}_": f"{op}_.Tensor" for op in ["add", "sub", "mul", "eq", "ne", "lt", "le", "gt", "ge"]},
    **{f"{op}.out": f"{op}.Tensor_out" for op in ["eq", "ne", "lt", "le", "gt", "ge"]},
    "div": "div.Tensor_mode", "div_": "div_.Tensor_mode", "div.out": "div.out_mode",
    "pow": "pow.Tensor_Tensor", "pow_": "pow_.Tensor", "pow.out": "pow.Tensor_Tensor_out",
    "fill_": "fill_.Scalar", "arange": "arange.start_step", "empty": "empty.memory_format", "max": "max.default",
    "min": "min.default", "to": "to.dtype",
    # the binary op table
    **{f"{op}{suffix}": f"{op}{suffix}.Tensor"
       for op in ["bitwise_and", "bitwise_or", "bitwise_xor", "copysign", "fmod", "remainder", "xlogy"]
       for suffix in ["", "_"]},
    **{f"{op}.out": f"{op}.Tensor_out" for op in ["bitwise_and", "bitwise_or", "bitwise_xor", "fmod", "remainder"]},
    "floor_divide_": "floor_divide_.Tensor", "xlogy.out": "xlogy.OutTensor",
    "randperm": "randperm.generator",
}
# In-place forms that ATen does not have (torch.Tensor has no maximum_): they take the arguments
# of the out-of-place op.
NOT_IN_ATEN = {"maximum_": "maximum", "minimum_": "minimum"}
# Ops ATen has no counterpart of: torch's RMSprop is a chain of foreach ops, ours one fused step;
# torch's one-group conv2d goes through `convolution` and its backend choice, ours one op (and
# one op for its gradients, where torch has convolution_backward).
VIBETENSOR_ONLY = {"_fused_rmsprop_", "_conv2d_dense", "_conv2d_dense_backward"}
# Arguments that only ATen has (layouts, memory formats, pinning): vibetensor may leave them out.
ATEN_ONLY_ARGUMENTS = {"memory_format", "layout", "pin_memory", "non_blocking", "implicit"}


def argument_names(schema):
    """['self', 'other', 'alpha'] from 'add(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor'."""
    inside = schema[schema.index("(") + 1:schema.rindex(") ->")]
    names = []
    for piece in inside.split(", "):
        if piece and piece != "*":
            names.append(re.split(r"\s+", piece.split("=")[0].strip())[-1])
    return names


def aten_schema(name):
    base, _, overload = ATEN_OVERLOAD.get(name, name).partition(".")
    packet = getattr(torch.ops.aten, base)
    return str(getattr(packet, overload or "default")._schema)


@pytest.mark.parametrize("name", [n for n in vt.ops.list_ops() if n != "to" and n not in VIBETENSOR_ONLY])
def test_argument_names_match_aten(name):
    ours = argument_names(vt.ops.schema(name))
    theirs = [a for a in argument_names(aten_schema(NOT_IN_ATEN.get(name, name)))
              if a not in ATEN_ONLY_ARGUMENTS or a in ours]
    if name in ("arange", "empty", "full"):
        ours = [a for a in ours if a != "device"]
        theirs = [a for a in theirs if a != "device"]
    assert ours == theirs, f"{vt.ops.schema(name)}  vs  {aten_schema(name)}"
