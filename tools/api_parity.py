#!/usr/bin/env python3
"""API-parity checker: how much of PyTorch's public API vibetensor has, and whether it agrees.

    python3 tools/api_parity.py [--out docs/api_parity.md] [--check]

Needs both `torch` and `vibetensor` importable. For each namespace (top-level functions,
Tensor methods, nn.functional, nn modules, optim, lr_scheduler, linalg) it lists torch's
public names, looks each up in vibetensor, and compares signatures. It also runs a curated
list of small calls on both libraries (values and dtypes) and tracks an "essentials" list:
the API that common training scripts (GPT, ViT, ResNet, MLP on MNIST) use.

The report is deterministic (sorted, no timestamps) so that it diffs cleanly.
`--check` exits non-zero when a gate below is violated (see `gate_failures`).
"""
from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "docs" / "api_parity.md"

# --------------------------------------------------------------------------------------
# --check gates. Deliberately modest today; raise them as vibetensor grows.
# --------------------------------------------------------------------------------------
# Value checks whose target is an essential that vibetensor has, and that fail or raise.
CHECK_MAX_FAILING_ESSENTIAL_VALUE_CHECKS = 0
# Minimum share (percent) of the op-surface essentials (the functions and Tensor methods;
# see delivered_later) that must be present, and of the whole essentials list.
CHECK_MIN_OP_SURFACE_ESSENTIALS_PRESENT_PCT = 100.0
CHECK_MIN_ESSENTIALS_PRESENT_PCT = 0.0
# Minimum share (percent) of torch.nn.functional present, and present with a matching
# signature.
CHECK_MIN_FUNCTIONAL_PRESENT_PCT = 90.0
CHECK_MIN_FUNCTIONAL_MATCH_PCT = 90.0

# --------------------------------------------------------------------------------------
# Which torch names count. One rule for every namespace: a name is skipped when it starts
# with "_", starts with one of EXCLUDED_PREFIXES, ends with one of EXCLUDED_SUFFIXES, or is
# in EXCLUDED_NAMES. Everything else that the namespace lister accepts is counted.
# --------------------------------------------------------------------------------------
EXCLUDED_PREFIXES = (
    # vendor and backend kernels exposed for TorchScript/internal use
    "cudnn_", "miopen_", "mkldnn_", "fbgemm_",
    # quantization internals
    "quantize_", "quantized_", "q_", "fake_quantize_",
    # symbolic-shape helpers for torch.compile
    "sym_",
    # ATen implementation functions behind the public ones (native_layer_norm, ...)
    "native_",
    # SyncBatchNorm internals (batch_norm_stats, batch_norm_elemt, ...)
    "batch_norm_",
    # autocast bookkeeping (autocast_increment_nesting, ...)
    "autocast_",
)
# functionalization variants of views (view_copy, transpose_copy, ...)
EXCLUDED_SUFFIXES = ("_copy",)
EXCLUDED_NAMES = frozenset({
    # TorchScript / IR plumbing
    "fork", "wait", "import_ir_module", "import_ir_module_from_buffer", "parse_ir",
    "parse_schema", "parse_type_comment", "merge_type_from_type_comment", "unify_type_list",
    # packaging and build internals
    "classproperty", "compiled_with_cxx11_abi", "get_file_path",
    "prepare_multiprocessing_environment", "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12",
    # quantized tensors
    "dequantize", "int_repr", "choose_qparams_optimized", "empty_quantized",
    "fused_moving_avg_obs_fake_quant", "qscheme",
    # other accelerators' device hooks and flags
    "ipu", "mtia", "xpu", "is_ipu", "is_maia", "is_mtia", "is_mps", "is_xla", "is_xpu",
    "is_vulkan", "is_vulkan_available", "is_mkldnn", "to_mkldnn",
    # Tensor leftovers from the Variable era
    "reinforce", "volatile",
    # torch's own dispatch helpers re-exported by nn.functional
    "assert_int_or_pair", "boolean_dispatch", "handle_torch_function", "has_torch_function",
    "has_torch_function_unary", "has_torch_function_variadic",
})

# Removed from torch and Tensor (they only raise an error pointing to torch.linalg, where
# the same names are real functions): skipped in the `torch` and `torch.Tensor` namespaces.
REMOVED_NAMES = frozenset({"eig", "lstsq", "matrix_rank", "solve", "symeig"})

# Tensor dunders: only Python operators, indexing and number conversion are listed, and
# only their presence is checked (their signatures are fixed by Python: (self[, other])).
OPERATOR_DUNDERS = frozenset({
    "__abs__", "__neg__", "__pos__", "__invert__",
    "__add__", "__sub__", "__mul__", "__truediv__", "__floordiv__", "__mod__", "__pow__",
    "__matmul__", "__and__", "__or__", "__xor__", "__lshift__", "__rshift__",
    "__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rfloordiv__", "__rmod__",
    "__rpow__", "__rmatmul__", "__rand__", "__ror__", "__rxor__", "__rlshift__", "__rrshift__",
    "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__",
    "__ipow__", "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__",
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
    "__getitem__", "__setitem__", "__len__", "__iter__", "__contains__",
    "__bool__", "__int__", "__float__", "__index__",
})

# Parameters left out of signature comparison: `out=` (the spec leaves it out), ATen layout
# and allocation arguments vibetensor has no use for (it has one layout, no pinned memory,
# no memory formats), and layer_norm's `cudnn_enable`. Names starting with "_" (such as
# softmax's `_stacklevel`) are private and also left out.
IGNORED_PARAMS = frozenset({"out", "layout", "pin_memory", "memory_format", "cudnn_enable"})

MATCHING_DEFINITION = """\
A name is **present** when vibetensor's counterpart namespace has an attribute of that name
(for Tensor dunders: defined by the class itself, not inherited from `object`).

Signatures are normalized to lists of (name, kind, default), kind being positional,
keyword-only, `*args` or `**kwargs`. torch's side comes from `inspect.signature` for
Python-defined functions and classes; for C builtins it comes from the ATen schemas
(`torch._C._jit_get_schemas_for_operator`, every overload; `self` is renamed `input` for
functions and dropped for methods; overloads over named dimensions and TorchScript's
non-tensor overloads are dropped) plus the signature line of the docstring. vibetensor's
side comes from nanobind's `__nb_signature__` or `inspect.signature`. Left out on both
sides: `out`, `layout`, `pin_memory`, `memory_format`, `cudnn_enable` and names starting
with `_`. Positional-only counts as positional.

A present name **matches** when, for at least one pair of (torch overload, vibetensor
overload), all of these hold:

1. torch's positional parameters are vibetensor's first positional parameters, same names,
   same order; torch's last positional parameter may be a `*args` of the same name in
   vibetensor (`size` as `*size`: torch's parser accepts `zeros(2, 3)` too), and torch's
   own `*args` needs a vibetensor `*args` of any name;
2. every torch keyword-only parameter exists in vibetensor and is keyword-only there too
   (or is absorbed by `**kwargs`);
3. every torch parameter that has a default has an equal default in vibetensor (numbers
   compare by value, `(1, 1)` equals `1`, dtypes by name); vibetensor may add a default
   where torch has none;
4. every vibetensor parameter that torch lacks has a default.

Entries with nothing to compare (Tensor attributes and operators, or a callable whose
signature cannot be read on one side) count as matching and are listed as not compared.
"""


class Param(NamedTuple):
    """One parameter of a normalized signature."""
    name: str
    kind: str      # POSITIONAL, KEYWORD_ONLY, VAR_POSITIONAL or VAR_KEYWORD
    default: str   # canonical text of the default, or REQUIRED


POSITIONAL, KEYWORD_ONLY, VAR_POSITIONAL, VAR_KEYWORD = "positional", "keyword-only", "*args", "**kwargs"
REQUIRED = "<required>"
MISSING = object()  # a name vibetensor does not have

STATUS_MATCH = "present+match"
STATUS_DIFFERS = "present, signature differs"
STATUS_NOT_COMPARED = "present (not compared)"
STATUS_MISSING = "missing"

# ATen's ScalarType enum order: schema defaults for dtype arguments are these integers.
SCALAR_TYPE_NAMES = (
    "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
    "complex32", "complex64", "complex128", "bool", "qint8", "quint8", "qint32", "bfloat16",
)


# --------------------------------------------------------------------------------------
# Looking names up
# --------------------------------------------------------------------------------------
_IMPORT_CACHE: dict[str, object] = {}
IMPORT_FAILURES: dict[str, str] = {}  # module -> error, for modules that exist but fail


def try_import(module_name):
    """The module, or MISSING when it does not exist or fails to import (recorded)."""
    if module_name not in _IMPORT_CACHE:
        try:
            _IMPORT_CACHE[module_name] = importlib.import_module(module_name)
        except ModuleNotFoundError:
            _IMPORT_CACHE[module_name] = MISSING
        except Exception as error:  # a module being edited must not stop the report
            IMPORT_FAILURES[module_name] = f"{type(error).__name__}: {error}"
            _IMPORT_CACHE[module_name] = MISSING
    return _IMPORT_CACHE[module_name]


def get_member(owner, name):
    """owner.name or MISSING. On classes, dunders inherited from `object` do not count:
    every class has `__eq__` and `__lt__`, which says nothing about tensor comparison."""
    if inspect.isclass(owner) and name.startswith("__"):
        for klass in owner.__mro__:
            if klass is not object and name in vars(klass):
                return vars(klass)[name]
        return MISSING
    try:
        return getattr(owner, name)
    except Exception:  # AttributeError, or a lazy attribute that fails to load
        return MISSING


def resolve(qualname):
    """The object a dotted name such as `vibetensor.nn.functional.softmax` refers to, or
    MISSING. Submodules that are not attributes yet are imported."""
    parts = qualname.split(".")
    obj = try_import(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        if obj is MISSING:
            return MISSING
        member = get_member(obj, part)
        if member is MISSING and inspect.ismodule(obj):
            member = try_import(".".join(parts[: index + 1]))
        obj = member
    return obj


def to_vibetensor_name(qualname):
    """`torch.nn.Linear` -> `vibetensor.nn.Linear`."""
    return "vibetensor" + qualname[len("torch"):]


def is_excluded(name):
    return (name.startswith("_") or name.startswith(EXCLUDED_PREFIXES)
            or name.endswith(EXCLUDED_SUFFIXES) or name in EXCLUDED_NAMES)


def without_removed(lister):
    """A lister that also skips REMOVED_NAMES (for `torch` and `torch.Tensor`)."""
    def list_names(owner):
        return {name: kind for name, kind in lister(owner).items() if name not in REMOVED_NAMES}
    return list_names


# --------------------------------------------------------------------------------------
# Namespaces: which torch names to compare
# --------------------------------------------------------------------------------------
def list_functions(module):
    """Public callables of a module that are not classes or modules: {name: 'function'}."""
    names = {}
    for name in dir(module):
        if is_excluded(name):
            continue
        obj = get_member(module, name)
        if obj is MISSING or inspect.isclass(obj) or inspect.ismodule(obj) or not callable(obj):
            continue
        # typing re-exports (nn.functional has `Optional`) are not torch API
        if not (getattr(obj, "__module__", None) or "torch").startswith("torch"):
            continue
        names[name] = "function"
    return names


def list_tensor_members(tensor_class):
    """Public methods ('method'), data attributes such as `shape` ('attribute', presence
    only) and the operator dunders of OPERATOR_DUNDERS ('operator', presence only)."""
    members = {}
    for name in dir(tensor_class):
        if name in OPERATOR_DUNDERS:
            members[name] = "operator"
        elif not is_excluded(name):
            members[name] = "method" if callable(get_member(tensor_class, name)) else "attribute"
    return members


def classes_deriving_from(module, bases, defined_in=None):
    """Public classes of a module that subclass one of `bases`: {name: 'class'}."""
    names = {}
    for name in dir(module):
        obj = get_member(module, name)
        if is_excluded(name) or not inspect.isclass(obj) or not issubclass(obj, bases):
            continue
        if defined_in is not None and obj.__module__ != defined_in:
            continue
        names[name] = "class"
    return names


def list_nn_classes(nn):
    # nn.Buffer is recent (torch 2.5); the tool should still run on an older torch
    bases = tuple(getattr(nn, name) for name in ("Module", "Parameter", "Buffer") if hasattr(nn, name))
    return classes_deriving_from(nn, bases)


def list_optimizers(optim):
    return classes_deriving_from(optim, (optim.Optimizer,))


def list_lr_schedulers(lr_scheduler):
    bases = (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)
    return classes_deriving_from(lr_scheduler, bases, defined_in=lr_scheduler.__name__)


@dataclass(frozen=True)
class Namespace:
    torch_path: str
    lister: Callable[[object], dict]

    @property
    def vibetensor_path(self):
        return to_vibetensor_name(self.torch_path)


NAMESPACES = (
    Namespace("torch", without_removed(list_functions)),
    Namespace("torch.Tensor", without_removed(list_tensor_members)),
    Namespace("torch.nn.functional", list_functions),
    Namespace("torch.nn", list_nn_classes),
    Namespace("torch.optim", list_optimizers),
    Namespace("torch.optim.lr_scheduler", list_lr_schedulers),
    Namespace("torch.linalg", list_functions),
)


# --------------------------------------------------------------------------------------
# Normalized signatures
# --------------------------------------------------------------------------------------
def strip_library_prefix(text):
    return text.replace("torch.", "").replace("vibetensor.", "")


def canonical_default(value):
    """A default value as comparable text: 1 and 1.0 -> '1', lists -> tuples, dtypes by
    name (`torch.float32` and `vibetensor.float32` -> 'float32')."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return repr(value)
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        items = [canonical_default(item) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    text = repr(value)
    if " at 0x" in text:  # object identity in a repr would make the report nondeterministic
        return f"<{type(value).__name__}>"
    return strip_library_prefix(text)


def canonical_default_text(text):
    """A default written as source text (docstrings, nanobind): literal if it parses."""
    try:
        return canonical_default(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        return strip_library_prefix(text.strip())


def _uniform_tuple_item(text):
    """'(1, 1)' -> '1'; anything else -> None."""
    if not (text.startswith("(") and text.endswith(")")):
        return None
    items = [item.strip() for item in text[1:-1].split(",") if item.strip()]
    return items[0] if items and len(set(items)) == 1 else None


def defaults_agree(torch_default, vt_default):
    """Equal canonical texts, or an int-list default against the scalar torch expands it
    from (conv2d's `stride=(1, 1)` against `stride=1`)."""
    return (torch_default == vt_default
            or _uniform_tuple_item(torch_default) == vt_default
            or _uniform_tuple_item(vt_default) == torch_default)


_INSPECT_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: POSITIONAL,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: POSITIONAL,
    inspect.Parameter.KEYWORD_ONLY: KEYWORD_ONLY,
    inspect.Parameter.VAR_POSITIONAL: VAR_POSITIONAL,
    inspect.Parameter.VAR_KEYWORD: VAR_KEYWORD,
}


def params_from_inspect(signature):
    params = []
    for parameter in signature.parameters.values():
        default = REQUIRED if parameter.default is inspect.Parameter.empty else canonical_default(parameter.default)
        params.append(Param(parameter.name, _INSPECT_KINDS[parameter.kind], default))
    return params


def split_top_level(text, separator):
    """Split at `separator` outside brackets and quotes."""
    pieces, depth, quote, start = [], 0, None, 0
    for index, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == separator and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    pieces.append(text[start:])
    return pieces


def parenthesized_params(text):
    """The text between the first '(' and its matching ')', or None."""
    start = text.find("(")
    if start < 0:
        return None
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1:index]
    return None


def params_from_text(signature_text, default_values=()):
    """Parse `name(a: T, b: T = \\0, *, c=None) -> R` as written by nanobind (defaults
    as `\\N` references into `default_values`) or by torch's docstrings (`\\*` for `*`,
    defaults as source text)."""
    inner = parenthesized_params(signature_text)
    if inner is None:
        return None
    params, kind = [], POSITIONAL
    for piece in split_top_level(inner.replace("\\*", "*"), ","):
        piece = piece.strip()
        if piece in ("", "/"):
            continue
        if piece == "*":
            kind = KEYWORD_ONLY
            continue
        head, *default_part = split_top_level(piece, "=")
        name = split_top_level(head, ":")[0].strip()
        if name.startswith("**"):
            params.append(Param(name[2:], VAR_KEYWORD, REQUIRED))
        elif name.startswith("*"):
            params.append(Param(name[1:], VAR_POSITIONAL, REQUIRED))
            kind = KEYWORD_ONLY
        else:
            params.append(Param(name, kind, _text_default(default_part, default_values)))
    return params


def _text_default(default_part, default_values):
    if not default_part:
        return REQUIRED
    text = "=".join(default_part).strip()
    if text.startswith("\\") and text[1:].isdigit():
        index = int(text[1:])
        if default_values is not None and index < len(default_values):
            return canonical_default(default_values[index])
        return "<unknown>"
    return canonical_default_text(text)


def is_catch_all(params):
    """(*args, **kwargs) says nothing about what the callable accepts."""
    return params is not None and [p.kind for p in params] == [VAR_POSITIONAL, VAR_KEYWORD]


def drop_self(params):
    return params[1:] if params and params[0].name == "self" else params


# --- torch side -------------------------------------------------------------------------
def schema_params(schema, as_method):
    params = []
    for argument in schema.arguments:
        if argument.is_out:
            continue
        name = argument.name
        if name == "self":
            if as_method:
                continue
            name = "input"  # torch's Python binding calls `self` `input` in functions
        kind = KEYWORD_ONLY if argument.kwarg_only else POSITIONAL
        params.append(Param(name, kind, schema_default(argument)))
    return params


def schema_default(argument):
    if not argument.has_default_value():
        return REQUIRED
    value = argument.default_value
    if "ScalarType" in str(argument.real_type) and isinstance(value, int):
        return SCALAR_TYPE_NAMES[value] if value < len(SCALAR_TYPE_NAMES) else str(value)
    return canonical_default(value)


def usable_schemas(schemas, as_method):
    """Drop overloads a Python user of vibetensor does not see: named-dimension ones, and
    TorchScript's scalar/list overloads (`add.int(int a, int b)`) when others exist."""
    schemas = [s for s in schemas if not any("Dimname" in str(a.real_type) for a in s.arguments)]
    if as_method:
        return [s for s in schemas if any(a.name == "self" and str(a.type) == "Tensor" for a in s.arguments)]
    # TorchScript's overloads take neither tensors nor keyword-only arguments; the Python
    # factory overloads (`normal.float_float`, `zeros`) have keyword-only ones.
    python_visible = [s for s in schemas if any(
        a.kwarg_only or "Tensor" in str(a.type) for a in s.arguments if not a.is_out)]
    return python_visible or schemas


# Docstrings such as `set_num_threads(int)` name a type, not a parameter.
DOCSTRING_TYPE_WORDS = frozenset({"int", "float", "bool", "str", "Tensor", "ndarray", "tuple", "list"})


def docstring_params(obj):
    """The signature line of a torch docstring (`softmax(input, dim, *, dtype=None) -> ...`)."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    first_line = doc.split("\n", 1)[0]
    name = first_line.split("(", 1)[0].strip()
    if not name or not name.replace(".", "").replace("_", "").isalnum():
        return None
    params = params_from_text(doc[:2000])
    if params is None or any(p.name in DOCSTRING_TYPE_WORDS for p in params):
        return None
    return params


def torch_signatures(obj, kind):
    """Normalized overloads of a torch callable: a list of param lists (may be empty)."""
    import torch
    from torch._jit_internal import boolean_dispatched

    if kind in ("attribute", "operator"):
        return []
    obj = _boolean_dispatch_default(obj, boolean_dispatched)
    try:
        params = params_from_inspect(inspect.signature(obj))
        if kind == "method":
            params = drop_self(params)
        if not is_catch_all(params):
            return [params]
    except (TypeError, ValueError):
        pass  # a C builtin: no Python signature
    overloads = []
    aten_name = getattr(obj, "__name__", "")
    for schema in usable_schemas(torch._C._jit_get_schemas_for_operator("aten::" + aten_name), kind == "method"):
        overloads.append(schema_params(schema, kind == "method"))
    documented = docstring_params(obj)
    if documented is not None and not is_catch_all(documented):
        overloads.append(drop_self(documented))
    return _unique(overloads)


def _boolean_dispatch_default(obj, boolean_dispatched):
    """nn.functional's max_pool2d and friends are (*args, **kwargs) dispatchers on
    `return_indices`; their real signature is the one of the default branch."""
    try:
        return boolean_dispatched[obj]["if_false"]
    except (KeyError, TypeError):  # not a dispatcher, or not weak-referenceable (builtins)
        return obj


def _unique(overloads):
    seen, unique = set(), []
    for params in overloads:
        key = tuple(params)
        if key not in seen:
            seen.add(key)
            unique.append(params)
    return unique


# --- vibetensor side ----------------------------------------------------------------------
def vibetensor_signatures(obj, kind):
    """Normalized overloads of a vibetensor callable (nanobind or Python)."""
    if kind in ("attribute", "operator"):
        return []
    target = obj
    if kind == "class":
        init = get_member(obj, "__init__")
        if getattr(init, "__nb_signature__", None) is not None:
            target = init
    nb_signature = getattr(target, "__nb_signature__", None)
    if nb_signature is not None:
        overloads = [params_from_text(text, defaults) for text, _doc, defaults in nb_signature]
        overloads = [p for p in overloads if p is not None]
        method_like = kind in ("method", "class")
        overloads = [drop_self(p) if method_like else p for p in overloads]
    else:
        try:
            params = params_from_inspect(inspect.signature(obj))
        except (TypeError, ValueError):
            return []
        overloads = [drop_self(params) if kind == "method" else params]
    return _unique([p for p in overloads if not is_catch_all(p)])


# --------------------------------------------------------------------------------------
# Comparing signatures
# --------------------------------------------------------------------------------------
def _compared(params):
    return [p for p in params if p.name not in IGNORED_PARAMS and not p.name.startswith("_")]


def signature_differences(torch_params, vt_params):
    """How vibetensor's signature departs from torch's (empty list: they match). The
    rules are MATCHING_DEFINITION's, in the same order."""
    torch_params, vt_params = _compared(torch_params), _compared(vt_params)
    differences = _positional_differences(torch_params, vt_params)
    vt_named = {p.name: p for p in vt_params if p.kind in (POSITIONAL, KEYWORD_ONLY)}
    vt_takes_kwargs = any(p.kind == VAR_KEYWORD for p in vt_params)
    for param in torch_params:
        vt_param = vt_named.get(param.name)
        if param.kind == KEYWORD_ONLY:
            if vt_param is None:
                if not vt_takes_kwargs:
                    differences.append(f"missing keyword `{param.name}`")
                continue
            if vt_param.kind == POSITIONAL:
                differences.append(f"`{param.name}` is keyword-only in torch, positional in vibetensor")
        if vt_param is None or param.kind not in (POSITIONAL, KEYWORD_ONLY):
            continue
        if param.default != REQUIRED and vt_param.default == REQUIRED:
            differences.append(f"`{param.name}` has default `{param.default}` in torch, none in vibetensor")
        elif param.default != REQUIRED and not defaults_agree(param.default, vt_param.default):
            differences.append(f"`{param.name}` default `{param.default}` in torch, `{vt_param.default}` in vibetensor")
    torch_names = {p.name for p in torch_params}
    compared_by_position = sum(1 for p in torch_params if p.kind == POSITIONAL)
    vt_positional = [p for p in vt_params if p.kind == POSITIONAL]
    for vt_param in vt_positional[compared_by_position:] + [p for p in vt_params if p.kind == KEYWORD_ONLY]:
        if vt_param.name not in torch_names and vt_param.default == REQUIRED:
            differences.append(f"extra required parameter `{vt_param.name}` in vibetensor")
    return differences


def _positional_differences(torch_params, vt_params):
    """Rule 1: torch's positional parameters against vibetensor's, by position."""
    differences = []
    torch_positional = [p for p in torch_params if p.kind == POSITIONAL]
    vt_positional = [p for p in vt_params if p.kind == POSITIONAL]
    vt_varargs = next((p for p in vt_params if p.kind == VAR_POSITIONAL), None)
    vt_keyword_only = {p.name for p in vt_params if p.kind == KEYWORD_ONLY}
    for index, param in enumerate(torch_positional):
        if index < len(vt_positional):
            if vt_positional[index].name != param.name:
                differences.append(f"positional #{index + 1} is `{param.name}` in torch, `{vt_positional[index].name}` in vibetensor")
        elif vt_varargs is not None and index == len(vt_positional):
            is_last = index == len(torch_positional) - 1
            if vt_varargs.name != param.name or not is_last:
                differences.append(f"positional `{param.name}` in torch is `*{vt_varargs.name}` in vibetensor")
        elif param.name in vt_keyword_only:
            differences.append(f"`{param.name}` is positional in torch, keyword-only in vibetensor")
        else:
            differences.append(f"missing parameter `{param.name}`")
    torch_takes_varargs = any(p.kind == VAR_POSITIONAL for p in torch_params)
    if torch_takes_varargs and vt_varargs is None:
        differences.append("torch takes `*args`, vibetensor does not")
    return differences


def best_match(torch_overloads, vt_overloads):
    """The smallest list of differences over all pairs of overloads ([] = match)."""
    best = None
    for torch_params in torch_overloads:
        for vt_params in vt_overloads:
            differences = signature_differences(torch_params, vt_params)
            if best is None or len(differences) < len(best):
                best = differences
            if not best:
                return best
    return best


# --------------------------------------------------------------------------------------
# Comparing namespaces
# --------------------------------------------------------------------------------------
@dataclass
class Entry:
    name: str
    kind: str
    status: str
    differences: list = field(default_factory=list)


@dataclass
class NamespaceResult:
    namespace: Namespace
    entries: list            # of Entry, sorted by name
    extras: list             # public vibetensor names torch's namespace lacks
    vibetensor_found: bool

    def count(self, *statuses):
        return sum(1 for entry in self.entries if entry.status in statuses)

    @property
    def total(self):
        return len(self.entries)

    @property
    def present(self):
        return self.total - self.count(STATUS_MISSING)

    @property
    def matching(self):
        return self.count(STATUS_MATCH, STATUS_NOT_COMPARED)


def compare_entry(name, kind, torch_obj, vt_obj):
    if vt_obj is MISSING:
        return Entry(name, kind, STATUS_MISSING)
    torch_overloads = torch_signatures(torch_obj, kind)
    vt_overloads = vibetensor_signatures(vt_obj, kind)
    if not torch_overloads or not vt_overloads:
        return Entry(name, kind, STATUS_NOT_COMPARED)
    differences = best_match(torch_overloads, vt_overloads)
    return Entry(name, kind, STATUS_DIFFERS if differences else STATUS_MATCH, differences)


def compare_namespace(namespace):
    torch_owner = resolve(namespace.torch_path)
    vt_owner = resolve(namespace.vibetensor_path)
    names = namespace.lister(torch_owner)
    entries = []
    for name in sorted(names):
        vt_obj = MISSING if vt_owner is MISSING else get_member(vt_owner, name)
        entries.append(compare_entry(name, names[name], get_member(torch_owner, name), vt_obj))
    extras = []
    if vt_owner is not MISSING:
        extras = sorted(n for n in dir(vt_owner) if not n.startswith("_") and n not in names
                        and not inspect.ismodule(get_member(vt_owner, n))
                        and get_member(torch_owner, n) is MISSING)
    return NamespaceResult(namespace, entries, extras, vt_owner is not MISSING)


# --------------------------------------------------------------------------------------
# Essentials: what four canonical training scripts call directly. Each entry is used by at
# least one of: a GPT (nanoGPT's model.py/train.py: token and position embeddings, causal
# attention, AdamW with warmup+cosine, grad clipping, sampling with top-k/top-p), a ViT
# (timm-style: patch conv, cls token, pre-norm blocks, drop path, label smoothing, mixup),
# a ResNet (torchvision model + the ImageNet example: conv/bn/relu, SGD with momentum, step
# schedule, top-k accuracy) and an MLP on MNIST (flatten, linear, log_softmax/nll or
# cross-entropy, DataLoader), including their data, checkpoint and evaluation code.
# Python operators count (`x @ w`, `mask & other`); attributes set on instances only
# (`param_groups`) cannot be checked on a class and are left out.
# --------------------------------------------------------------------------------------
ESSENTIALS = (
    # --- creating tensors, seeds, devices, dtypes
    "torch.tensor", "torch.as_tensor", "torch.from_numpy", "torch.zeros", "torch.ones",
    "torch.zeros_like", "torch.ones_like", "torch.full", "torch.empty", "torch.arange",
    "torch.linspace", "torch.randn", "torch.rand", "torch.randint", "torch.randperm",
    "torch.manual_seed", "torch.device", "torch.float32", "torch.float16", "torch.bfloat16",
    "torch.int64", "torch.long", "torch.bool", "torch.cuda.is_available",
    # --- top-level math and shape functions
    "torch.cat", "torch.stack", "torch.flatten", "torch.matmul", "torch.bmm", "torch.einsum",
    "torch.softmax", "torch.sigmoid", "torch.tanh", "torch.exp", "torch.log", "torch.sqrt",
    "torch.rsqrt", "torch.pow", "torch.clamp", "torch.where", "torch.tril", "torch.triu",
    "torch.max", "torch.argmax", "torch.sum", "torch.mean", "torch.topk",
    "torch.multinomial", "torch.sort", "torch.cumsum", "torch.gather", "torch.isnan",
    # --- grad modes, compilation, mixed precision, checkpoints
    "torch.no_grad", "torch.enable_grad", "torch.inference_mode", "torch.set_grad_enabled",
    "torch.autocast", "torch.amp.GradScaler", "torch.compile",
    "torch.set_float32_matmul_precision", "torch.save", "torch.load",
    # --- Tensor: shape and memory
    "torch.Tensor.view", "torch.Tensor.view_as", "torch.Tensor.reshape",
    "torch.Tensor.permute", "torch.Tensor.transpose", "torch.Tensor.contiguous",
    "torch.Tensor.size", "torch.Tensor.shape", "torch.Tensor.dim", "torch.Tensor.ndim",
    "torch.Tensor.numel", "torch.Tensor.unsqueeze", "torch.Tensor.squeeze",
    "torch.Tensor.flatten", "torch.Tensor.expand", "torch.Tensor.expand_as",
    "torch.Tensor.repeat", "torch.Tensor.split", "torch.Tensor.chunk", "torch.Tensor.unbind",
    "torch.Tensor.t", "torch.Tensor.T", "torch.Tensor.clone",
    # --- Tensor: dtype, device, conversion
    "torch.Tensor.dtype", "torch.Tensor.device", "torch.Tensor.to", "torch.Tensor.cpu",
    "torch.Tensor.cuda", "torch.Tensor.float", "torch.Tensor.half", "torch.Tensor.bfloat16",
    "torch.Tensor.long", "torch.Tensor.bool", "torch.Tensor.item", "torch.Tensor.tolist",
    "torch.Tensor.numpy",
    # --- Tensor: autograd
    "torch.Tensor.backward", "torch.Tensor.grad", "torch.Tensor.requires_grad",
    "torch.Tensor.requires_grad_", "torch.Tensor.detach", "torch.Tensor.data",
    # --- Tensor: in-place updates (initialization, weight tying/EMA, drop path, masks)
    "torch.Tensor.copy_", "torch.Tensor.zero_", "torch.Tensor.fill_", "torch.Tensor.normal_",
    "torch.Tensor.uniform_", "torch.Tensor.bernoulli_", "torch.Tensor.masked_fill",
    "torch.Tensor.masked_fill_", "torch.Tensor.add_", "torch.Tensor.mul_",
    "torch.Tensor.div_", "torch.Tensor.lerp_", "torch.Tensor.clamp_",
    "torch.Tensor.scatter", "torch.Tensor.scatter_",
    # --- Tensor: math and reductions
    "torch.Tensor.add", "torch.Tensor.sub", "torch.Tensor.mul", "torch.Tensor.div",
    "torch.Tensor.matmul", "torch.Tensor.pow", "torch.Tensor.sqrt", "torch.Tensor.rsqrt",
    "torch.Tensor.exp", "torch.Tensor.log", "torch.Tensor.abs", "torch.Tensor.clamp",
    "torch.Tensor.softmax", "torch.Tensor.log_softmax", "torch.Tensor.sigmoid",
    "torch.Tensor.tanh", "torch.Tensor.sum", "torch.Tensor.mean", "torch.Tensor.max",
    "torch.Tensor.argmax", "torch.Tensor.var", "torch.Tensor.norm", "torch.Tensor.eq",
    "torch.Tensor.all", "torch.Tensor.gather", "torch.Tensor.topk", "torch.Tensor.sort",
    "torch.Tensor.cumsum", "torch.Tensor.new_zeros", "torch.Tensor.new_empty",
    # --- Tensor: Python operators and indexing
    "torch.Tensor.__getitem__", "torch.Tensor.__setitem__", "torch.Tensor.__len__",
    "torch.Tensor.__add__", "torch.Tensor.__radd__", "torch.Tensor.__iadd__",
    "torch.Tensor.__sub__", "torch.Tensor.__rsub__", "torch.Tensor.__mul__",
    "torch.Tensor.__rmul__", "torch.Tensor.__imul__", "torch.Tensor.__truediv__",
    "torch.Tensor.__rtruediv__", "torch.Tensor.__matmul__", "torch.Tensor.__neg__",
    "torch.Tensor.__pow__", "torch.Tensor.__eq__", "torch.Tensor.__ne__",
    "torch.Tensor.__lt__", "torch.Tensor.__gt__", "torch.Tensor.__le__",
    "torch.Tensor.__ge__", "torch.Tensor.__and__", "torch.Tensor.__invert__",
    "torch.Tensor.__bool__", "torch.Tensor.__float__",
    # --- nn.functional
    "torch.nn.functional.cross_entropy", "torch.nn.functional.nll_loss",
    "torch.nn.functional.mse_loss", "torch.nn.functional.binary_cross_entropy_with_logits",
    "torch.nn.functional.softmax", "torch.nn.functional.log_softmax",
    "torch.nn.functional.gelu", "torch.nn.functional.relu", "torch.nn.functional.silu",
    "torch.nn.functional.dropout", "torch.nn.functional.layer_norm",
    "torch.nn.functional.embedding", "torch.nn.functional.linear",
    "torch.nn.functional.scaled_dot_product_attention", "torch.nn.functional.conv2d",
    "torch.nn.functional.max_pool2d", "torch.nn.functional.avg_pool2d",
    "torch.nn.functional.adaptive_avg_pool2d", "torch.nn.functional.batch_norm",
    "torch.nn.functional.pad", "torch.nn.functional.one_hot",
    "torch.nn.functional.interpolate",
    # --- nn modules
    "torch.nn.Module", "torch.nn.Parameter", "torch.nn.Sequential", "torch.nn.ModuleList",
    "torch.nn.ModuleDict", "torch.nn.Linear", "torch.nn.Conv2d", "torch.nn.BatchNorm2d",
    "torch.nn.LayerNorm", "torch.nn.RMSNorm", "torch.nn.Embedding", "torch.nn.Dropout",
    "torch.nn.ReLU", "torch.nn.GELU", "torch.nn.Identity", "torch.nn.Flatten",
    "torch.nn.MaxPool2d", "torch.nn.AdaptiveAvgPool2d", "torch.nn.MultiheadAttention",
    "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerEncoder",
    "torch.nn.CrossEntropyLoss", "torch.nn.MSELoss", "torch.nn.NLLLoss",
    # --- nn.Module methods the scripts call
    "torch.nn.Module.__call__", "torch.nn.Module.forward", "torch.nn.Module.parameters",
    "torch.nn.Module.named_parameters", "torch.nn.Module.modules",
    "torch.nn.Module.named_modules", "torch.nn.Module.train", "torch.nn.Module.eval",
    "torch.nn.Module.to", "torch.nn.Module.zero_grad", "torch.nn.Module.state_dict",
    "torch.nn.Module.load_state_dict", "torch.nn.Module.apply",
    "torch.nn.Module.register_buffer", "torch.nn.Module.requires_grad_",
    # --- initialization and gradient clipping
    "torch.nn.init.normal_", "torch.nn.init.zeros_", "torch.nn.init.ones_",
    "torch.nn.init.constant_", "torch.nn.init.xavier_uniform_",
    "torch.nn.init.kaiming_normal_", "torch.nn.init.trunc_normal_",
    "torch.nn.utils.clip_grad_norm_",
    # --- optimizers and schedules
    "torch.optim.Optimizer", "torch.optim.Optimizer.step", "torch.optim.Optimizer.zero_grad",
    "torch.optim.Optimizer.state_dict", "torch.optim.Optimizer.load_state_dict",
    "torch.optim.SGD", "torch.optim.Adam", "torch.optim.AdamW",
    "torch.optim.lr_scheduler.LRScheduler", "torch.optim.lr_scheduler.LRScheduler.step",
    "torch.optim.lr_scheduler.LRScheduler.get_last_lr",
    "torch.optim.lr_scheduler.CosineAnnealingLR", "torch.optim.lr_scheduler.LambdaLR",
    "torch.optim.lr_scheduler.StepLR", "torch.optim.lr_scheduler.MultiStepLR",
    "torch.optim.lr_scheduler.OneCycleLR", "torch.optim.lr_scheduler.LinearLR",
    "torch.optim.lr_scheduler.SequentialLR",
    # --- data loading
    "torch.utils.data.DataLoader", "torch.utils.data.Dataset",
    "torch.utils.data.TensorDataset", "torch.utils.data.random_split",
)


@dataclass
class EssentialsResult:
    present: list
    missing: list
    differs: dict  # name -> differences, for present essentials in a compared namespace

    @property
    def total(self):
        return len(self.present) + len(self.missing)


def delivered_later(qualname):
    """The open issue that delivers an essential outside the op surface, or None for the op
    surface itself (torch functions, Tensor methods, nn.functional)."""
    if qualname.startswith(("torch.nn.", "torch.optim", "torch.utils.data")) and \
            not qualname.startswith("torch.nn.functional."):
        return "nn, optim, data (issue 5)"
    if qualname in ("torch.save", "torch.load"):
        return "checkpoints (issue 5)"
    if qualname in ("torch.autocast", "torch.amp.GradScaler", "torch.Tensor.cuda"):
        return "CUDA and autocast (issue 6)"
    return None


def op_surface(names):
    return [name for name in names if delivered_later(name) is None]


def check_essentials(namespace_results):
    """Presence of each essential in vibetensor; signature status where a namespace
    walk compared it."""
    by_qualname = {}
    for result in namespace_results:
        for entry in result.entries:
            by_qualname[f"{result.namespace.torch_path}.{entry.name}"] = entry
    present, missing, differs = [], [], {}
    for qualname in sorted(set(ESSENTIALS)):
        if resolve(to_vibetensor_name(qualname)) is MISSING:
            missing.append(qualname)
            continue
        present.append(qualname)
        entry = by_qualname.get(qualname)
        if entry is not None and entry.status == STATUS_DIFFERS:
            differs[qualname] = entry.differences
    return EssentialsResult(present, missing, differs)


# --------------------------------------------------------------------------------------
# Value checks: small calls run on both libraries. Each takes the library module `m`
# (torch or vibetensor) and returns tensors, numbers or tuples of them. `target` is the
# API under test: when vibetensor lacks it the check reports "missing". A check with
# compare="shape" (random values) compares shapes and dtypes only.
# --------------------------------------------------------------------------------------
class ValueCheck(NamedTuple):
    target: str
    call: Callable
    compare: str = "values"


def _grid(m):
    return m.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])


def _reseeded_randn_repeats(m):
    m.manual_seed(0)
    first = m.randn(4)
    m.manual_seed(0)
    return (first == m.randn(4)).all()


def _no_grad_result(m):
    x = m.ones(2, requires_grad=True)
    with m.no_grad():
        y = x * 2
    return y.requires_grad, y


def _backward_grad(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    return x.grad


def _matmul_chain_grad(m):
    w = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = m.tensor([[0.5, -1.0]])
    m.nn.functional.gelu(x @ w).sum().backward()
    return w.grad


def _setitem(m):
    x = m.zeros(2, 3)
    x[1] = 5.0
    x[0, 2] = -1.0
    return x


def _inplace_updates(m):
    x = m.ones(3)
    x.mul_(3).add_(1)
    x.add_(m.tensor([1.0, 2.0, 3.0]), alpha=0.5)
    x.div_(2).clamp_(max=2.5)
    return x


def _causal_attention(m):
    q = m.arange(24, dtype=m.float32).reshape(1, 2, 3, 4) / 10
    return m.nn.functional.scaled_dot_product_attention(q, q.flip(-1), q, is_causal=True)


def _masked_softmax(m):
    scores = m.arange(9, dtype=m.float32).reshape(3, 3) / 4
    mask = m.tril(m.ones(3, 3)) == 0
    return scores.masked_fill(mask, float("-inf")).softmax(dim=-1)


def _conv2d(m):
    x = m.arange(32, dtype=m.float32).reshape(1, 2, 4, 4) / 8
    w = m.arange(36, dtype=m.float32).reshape(2, 2, 3, 3) / 36 - 0.5
    return m.nn.functional.conv2d(x, w, m.tensor([0.1, -0.2]), stride=1, padding=1)


def _pool_input(m):
    return m.arange(32, dtype=m.float32).reshape(1, 2, 4, 4) - 10


def _batch_norm_eval(m):
    x = m.arange(12, dtype=m.float32).reshape(2, 2, 3)
    mean, var = m.tensor([1.0, 2.0]), m.tensor([4.0, 0.25])
    return m.nn.functional.batch_norm(x, mean, var, m.tensor([2.0, 1.0]), m.tensor([0.0, 1.0]), training=False)


def _cross_entropy_smoothing(m):
    logits = m.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    return m.nn.functional.cross_entropy(logits, m.tensor([0, 2]), label_smoothing=0.1)


def _nll_of_log_softmax(m):
    logits = m.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    return m.nn.functional.nll_loss(m.nn.functional.log_softmax(logits, dim=1), m.tensor([1, 0]))


def _accuracy(m):
    logits = m.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    return (logits.argmax(dim=1) == m.tensor([1, 0, 0])).sum().item()


def _linear_module(m):
    m.manual_seed(0)
    return m.nn.Linear(4, 3)(m.ones(2, 4))


def _layer_norm_module(m):
    return m.nn.LayerNorm(3)(_grid(m))


def _module_parameter_count(m):
    model = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.ReLU(), m.nn.Linear(4, 2))
    return sum(p.numel() for p in model.parameters())


def _cross_entropy_module(m):
    return m.nn.CrossEntropyLoss()(m.tensor([[2.0, 0.5, -1.0]]), m.tensor([2]))


def _optimizer_step(m, make_optimizer):
    p = m.nn.Parameter(m.tensor([1.0, -2.0, 3.0]))
    optimizer = make_optimizer(m, [p])
    for _ in range(2):
        optimizer.zero_grad()
        (p * p).sum().backward()
        optimizer.step()
    return p.detach()


def _sgd_momentum(m):
    return _optimizer_step(m, lambda m, ps: m.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01))


def _adamw(m):
    return _optimizer_step(m, lambda m, ps: m.optim.AdamW(ps, lr=0.1, weight_decay=0.1))


def _cosine_schedule(m):
    p = m.nn.Parameter(m.ones(1))
    optimizer = m.optim.SGD([p], lr=1.0)
    schedule = m.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
    for _ in range(3):
        optimizer.step()
        schedule.step()
    return tuple(schedule.get_last_lr())


def _clip_grad_norm(m):
    p = m.nn.Parameter(m.tensor([3.0, 4.0]))
    (p * p).sum().backward()
    total = m.nn.utils.clip_grad_norm_([p], max_norm=1.0)
    return total, p.grad


FN = "torch.nn.functional."
VALUE_CHECKS = {
    # factories and seeds
    "tensor_int": ValueCheck("torch.tensor", lambda m: m.tensor([[1, 2], [3, 4]])),
    "tensor_float": ValueCheck("torch.tensor", lambda m: m.tensor([1.5, -2.0])),
    "zeros": ValueCheck("torch.zeros", lambda m: m.zeros(2, 3)),
    "ones_dtype": ValueCheck("torch.ones", lambda m: m.ones((2, 2), dtype=m.int64)),
    "full": ValueCheck("torch.full", lambda m: m.full((2, 2), 7.0)),
    "arange_int": ValueCheck("torch.arange", lambda m: m.arange(0, 10, 3)),
    "arange_float": ValueCheck("torch.arange", lambda m: m.arange(0.0, 1.0, 0.25)),
    "linspace": ValueCheck("torch.linspace", lambda m: m.linspace(0, 1, 5)),
    "randn": ValueCheck("torch.randn", lambda m: m.randn(3, 4), "shape"),
    "randint": ValueCheck("torch.randint", lambda m: m.randint(0, 10, (5,)), "shape"),
    "manual_seed": ValueCheck("torch.manual_seed", _reseeded_randn_repeats),
    "zeros_like": ValueCheck("torch.zeros_like", lambda m: m.zeros_like(_grid(m))),
    # top-level math
    "cat": ValueCheck("torch.cat", lambda m: m.cat([_grid(m), _grid(m) * 2], dim=1)),
    "stack": ValueCheck("torch.stack", lambda m: m.stack([m.ones(2), m.zeros(2)])),
    "matmul": ValueCheck("torch.matmul", lambda m: m.matmul(_grid(m), _grid(m).t())),
    "softmax": ValueCheck("torch.softmax", lambda m: m.softmax(m.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1)),
    "where": ValueCheck("torch.where", lambda m: m.where(_grid(m) > 0, _grid(m), m.zeros_like(_grid(m)))),
    "tril": ValueCheck("torch.tril", lambda m: m.tril(m.ones(3, 3))),
    "max_dim": ValueCheck("torch.max", lambda m: tuple(m.max(_grid(m), dim=1))),
    "topk": ValueCheck("torch.topk", lambda m: tuple(m.topk(_grid(m), 2))),
    "multinomial": ValueCheck("torch.multinomial", lambda m: m.multinomial(m.tensor([[0.0, 1.0, 0.0]]), 1)),
    "clamp": ValueCheck("torch.clamp", lambda m: m.clamp(_grid(m), min=-1.0, max=2.0)),
    "exp_log": ValueCheck("torch.log", lambda m: m.log(m.exp(_grid(m)))),
    "no_grad": ValueCheck("torch.no_grad", _no_grad_result),
    "einsum": ValueCheck("torch.einsum", lambda m: m.einsum("ij,kj->ik", _grid(m), _grid(m))),
    # Tensor methods
    "view": ValueCheck("torch.Tensor.view", lambda m: _grid(m).view(3, 2)),
    "reshape": ValueCheck("torch.Tensor.reshape", lambda m: _grid(m).reshape(-1)),
    "permute": ValueCheck("torch.Tensor.permute", lambda m: m.arange(24).reshape(2, 3, 4).permute(2, 0, 1)),
    "transpose_contiguous": ValueCheck("torch.Tensor.contiguous", lambda m: _grid(m).transpose(0, 1).contiguous()),
    "size_dim": ValueCheck("torch.Tensor.size", lambda m: (tuple(_grid(m).size()), _grid(m).size(1), _grid(m).dim())),
    "masked_fill_softmax": ValueCheck("torch.Tensor.masked_fill", _masked_softmax),
    "item": ValueCheck("torch.Tensor.item", lambda m: _grid(m).sum().item()),
    "to_dtype": ValueCheck("torch.Tensor.to", lambda m: _grid(m).to(m.float64)),
    "long": ValueCheck("torch.Tensor.long", lambda m: m.tensor([1.7, -1.7]).long()),
    "backward": ValueCheck("torch.Tensor.backward", _backward_grad),
    "backward_matmul_gelu": ValueCheck("torch.Tensor.backward", _matmul_chain_grad),
    "unsqueeze_expand": ValueCheck("torch.Tensor.expand", lambda m: m.tensor([1.0, 2.0]).unsqueeze(1).expand(2, 3)),
    "split": ValueCheck("torch.Tensor.split", lambda m: m.arange(5).split(2)),
    "tolist": ValueCheck("torch.Tensor.tolist", lambda m: _grid(m).tolist()),
    "getitem": ValueCheck("torch.Tensor.__getitem__", lambda m: (_grid(m)[:, 1], _grid(m)[1], _grid(m)[0, -1])),
    "setitem": ValueCheck("torch.Tensor.__setitem__", _setitem),
    "inplace_updates": ValueCheck("torch.Tensor.mul_", _inplace_updates),
    "matmul_operator": ValueCheck("torch.Tensor.__matmul__", lambda m: _grid(m) @ _grid(m).t()),
    "pow_operator": ValueCheck("torch.Tensor.__pow__", lambda m: _grid(m) ** 2),
    "mean_var": ValueCheck("torch.Tensor.var", lambda m: (_grid(m).mean(dim=0), _grid(m).var(dim=1, keepdim=True))),
    "accuracy": ValueCheck("torch.Tensor.argmax", _accuracy),
    # nn.functional
    "cross_entropy": ValueCheck(FN + "cross_entropy", lambda m: m.nn.functional.cross_entropy(_grid(m), m.tensor([2, 1]))),
    "cross_entropy_smoothing": ValueCheck(FN + "cross_entropy", _cross_entropy_smoothing),
    "nll_log_softmax": ValueCheck(FN + "nll_loss", _nll_of_log_softmax),
    "mse_loss": ValueCheck(FN + "mse_loss", lambda m: m.nn.functional.mse_loss(_grid(m), m.zeros(2, 3))),
    "gelu": ValueCheck(FN + "gelu", lambda m: m.nn.functional.gelu(_grid(m))),
    "gelu_tanh": ValueCheck(FN + "gelu", lambda m: m.nn.functional.gelu(_grid(m), approximate="tanh")),
    "relu": ValueCheck(FN + "relu", lambda m: m.nn.functional.relu(_grid(m))),
    "silu": ValueCheck(FN + "silu", lambda m: m.nn.functional.silu(_grid(m))),
    "layer_norm": ValueCheck(FN + "layer_norm", lambda m: m.nn.functional.layer_norm(_grid(m), (3,), m.tensor([1.0, 2.0, 0.5]), m.tensor([0.0, 0.1, -0.1]))),
    "sdpa_causal": ValueCheck(FN + "scaled_dot_product_attention", _causal_attention),
    "dropout_eval": ValueCheck(FN + "dropout", lambda m: m.nn.functional.dropout(_grid(m), p=0.5, training=False)),
    "embedding": ValueCheck(FN + "embedding", lambda m: m.nn.functional.embedding(m.tensor([[0, 2], [1, 1]]), _grid(m).t())),
    "linear": ValueCheck(FN + "linear", lambda m: m.nn.functional.linear(_grid(m), m.ones(4, 3), m.arange(4.0))),
    "conv2d": ValueCheck(FN + "conv2d", _conv2d),
    "max_pool2d": ValueCheck(FN + "max_pool2d", lambda m: m.nn.functional.max_pool2d(_pool_input(m), 2)),
    "avg_pool2d": ValueCheck(FN + "avg_pool2d", lambda m: m.nn.functional.avg_pool2d(_pool_input(m), 2)),
    "adaptive_avg_pool2d": ValueCheck(FN + "adaptive_avg_pool2d", lambda m: m.nn.functional.adaptive_avg_pool2d(_pool_input(m), 1)),
    "batch_norm_eval": ValueCheck(FN + "batch_norm", _batch_norm_eval),
    "one_hot": ValueCheck(FN + "one_hot", lambda m: m.nn.functional.one_hot(m.tensor([0, 2, 1]), 3)),
    "pad": ValueCheck(FN + "pad", lambda m: m.nn.functional.pad(_grid(m), (1, 0, 0, 1), value=9.0)),
    # nn modules, optimizers, schedules
    "nn_linear": ValueCheck("torch.nn.Linear", _linear_module, "shape"),
    "nn_layer_norm": ValueCheck("torch.nn.LayerNorm", _layer_norm_module),
    "nn_parameters": ValueCheck("torch.nn.Module.parameters", _module_parameter_count),
    "nn_cross_entropy": ValueCheck("torch.nn.CrossEntropyLoss", _cross_entropy_module),
    "clip_grad_norm": ValueCheck("torch.nn.utils.clip_grad_norm_", _clip_grad_norm),
    "sgd_momentum": ValueCheck("torch.optim.SGD", _sgd_momentum),
    "adamw": ValueCheck("torch.optim.AdamW", _adamw),
    "cosine_schedule": ValueCheck("torch.optim.lr_scheduler.CosineAnnealingLR", _cosine_schedule),
}

CHECK_PASS, CHECK_FAIL, CHECK_ERROR, CHECK_MISSING, CHECK_TORCH_ERROR = "pass", "FAIL", "ERROR", "missing", "torch-error"


def _dtype_name(dtype):
    return str(dtype).rsplit(".", 1)[-1]


def _is_tensor(value):
    return hasattr(value, "dtype") and hasattr(value, "shape") and hasattr(value, "detach")


def flatten_result(value):
    """A result as a flat list of leaves: ('tensor', dtype name, numpy array) for tensors,
    ('dtype', name), or the Python value itself."""
    import numpy as np

    if _is_tensor(value):
        dtype = _dtype_name(value.dtype)
        tensor = value.detach().cpu()
        if dtype in ("bfloat16", "float16"):
            tensor = tensor.float()  # numpy has no bfloat16
        return [("tensor", dtype, np.asarray(tensor.numpy()))]
    if type(value).__name__ == "dtype":
        return [("dtype", _dtype_name(value))]
    if isinstance(value, (tuple, list)):
        leaves = [("sequence", len(value))]
        for item in value:
            leaves.extend(flatten_result(item))
        return leaves
    return [value]


def compare_results(expected, got, shape_only=False):
    """None when they agree, else a short description of the first disagreement."""
    import numpy as np

    expected_leaves, got_leaves = flatten_result(expected), flatten_result(got)
    if len(expected_leaves) != len(got_leaves):
        return f"structure differs: {len(expected_leaves)} vs {len(got_leaves)} leaves"
    for want, have in zip(expected_leaves, got_leaves):
        if isinstance(want, tuple) and want[0] == "tensor":
            if not (isinstance(have, tuple) and have[0] == "tensor"):
                return f"expected a tensor, got {type(have).__name__}"
            if want[1] != have[1]:
                return f"dtype {have[1]}, torch gives {want[1]}"
            if want[2].shape != have[2].shape:
                return f"shape {have[2].shape}, torch gives {want[2].shape}"
            if not shape_only and not np.allclose(want[2], have[2], rtol=1e-5, atol=1e-6, equal_nan=True):
                return f"values differ (max abs diff {np.max(np.abs(want[2].astype(float) - have[2].astype(float))):.3g})"
        elif type(want) is not type(have):  # int vs float vs bool matters (`item()`)
            return f"{type(have).__name__} {have!r}, torch gives {type(want).__name__} {want!r}"
        elif isinstance(want, float) and not math.isclose(want, have, rel_tol=1e-5, abs_tol=1e-6):
            return f"{have!r}, torch gives {want!r}"
        elif not isinstance(want, float) and want != have:
            return f"{have!r}, torch gives {want!r}"
    return None


@dataclass
class CheckResult:
    name: str
    target: str
    status: str
    detail: str = ""


def run_value_check(name, check, torch_module, vt_module):
    if resolve(to_vibetensor_name(check.target)) is MISSING:
        return CheckResult(name, check.target, CHECK_MISSING)
    try:
        expected = check.call(torch_module)
    except Exception as error:
        return CheckResult(name, check.target, CHECK_TORCH_ERROR, _error_text(error))
    try:
        got = check.call(vt_module)
        difference = compare_results(expected, got, shape_only=check.compare == "shape")
    except Exception as error:
        return CheckResult(name, check.target, CHECK_ERROR, _error_text(error))
    if difference is None:
        return CheckResult(name, check.target, CHECK_PASS)
    return CheckResult(name, check.target, CHECK_FAIL, difference)


def _error_text(error):
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text[:160]}"


def run_value_checks(torch_module, vt_module, checks=None):
    checks = VALUE_CHECKS if checks is None else checks
    return [run_value_check(name, checks[name], torch_module, vt_module) for name in sorted(checks)]


# --------------------------------------------------------------------------------------
# Gate and report
# --------------------------------------------------------------------------------------
@dataclass
class ParityResult:
    torch_version: str
    vibetensor_version: str
    namespaces: list
    essentials: EssentialsResult
    checks: list


def collect(checks=None):
    """Everything the report shows."""
    import torch
    import vibetensor

    namespaces = [compare_namespace(namespace) for namespace in NAMESPACES]
    return ParityResult(
        torch_version=torch.__version__,
        vibetensor_version=getattr(vibetensor, "__version__", "?"),
        namespaces=namespaces,
        essentials=check_essentials(namespaces),
        checks=run_value_checks(torch, vibetensor, checks),
    )


def percent(part, whole):
    return 100.0 * part / whole if whole else 100.0


def gate_failures(result):
    """Reasons `--check` fails (empty list: it passes)."""
    failures = []
    essentials = set(ESSENTIALS)
    failing = [c for c in result.checks if c.status in (CHECK_FAIL, CHECK_ERROR) and c.target in essentials]
    if len(failing) > CHECK_MAX_FAILING_ESSENTIAL_VALUE_CHECKS:
        failures.append("value checks fail on present essentials: "
                        + ", ".join(f"{c.name} ({c.target}: {c.detail})" for c in failing))
    broken = [c for c in result.checks if c.status == CHECK_TORCH_ERROR]
    if broken:
        failures.append("value checks raise on torch itself (a bug in this tool): "
                        + ", ".join(f"{c.name} ({c.detail})" for c in broken))
    surface_present = len(op_surface(result.essentials.present))
    surface_total = surface_present + len(op_surface(result.essentials.missing))
    surface_pct = percent(surface_present, surface_total)
    if surface_pct < CHECK_MIN_OP_SURFACE_ESSENTIALS_PRESENT_PCT:
        failures.append(f"op-surface essentials present {surface_pct:.1f}% < {CHECK_MIN_OP_SURFACE_ESSENTIALS_PRESENT_PCT}%: "
                        f"missing {', '.join(op_surface(result.essentials.missing))}")
    essentials_pct = percent(len(result.essentials.present), result.essentials.total)
    if essentials_pct < CHECK_MIN_ESSENTIALS_PRESENT_PCT:
        failures.append(f"essentials present {essentials_pct:.1f}% < {CHECK_MIN_ESSENTIALS_PRESENT_PCT}%")
    functional = next(r for r in result.namespaces if r.namespace.torch_path == "torch.nn.functional")
    present_pct, match_pct = percent(functional.present, functional.total), percent(functional.matching, functional.total)
    if present_pct < CHECK_MIN_FUNCTIONAL_PRESENT_PCT:
        failures.append(f"torch.nn.functional present {present_pct:.1f}% < {CHECK_MIN_FUNCTIONAL_PRESENT_PCT}%")
    if match_pct < CHECK_MIN_FUNCTIONAL_MATCH_PCT:
        failures.append(f"torch.nn.functional matching {match_pct:.1f}% < {CHECK_MIN_FUNCTIONAL_MATCH_PCT}%")
    return failures


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _name_list(names):
    return ", ".join(f"`{name}`" for name in names) if names else "none"


def coverage_table(namespaces):
    lines = [
        "| Namespace | vibetensor | torch names | present | present % | matching | matching % | signature differs | not compared |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in namespaces:
        found = f"`{r.namespace.vibetensor_path}`" if r.vibetensor_found else f"`{r.namespace.vibetensor_path}` (missing)"
        lines.append(
            f"| `{r.namespace.torch_path}` | {found} | {r.total} | {r.present} | {percent(r.present, r.total):.1f}% "
            f"| {r.matching} | {percent(r.matching, r.total):.1f}% | {r.count(STATUS_DIFFERS)} | {r.count(STATUS_NOT_COMPARED)} |")
    return lines


def essentials_section(essentials):
    groups = {}
    for qualname in essentials.present + essentials.missing:
        group = qualname.rsplit(".", 1)[0]
        groups.setdefault(group, [0, 0])
        groups[group][0] += 1
        groups[group][1] += qualname in essentials.present
    lines = [
        "## Essentials",
        "",
        f"The essentials list (`ESSENTIALS` in `tools/api_parity.py`) holds the {essentials.total} functions,",
        "Tensor methods, modules and optimizers that a GPT, a ViT, a ResNet and an MLP-on-MNIST",
        "training script call. Present: "
        f"**{len(essentials.present)} of {essentials.total} ({percent(len(essentials.present), essentials.total):.1f}%)**.",
        "",
        "Of these, the op surface (torch functions, Tensor methods and `nn.functional`: everything",
        "but modules, optimizers, data loading, checkpoints and CUDA/autocast, which later issues",
        "deliver) has "
        f"**{len(op_surface(essentials.present))} of {len(op_surface(essentials.present + essentials.missing))} present "
        f"({percent(len(op_surface(essentials.present)), len(op_surface(essentials.present + essentials.missing))):.1f}%)**.",
        "",
        "| Group | essentials | present | present % |",
        "| --- | ---: | ---: | ---: |",
    ]
    for group in sorted(groups):
        total, present = groups[group]
        lines.append(f"| `{group}` | {total} | {present} | {percent(present, total):.1f}% |")
    lines += ["", f"**Missing ({len(essentials.missing)}):**", ""]
    by_owner = {}
    for name in essentials.missing:
        by_owner.setdefault(delivered_later(name) or "op surface (this issue)", []).append(name)
    lines += [f"- {owner}: {_name_list(names)}" for owner, names in sorted(by_owner.items())]
    lines.append("")
    lines += [f"**Present, signature differs ({len(essentials.differs)}):**", ""]
    if essentials.differs:
        lines += ["| Essential | difference |", "| --- | --- |"]
        lines += [f"| `{name}` | {_cell('; '.join(diffs))} |" for name, diffs in sorted(essentials.differs.items())]
    else:
        lines.append("none")
    return lines


def checks_section(checks):
    counts = {}
    for check in checks:
        counts[check.status] = counts.get(check.status, 0) + 1
    summary = ", ".join(f"{status}: {counts[status]}" for status in sorted(counts))
    lines = [
        "## Value checks",
        "",
        f"{len(checks)} small calls (`VALUE_CHECKS` in the tool) run on both libraries with the same",
        "inputs; values compare with `allclose(rtol=1e-5, atol=1e-6)`, dtypes and shapes exactly",
        f"(random calls: shape and dtype only). {summary}.",
        "",
        "| Check | target | result | detail |",
        "| --- | --- | --- | --- |",
    ]
    for check in checks:
        lines.append(f"| `{check.name}` | `{check.target}` | {check.status} | {_cell(check.detail)} |")
    return lines


def namespace_section(result):
    namespace = result.namespace
    missing = [e.name for e in result.entries if e.status == STATUS_MISSING]
    differs = [e for e in result.entries if e.status == STATUS_DIFFERS]
    not_compared = [e.name for e in result.entries if e.status == STATUS_NOT_COMPARED]
    lines = [
        f"### `{namespace.torch_path}`",
        "",
        f"{result.total} names, {result.present} present, {result.matching} matching.",
        "",
        f"**Missing ({len(missing)}):** {_name_list(missing)}",
        "",
        f"**Signature differs ({len(differs)}):**",
        "",
    ]
    if differs:
        lines += ["| Name | difference |", "| --- | --- |"]
        lines += [f"| `{e.name}` | {_cell('; '.join(e.differences))} |" for e in differs]
    else:
        lines.append("none")
    lines += ["", f"**Present, not compared ({len(not_compared)}):** {_name_list(not_compared)}", ""]
    if result.extras:
        lines += [f"**In vibetensor only ({len(result.extras)}):** {_name_list(result.extras)}", ""]
    return lines


def render_report(result):
    lines = [
        "# API parity: vibetensor against PyTorch",
        "",
        "Generated by `python3 tools/api_parity.py` (write this file) or "
        "`python3 tools/api_parity.py --check` (also gate); do not edit by hand.",
        f"Compared: torch {result.torch_version}, vibetensor {result.vibetensor_version}.",
        "",
        "## What is counted",
        "",
        "torch's public names per namespace: top-level functions (no classes, dtypes or",
        "submodules), Tensor methods, data attributes and operator dunders, `nn.functional`",
        "functions, `nn` module classes (plus `Parameter`, `Buffer`), optimizer and scheduler",
        "classes, `linalg` functions. Skipped: private `_x` names, backend and quantization",
        "internals, TorchScript plumbing and removed functions (the `EXCLUDED_*` constants in",
        "the tool). A missing vibetensor submodule counts as all of its names missing.",
        "",
        "## What \"matching\" means",
        "",
        *MATCHING_DEFINITION.rstrip().splitlines(),
        "",
        "## Coverage",
        "",
        *coverage_table(result.namespaces),
        "",
        *essentials_section(result.essentials),
        "",
        *checks_section(result.checks),
        "",
        "## Details per namespace",
        "",
    ]
    for namespace in result.namespaces:
        lines += namespace_section(namespace)
    if IMPORT_FAILURES:
        lines += ["## Import failures", ""]
        lines += [f"- `{module}`: {_cell(error)}" for module, error in sorted(IMPORT_FAILURES.items())]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def print_summary(result, out_path):
    for r in result.namespaces:
        print(f"{r.namespace.torch_path:28s} present {r.present:4d}/{r.total:<4d} "
              f"({percent(r.present, r.total):5.1f}%)  matching {percent(r.matching, r.total):5.1f}%")
    e = result.essentials
    print(f"{'essentials':28s} present {len(e.present):4d}/{e.total:<4d} ({percent(len(e.present), e.total):5.1f}%)")
    counts = {}
    for check in result.checks:
        counts[check.status] = counts.get(check.status, 0) + 1
    print("value checks: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"wrote {out_path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="report path (default: docs/api_parity.md)")
    parser.add_argument("--check", action="store_true", help="exit non-zero when a gate at the top of the tool fails")
    args = parser.parse_args(argv)
    result = collect()
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_report(result))
    print_summary(result, out_path)
    if args.check:
        failures = gate_failures(result)
        for failure in failures:
            print(f"CHECK FAILED: {failure}", file=sys.stderr)
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
