"""The OpInfo table of the differential sweep (test_op_sweep.py): one entry per op of the registry.

An entry says how to call an op on torch and on vibetensor (`fn(m, *args, **kwargs)`, where `m` is
the `torch` or the `vibetensor` module), which dtypes to run, which shape classes (`KINDS`) its
sample generator covers, the tolerances, and inputs that must raise as torch's do. An entry
exercises the registry op it is named after and, through `variants`, its in-place form (`add_`,
run as `x.add_(y)`) and its out= form (`add.out`, run as `add(x, y, out=o)`); "method" runs the
function as a Tensor method too (`x.add(y)`), under the same registry name. `covers` names the
registry ops without a Python entry point that the function runs on every call (`_softmax`).
Besides the shape classes an entry may have sample groups of its own (`padding_same`, `masked`,
`factory`, `dim`), for options whose failures should not hide the shape classes.

Inputs are made once as torch tensors (helpers.make: deterministic, values that suit the dtype)
and converted to vibetensor with the same values, dtype, shape, strides and storage offset
(helpers.to_vt). Random ops are compared by shape, dtype, statistics and reproducibility; `empty`
by shape and dtype; everything else value by value (views also by strides, storage offset and
aliasing).

Known vibetensor bugs are strict xfails (`xfail={"id pattern": reason}`, fnmatch patterns of the
test id `<registry name>-<dtype>-<kind>`; `xfail_errors` for the error cases `<name>-<error>`);
calls that crash the interpreter are `crashes` (run in a forked child, strict xfails too).
"""
import fnmatch
import functools
import math

import torch

import vibetensor as vt
from helpers import DTYPE_NAMES, TEST_DEVICE, clone_arg, layouts, make

# ---- shape classes and dtypes

# basic: small ordinary shapes (plus special values for float dtypes); 0dim: 0-dim tensors (and a
# 0-dim operand with a full one); empty: size-0 dims; broadcast: operands of different shapes;
# noncontig: transposed, strided-with-offset and expanded (zero-stride) inputs; large: ~1e5
# elements (the parallel and vectorized paths); scalar: a Python number as an operand; mixed: an
# operand of another dtype (type promotion).
KINDS = ("basic", "0dim", "empty", "broadcast", "noncontig", "large", "scalar", "mixed")
UNARY_KINDS = ("basic", "0dim", "empty", "noncontig", "large")
BINARY_KINDS = ("basic", "0dim", "empty", "broadcast", "noncontig", "large", "scalar", "mixed")

ALL = tuple(DTYPE_NAMES)
FLOATS = ("float32", "float64", "float16", "bfloat16")
# The dtypes most entries run: every float dtype, two signed integer widths, uint8 and bool.
STD = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "uint8", "bool")
INTS_BOOL = ("int64", "int32", "int16", "int8", "uint8", "bool")
# The in-place and out= forms run these dtypes (those of an entry's dtypes; its first dtype if none).
VARIANT_DTYPES = ("float32", "bfloat16", "int64", "bool")
# The shape classes whose logic is shapes, not arithmetic, run these dtypes (likewise).
SHAPE_KINDS = ("0dim", "empty", "broadcast", "scalar")
SHAPE_DTYPES = ("float32", "float16", "int64", "bool")
# The large case runs for these dtypes only (those of an entry's dtypes; its first dtype if none).
LARGE_DTYPES = ("float32", "float16")
LARGE = (320, 321)  # 102,720 elements, odd sizes: vector loops get tails
# On the GPU, sums over repeated positions (bincount's weights, index_put with accumulate, fold's
# overlapping windows) are made with atomic adds in no fixed order, as in torch's CUDA kernels;
# torch's CPU loop, the reference, adds in index order. Each add rounds, so a result whose partial
# sums reach 32 (float16: units of 2**-5 there; float32: sums of ~2000 terms) may differ by a few
# units in the last place: these absolute tolerances, on the GPU only, allow that much.
UNORDERED_SUM_ATOL = {"float16": 0.05, "float32": 1e-3} if TEST_DEVICE != "cpu" else {}
# The operand dtype of the "mixed" kind, for each dtype.
PARTNER = {"float32": "float64", "float64": "int64", "float16": "bfloat16", "bfloat16": "float32",
           "int64": "float32", "int32": "int64", "int16": "uint8", "int8": "uint8", "uint8": "int8",
           "bool": "int32"}


def is_float(dtype):
    return dtype in FLOATS


# ---- inputs

def T(shape, dtype="float32", low=None, high=None, seed=0):
    """A deterministic torch tensor (helpers.make); for integer dtypes the bounds are rounded out
    to integers. Made once per arguments and shared: samples must not modify it (the sweep runs
    every call on copies)."""
    if not is_float(dtype):
        low = None if low is None else int(math.floor(low))
        high = None if high is None else int(math.ceil(high))
    return _made(tuple(shape), dtype, low, high, seed)


@functools.lru_cache(maxsize=256)
def _made(shape, dtype, low, high, seed):
    return make(shape, dtype, low=low, high=high, seed=seed)


def transposed(t):
    """The same values, laid out column-major (a transposed view of a contiguous tensor)."""
    return t.mT.contiguous().mT


def strided(t):
    """The same values at stride 2 with a storage offset of 1."""
    return layouts(t)["strided"]


def expanded(shape, dtype="float32", low=None, high=None, seed=0):
    """A zero-stride tensor: one row expanded along dim 0."""
    return T((1,) + tuple(shape[1:]), dtype, low, high, seed).expand(*shape)


def special(dtype):
    """NaN, infinities, signed zeros and ordinary values, in a float dtype."""
    return torch.tensor([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-3, 3.0, -0.75],
                        dtype=getattr(torch, dtype))


def index(shape, high, seed=0, dtype="int64", low=0):
    """An index tensor with values in [low, high)."""
    return make(tuple(shape), dtype, low=low, high=high - 1, seed=seed)


def scalar_for(dtype):
    """Python numbers of the kind that keeps a result in range for `dtype`."""
    if dtype == "bool":
        return [True, 2]
    if is_float(dtype):
        return [2.5, -3]
    return [2, 1.5]


class Sample:
    """One call: positional and keyword arguments (torch tensors, numbers, dtypes, lists of them).

    `inplace=False` leaves the sample out of the in-place variant (where the in-place form takes
    other arguments), `out=False` out of the out= variant. `rtol`/`atol` override the tolerances.
    """

    def __init__(self, *args, rtol=None, atol=None, inplace=True, out=True, fn=None, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.rtol, self.atol, self.inplace, self.out = rtol, atol, inplace, out
        self.fn = fn  # calls this sample instead of the entry's function (rand for uniform_)

    def __repr__(self):
        def show(a):
            if isinstance(a, torch.Tensor):
                layout = "" if a.is_contiguous() else f" stride={a.stride()}"
                return f"T{tuple(a.shape)}:{str(a.dtype).split('.')[-1]}{layout}"
            if isinstance(a, (list, tuple)):
                return "[" + ", ".join(show(v) for v in a) + "]"
            return repr(a)
        parts = [show(a) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        return f"Sample({', '.join(parts)})"


class ErrorInput:
    """A call torch refuses; vibetensor must raise the same exception class."""

    def __init__(self, desc, *args, fn=None, variant="function", **kwargs):
        self.desc, self.args, self.kwargs, self.fn, self.variant = desc, args, kwargs, fn, variant


def call(attr, nn=False):
    """`fn(m, *args, **kwargs)` calling `m.<attr>` (or `m.nn.functional.<attr>`)."""
    if nn:
        return lambda m, *a, **k: getattr(m.nn.functional, attr)(*a, **k)
    return lambda m, *a, **k: getattr(m, attr)(*a, **k)


class OpInfo:
    """How the sweep runs one registry op (and its in-place and out= forms, see `variants`)."""

    def __init__(self, name, fn=None, *, samples=None, dtypes=STD, kinds=UNARY_KINDS, variants=(), method=None,
                 inplace_fn=None, out_fn=None, errors=None, tol=None, compare="values", stats=None,
                 skip_reason=None, xfail=None, xfail_errors=None, nn=False, view=False, crashes=None,
                 kind_dtypes=None, may_raise=False, covers=()):
        self.name = name
        self.base = name.split(".")[0]
        self.fn = fn or call(self.base, nn)
        self.samples = samples
        self.dtypes = tuple(dtypes)
        self.kinds = tuple(kinds)
        self.variants = tuple(variants)
        self.method = method or (self.base if "method" in variants else None)
        self.inplace_fn = inplace_fn or (lambda m, x, *a, **k: getattr(x, self.base + "_")(*a, **k))
        self.out_fn = out_fn or (lambda m, *a, **k: self.fn(m, *a, **k))
        self.errors = errors
        self.tol = tol or {}
        self.compare = compare  # "values", "meta" (shape and dtype), "random"
        # an in-place op run as the function form (copy_, fill_): torch may refuse a sample (an
        # expanded self), and then vibetensor must raise the same exception class
        self.may_raise = may_raise
        self.view = view  # check the result's strides, storage offset and aliasing against torch's
        self.stats = stats
        self.skip_reason = skip_reason
        self.xfail = xfail or {}
        self.xfail_errors = xfail_errors or {}
        # id pattern -> reason, for calls that crash the interpreter (SIGSEGV): run in a child
        # process, as strict xfails
        self.crashes = crashes or {}
        self.dtypes_by_kind = kind_dtypes or {}  # kind -> dtypes, where a kind runs fewer (a crash in a child)
        # registry ops with no Python entry point of their own that the function form runs on every
        # call (softmax.int is _softmax of a converted input): (name, why) pairs
        self.covers = tuple(covers)

    def registry_names(self):
        """variant -> the registry op that variant exercises."""
        names = {"function": self.name}
        if "inplace" in self.variants:
            names["inplace"] = self.base + "_"
        if "out" in self.variants:
            names["out"] = self.base + ".out"
        return names

    def exercised(self):
        """Every registry op the entry runs: its variants' and the internal ops it covers."""
        return list(self.registry_names().values()) + [name for name, _ in self.covers]

    def all_kinds(self):
        """The entry's shape classes in KINDS order, then its own named sample groups (options that
        are no shape class, e.g. conv2d's padding_same)."""
        return [k for k in KINDS if k in self.kinds] + [k for k in self.kinds if k not in KINDS]

    def kind_dtypes(self, kind, variant="function"):
        """The dtypes a kind runs: the function form runs all of the entry's dtypes (LARGE_DTYPES
        for the large kind, SHAPE_DTYPES for SHAPE_KINDS), the in-place and out= forms
        VARIANT_DTYPES (one for the large kind)."""
        def some(chosen):
            return tuple(d for d in self.dtypes if d in chosen) or self.dtypes[:1]
        if kind in self.dtypes_by_kind:
            return self.dtypes_by_kind[kind]
        if kind == "large":
            return some(LARGE_DTYPES) if variant == "function" else some(LARGE_DTYPES)[:1]
        dtypes = self.dtypes if variant == "function" else some(VARIANT_DTYPES)
        if kind in SHAPE_KINDS:
            dtypes = tuple(d for d in dtypes if d in SHAPE_DTYPES) or dtypes[:1]
        return dtypes

    def crash_reason(self, test_id):
        for pattern, reason in self.crashes.items():
            if fnmatch.fnmatchcase(test_id, pattern):
                return reason
        return None

    def xfail_reason(self, test_id, errors=False):
        if not errors and self.crash_reason(test_id):
            return self.crash_reason(test_id)
        for pattern, reason in (self.xfail_errors if errors else self.xfail).items():
            if fnmatch.fnmatchcase(test_id, pattern):
                return reason
        return None

    def tolerance(self, dtype):
        return self.tol.get(dtype, (None, None))


# ---- sample generators: gen(dtype, kind) -> iterable of Sample

def unary_samples(low=None, high=None, specials=True, **kwargs):
    """One tensor operand (plus fixed keyword arguments), values in [low, high)."""
    def gen(dtype, kind):
        def mk(shape, seed=0):
            return T(shape, dtype, low, high, seed)
        if kind == "basic":
            yield Sample(mk((3, 4)), **kwargs)
            if specials and is_float(dtype):
                values = special(dtype)
                yield Sample(values[values.isfinite() | values.isnan()] if specials == "finite" else values, **kwargs)
        elif kind == "0dim":
            yield Sample(mk(()), **kwargs)
        elif kind == "empty":
            yield Sample(mk((0,)), **kwargs)
            yield Sample(mk((2, 0, 3)), **kwargs)
        elif kind == "noncontig":
            x = mk((5, 6), seed=1)
            yield Sample(transposed(x), **kwargs)
            yield Sample(strided(x), **kwargs)
            yield Sample(expanded((4, 6), dtype, low, high, seed=2), **kwargs)
        elif kind == "large":
            yield Sample(mk(LARGE, seed=3), **kwargs)
    return gen


def binary_samples(low=None, high=None, low2=None, high2=None, scalars=None, partner=PARTNER, **kwargs):
    """Two tensor operands (the second with values in [low2, high2): divisors, exponents)."""
    def gen(dtype, kind):
        def a(shape, seed=0, dt=dtype):
            return T(shape, dt, low, high, seed)

        def b(shape, seed=1, dt=dtype):
            return T(shape, dt, low2 if low2 is not None else low, high2 if high2 is not None else high, seed)
        if kind == "basic":
            yield Sample(a((3, 4)), b((3, 4)), **kwargs)
            if is_float(dtype):  # every pair of special values, and (in place too) pairs in one shape
                s = special(dtype)
                yield Sample(s.reshape(1, -1), s.reshape(-1, 1), **kwargs)
                yield Sample(s, s.flip(0), **kwargs)
        elif kind == "0dim":
            yield Sample(a(()), b(()), **kwargs)
            yield Sample(a((3, 4)), b(()), **kwargs)
            yield Sample(a(()), b((2, 3)), **kwargs)  # in place: self can't take the broadcast shape
        elif kind == "empty":
            yield Sample(a((0, 4)), b((0, 4)), **kwargs)
            yield Sample(a((0, 4)), b((4,)), **kwargs)
            yield Sample(a((2, 0, 3)), b((1, 0, 1)), **kwargs)
        elif kind == "broadcast":
            yield Sample(a((3, 1)), b((1, 4)), **kwargs)
            yield Sample(a((2, 3, 4)), b((4,)), **kwargs)
            yield Sample(a((4,)), b((2, 3, 4)), **kwargs)
            yield Sample(a((5, 1, 4)), b((3, 1)), **kwargs)
        elif kind == "noncontig":
            x, y = a((5, 6)), b((5, 6))
            yield Sample(transposed(x), y, **kwargs)
            yield Sample(x, strided(y), **kwargs)
            yield Sample(strided(x), transposed(y), **kwargs)
            yield Sample(expanded((5, 6), dtype, low, high, seed=2), y, **kwargs)
            yield Sample(x, expanded((5, 6), dtype, low2, high2, seed=3), **kwargs)
        elif kind == "large":
            yield Sample(a(LARGE, seed=4), b(LARGE, seed=5), **kwargs)
            yield Sample(a(LARGE, seed=4), b(LARGE[-1:], seed=6), **kwargs)
        elif kind == "scalar":
            for s in (scalars(dtype) if scalars else scalar_for(dtype)):
                yield Sample(a((3, 4)), s, **kwargs)
        elif kind == "mixed":
            yield Sample(a((3, 4)), b((3, 4), dt=partner[dtype]), **kwargs)
            yield Sample(a((3, 4), dt=partner[dtype]), b((3, 4)), **kwargs)
            yield Sample(a((3, 4)), b((), dt=partner[dtype]), **kwargs)  # a 0-dim operand doesn't promote
    return gen


def merge(*gens):
    def gen(dtype, kind):
        for g in gens:
            yield from g(dtype, kind)
    return gen


# ---- error inputs

def bad_dtypes(gen, *dtypes):
    """The op refuses these dtypes (torch raises on the first basic sample)."""
    def errors():
        for d in dtypes:
            sample = next(iter(gen(d, "basic")))
            yield ErrorInput(f"dtype_{d}", *sample.args, **sample.kwargs)
    return errors


def chain(*error_fns):
    def errors():
        for fn in error_fns:
            yield from fn()
    return errors


def err(*inputs):
    """A fixed list of ErrorInputs."""
    return lambda: iter(inputs)


def xfails(reason, *patterns):
    """{pattern: reason} for test id patterns that share a reason."""
    return {p: reason for p in patterns}


OP_DB = []


def add(*infos):
    OP_DB.extend(infos)


# =====================================================================================================
# Pointwise: the unary op table (include/vt/unary_ops.def) and friends
# =====================================================================================================

def out_dtype_error(gen, out_dtype="int64", dtype="float32"):
    """out= of a dtype the result can't be cast to."""
    def errors():
        sample = next(iter(gen(dtype, "basic")))
        yield ErrorInput(f"out_dtype_{out_dtype}", *sample.args, variant="out",
                         out=torch.empty(0, dtype=getattr(torch, out_dtype)), **sample.kwargs)
    return errors


# name -> (low, high) of the float inputs (a little outside the domain, so some results are NaN)
UNARY_DOMAINS = {
    "abs": None, "neg": None, "exp": (-5, 5), "log": (-0.5, 6), "sqrt": (-0.5, 6), "rsqrt": (-0.5, 6),
    "relu": None, "sigmoid": (-8, 8), "tanh": (-4, 4), "exp2": (-5, 5), "expm1": (-3, 3), "log2": (-0.5, 6),
    "log10": (-0.5, 6), "log1p": (-1.2, 5), "reciprocal": None, "sin": (-6, 6), "cos": (-6, 6),
    "tan": (-1.5, 1.5), "asin": (-1.1, 1.1), "acos": (-1.1, 1.1), "atan": (-5, 5), "sinh": (-4, 4),
    "cosh": (-4, 4), "asinh": (-5, 5), "acosh": (0.8, 5), "atanh": (-1.1, 1.1), "erf": (-3, 3),
    "erfinv": (-1.05, 1.05), "floor": (-5, 5), "ceil": (-5, 5), "trunc": (-5, 5), "round": (-5, 5),
    "frac": (-5, 5), "sign": None, "silu": (-6, 6), "mish": (-6, 6),
}
# silu and mish are torch.nn.functional functions (F.silu(x, inplace=True) in place; aten's out=).
NN_UNARY = {"silu", "mish"}


def unary_entry(name, dtypes=STD, bad=(), **kwargs):
    low, high = UNARY_DOMAINS[name] or (None, None)
    gen = unary_samples(low, high)
    fn = inplace_fn = out_fn = None
    if name in NN_UNARY:
        def fn(m, x, **k):
            return getattr(m.nn.functional, name)(x, **k) if m is torch else getattr(vt, name)(x, **k)

        def inplace_fn(m, x):
            return getattr(torch.nn.functional, name)(x, inplace=True) if m is torch else getattr(x, name + "_")()

        def out_fn(m, x, out):
            return getattr(torch.ops.aten, name).out(x, out=out) if m is torch else getattr(vt, name)(x, out=out)
    elif name == "relu":
        def out_fn(m, x, out):  # torch.relu has no out=; aten's relu.out has
            return torch.ops.aten.relu.out(x, out=out) if m is torch else vt.relu(x, out=out)
    errors = chain(bad_dtypes(gen, *bad), out_dtype_error(gen))
    variants = ("inplace", "out") if name in NN_UNARY else ("method", "inplace", "out")
    return OpInfo(name, fn, samples=gen, dtypes=dtypes, kinds=UNARY_KINDS, variants=variants,
                  inplace_fn=inplace_fn, out_fn=out_fn, errors=errors, **kwargs)


# Ops torch refuses for some dtypes: name -> refused dtypes (those in STD are left out of the sweep and
# checked as errors).
UNARY_REFUSED = {"abs": ("bool",), "neg": ("bool",), "relu": ("bool",), "floor": ("bool",), "ceil": ("bool",),
                 "trunc": ("bool",), "round": ("bool",), "frac": ("bool", "int64", "uint8"),
                 "silu": ("bool", "int32", "uint8"), "mish": ("bool", "int64", "int8")}
UNARY_XFAIL = {}
UNARY_TOL = {}

for _name in UNARY_DOMAINS:
    _refused = UNARY_REFUSED.get(_name, ())
    add(unary_entry(_name, dtypes=[d for d in STD if d not in _refused and not (_refused[1:] and d in INTS_BOOL)],
                    bad=_refused, xfail=UNARY_XFAIL.get(_name), tol=UNARY_TOL.get(_name)))



# =====================================================================================================
# Pointwise: binary ops (add, sub, mul, div, pow, the binary op table, comparisons, logical ops)
# =====================================================================================================

def without_zeros(t, value):
    """A copy of `t` with the same layout (strides, offset, zero strides) and its zeros replaced."""
    t = clone_arg(t)
    base = t._base if t._base is not None else t
    base.masked_fill_(base == 0, value)
    return t


def nonzero_second(gen, value=3):
    """A generator whose second operand has no zeros (integer division and remainders)."""
    def wrapped(dtype, kind):
        for s in gen(dtype, kind):
            args = list(s.args)
            if isinstance(args[1], torch.Tensor) and not args[1].dtype.is_floating_point and args[1].numel():
                args[1] = without_zeros(args[1], True if args[1].dtype == torch.bool else value)
            elif isinstance(args[1], (int, float)) and args[1] == 0:
                args[1] = value
            yield Sample(*args, rtol=s.rtol, atol=s.atol, inplace=s.inplace, out=s.out, **s.kwargs)
    return wrapped


def with_kwargs(gen, kinds=("basic",), **kwargs):
    """Add samples with keyword arguments: the first sample of each kind in `kinds` again, with
    `kwargs` (a dict per dtype from a function, or fixed)."""
    def wrapped(dtype, kind):
        samples = list(gen(dtype, kind))
        yield from samples
        if kind in kinds and samples:
            extra = kwargs["fn"](dtype) if "fn" in kwargs else [kwargs]
            for k in extra:
                s = samples[0]
                yield Sample(*s.args, rtol=s.rtol, atol=s.atol, **dict(s.kwargs, **k))
    return wrapped


def isclose_samples(dtype, kind):
    """Random pairs (special values among them), and for "basic" the first pair again with other
    tolerances; rtol and atol go positionally (Sample's own rtol/atol are the sweep's tolerances)."""
    samples = list(binary_samples()(dtype, kind))
    yield from samples
    if kind == "basic":
        a, b = samples[0].args
        for extra in ((0.5,), (0.0, 2.0), (0.0, 0.0)):
            yield Sample(a, b, *extra)
        # self takes the broadcast shape: torch 2.11 (on the GPU machine) computes equal_nan's
        # isnan(self) & isnan(other) in place into self's shape and raises when self is smaller.
        for s in samples:
            a, b = s.args
            yield Sample(a.expand(torch.broadcast_shapes(a.shape, b.shape)).clone(), b, equal_nan=True)


def emulate_inplace(fn):
    """torch has no in-place form (maximum_): the out-of-place op, with in-place rules (the result
    must have self's shape and a dtype self can hold), copied into self."""
    def inplace(m, x, *args, **kwargs):
        if m is not torch:
            return getattr(x, fn + "_")(*args, **kwargs)
        result = getattr(torch, fn)(x, *args, **kwargs)
        if result.shape != x.shape:
            raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape")
        if not torch.can_cast(result.dtype, x.dtype):
            raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output type {x.dtype}")
        return x.copy_(result)
    return inplace


def shape_mismatch(dtype="float32"):
    return ErrorInput("shape_mismatch", T((3, 4), dtype), T((5,), dtype, seed=1))


def alpha_kwargs(dtype):
    return [{"alpha": True if dtype == "bool" else 2 if not is_float(dtype) else 0.5}]


def int_scalars(dtype):
    return [True] if dtype == "bool" else [3, -2]


def binary_entry(name, dtypes=ALL, gen=None, bad=(), errors=(), variants=("method", "inplace", "out"),
                 kinds=BINARY_KINDS, **kwargs):
    gen = gen or binary_samples()
    return OpInfo(name, samples=gen, dtypes=dtypes, kinds=kinds, variants=variants,
                  errors=chain(bad_dtypes(gen, *bad), err(shape_mismatch(dtypes[0]), *errors)), **kwargs)


def div_modes(dtype):
    if dtype == "bool":  # torch has no floor or trunc division of bools (an error input)
        return [{"rounding_mode": None}]
    return [{"rounding_mode": "floor"}, {"rounding_mode": "trunc"}, {"rounding_mode": None}]


BOOL_DIV_FLOOR = ErrorInput("bool_floor", T((3, 4), "bool"), T((3, 4), "bool", seed=1).logical_not(),
                            rounding_mode="floor")
NO_BOOL_STD = tuple(d for d in STD if d != "bool")
BITWISE_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "bool")
INT_PARTNER = {"int64": "int32", "int32": "uint8", "int16": "int8", "int8": "bool", "uint8": "int16", "bool": "int64"}
# torch takes no Python number as `other` for these (TypeError); vibetensor does (a harmless extension,
# not checked).
TENSOR_ONLY_KINDS = tuple(k for k in BINARY_KINDS if k != "scalar")

add(
    binary_entry("add", dtypes=STD, gen=with_kwargs(binary_samples(), fn=alpha_kwargs)),
    binary_entry("sub", dtypes=NO_BOOL_STD, gen=with_kwargs(binary_samples(), fn=alpha_kwargs), bad=("bool",)),
    binary_entry("mul", dtypes=STD),
    binary_entry("div", dtypes=STD, errors=(BOOL_DIV_FLOOR,),
                 gen=with_kwargs(nonzero_second(binary_samples()), kinds=("basic", "broadcast", "mixed"),
                                 fn=div_modes)),
    binary_entry("pow", dtypes=NO_BOOL_STD, gen=binary_samples(low=-3, high=3, low2=0, high2=3), bad=("bool",)),
    binary_entry("atan2", dtypes=STD, kinds=TENSOR_ONLY_KINDS),
    binary_entry("copysign", dtypes=STD),
    # torch's float16 floor_divide rounds the quotient to float16 before flooring (0.25 // -0.000112 is
    # -2236 in torch, -2234 in float64 and in vibetensor): one float16 ulp
    binary_entry("floor_divide", dtypes=NO_BOOL_STD, gen=nonzero_second(binary_samples()), bad=("bool",),
                 tol={"float16": (2e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5)}),
    binary_entry("fmod", dtypes=NO_BOOL_STD, gen=nonzero_second(binary_samples()), bad=("bool",)),
    binary_entry("remainder", dtypes=NO_BOOL_STD, gen=nonzero_second(binary_samples()), bad=("bool",)),
    binary_entry("hypot", dtypes=FLOATS, bad=("bool", "int64"), kinds=TENSOR_ONLY_KINDS),
    binary_entry("maximum", dtypes=STD, inplace_fn=emulate_inplace("maximum"), kinds=TENSOR_ONLY_KINDS),
    binary_entry("minimum", dtypes=STD, inplace_fn=emulate_inplace("minimum"), kinds=TENSOR_ONLY_KINDS),
    binary_entry("xlogy", dtypes=STD, gen=binary_samples(low2=-0.5, high2=5)),
    *[binary_entry(op, dtypes=BITWISE_DTYPES, gen=binary_samples(scalars=int_scalars, partner=INT_PARTNER),
                   bad=("float32", "float16")) for op in ("bitwise_and", "bitwise_or", "bitwise_xor")],
    *[binary_entry(op, dtypes=STD, kinds=TENSOR_ONLY_KINDS) for op in ("logical_and", "logical_or", "logical_xor")],
    *[binary_entry(op, dtypes=STD) for op in ("eq", "ne", "lt", "le", "gt", "ge")],
)


# =====================================================================================================
# Pointwise: the rest (clamp, where, predicates, activations with parameters, ...)
# =====================================================================================================

def each(gen, calls):
    """Every sample of `gen` once per (extra args, extra kwargs) in `calls` (a list, or a function
    of the dtype giving one)."""
    def wrapped(dtype, kind):
        for s in gen(dtype, kind):
            for args, kwargs in (calls(dtype) if callable(calls) else calls):
                yield Sample(*s.args, *args, rtol=s.rtol, atol=s.atol, **dict(s.kwargs, **kwargs))
    return wrapped


NOT_A_TENSOR = ErrorInput("not_a_tensor", [1.0, 2.0])


def clamp_calls(dtype):
    if is_float(dtype):
        return [((-1.5, 2.5), {}), ((), {"min": 0.0}), ((), {"max": -0.5}), ((2.0, -1.0), {})]
    return [((-1, 2), {}), ((), {"min": 0}), ((), {"max": 1}), ((2, -1), {}), ((-1.5, 2.5), {})]


def where_samples(dtype, kind):
    def c(shape, seed=0):
        return T(shape, "bool", seed=seed)

    def v(shape, seed=1, dt=dtype):
        return T(shape, dt, seed=seed)
    if kind == "basic":
        yield Sample(c((3, 4)), v((3, 4)), v((3, 4), seed=2))
    elif kind == "0dim":
        yield Sample(c(()), v(()), v((), seed=2))
        yield Sample(c((3, 4)), v(()), v((3, 4), seed=2))
    elif kind == "empty":
        yield Sample(c((0, 4)), v((0, 4)), v((4,)))
    elif kind == "broadcast":
        yield Sample(c((3, 1)), v((1, 4)), v(()))
        yield Sample(c((4,)), v((2, 3, 4)), v((3, 1)))
    elif kind == "noncontig":
        yield Sample(transposed(c((5, 6))), strided(v((5, 6))), expanded((5, 6), dtype, seed=3))
    elif kind == "large":
        yield Sample(c(LARGE), v(LARGE), v(LARGE[-1:], seed=2))
    elif kind == "scalar":
        s = scalar_for(dtype)[0]
        yield Sample(c((3, 4)), v((3, 4)), s)
        yield Sample(c((3, 4)), s, v((3, 4)))
    elif kind == "mixed":
        yield Sample(c((3, 4)), v((3, 4)), v((3, 4), dt=PARTNER[dtype]))


ACTIVATIONS = {
    # name -> (dtypes, calls: (args, kwargs) after the input)
    "elu": (FLOATS, [((), {}), ((), {"alpha": 0.5}), ((0.7,), {})]),
    "gelu": (FLOATS, [((), {}), ((), {"approximate": "tanh"})]),
    "hardtanh": (("float32", "float64", "float16", "bfloat16", "int64", "int32"),
                 [((), {}), ((-0.5, 0.7), {}), ((), {"min_val": -2, "max_val": 3})]),
    "leaky_relu": (FLOATS, [((), {}), ((0.2,), {})]),
    "softplus": (FLOATS, [((), {}), ((), {"beta": 2, "threshold": 1}), ((0.5,), {})]),
}

add(
    OpInfo("clamp", samples=each(unary_samples(-3, 3), clamp_calls), dtypes=STD, variants=("method", "inplace", "out"),
           errors=err(ErrorInput("no_bounds", T((3, 4))))),
    OpInfo("where.self", fn=lambda m, c, x, y: m.where(c, x, y), samples=where_samples, dtypes=STD, kinds=BINARY_KINDS,
           errors=err(ErrorInput("float_condition", T((3, 4)), T((3, 4)), T((3, 4))),
                      ErrorInput("shape_mismatch", T((3, 4), "bool"), T((3, 4)), T((5,))))),
    OpInfo("square", samples=unary_samples(), dtypes=STD, variants=("method",), errors=err(NOT_A_TENSOR)),
    OpInfo("bitwise_not", samples=unary_samples(), dtypes=BITWISE_DTYPES, variants=("method", "inplace", "out"),
           errors=bad_dtypes(unary_samples(), "float32", "float16")),
    OpInfo("logical_not", samples=unary_samples(), dtypes=STD, variants=("method", "inplace", "out"),
           errors=err(NOT_A_TENSOR)),
    *[OpInfo(op, samples=unary_samples(), dtypes=STD, variants=("method",), errors=err(NOT_A_TENSOR))
      for op in ("isfinite", "isinf", "isnan")],
    OpInfo("nan_to_num", samples=each(unary_samples(), [((), {}), ((), {"nan": 0.5, "posinf": 10.0}),
                                                        ((), {"neginf": -7.0})]),
           dtypes=STD, variants=("method",), errors=err(NOT_A_TENSOR)),
    # torch's float16/bfloat16 logit loses precision near 0.5 (logit(0.42017) is -0.32275 in torch, -0.32202 in
    # vibetensor, -0.32209 in float64): the tolerance is torch's error
    OpInfo("logit", samples=each(unary_samples(-0.1, 1.1), [((), {}), ((), {"eps": 0.2})]), dtypes=STD,
           variants=("method",), errors=err(NOT_A_TENSOR),
           tol={"float16": (2e-3, 4e-3), "bfloat16": (1.6e-2, 1.6e-2)}),
    OpInfo("round.decimals", fn=lambda m, x, **k: m.round(x, **k), method="round",
           samples=each(unary_samples(-50, 50), [((), {"decimals": d}) for d in (0, 1, 2, -1)]), dtypes=FLOATS,
           errors=err(ErrorInput("dtype_int64", T((3, 4), "int64"), decimals=1))),
    # torch's gelu(inf) is NaN for float32 and bfloat16 (inf for float64 and float16): infinities are
    # left out of gelu's special values
    *[OpInfo(op, samples=each(unary_samples(-4, 4, specials="finite" if op == "gelu" else True), calls),
             dtypes=dtypes, nn=True,
             errors=bad_dtypes(unary_samples(), "int64") if dtypes == FLOATS else err(
                 ErrorInput("uint8_negative_limits", T((3, 4), "uint8")), NOT_A_TENSOR))
      for op, (dtypes, calls) in ACTIVATIONS.items()],
)


# =====================================================================================================
# Reductions
# =====================================================================================================

def reduce_calls(nd, none=True, multi=True, keepdim=True, kw=None):
    """Dim arguments for an `nd`-dim input: no dim, dim 0, the last dim with keepdim, the first and
    last dims together (`multi`); `kw` adds fixed keyword arguments to every call."""
    kw = kw or {}
    calls = [((), dict(kw))] if none else []
    calls.append(((0,), dict(kw)))
    calls.append(((-1,), dict(kw, keepdim=True) if keepdim else dict(kw)))
    if multi and nd >= 2:
        calls.append((((0, nd - 1),), dict(kw)))
    if multi and nd == 3:
        calls.append((((1, -1),), dict(kw, keepdim=True) if keepdim else dict(kw)))
    return calls


def reduction_samples(low=None, high=None, calls=reduce_calls, empty_dims=(0, 1), mixed=None):
    """Inputs of each shape class, reduced along each of `calls(ndim)`; for the empty kind, a (0, 4)
    input reduced along `empty_dims` (0: the empty dim, 1: a non-empty one). The mixed kind
    reduces into another dtype: the basic inputs with the keyword arguments `mixed` (dtype=)."""
    def gen(dtype, kind):
        def mk(shape, seed=0):
            return T(shape, dtype, low, high, seed)

        def over(x, nd=None, kw=None):
            for args, kwargs in calls(x.ndim if nd is None else nd):
                yield Sample(x, *args, **dict(kwargs, **(kw or {})))
        if kind == "basic":
            yield from over(mk((3, 4)))
            yield from over(mk((2, 3, 4), seed=1))
            yield from over(mk((64, 16), seed=5))
            if is_float(dtype):
                args, kwargs = calls(2)[-1]
                yield Sample(special(dtype).reshape(3, 4), *args, **kwargs)
        elif kind == "0dim":
            yield from over(mk(()))
        elif kind == "empty":
            x = mk((0, 4))
            for args, kwargs in calls(2):
                if args and (args[0] in empty_dims or (args[0] == -1 and 1 in empty_dims)):
                    yield Sample(x, *args, **kwargs)
                elif not args and 0 in empty_dims and "dim" not in kwargs:  # an op without a dim argument
                    yield Sample(x, **kwargs)
        elif kind == "noncontig":
            x = mk((5, 6), seed=2)
            yield from over(transposed(x))
            yield from over(strided(x))
            yield from over(expanded((4, 6), dtype, low, high, seed=3))
        elif kind == "large":
            yield from over(mk(LARGE, seed=4))
        elif kind == "mixed":
            yield from over(mk((3, 4)), kw=mixed)
            yield from over(transposed(mk((64, 16), seed=5)), kw=mixed)
    return gen


REDUCE_KINDS = ("basic", "0dim", "empty", "noncontig", "large")
DTYPE_KINDS = REDUCE_KINDS + ("mixed",)
TO_FLOAT64 = {"dtype": torch.float64}


def bad_dim(dtype="float32", *args, dim=2, **kwargs):
    return ErrorInput(f"dim_{dim}_of_2d", T((3, 4), dtype), dim, *args, **kwargs)


def empty_reduce(dim=0, dtype="float32"):
    return ErrorInput(f"empty_dim_{dim}", T((0, 4), dtype), dim)


def var_fn(m, x, *args, op="var", **kwargs):
    return getattr(m, op)(x, *args, **kwargs)


def var_calls(nd):
    calls = reduce_calls(nd)
    calls += [((), {"correction": 0}), ((0,), {"correction": 2, "keepdim": True}), ((-1,), {"op": "std"}),
              ((), {"op": "std", "correction": 0})]
    if nd >= 2:
        calls.append((((0, 1),), {"op": "std", "keepdim": True}))
    return calls


def single_dim_calls(nd, kw=None, keepdim=True):
    return reduce_calls(nd, none=False, multi=False, keepdim=keepdim, kw=kw)


def softmax_calls(nd):
    return [((0,), {}), ((-1,), {})]


def masked_scores(shape, dtype, seed=0):
    """Scores with -inf where a random mask is off (attention masking), the first row all -inf."""
    x = T(shape, dtype, seed=seed)
    x = x.masked_fill(T(shape, "bool", seed=seed + 1), -math.inf)
    x[0] = -math.inf
    return x


def with_masked(gen):
    """gen plus a "masked" kind: rows with -inf entries (and an all -inf row), along each dim."""
    def wrapped(dtype, kind):
        if kind != "masked":
            yield from gen(dtype, kind)
            return
        for dim in (0, -1):
            yield Sample(masked_scores((4, 6), dtype), dim)
            yield Sample(masked_scores(LARGE, dtype, seed=1), dim)
    return wrapped


AMAX_EMPTY_BUG = ("amax/amin of an empty tensor without dim raise IndexError 'Expected reduction dim 0 to have "
                  "non-zero size'; torch raises RuntimeError 'amax(): Expected reduction dim to be specified for "
                  "input.numel() == 0'")
ALL_UINT8_BUG = ("{op}() of a uint8 tensor returns bool; torch returns uint8 for uint8 input (all others give bool): "
                 "torch.{op}(torch.tensor([1, 2], dtype=torch.uint8)) is tensor(1, dtype=torch.uint8)")
VAR_HALF_MEAN_BUG = ("var/std of float16/bfloat16 compute in the input dtype, the mean rounded to it: "
                     "var(tensor([1.0, 1.0078125], dtype=bfloat16), correction=0) is 3.05e-05, torch's 1.53e-05 (it "
                     "computes in float32)")
VAR_HALF_OVERFLOW_BUG = ("var/std of float16 accumulate in float16 and overflow: the var of 102,720 values in [-3, 3] "
                         "is NaN (of the first 50,000: inf); torch's is 2.99 (it accumulates in float32)")
# torch's float16/bfloat16 log_softmax along the last dim is not correctly rounded (17% of its results on a
# (320, 321) float16 input are off; vibetensor's are all correctly rounded): log_softmax([-2.5, 0.001,
# 3.0, -0.75]) at 3.0 is -0.07434 in torch, -0.07458 in vibetensor and rounded from float64 (4 ulps)
SOFTMAX_TOL = {"float16": (2e-3, 5e-4), "bfloat16": (1.6e-2, 4e-3)}
MEAN_DTYPE_BUG = ("mean(x, dtype=float64) of a float16/bfloat16 tensor averages in the input dtype and converts the "
                  "result: mean of a (3, 4) float16 tensor is 0.26171875 (a float16 value), torch's 0.2616170247 (the "
                  "float64 mean of the values)")

add(
    OpInfo("sum.dim_IntList", fn=call("sum"), method="sum", dtypes=STD, kinds=DTYPE_KINDS,
           samples=reduction_samples(mixed=TO_FLOAT64),
           errors=err(bad_dim(), ErrorInput("dims_repeated", T((3, 4)), (0, 0)))),
    OpInfo("mean.dim", fn=call("mean"), method="mean", dtypes=FLOATS, kinds=DTYPE_KINDS,
           samples=reduction_samples(mixed=TO_FLOAT64), xfail={"mean.dim-float16-mixed": MEAN_DTYPE_BUG,
                                                               "mean.dim-bfloat16-mixed": MEAN_DTYPE_BUG},
           errors=err(bad_dim(), ErrorInput("dtype_int64", T((3, 4), "int64")),
                      ErrorInput("dtype_bool", T((3, 4), "bool"), 1))),
    OpInfo("max", method="max", dtypes=STD, samples=reduction_samples(calls=lambda nd: [((), {})], empty_dims=()),
           kinds=("basic", "0dim", "noncontig", "large"), errors=err(ErrorInput("empty", T((0, 4))))),
    OpInfo("min", method="min", dtypes=STD, samples=reduction_samples(calls=lambda nd: [((), {})], empty_dims=()),
           kinds=("basic", "0dim", "noncontig", "large"), errors=err(ErrorInput("empty", T((0, 4))))),
    OpInfo("max.dim", fn=call("max"), method="max", dtypes=STD,
           samples=reduction_samples(calls=single_dim_calls, empty_dims=(1,)),
           errors=err(bad_dim(), empty_reduce())),
    OpInfo("min.dim", fn=call("min"), method="min", dtypes=STD,
           samples=reduction_samples(calls=single_dim_calls, empty_dims=(1,)),
           errors=err(bad_dim(), empty_reduce())),
    *[OpInfo(op, method=op, dtypes=STD, samples=reduction_samples(empty_dims=(1,)),
             errors=err(bad_dim(), empty_reduce(), ErrorInput("empty_no_dim", T((0, 4)))),
             xfail_errors={f"{op}-empty_no_dim": AMAX_EMPTY_BUG}) for op in ("amax", "amin")],
    *[OpInfo(op, method=op, dtypes=NO_BOOL_STD,
             samples=reduction_samples(calls=lambda nd: reduce_calls(nd, multi=False), empty_dims=(1,)),
             errors=err(bad_dim(), empty_reduce(), ErrorInput("empty_no_dim", T((0, 4))),
                        ErrorInput("dtype_bool", T((3, 4), "bool"))))
      for op in ("argmax", "argmin")],
    *[OpInfo(op + ".dims", fn=call(op), method=op, dtypes=STD, samples=reduction_samples(), errors=err(bad_dim()),
             xfail={f"{op}.dims-uint8-*": ALL_UINT8_BUG.format(op=op)}) for op in ("all", "any")],
    OpInfo("count_nonzero.dim_IntList", fn=call("count_nonzero"), method="count_nonzero", dtypes=STD,
           samples=reduction_samples(calls=lambda nd: [(a, {}) for a, k in reduce_calls(nd) if "keepdim" not in k]),
           errors=err(bad_dim())),
    OpInfo("logsumexp", method="logsumexp", dtypes=STD,
           samples=reduction_samples(calls=lambda nd: reduce_calls(nd, none=False)),
           errors=err(bad_dim())),
    OpInfo("var.correction", fn=var_fn, dtypes=FLOATS, samples=reduction_samples(calls=var_calls),
           xfail={"var.correction-bfloat16-basic": VAR_HALF_MEAN_BUG,
                  "var.correction-float16-large": VAR_HALF_OVERFLOW_BUG},
           errors=err(bad_dim(), ErrorInput("dtype_int64", T((3, 4), "int64")))),
    *[OpInfo(op, fn=call(op.split(".")[0]), method=op.split(".")[0], dtypes=FLOATS, kinds=DTYPE_KINDS + ("masked",),
             samples=with_masked(reduction_samples(calls=softmax_calls, empty_dims=(0, 1), mixed=TO_FLOAT64)),
             covers=[("_" + op.split(".")[0], f"{op} converts its input (dtype=) and calls it; not bound in Python")],
             errors=err(bad_dim(), ErrorInput("dtype_int64", T((3, 4), "int64"), 1)), tol=SOFTMAX_TOL)
      for op in ("softmax.int", "log_softmax.int")],
)


# =====================================================================================================
# Matrix products
# =====================================================================================================

def matmul_samples(shapes_by_kind, kwargs_by_kind=None):
    """Operands of the given shapes per kind (a list of shape tuples per kind); the noncontig kind
    takes each operand of its shapes transposed (its last two dims) or strided in turn."""
    def gen(dtype, kind):
        for i, shapes in enumerate(shapes_by_kind.get("basic" if kind == "scalar" else kind, [])):
            ops = [T(s, dtype, seed=i * 7 + j) for j, s in enumerate(shapes)]
            kwargs = (kwargs_by_kind or {}).get(kind, [{}])
            for kw in kwargs:
                yield Sample(*ops, **kw)
            if kind == "noncontig":
                for j, x in enumerate(ops):
                    if x.ndim >= 2:
                        yield Sample(*ops[:j], transposed(x), *ops[j + 1:])
                    yield Sample(*ops[:j], strided(x), *ops[j + 1:])
    return gen


# float32 products of 321 terms summed in another order differ by a few ulps of the largest term
MM_TOL = {"float32": (1e-5, 2e-4), "float16": (1e-3, 1e-4), "bfloat16": (1.6e-2, 1e-3)}
BETA_ALPHA = {"scalar": [{"beta": 2, "alpha": 3}, {"beta": 0}, {"beta": 0.5, "alpha": 2}]}
HALF_BIAS_BUG = ("{op} of float16/bfloat16 rounds the matrix product to the input dtype before adding {what} (two "
                 "roundings): 26% of addmm results for (320, 321) @ (321, 48) float16 operands differ from the "
                 "correctly rounded value (torch's: 0.1%), with twice torch's error against float64")
BADDBMM_2D_BUG = ("baddbmm with 2-D batch1/batch2 raises RuntimeError 'batch1 must be a 3D tensor'; torch raises "
                  "IndexError 'Dimension out of range (expected to be in range of [-2, 1], but got 2)'")


MM_KINDS = ("basic", "empty", "noncontig", "large")
MM_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32")


def mm_errors(fn_shapes):
    return err(*[ErrorInput(desc, *[T(s, dt, seed=i) for i, (s, dt) in enumerate(shapes)])
                 for desc, shapes in fn_shapes])


add(
    OpInfo("mm", method="mm", dtypes=MM_DTYPES, kinds=MM_KINDS, tol=MM_TOL,
           samples=matmul_samples({"basic": [((3, 4), (4, 5)), ((1, 4), (4, 1))],
                                   "empty": [((0, 4), (4, 5)), ((3, 0), (0, 5)), ((3, 4), (4, 0))],
                                   "noncontig": [((5, 6), (6, 4))],
                                   "large": [((320, 321), (321, 48))]}),
           errors=mm_errors([("shape_mismatch", [((3, 4), "float32"), ((5, 2), "float32")]),
                             ("1d", [((4,), "float32"), ((4, 5), "float32")]),
                             ("dtype_mismatch", [((3, 4), "float32"), ((4, 5), "float64")])])),
    OpInfo("bmm", method="bmm", dtypes=MM_DTYPES, kinds=MM_KINDS, tol=MM_TOL,
           samples=matmul_samples({"basic": [((2, 3, 4), (2, 4, 5)), ((1, 1, 4), (1, 4, 1))],
                                   "empty": [((0, 3, 4), (0, 4, 5)), ((2, 3, 0), (2, 0, 5))],
                                   "noncontig": [((2, 5, 6), (2, 6, 4))],
                                   "large": [((4, 160, 161), (4, 161, 40))]}),
           errors=mm_errors([("batch_mismatch", [((2, 3, 4), "float32"), ((3, 4, 5), "float32")]),
                             ("2d", [((3, 4), "float32"), ((4, 5), "float32")]),
                             ("dtype_mismatch", [((2, 3, 4), "float32"), ((2, 4, 5), "float64")])])),
    OpInfo("matmul", method="matmul", dtypes=MM_DTYPES, kinds=("basic", "empty", "broadcast", "noncontig", "large"),
           tol=MM_TOL,
           samples=matmul_samples({"basic": [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)),
                                             ((2, 3, 4), (2, 4, 5))],
                                   "empty": [((0,), (0,)), ((0, 4), (4,)), ((2, 0, 4), (4, 5))],
                                   "broadcast": [((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                                                 ((4,), (2, 4, 5)), ((2, 3, 4), (4,))],
                                   "noncontig": [((2, 5, 6), (6, 4))],
                                   "large": [((320, 321), (321, 48)), ((321,), (321, 320))]}),
           errors=mm_errors([("0dim", [((), "float32"), ((3,), "float32")]),
                             ("shape_mismatch", [((3, 4), "float32"), ((5, 2), "float32")]),
                             ("batch_mismatch", [((2, 3, 4), "float32"), ((3, 4, 5), "float32")])])),
    OpInfo("addmm", method="addmm", dtypes=MM_DTYPES,
           kinds=("basic", "empty", "broadcast", "noncontig", "large", "scalar"),
           tol=MM_TOL, xfail=xfails(HALF_BIAS_BUG.format(op="addmm", what="self"), "addmm-float16-large"),
           samples=matmul_samples({"basic": [((3, 5), (3, 4), (4, 5))],
                                   "empty": [((3, 5), (3, 0), (0, 5)), ((0, 5), (0, 4), (4, 5))],
                                   "broadcast": [((5,), (3, 4), (4, 5)), ((3, 1), (3, 4), (4, 5)),
                                                 ((), (3, 4), (4, 5))],
                                   "noncontig": [((5, 4), (5, 6), (6, 4))],
                                   "large": [((320, 48), (320, 321), (321, 48))]}, BETA_ALPHA),
           errors=mm_errors([("shape_mismatch", [((3, 5), "float32"), ((3, 4), "float32"), ((5, 5), "float32")]),
                             ("self_shape", [((2, 5), "float32"), ((3, 4), "float32"), ((4, 5), "float32")])])),
    OpInfo("baddbmm", method="baddbmm", dtypes=MM_DTYPES, tol=MM_TOL,
           kinds=("basic", "empty", "broadcast", "noncontig", "large", "scalar"),
           xfail=xfails(HALF_BIAS_BUG.format(op="baddbmm", what="self"), "baddbmm-float16-large"),
           xfail_errors={"baddbmm-2d": BADDBMM_2D_BUG},
           samples=matmul_samples({"basic": [((2, 3, 5), (2, 3, 4), (2, 4, 5))],
                                   "empty": [((2, 3, 5), (2, 3, 0), (2, 0, 5)), ((0, 3, 5), (0, 3, 4), (0, 4, 5))],
                                   "broadcast": [((3, 5), (2, 3, 4), (2, 4, 5)), ((5,), (2, 3, 4), (2, 4, 5))],
                                   "noncontig": [((2, 5, 4), (2, 5, 6), (2, 6, 4))],
                                   "large": [((4, 160, 40), (4, 160, 161), (4, 161, 40))]}, BETA_ALPHA),
           errors=mm_errors([("2d", [((3, 5), "float32"), ((3, 4), "float32"), ((4, 5), "float32")])])),
    OpInfo("dot", method="dot", dtypes=MM_DTYPES, kinds=("basic", "empty", "noncontig", "large"), tol=MM_TOL,
           samples=matmul_samples({"basic": [((5,), (5,)), ((1,), (1,))], "empty": [((0,), (0,))],
                                   "noncontig": [((7,), (7,))], "large": [((102720,), (102720,))]}),
           errors=mm_errors([("2d", [((3, 4), "float32"), ((3, 4), "float32")]),
                             ("size_mismatch", [((3,), "float32"), ((4,), "float32")]),
                             ("dtype_mismatch", [((3,), "float32"), ((3,), "float64")])])),
    OpInfo("outer", method="outer", dtypes=STD, kinds=("basic", "empty", "noncontig", "large", "mixed"),
           samples=merge(matmul_samples({"basic": [((3,), (4,)), ((1,), (1,))], "empty": [((0,), (4,)), ((3,), (0,))],
                                         "noncontig": [((5,), (6,))], "large": [((320,), (321,))]}),
                         lambda dtype, kind: iter([Sample(T((3,), dtype), T((4,), PARTNER[dtype]))]
                                                  if kind == "mixed" else [])),
           errors=mm_errors([("2d", [((3, 4), "float32"), ((3,), "float32")])])),
    OpInfo("linear", dtypes=MM_DTYPES, nn=True, kinds=("basic", "empty", "noncontig", "large"), tol=MM_TOL,
           xfail=xfails(HALF_BIAS_BUG.format(op="linear", what="the bias"), "linear-float16-basic",
                        "linear-bfloat16-basic", "linear-float16-large"),
           samples=matmul_samples({"basic": [((3, 4), (5, 4), (5,)), ((3, 4), (5, 4)), ((2, 3, 4), (5, 4), (5,)),
                                             ((4,), (5, 4), (5,)), ((3, 4), (5, 4), ())],
                                   "empty": [((0, 4), (5, 4), (5,)), ((3, 0), (5, 0), (5,)), ((3, 4), (0, 4), (0,))],
                                   "noncontig": [((5, 6), (4, 6), (4,))],
                                   "large": [((320, 321), (48, 321), (48,))]}),
           errors=mm_errors([("shape_mismatch", [((3, 4), "float32"), ((5, 3), "float32")]),
                             ("bias_shape", [((3, 4), "float32"), ((5, 4), "float32"), ((3,), "float32")])])),
)


# =====================================================================================================
# Views, shape ops, copies and conversions
# =====================================================================================================

VIEW_DTYPES = ("float32", "bfloat16", "int64", "bool")


def noncontig_versions(x):
    """Transposed, strided and (for 2+ dims) expanded tensors with the values (shape) of x."""
    if x.ndim >= 2:
        yield transposed(x)
    if x.ndim >= 1:
        yield strided(x)
    if x.ndim >= 2:
        yield x[:1].expand(x.shape)


def shaped(cases):
    """Samples from {kind: [(shape, args, kwargs?), ...]}: the input made in `shape`, called with the
    args; for the noncontig kind, each case once per layout of noncontig_versions."""
    def gen(dtype, kind):
        for i, case in enumerate(cases.get(kind, [])):
            shape, args, kwargs = (tuple(case) + ({},))[:3]
            x = T(shape, dtype, seed=i)
            for v in (noncontig_versions(x) if kind == "noncontig" else [x]):
                yield Sample(v, *args, **kwargs)
    return gen


def method_call(name):
    return lambda m, x, *a, **k: getattr(x, name)(*a, **k)


def shape_entry(name, cases, errors, fn=None, method=None, dtypes=VIEW_DTYPES, view=True, **kwargs):
    return OpInfo(name, fn=fn, method=method, dtypes=dtypes, kinds=tuple(k for k in KINDS if k in cases),
                  samples=shaped(cases), view=view,
                  errors=err(*[e if isinstance(e, ErrorInput) else ErrorInput(e[0], T(e[1]), *e[2]) for e in errors]),
                  **kwargs)


def getitem(m, x, key):
    return x[key]


def slices(*key):
    return (key if len(key) > 1 else key[0],)


add(
    shape_entry("view", fn=method_call("view"), cases={
        "basic": [((3, 4), (4, 3)), ((3, 4), (-1,)), ((3, 4), (2, -1, 2)), ((3, 4), ((12,),))],
        "0dim": [((), (1,)), ((), ((),)), ((1,), ((),)), ((), (-1,))],
        "empty": [((0, 4), (4, 0)), ((0, 4), (-1, 2)), ((2, 0), (0,))],
        "noncontig": [((5, 6), (5, 2, 3)), ((5, 6), (5, 6))],
        "large": [(LARGE, (-1,)), (LARGE, (32, 10, 321))]},
        errors=[("incompatible_size", (3, 4), (5,)), ("two_minus_ones", (3, 4), (-1, -1))],
        xfail_errors={}),
    shape_entry("reshape", method="reshape", cases={
        "basic": [((3, 4), ((4, 3),)), ((3, 4), ((-1,),)), ((2, 3, 4), ((6, -1),))],
        "0dim": [((), ((1,),)), ((), ((),)), ((1, 1), ((),))],
        "empty": [((0, 4), ((4, 0),)), ((0, 4), ((-1, 2),))],
        "noncontig": [((5, 6), ((-1,),)), ((5, 6), ((5, 2, 3),)), ((5, 6), ((6, 5),))],
        "large": [(LARGE, ((-1,),)), (LARGE, ((321, 320),))]},
        errors=[("incompatible_size", (3, 4), ((5,),))]),
    shape_entry("permute", method="permute", cases={
        "basic": [((2, 3, 4), ((2, 0, 1),)), ((3, 4), ((1, 0),)), ((2, 3, 4), ((-1, 0, 1),))],
        "0dim": [((), ((),))], "empty": [((0, 4, 2), ((2, 0, 1),))],
        "noncontig": [((5, 6), ((1, 0),))], "large": [(LARGE, ((1, 0),))]},
        errors=[("wrong_ndim", (3, 4), ((0,),)), ("repeated", (3, 4), ((0, 0),)), ("out_of_range", (3, 4), ((0, 2),))]),
    shape_entry("transpose.int", fn=call("transpose"), method="transpose", cases={
        "basic": [((3, 4), (0, 1)), ((2, 3, 4), (-1, 0)), ((3, 4), (1, 1))],
        "0dim": [((), (0, -1))], "empty": [((0, 4), (0, 1))],
        "noncontig": [((5, 6), (0, 1))], "large": [(LARGE, (1, 0))]},
        errors=[("out_of_range", (3, 4), (0, 2))]),
    shape_entry("t", method="t", cases={
        "basic": [((3, 4), ()), ((4,), ())], "0dim": [((), ())], "empty": [((0, 4), ())],
        "noncontig": [((5, 6), ())], "large": [(LARGE, ())]},
        errors=[("3d", (2, 3, 4), ())]),
    shape_entry("expand", fn=method_call("expand"), cases={
        "basic": [((3, 1), (3, 4)), ((1, 4), (2, 3, 4)), ((3, 1), (-1, 4)), ((4,), ((2, 4),))],
        "0dim": [((), (2, 3)), ((), ((),))], "empty": [((0, 1), (0, 4)), ((1, 4), (0, 4))],
        "noncontig": [((5, 1), (5, 6))], "large": [((1, 321), (320, 321))]},
        errors=[("incompatible", (3, 2), (3, 4)), ("fewer_dims", (3, 4), (4,)), ("minus_one_new_dim", (3,), (-1, 3))]),
    shape_entry("squeeze.dims", fn=call("squeeze"), method="squeeze", cases={
        "basic": [((2, 1, 3, 1), ()), ((2, 1, 3), (1,)), ((2, 1, 3, 1), ((1, 3),)), ((2, 1, 3), (0,))],
        "0dim": [((), ()), ((), (0,)), ((), (-1,))], "empty": [((0, 1, 4), ()), ((0, 1, 4), (1,))],
        "noncontig": [((5, 1), ())], "large": [((1, 320, 1, 321), ())]},
        errors=[("out_of_range", (3, 4), (2,))]),
    shape_entry("unsqueeze", method="unsqueeze", cases={
        "basic": [((3, 4), (0,)), ((3, 4), (-1,)), ((3, 4), (1,))],
        "0dim": [((), (0,)), ((), (-1,))], "empty": [((0, 4), (1,))],
        "noncontig": [((5, 6), (1,)), ((5, 6), (2,))], "large": [(LARGE, (1,))]},
        errors=[("out_of_range", (3, 4), (3,))]),
    shape_entry("flatten.using_ints", fn=call("flatten"), method="flatten", cases={
        "basic": [((2, 3, 4), ()), ((2, 3, 4), (1,)), ((2, 3, 4), (0, 1)), ((2, 3, 4), (-2, -1))],
        "0dim": [((), ()), ((), (0, -1))], "empty": [((2, 0, 4), ()), ((2, 0, 4), (1,))],
        "noncontig": [((5, 6), ()), ((5, 6), (1,))], "large": [(LARGE, ())]},
        errors=[("start_after_end", (2, 3, 4), (2, 1))]),
    shape_entry("unflatten.int", fn=call("unflatten"), method="unflatten", cases={
        "basic": [((3, 4), (1, (2, 2))), ((3, 4), (-1, (2, -1))), ((12,), (0, (3, 2, 2)))],
        "empty": [((0, 4), (1, (2, 2))), ((0, 4), (0, (0, 3)))],
        "noncontig": [((5, 6), (1, (2, 3)))], "large": [(LARGE, (0, (32, 10)))]},
        errors=[("bad_sizes", (3, 4), (1, (3, 2))), ("out_of_range", (3, 4), (2, (2, 2)))]),
    shape_entry("narrow", method="narrow", cases={
        "basic": [((3, 4), (1, 1, 2)), ((3, 4), (-1, 0, 0)), ((3, 4), (0, -2, 2))],
        "empty": [((0, 4), (1, 1, 2))], "noncontig": [((5, 6), (1, 2, 3)), ((5, 6), (0, 1, 3))],
        "large": [(LARGE, (1, 100, 200))]},
        errors=[("out_of_range", (3, 4), (1, 3, 2)), ("0dim", (), (0, 0, 1))]),
    shape_entry("split.Tensor", fn=call("split"), method="split", cases={
        "basic": [((5, 4), (2,)), ((5, 4), (3, 1)), ((5, 4), (4, -1)), ((5, 4), (10,))],
        "empty": [((0, 4), (2,)), ((3, 0), (0, 1))], "noncontig": [((5, 6), (2, 1))],
        "large": [(LARGE, (100,))]},
        errors=[("negative_size", (3, 4), (-1,)), ("zero_size", (3, 4), (0,)), ("0dim", (), (1,)),
                ("dim_out_of_range", (3, 4), (1, 2))]),
    shape_entry("split_with_sizes", fn=call("split"), method="split", cases={
        "basic": [((5, 4), ([2, 3],)), ((5, 4), ([1, 0, 3], 1)), ((5, 4), ([4], -1))],
        "empty": [((0, 4), ([0],)), ((3, 0), ([0, 0], 1))], "noncontig": [((5, 6), ([3, 3], 1))],
        "large": [(LARGE, ([100, 221], 1))]},
        errors=[("wrong_total", (3, 4), ([1, 1],)), ("negative", (3, 4), ([4, -1],))]),
    shape_entry("unbind.int", fn=call("unbind"), method="unbind", cases={
        "basic": [((3, 4), ()), ((3, 4), (1,)), ((2, 3, 4), (-1,))],
        "empty": [((0, 4), ()), ((3, 0), (0,))], "noncontig": [((5, 6), (1,))], "large": [(LARGE, ())]},
        errors=[("0dim", (), ()), ("dim_out_of_range", (3, 4), (2,))]),
    shape_entry("select.int", fn=call("select"), method="select", cases={
        "basic": [((3, 4), (1, 2)), ((3, 4), (0, -1)), ((2, 3, 4), (2, 0))],
        "empty": [((0, 4), (1, 2))], "noncontig": [((5, 6), (1, 2)), ((5, 6), (0, 4))],
        "large": [(LARGE, (0, 7))]},
        errors=[("index_out_of_range", (3, 4), (1, 4)), ("dim_out_of_range", (3, 4), (2, 0)), ("0dim", (), (0, 0))]),
    shape_entry("slice.Tensor", fn=getitem, cases={
        "basic": [((3, 4), slices(slice(1, None))), ((3, 4), slices(slice(None), slice(None, None, 2))),
                  ((3, 4), slices(Ellipsis, slice(1, 3))), ((3, 4), slices(slice(-2, None))),
                  ((3, 4), slices(slice(None), slice(5, 10))), ((3, 4), slices(slice(3, 1)))],
        "empty": [((0, 4), slices(slice(None), slice(1, 3)))],
        "noncontig": [((5, 6), slices(slice(1, 4), slice(None, None, 2)))],
        "large": [(LARGE, slices(slice(10, -10, 3)))]},
        errors=[("step_zero", (3, 4), slices(slice(None, None, 0))),
                ("negative_step", (3, 4), slices(slice(None, None, -1)))]),
    shape_entry("as_strided", method="as_strided", cases={
        "basic": [((3, 4), ((2, 2), (1, 2))), ((3, 4), ((2, 3), (4, 1), 1)), ((3, 4), ((3, 2), (1, 1))),
                  ((3, 4), ((2, 3), (0, 1)))],
        "0dim": [((), ((), ())), ((3, 4), ((), (), 5))], "empty": [((3, 4), ((0, 2), (1, 1)))],
        "noncontig": [((5, 6), ((2, 2), (1, 2)))], "large": [(LARGE, ((321, 320), (1, 321)))]},
        errors=[("out_of_storage", (3, 4), ((4, 4), (4, 1))), ("negative_stride", (3, 4), ((2,), (-1,), 3))]),
    shape_entry("diagonal", method="diagonal", cases={
        "basic": [((3, 4), ()), ((3, 4), (1,)), ((3, 4), (-1,)), ((2, 3, 4), (0, 1, 2)), ((3, 4), (5,))],
        "empty": [((0, 4), ())], "noncontig": [((5, 6), ()), ((5, 6), (1, 1, 0))],
        "large": [(LARGE, (3,))]},
        errors=[("same_dims", (3, 4), (0, 1, 1)), ("1d", (4,), ())],
        xfail_errors={"diagonal-1d": "diagonal of a 1-D tensor raises RuntimeError 'diagonal(): expected a tensor with "
                                     "at least 2 dimensions, got 1'; torch raises IndexError 'Dimension out of range "
                                     "(expected to be in range of [-1, 0], but got 1)'"}),
    shape_entry("unfold", fn=method_call("unfold"), cases={
        "basic": [((3, 4), (1, 2, 1)), ((3, 4), (0, 2, 2)), ((2, 3, 4), (-1, 4, 1))],
        "0dim": [((), (0, 1, 1))], "empty": [((0, 4), (1, 2, 1))],
        "noncontig": [((5, 6), (1, 3, 2))], "large": [(LARGE, (1, 4, 3))]},
        errors=[("step_zero", (3, 4), (1, 2, 0)), ("dim_out_of_range", (3, 4), (2, 2, 1)),
                ("size_too_large", (3, 4), (1, 5, 1))]),
    shape_entry("contiguous", fn=method_call("contiguous"), cases={
        "basic": [((3, 4), ())], "0dim": [((), ())], "empty": [((0, 4), ())], "noncontig": [((5, 6), ())],
        "large": [(LARGE, ())]}, errors=[("memory_format", (3, 4), ("channels_last",))]),
    shape_entry("clone", method="clone", view=False, cases={
        "basic": [((3, 4), ())], "0dim": [((), ())], "empty": [((0, 4), ())], "noncontig": [((5, 6), ())],
        "large": [(LARGE, ())]}, errors=[NOT_A_TENSOR]),
    shape_entry("movedim.intlist", fn=call("movedim"), method="movedim", cases={
        "basic": [((2, 3, 4), (0, -1)), ((2, 3, 4), ((0, 1), (2, 0))), ((3, 4), (1, 0))],
        "0dim": [((), (0, 0))], "empty": [((0, 3, 4), (0, 2))], "noncontig": [((5, 6), (0, 1))],
        "large": [(LARGE, (0, 1))]},
        errors=[("repeated", (2, 3, 4), ((0, 0), (1, 2))), ("length_mismatch", (2, 3, 4), ((0, 1), (1,)))]),
)


def copy_samples(dtype, kind):
    def x(shape, seed=0, dt=dtype):
        return T(shape, dt, seed=seed)
    if kind == "basic":
        yield Sample(x((3, 4)), x((3, 4), 1))
    elif kind == "0dim":
        yield Sample(x(()), x((), 1))
        yield Sample(x((3, 4)), x((), 1))
    elif kind == "empty":
        yield Sample(x((0, 4)), x((0, 4), 1))
        yield Sample(x((0, 4)), x((4,), 1))
    elif kind == "broadcast":
        yield Sample(x((3, 4)), x((4,), 1))
        yield Sample(x((2, 3, 4)), x((3, 1), 1))
    elif kind == "noncontig":
        yield Sample(transposed(x((5, 6))), x((5, 6), 1))
        yield Sample(x((5, 6)), transposed(x((5, 6), 1)))
        yield Sample(strided(x((5, 6))), strided(x((5, 6), 1)))
        yield Sample(x((5, 6)), expanded((5, 6), dtype, seed=2))
    elif kind == "large":
        yield Sample(x(LARGE), x(LARGE, 1))
        yield Sample(transposed(x(LARGE)), x(LARGE, 1))
    elif kind == "mixed":
        for other in ALL:
            if other != dtype:
                yield Sample(x((3, 4)), x((3, 4), 1, other if not (is_float(other) and not is_float(dtype)) else other))


def fill_samples(dtype, kind):
    values = {"bool": [True, False], "float32": [2.5, -1], "float64": [2.5, -1], "float16": [2.5, 1e-3],
              "bfloat16": [2.5, -7]}.get(dtype, [3, 0])
    gen = unary_samples()
    for s in gen(dtype, kind if kind != "mixed" else "basic"):
        if kind == "mixed":  # a 0-dim tensor value of another dtype
            yield Sample(s.args[0], T((), PARTNER[dtype], seed=5))
        else:
            for v in values:
                yield Sample(s.args[0], v)
            yield Sample(s.args[0], T((), dtype, seed=5))


def to_samples(dtype, kind):
    low, high = (0, 100) if is_float(dtype) else (None, None)  # float -> integer conversions of negatives are UB
    if kind == "basic":
        x = T((3, 4), dtype, low, high)
        for other in ALL:
            yield Sample(x, getattr(torch, other))
        yield Sample(x, getattr(torch, dtype), copy=True)
        yield Sample(x, dtype=torch.float64)
    elif kind in ("0dim", "empty", "noncontig", "large"):
        for s in unary_samples(low, high, specials=False)(dtype, kind):
            yield Sample(s.args[0], torch.float32 if dtype != "float32" else torch.float16)
            yield Sample(s.args[0], torch.int32 if dtype != "int32" else torch.bfloat16)


def cat_samples(op):
    def gen(dtype, kind):
        def x(shape, seed=0, dt=dtype):
            return T(shape, dt, seed=seed)
        if kind == "basic":
            yield Sample([x((2, 3)), x((2, 3), 1)])
            yield Sample([x((2, 3)), x((2, 3), 1), x((2, 3), 2)], dim=-1)
            yield Sample([x((2, 3))])
            if op == "cat":
                yield Sample([x((2, 3)), x((1, 3), 1)], 0)
                yield Sample((x((2, 3)), x((2, 1), 1)), dim=1)
            else:
                yield Sample([x((2, 3)), x((2, 3), 1)], 2)
        elif kind == "0dim":
            if op == "stack":
                yield Sample([x(()), x((), 1)])
        elif kind == "empty":
            yield Sample([x((0, 3)), x((0, 3), 1)])
            if op == "cat":
                yield Sample([x((2, 3)), x((0, 3), 1)])
                yield Sample([x((2, 3)), x((0,), 1)])  # legacy: 1-D empty tensors are skipped
                yield Sample([x((2, 0)), x((2, 3), 1)], 1)
        elif kind == "noncontig":
            yield Sample([transposed(x((5, 6))), strided(x((5, 6), 1))])
            yield Sample([expanded((5, 6), dtype), x((5, 6), 1)], 1)
        elif kind == "large":
            yield Sample([x(LARGE), x(LARGE, 1)], 1)
        elif kind == "mixed":
            yield Sample([x((2, 3)), x((2, 3), 1, PARTNER[dtype])])
    return gen


def pad_samples(dtype, kind):
    value = True if dtype == "bool" else 3
    for s in unary_samples()(dtype, kind):
        x = s.args[0]
        calls = [((), {})] if x.ndim == 0 else PAD_CALLS[:3] if x.ndim == 1 else PAD_CALLS
        for pad, kwargs in calls:
            if x.numel() == 0 and min(pad) < 0:  # cropping an empty dim (an error input)
                continue
            yield Sample(x, pad, **({"value": value} if kwargs else {}))


PAD_CALLS = [((1, 2), {}), ((-1, 1), {}), ((0, 0), {"value": True}), ((1, 1, 2, 0), {}),
             ((0, 0, 1, 1), {"value": True})]

add(
    OpInfo("copy_", fn=lambda m, x, src: x.copy_(src), samples=copy_samples, dtypes=STD, may_raise=True,
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large", "mixed"),
           errors=err(ErrorInput("shape_mismatch", T((3, 4)), T((5,))),
                      ErrorInput("expanded_self", T((1, 4)).expand(3, 4), T((3, 4))))),
    OpInfo("fill_", fn=lambda m, x, v: x.fill_(v), samples=fill_samples, dtypes=STD, may_raise=True,
           kinds=("basic", "0dim", "empty", "noncontig", "large", "mixed"),
           errors=err(ErrorInput("1d_value", T((3, 4)), T((2,)))),
           xfail=xfails("fill_ of an expanded (zero-stride) tensor raises RuntimeError 'unsupported operation: more "
                        "than one element of the written-to tensor refers to a single memory location'; torch fills it "
                        "(torch.zeros(1, 6).expand(4, 6).fill_(2.5) works, as zero_() does in both)",
                        "fill_-*-noncontig"),
           xfail_errors={"fill_-1d_value": "fill_ with a 1-D tensor value raises TypeError (argument 'value' must be "
                                           "Number); torch raises RuntimeError 'fill_ only supports 0-dimension value "
                                           "tensor but got tensor with 1 dimensions.'"}),
    OpInfo("to", fn=lambda m, x, *a, **k: x.to(*a, **k), samples=to_samples, dtypes=STD, view=False,
           errors=err(ErrorInput("not_a_dtype", T((3, 4)), "float32x"))),
    shape_entry("flip", method="flip", dtypes=STD, view=False, cases={
        "basic": [((3, 4), ((0,),)), ((3, 4), ((0, 1),)), ((2, 3, 4), ((-1, 0),))],
        "0dim": [((), ((),)), ((), ((0,),))], "empty": [((0, 4), ((0, 1),))],
        "noncontig": [((5, 6), ((1,),)), ((5, 6), ((0, 1),))], "large": [(LARGE, ((0,),)), (LARGE, ((1,),))]},
        errors=[("dim_out_of_range", (3, 4), ((2,),)), ("repeated", (3, 4), ((0, 0),))]),
    shape_entry("repeat", fn=method_call("repeat"), dtypes=STD, view=False, cases={
        "basic": [((3, 4), (2, 1)), ((3, 4), (1, 2, 3)), ((3, 4), ((2, 2),))],
        "0dim": [((), (3,)), ((), ((),)), ((), (2, 2))], "empty": [((3, 4), (0, 2)), ((0, 4), (2, 1))],
        "noncontig": [((5, 6), (2, 1))], "large": [((320, 32), (1, 10))]},
        errors=[("fewer_dims", (3, 4), (2,)), ("negative", (3, 4), (-1, 1))]),
    *[shape_entry(op, method=op, dtypes=STD, view=False, cases={
        "basic": [((3, 4), ()), ((3, 4), (1,)), ((3, 4), (-2,)), ((2, 3, 4), (1,)), ((3, 4), (10,))],
        "empty": [((0, 4), ()), ((2, 0, 3), (1,))], "noncontig": [((5, 6), ()), ((5, 6), (-1,))],
        "large": [(LARGE, ()), (LARGE, (5,))]},
        errors=[("1d", (4,), ()), ("0dim", (), ())]) for op in ("triu", "tril")],
    OpInfo("constant_pad_nd", fn=call("pad", nn=True), dtypes=STD,
           kinds=("basic", "0dim", "empty", "noncontig", "large"),
           samples=pad_samples,
           errors=err(ErrorInput("odd_length", T((3, 4)), (1,)), ErrorInput("too_many_dims", T((3,)), (1, 1, 1, 1)),
                      ErrorInput("crop_empty", T((0,)), (-1, 1)))),
    OpInfo("cat", samples=cat_samples("cat"), dtypes=STD, kinds=("basic", "empty", "noncontig", "large", "mixed"),
           errors=err(ErrorInput("shape_mismatch", [T((2, 3)), T((2, 4))]),
                      ErrorInput("dim_out_of_range", [T((2, 3))], 2),
                      ErrorInput("0dim", [T(()), T(())]), ErrorInput("ndim_mismatch", [T((2, 3)), T((3,))]))),
    OpInfo("stack", samples=cat_samples("stack"), dtypes=STD,
           kinds=("basic", "0dim", "empty", "noncontig", "large", "mixed"),
           errors=err(ErrorInput("shape_mismatch", [T((2, 3)), T((2, 4))]),
                      ErrorInput("dim_out_of_range", [T((2, 3))], 3))),
)


# =====================================================================================================
# Indexing: gather/scatter, index_*, masked_*, advanced indexing, take, nonzero, embedding, one_hot
# =====================================================================================================

IDX_KINDS = ("basic", "0dim", "empty", "noncontig", "large", "mixed")
INT32_INDEX_BUG = ("{op} refuses an int32 index (RuntimeError '{op}(): Expected dtype int64 for index'); torch takes "
                   "int32 and int64 indices")
SCATTER_ADD_BOOL_BUG = ("scatter_add on bool raises NotImplementedError '\"scatter_add\" not implemented for 'Bool''; "
                        "torch ors the values in")
SCATTER_HALF_BUG = ("scatter_add, scatter(reduce='add') and scatter_reduce('sum') on float16/bfloat16 accumulate in "
                    "the tensor's dtype: 4096 ones scattered into one float16 element give 2048 (bfloat16: 256); torch "
                    "accumulates in float32 and gives 4096 (on ~40 values per element, vibetensor's error against "
                    "float64 is 5x torch's)")


def perm_index(shape, high, seed=0, dtype="int64"):
    """Index rows without repeats along the last dim (scatter with repeats is nondeterministic)."""
    gen = torch.Generator().manual_seed(seed)
    rows = [torch.randperm(high, generator=gen)[:shape[-1]] for _ in range(math.prod(shape[:-1]))]
    if not rows:
        return torch.zeros(shape, dtype=getattr(torch, dtype))
    return torch.stack(rows).reshape(shape).to(getattr(torch, dtype))


def gather_samples(dtype, kind):
    x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
    if kind == "basic":
        yield Sample(x((3, 4)), 1, index((3, 5), 4))
        yield Sample(x((3, 4)), 0, index((2, 4), 3, seed=1))
        yield Sample(x((2, 3, 4)), -1, index((2, 2, 3), 4, seed=2))
        yield Sample(x((3, 4)), 1, index((2, 2), 4, seed=3))  # an index smaller than self
    elif kind == "0dim":
        yield Sample(x(()), 0, index((), 1))
        yield Sample(x(()), -1, index((), 1))
    elif kind == "empty":
        yield Sample(x((3, 4)), 1, index((3, 0), 4))
        yield Sample(x((0, 4)), 1, index((0, 2), 4))
    elif kind == "noncontig":
        yield Sample(transposed(x((5, 6))), 1, index((5, 3), 6))
        yield Sample(x((5, 6)), 0, strided(index((4, 6), 5)))
        yield Sample(expanded((5, 6), dtype), 1, transposed(index((5, 6), 6)))
    elif kind == "large":
        yield Sample(x(LARGE), 1, index((320, 200), 321))
    elif kind == "mixed":
        yield Sample(x((3, 4)), 1, index((3, 5), 4, dtype="int32"))


def scatter_add_samples(dtype, kind):
    x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
    if kind == "basic":
        yield Sample(x((3, 4)), 1, index((3, 6), 4), x((3, 6), 1))  # repeats accumulate
        yield Sample(x((3, 4)), 0, index((2, 4), 3, seed=1), x((2, 5), 2))  # src larger than index
        yield Sample(x((2, 3, 4)), -1, index((2, 2, 3), 4, seed=2), x((2, 2, 3), 3))
    elif kind == "0dim":
        yield Sample(x(()), 0, index((), 1), x((), 1))
    elif kind == "empty":
        yield Sample(x((3, 4)), 1, index((3, 0), 4), x((3, 0), 1))
    elif kind == "noncontig":
        yield Sample(transposed(x((5, 6))), 1, index((5, 3), 6), strided(x((5, 3), 1)))
        yield Sample(strided(x((5, 6))), 0, transposed(index((6, 5), 5)).mT, x((5, 6), 1))
    elif kind == "large":
        yield Sample(x((320, 8)), 1, index(LARGE, 8), x(LARGE, 1))  # ~40 values into each element
    elif kind == "mixed":
        yield Sample(x((3, 4)), 1, index((3, 6), 4, dtype="int32"), x((3, 6), 1))


def scatter_samples(op, reduce=None):
    """scatter.src / scatter.value / scatter.reduce / scatter_reduce.two: indices without repeats
    for the plain scatters (repeats are nondeterministic there), with repeats for reductions."""
    def extra(dtype, shape, seed):
        if op == "value":
            return [2 if not is_float(dtype) else 2.5] if dtype != "bool" else [True]
        return [T(shape, dtype, seed=seed)]

    def idx(shape, high, seed=0, dt="int64"):
        return perm_index(shape, high, seed, dt) if reduce is None else index(shape, high, seed, dt)

    def gen(dtype, kind):
        x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
        if kind == "basic":
            cases = [((3, 4), 1, (3, 3)), ((3, 4), 0, (2, 4)), ((2, 3, 4), -1, (2, 2, 4))]
        elif kind == "0dim":
            cases = [((), 0, ())]
        elif kind == "empty":
            cases = [((3, 4), 1, (3, 0))]
        elif kind == "large":
            cases = [(LARGE, 1, (320, 300))] if reduce is None else [((320, 16), 1, LARGE)]
        elif kind in ("noncontig", "mixed"):
            cases = [((5, 6), 1, (5, 4))]
        else:
            return
        for i, (shape, dim, ishape) in enumerate(cases):
            high = shape[dim] if shape else 1
            dt = "int32" if kind == "mixed" else "int64"
            if not ishape:
                j = index((), 1, dtype=dt)
            elif reduce is None and dim == 0:  # no repeats down dim 0: a permutation per column
                j = perm_index(ishape[::-1], high, i, dt).mT.contiguous()
            else:
                j = idx(ishape, high, i, dt)
            self_ = x(shape)
            if kind == "noncontig":
                self_ = transposed(self_)
                j = strided(j)
            for e in extra(dtype, ishape, i + 1):
                if kind == "noncontig" and isinstance(e, torch.Tensor):
                    e = transposed(e)
                if reduce is None:
                    yield Sample(self_, dim, j, e)
                else:
                    for r in reduce(dtype):
                        yield Sample(self_, dim, j, e, *r[0], **r[1])
    return gen


def scatter_reduce_modes(dtype):
    modes = ["sum", "prod", "amax", "amin"] + (["mean"] if dtype != "bool" else [])
    return [((m,), {"include_self": inc}) for m in modes for inc in (True, False)]


def index_samples(op):
    """index_select / index_add / index_copy / index_fill: (self, dim, 1-D index[, source or value])."""
    def gen(dtype, kind):
        x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
        # index_copy: repeated positions are nondeterministic; index_add of the large kind: float16
        # sums of repeated positions depend on the order of the additions
        unique = op == "copy" or (op == "add" and kind == "large")

        def idx(n, high, seed=0, dt="int64"):
            return perm_index((n,), high, seed, dt) if unique else index((n,), high, seed, dt)
        if kind == "basic":
            cases = [((3, 4), 1, idx(3, 4)), ((3, 4), 0, idx(2, 3, 1)), ((2, 3, 4), -1, idx(4, 4, 2))]
        elif kind == "0dim":
            cases = [((), 0, index((), 1)), ((3, 4), 1, index((), 4))]
        elif kind == "empty":
            cases = [((3, 4), 1, idx(0, 4)), ((0, 4), 1, idx(2, 4))]
        elif kind == "noncontig":
            cases = [((5, 6), 1, strided(idx(4, 6))), ((5, 6), 0, idx(3, 5, 1))]
        elif kind == "large":
            cases = [(LARGE, 1, idx(100, 321)), (LARGE, 0, idx(50, 320, 1))]
        elif kind == "mixed":
            cases = [((3, 4), 1, idx(3, 4, dt="int32"))]
        elif kind == "scalar":
            cases = [((3, 4), 1, idx(3, 4))]
        else:
            return
        for i, (shape, dim, j) in enumerate(cases):
            self_ = x(shape, i)
            if kind == "noncontig":
                self_ = transposed(self_) if i == 0 else expanded(shape, dtype, seed=i)
            if op == "select":
                yield Sample(self_, dim, j)
                continue
            if op == "fill":
                value = T((), dtype, seed=9)
                yield Sample(self_, dim, j, value)
                yield Sample(self_, dim, j, value.item())
                continue
            src_shape = list(shape)
            if src_shape:
                src_shape[dim] = j.numel()
            src = x(tuple(src_shape), i + 3)
            if kind == "noncontig":
                src = transposed(src)
            if op == "add" and kind == "scalar":
                yield Sample(self_, dim, j, src, alpha=1.5 if not is_float(dtype) and dtype != "bool" else
                             True if dtype == "bool" else -0.5)
            elif op == "add" and kind == "basic" and i == 0:
                yield Sample(self_, dim, j, src, alpha=True if dtype == "bool" else 2)
            else:
                yield Sample(self_, dim, j, src)
    return gen


def masked_samples(op):
    """masked_fill / masked_scatter / masked_select: a bool mask (broadcast in the broadcast kind)."""
    def gen(dtype, kind):
        x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
        m = lambda shape, seed=3: T(shape, "bool", seed=seed)  # noqa: E731
        if kind == "basic":
            cases = [(x((3, 4)), m((3, 4)))]
        elif kind == "0dim":
            cases = [(x(()), m(())), (x((3, 4)), m(()))]
        elif kind == "empty":
            cases = [(x((0, 4)), m((0, 4))), (x((0, 4)), m((4,)))]
        elif kind == "broadcast":
            cases = [(x((3, 4)), m((4,))), (x((2, 3, 4)), m((3, 1))), (x((4,)), m((3, 4)))]
        elif kind == "noncontig":
            cases = [(transposed(x((5, 6))), strided(m((5, 6)))), (expanded((5, 6), dtype), m((5, 6)))]
        elif kind == "large":
            cases = [(x(LARGE), m(LARGE))]
        elif kind == "scalar":
            cases = [(x((3, 4)), m((3, 4)))]
        else:
            return
        for self_, mask in cases:
            if op == "select":
                yield Sample(self_, mask)
            elif op == "scatter":
                n = torch.broadcast_shapes(self_.shape, mask.shape)
                yield Sample(self_, mask, x(n, 5))
            else:
                values = {"bool": [True], "float32": [2.5, -math.inf], "float64": [math.nan]}.get(dtype, [3])
                if kind == "scalar":
                    values = [T((), dtype, seed=7), T((), PARTNER[dtype], seed=7)]
                for v in values:
                    yield Sample(self_, mask, v)
    return gen


def advanced_keys(dtype, kind):
    """(self, key) pairs for x[key] with tensor indices (index.Tensor)."""
    x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
    if kind == "basic":
        yield Sample(x((3, 4)), index((2,), 3))
        yield Sample(x((3, 4)), (slice(None), index((5,), 4)))
        yield Sample(x((3, 4)), index((2, 2), 3, seed=1))
        yield Sample(x((3, 4)), (index((2,), 3), index((2,), 4, seed=1)))
        yield Sample(x((3, 4)), T((3, 4), "bool", seed=2))
        yield Sample(x((3, 4)), T((3,), "bool", seed=2))
        yield Sample(x((2, 3, 4)), (index((2,), 2), slice(None), index((2,), 4, seed=1)))
        yield Sample(x((2, 3, 4)), (slice(None), index((2,), 3), index((2,), 4, seed=1)))
        yield Sample(x((3, 4)), torch.tensor([-1, 0, -3]))
    elif kind == "0dim":
        yield Sample(x((3, 4)), index((), 3))
        yield Sample(x(()), torch.tensor(True))
    elif kind == "empty":
        yield Sample(x((3, 4)), index((0,), 3))
        yield Sample(x((0, 4)), (slice(None), index((3,), 4)))
        yield Sample(x((3, 4)), torch.zeros(3, 4, dtype=torch.bool))
    elif kind == "broadcast":
        yield Sample(x((3, 4)), (index((2, 1), 3), index((1, 3), 4, seed=1)))
        yield Sample(x((3, 4)), (index((), 3), index((5,), 4, seed=1)))
    elif kind == "noncontig":
        yield Sample(transposed(x((5, 6))), strided(index((4,), 5)))
        yield Sample(strided(x((5, 6))), (slice(None), transposed(index((2, 3), 6))))
    elif kind == "large":
        yield Sample(x(LARGE), index((1000,), 320))
        yield Sample(x(LARGE), T(LARGE, "bool", seed=3))
    elif kind == "mixed":
        yield Sample(x((3, 4)), index((2,), 3, dtype="int32"))
        yield Sample(x((3, 4)), T((3, 4), "uint8", low=0, high=1) > 0)


def index_put_samples(dtype, kind):
    x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
    for s in advanced_keys(dtype, kind):
        self_, key = s.args
        keys = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, slice) for k in keys) or self_.ndim == 0:  # index_put takes tensors, not 0-dim self
            continue
        selected = self_[key]
        for accumulate in (False, True):
            unique_keys = keys
            if not accumulate and keys[0].dtype != torch.bool and selected.numel():
                # without accumulate, repeated positions are nondeterministic: make positions unique
                flat = torch.arange(self_.numel()).reshape(self_.shape)[keys]
                if flat.unique().numel() != flat.numel():
                    continue
            yield Sample(self_, unique_keys, x(selected.shape, 5), accumulate,
                         atol=UNORDERED_SUM_ATOL.get(dtype) if accumulate else None)
            if kind != "large":
                yield Sample(self_, unique_keys, x((), 6), accumulate)  # a broadcast value


def take_samples(op):
    def gen(dtype, kind):
        x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
        if op == "take":
            cases = {"basic": [(x((3, 4)), index((5,), 12)), (x((3, 4)), index((2, 3), 12, low=-12))],
                     "0dim": [(x(()), index((), 1)), (x((3, 4)), index((), 12))],
                     "empty": [(x((3, 4)), index((0,), 12)), (x((0, 4)), index((0, 2), 1))],
                     "noncontig": [(transposed(x((5, 6))), index((7,), 30)),
                                   (expanded((5, 6), dtype), strided(index((4,), 30)))],
                     "large": [(x(LARGE), index((5000,), 102720))]}
            for self_, j in cases.get(kind, []):
                yield Sample(self_, j)
            return
        cases = {"basic": [(x((3, 4)), index((3, 2), 4), 1), (x((3, 4)), index((2, 4), 3), 0),
                           (x((3, 4)), index((5,), 12), None)],
                 "0dim": [(x(()), index((), 1), None)],
                 "empty": [(x((3, 4)), index((3, 0), 4), 1)],
                 "broadcast": [(x((3, 4)), index((1, 2), 4), 1), (x((3, 1)), index((3, 5), 1), 1)],
                 "noncontig": [(transposed(x((5, 6))), strided(index((5, 3), 6)), 1)],
                 "large": [(x(LARGE), index((320, 100), 321), 1)],
                 "mixed": [(x((3, 4)), index((3, 2), 4, dtype="int32"), 1)]}
        for self_, j, dim in cases.get(kind, []):
            yield Sample(self_, j, dim) if dim is not None else Sample(self_, j)
    return gen


def nonzero_samples(dtype, kind):
    for s in unary_samples(specials=False)(dtype, kind):
        x = s.args[0]
        yield Sample(x if dtype == "bool" else x * (x > 2).to(x.dtype) if x.numel() else x)


def embedding_samples(dtype, kind):
    w = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
    cases = {"basic": [(index((4,), 5), w((5, 3))), (index((2, 3), 5), w((5, 3)))],
             "0dim": [(index((), 5), w((5, 3)))],
             "empty": [(index((0,), 5), w((5, 3))), (index((2, 3), 5), w((5, 0)))],
             "noncontig": [(strided(index((4,), 6)), transposed(w((6, 3)))),
                           (transposed(index((3, 2), 6)), strided(w((6, 4))))],
             "large": [(index((5000,), 320), w((320, 64)))],
             "mixed": [(index((4,), 5, dtype="int32"), w((5, 3)))]}
    for j, weight in cases.get(kind, []):
        yield Sample(j, weight)
        if kind == "basic":
            yield Sample(j, weight, padding_idx=2)
            yield Sample(j, weight, padding_idx=-1)


def one_hot_samples(dtype, kind):
    cases = {"basic": [(index((5,), 4), {}), (index((2, 3), 4), {"num_classes": 6}),
                       (index((3,), 3), {"num_classes": -1})],
             "0dim": [(index((), 3), {"num_classes": 3})],
             "empty": [(index((0,), 3), {"num_classes": 3}), (index((2, 0), 3), {"num_classes": 4})],
             "noncontig": [(strided(index((4,), 3)), {}), (transposed(index((3, 4), 3)), {"num_classes": 5})],
             "large": [(index((20000,), 5), {})]}
    for j, kwargs in cases.get(kind, []):
        yield Sample(j, **kwargs)


def ierr(desc, *args, **kwargs):
    return ErrorInput(desc, *args, **kwargs)


SELF = T((3, 4))
add(
    OpInfo("gather", method="gather", samples=gather_samples, dtypes=STD, kinds=IDX_KINDS,
           xfail=xfails(INT32_INDEX_BUG.format(op="gather"), "gather-*-mixed"),
           errors=err(ierr("index_out_of_range", SELF, 1, torch.tensor([[0, 4]])),
                      ierr("negative_index", SELF, 1, torch.tensor([[-1]])),
                      ierr("dim_out_of_range", SELF, 2, index((3, 4), 3)),
                      ierr("float_index", SELF, 1, torch.tensor([[0.0]])),
                      ierr("index_ndim", SELF, 1, index((3,), 4)))),
    OpInfo("scatter_add", method="scatter_add", samples=scatter_add_samples, dtypes=STD, kinds=IDX_KINDS,
           xfail={**xfails(INT32_INDEX_BUG.format(op="scatter_add"), "scatter_add-*-mixed"),
                  **xfails(SCATTER_ADD_BOOL_BUG, "scatter_add-bool-*"),
                  **xfails(SCATTER_HALF_BUG, "scatter_add-float16-large", "scatter_add-float16-basic",
                           "scatter_add-bfloat16-basic")},
           errors=err(ierr("index_out_of_range", SELF, 1, torch.tensor([[0, 4]]), T((1, 2))),
                      ierr("index_larger_than_src", SELF, 1, index((3, 4), 4), T((3, 2))),
                      ierr("src_dtype", SELF, 1, index((3, 4), 4), T((3, 4), "float64")),
                      ierr("float_index", SELF, 1, torch.tensor([[0.0]]), T((1, 1))))),
    OpInfo("index_select", method="index_select", samples=index_samples("select"), dtypes=STD, kinds=IDX_KINDS,
           errors=err(ierr("index_out_of_range", SELF, 0, torch.tensor([3])),
                      ierr("matrix_index", SELF, 1, torch.tensor([[1]])),
                      ierr("float_index", SELF, 1, torch.tensor([1.0])),
                      ierr("dim_out_of_range", SELF, 2, torch.tensor([0]))),
           xfail_errors={"index_select-matrix_index": (
               "index_select and index_add with a 2-D index raise RuntimeError; torch raises IndexError "
               "'index_select(): Index is supposed to be a vector'")}),
    OpInfo("index_add", method="index_add", samples=index_samples("add"), dtypes=STD, kinds=IDX_KINDS + ("scalar",),
           errors=err(ierr("index_out_of_range", SELF, 0, torch.tensor([3]), T((1, 4))),
                      ierr("index_length", SELF, 1, torch.tensor([0, 1]), T((3, 3))),
                      ierr("float_index", SELF, 1, torch.tensor([1.0]), T((3, 1))),
                      ierr("source_dtype", SELF, 1, torch.tensor([1]), T((3, 1), "float64")))),
    OpInfo("index_copy", method="index_copy", samples=index_samples("copy"), dtypes=STD, kinds=IDX_KINDS[:-1],
           errors=err(ierr("index_out_of_range", SELF, 0, torch.tensor([3]), T((1, 4))),
                      ierr("int32_index", SELF, 1, torch.tensor([1], dtype=torch.int32), T((3, 1))),
                      ierr("index_length", SELF, 1, torch.tensor([0, 1]), T((3, 3))),
                      ierr("source_dtype", SELF, 1, torch.tensor([1]), T((3, 1), "float64")))),
    OpInfo("index_fill.int_Tensor", fn=call("index_fill"), method="index_fill", samples=index_samples("fill"),
           dtypes=STD, kinds=IDX_KINDS[:-1],
           errors=err(ierr("index_out_of_range", SELF, 0, torch.tensor([3]), 1.0),
                      ierr("1d_value", SELF, 1, torch.tensor([1]), T((2,))),
                      ierr("int32_index", SELF, 1, torch.tensor([1], dtype=torch.int32), 1.0),
                      ierr("float_index", SELF, 1, torch.tensor([1.0]), 1.0)),
           xfail_errors=xfails("index_fill with a non-int64 index raises RuntimeError \"index_copy_(): Expected a long "
                               "tensor for index, but got Float\" (naming index_copy_); torch raises IndexError "
                               "'index_fill_(): Expected dtype int64 for index.'", "index_fill.int_Tensor-float_index",
                               "index_fill.int_Tensor-int32_index")),
    OpInfo("index.Tensor", fn=getitem, samples=advanced_keys, dtypes=STD,
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large", "mixed"),
           errors=err(ierr("index_out_of_range", SELF, torch.tensor([3])),
                      ierr("mask_shape", SELF, torch.ones(4, dtype=torch.bool)),
                      ierr("float_index", SELF, torch.tensor([1.0])),
                      ierr("not_broadcastable", SELF, (torch.tensor([0, 1]), torch.tensor([0, 1, 2]))))),
    OpInfo("index_put", method="index_put", samples=index_put_samples, dtypes=STD,
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large", "mixed"),
           errors=err(ierr("index_out_of_range", SELF, (torch.tensor([3]),), T((4,))),
                      ierr("values_shape", SELF, (torch.tensor([0, 1]),), T((3,))),
                      ierr("values_dtype", SELF, (torch.tensor([0]),), T((4,), "float64")))),
    OpInfo("masked_fill.Scalar", fn=call("masked_fill"), method="masked_fill", samples=masked_samples("fill"),
           dtypes=STD, kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large", "scalar"),
           errors=err(ierr("float_mask", SELF, T((3, 4)), 1.0), ierr("mask_shape", SELF, T((5,), "bool"), 1.0),
                      ierr("1d_value", SELF, T((3, 4), "bool"), T((2,)))),
           xfail_errors={"masked_fill.Scalar-1d_value": (
               "masked_fill converts a value tensor to a number: a 1-element 1-D tensor is taken (torch raises "
               "RuntimeError 'masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 "
               "dimension(s)'), a longer one raises TypeError instead of that RuntimeError")}),
    OpInfo("masked_scatter", method="masked_scatter", samples=masked_samples("scatter"), dtypes=STD,
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large"),
           xfail=xfails("masked_scatter(self, mask, source) with a mask of more dims than self raises RuntimeError "
                        "'masked_scatter: the mask [3, 4] must broadcast to self [4]'; torch broadcasts self and mask "
                        "(a (3, 4) result)", "masked_scatter-*-broadcast"),
           errors=err(ierr("float_mask", SELF, T((3, 4)), T((3, 4))),
                      ierr("source_too_small", SELF, torch.ones(3, 4, dtype=torch.bool), T((5,))),
                      ierr("source_dtype", SELF, T((3, 4), "bool"), T((3, 4), "float64")))),
    OpInfo("masked_select", method="masked_select", samples=masked_samples("select"), dtypes=STD,
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large"),
           errors=err(ierr("float_mask", SELF, T((3, 4))), ierr("mask_shape", SELF, T((5,), "bool")))),
    OpInfo("scatter.src", fn=call("scatter"), method="scatter", samples=scatter_samples("src"), dtypes=STD,
           kinds=IDX_KINDS, xfail=xfails(INT32_INDEX_BUG.format(op="scatter"), "scatter.src-*-mixed"),
           errors=err(ierr("index_out_of_range", SELF, 1, torch.tensor([[4]]), T((1, 1))),
                      ierr("src_dtype", SELF, 1, torch.tensor([[0]]), T((1, 1), "float64")))),
    OpInfo("scatter.value", fn=call("scatter"), method="scatter", samples=scatter_samples("value"), dtypes=STD,
           kinds=IDX_KINDS, xfail=xfails(INT32_INDEX_BUG.format(op="scatter"), "scatter.value-*-mixed"),
           errors=err(ierr("index_out_of_range", SELF, 1, torch.tensor([[4]]), 1.0),
                      ierr("dim_out_of_range", SELF, 2, torch.tensor([[0]]), 1.0))),
    OpInfo("scatter.reduce", fn=call("scatter"), method="scatter", dtypes=NO_BOOL_STD, kinds=IDX_KINDS,
           xfail={**xfails(INT32_INDEX_BUG.format(op="scatter_reduce"), "scatter.reduce-*-mixed"),
                  **xfails(SCATTER_HALF_BUG, "scatter.reduce-float16-large")},
           samples=scatter_samples("src", reduce=lambda dtype: [((), {"reduce": "add"}), ((), {"reduce": "multiply"})]),
           errors=err(ierr("bad_reduce", SELF, 1, torch.tensor([[0]]), T((1, 1)), reduce="max"))),
    OpInfo("scatter_reduce.two", fn=call("scatter_reduce"), method="scatter_reduce", dtypes=STD, kinds=IDX_KINDS,
           xfail={**xfails(INT32_INDEX_BUG.format(op="scatter_reduce"), "scatter_reduce.two-*-mixed"),
                  **xfails(SCATTER_HALF_BUG, "scatter_reduce.two-float16-large")},
           samples=scatter_samples("src", reduce=scatter_reduce_modes),
           errors=err(ierr("bad_reduce", SELF, 1, torch.tensor([[0]]), T((1, 1)), "bogus"),
                      ierr("index_out_of_range", SELF, 1, torch.tensor([[4]]), T((1, 1)), "sum"))),
    OpInfo("take", method="take", samples=take_samples("take"), dtypes=STD, kinds=IDX_KINDS[:-1],
           errors=err(ierr("index_out_of_range", SELF, torch.tensor([12])),
                      ierr("float_index", SELF, torch.tensor([1.0])),
                      ierr("int32_index", SELF, torch.tensor([1], dtype=torch.int32)))),
    OpInfo("take_along_dim", method="take_along_dim", samples=take_samples("take_along_dim"), dtypes=STD,
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large"),
           errors=err(ierr("int32_index", SELF, torch.tensor([[1]], dtype=torch.int32), 1),
                      ierr("ndim_mismatch", SELF, torch.tensor([0]), 1),
                      ierr("float_index", SELF, torch.tensor([[1.0]]), 1))),
    OpInfo("nonzero", method="nonzero", samples=nonzero_samples, dtypes=STD, errors=err(NOT_A_TENSOR),
           xfail_errors=xfails("vt.nonzero(a list) raises AttributeError \"'list' object has no attribute 'nonzero'\"; "
                               "torch raises TypeError \"nonzero(): argument 'input' (position 1) must be Tensor, not "
                               "list\"", "nonzero-not_a_tensor")),
    OpInfo("embedding", fn=call("embedding", nn=True), samples=embedding_samples, dtypes=FLOATS + ("int64",),
           kinds=IDX_KINDS,
           errors=err(ierr("index_out_of_range", torch.tensor([5]), T((5, 3))),
                      ierr("float_index", torch.tensor([1.0]), T((5, 3))),
                      ierr("1d_weight", torch.tensor([1]), T((5,))))),
    OpInfo("one_hot", fn=call("one_hot", nn=True), samples=one_hot_samples, dtypes=("int64",),
           errors=err(ierr("negative", torch.tensor([-1, 0])), ierr("class_too_large", torch.tensor([3]), 3),
                      ierr("float_input", torch.tensor([1.0])),
                      ierr("int32_input", torch.tensor([1], dtype=torch.int32)))),
)


# =====================================================================================================
# Neural-network functions: convolution, pooling, normalization, attention, losses
# =====================================================================================================

# As in test_losses.py: torch computes half-precision losses and norms in float32 and rounds once;
# these tolerances check the values, test_losses.py::test_half_precision_accuracy the precision.
NN_TOL = {"float16": (1e-2, 5e-3), "bfloat16": (5e-2, 3e-2), "float32": (1e-5, 1e-5)}
NN_KINDS = ("basic", "empty", "noncontig", "large")
# float32 convolutions sum 80 products in another order than torch's
CONV_TOL = dict(NN_TOL, float32=(1e-5, 1e-4))
EMPTY_BATCH_BUG = ("{op} of an input with batch size 0 raises RuntimeError 'cannot reshape tensor of 0 elements into "
                   "shape [...] because the unspecified dimension size -1 can be any value and is ambiguous'; torch "
                   "returns an empty result")
POOL_2D_INPUT_BUG = ("{op} of a 2-D input raises IndexError 'Dimension out of range (expected to be in range of [-2, "
                     "1], but got 2)'; torch raises RuntimeError ('non-empty 3D or 4D (batch mode) tensor expected for "
                     "input' / 'Expected 3D or 4D tensor, but got [4, 4]')")


def nn_samples(cases):
    """{kind: [(shapes or tensors, kwargs), ...]}: tensors made in the sample's dtype (a shape) or
    given (a torch tensor, or None); the noncontig kind transposes the first operand's last two dims
    (strides it, for 1-D)."""
    def gen(dtype, kind):
        for i, (shapes, kwargs) in enumerate(cases.get(kind, [])):
            ops = [s if s is None or isinstance(s, torch.Tensor) else
                   (s(dtype) if callable(s) else T(s, dtype, seed=i * 5 + j)) for j, s in enumerate(shapes)]
            if kind == "noncontig":
                ops[0] = transposed(ops[0]) if ops[0].ndim >= 2 else strided(ops[0])
            yield Sample(*ops, **kwargs)
    return gen


def nn_entry(name, cases, errors, fn=None, dtypes=FLOATS, tol=NN_TOL, **kwargs):
    return OpInfo(name, fn=fn or call(name, nn=True), samples=nn_samples(cases), dtypes=dtypes,
                  kinds=tuple(cases), tol=tol, errors=err(*errors), **kwargs)


def probs(shape, seed=0):
    return lambda dtype: T(shape, "float64", seed=seed).softmax(-1).to(getattr(torch, dtype))


def unit(shape, seed=0, low=0.02, high=0.98):
    return lambda dtype: T(shape, dtype, low, high, seed)


def targets(shape, n, seed=0, ignore=None):
    t = index(shape, n, seed)
    if ignore is not None and t.numel():
        t.view(-1)[::3] = ignore
    return t


def loss_cases(x_of, target_of, extra_kwargs=()):
    """Cases of a loss: every reduction and extra keyword arguments, 0-dim, empty, transposed and large
    operands. x_of(shape) and target_of(shape, seed) give a shape (made in the sample's dtype) or a
    function of the dtype making the tensor."""
    def transposed_target(shape):
        t = target_of(shape, 1)
        return lambda d: transposed(t(d) if callable(t) else T(t, d, seed=1))
    x, t = x_of((3, 4)), target_of((3, 4), 1)
    return {"basic": [((x, t), {"reduction": r}) for r in ("mean", "sum", "none")] + [((x, t), dict(k))
                                                                                      for k in extra_kwargs],
            "0dim": [((x_of(()), target_of((), 1)), {"reduction": r}) for r in ("mean", "none")],
            "empty": [((x_of((0, 4)), target_of((0, 4), 1)), {"reduction": r}) for r in ("mean", "sum", "none")],
            "noncontig": [((x_of((5, 6)), transposed_target((5, 6))), {})],
            "large": [((x_of(LARGE), target_of(LARGE, 1)), {"reduction": r}) for r in ("mean", "sum")]}


def same(shape, seed=0):
    return shape


BCE_INPUT = lambda shape: unit(shape)  # noqa: E731
BCE_TARGET = lambda shape, seed: unit(shape, seed, 0.0, 1.0)  # noqa: E731
REDUCTION_NONE_BUG = ("reduction=None raises TypeError (no such overload); torch raises ValueError 'None is not a "
                      "valid value for reduction'")
LOSS_SHAPE_BUG = ("shape mismatches that torch reports as ValueError ('Target size (torch.Size([5])) must be the same "
                  "as input size', 'Expected input batch_size (6) to match target batch_size (5).') raise RuntimeError")


def class_cases(nll):
    """nll_loss / cross_entropy: (N, C) and (N, C, d) inputs with class-index targets, weights,
    ignore_index, label smoothing and (cross_entropy) class-probability targets."""
    def log_probs(shape, seed=0):
        return lambda d: T(shape, "float64", seed=seed).log_softmax(min(1, len(shape) - 1)).to(getattr(torch, d))
    x = log_probs if nll else (lambda shape, seed=0: shape)
    cases = {
        "basic": [((x((4, 3)), targets((4,), 3)), {"reduction": r}) for r in ("mean", "sum", "none")] + [
            ((x((4, 3)), targets((4,), 3), (3,)), {}),
            ((x((4, 3)), targets((4,), 3, ignore=1)), {"ignore_index": 1}),
            ((x((2, 3, 5)), targets((2, 5), 3)), {}),
            ((x((3,)), targets((), 3)), {"reduction": "sum"})],
        "empty": [((x((0, 3)), targets((0,), 3)), {"reduction": r}) for r in ("sum", "none")],
        "noncontig": [((x((5, 4)), targets((5,), 4)), {})],
        "large": [((x((320, 321)), targets((320,), 321)), {}), ((x((4, 10, 2568)), targets((4, 2568), 10)), {})],
    }
    if not nll:
        cases["basic"] += [((x((4, 3)), targets((4,), 3)), {"label_smoothing": 0.2}),
                           ((x((4, 3)), probs((4, 3), 1)), {}),
                           ((x((4, 3)), probs((4, 3), 1), (3,)), {"label_smoothing": 0.1, "reduction": "sum"})]
    return cases


def norm_cases(op):
    if op == "layer_norm":
        return {"basic": [(((3, 4), (4,)), {}), (((3, 4), (4,), (4,), (4,)), {}), (((2, 3, 4), (3, 4)), {"eps": 1e-3})],
                "empty": [(((0, 4), (4,)), {})], "noncontig": [(((5, 6), (6,)), {})],
                "large": [((LARGE, (321,), (321,), (321,)), {})]}
    if op == "rms_norm":
        return {"basic": [(((3, 4), (4,)), {}), (((3, 4), (4,), (4,)), {}), (((2, 3, 4), (3, 4)), {"eps": 1e-3})],
                "empty": [(((0, 4), (4,)), {})], "noncontig": [(((5, 6), (6,)), {})],
                "large": [((LARGE, (321,), (321,)), {})]}
    if op == "group_norm":
        return {"basic": [(((2, 4, 3), 2), {}), (((2, 4, 3), 2, (4,), (4,)), {}), (((2, 6, 2, 2), 3), {"eps": 1e-3}),
                          (((2, 4), 4), {})],
                "empty": [(((0, 4, 3), 2), {})], "noncontig": [(((4, 6), 2), {})],
                "large": [(((4, 16, 1605), 4, (16,), (16,)), {})]}
    if op == "batch_norm":
        def variance(d):
            return T((3,), d, 0.5, 2.0, seed=9)
        return {"basic": [(((4, 3), None, None), {"training": True}),
                          (((4, 3), (3,), variance, (3,), (3,)), {"training": True, "momentum": 0.3}),
                          (((4, 3), (3,), variance, (3,), (3,)), {"training": False}),
                          (((2, 3, 5, 5), None, None), {"training": True, "eps": 1e-3})],
                "noncontig": [(((6, 5), None, None), {"training": True})],
                "large": [(((64, 16, 100), None, None, (16,), (16,)), {"training": True})]}


def norm_fn(op):
    def fn(m, x, *args, **kwargs):
        f = getattr(m.nn.functional, op)
        if op in ("layer_norm", "rms_norm"):
            shape, rest = args[0], args[1:]
            return f(x, tuple(shape.shape), *rest, **kwargs)
        if op == "group_norm":
            return f(x, *args, **kwargs)
        return f(x, *args, **kwargs)
    return fn


def norm_samples(op):
    def gen(dtype, kind):
        for i, (spec, kwargs) in enumerate(norm_cases(op).get(kind, [])):
            ops = []
            for j, s in enumerate(spec):
                if isinstance(s, int) or s is None:
                    ops.append(s)
                elif callable(s):
                    ops.append(s(dtype))
                else:
                    ops.append(T(s, dtype, seed=i * 5 + j))
            if kind == "noncontig":
                ops[0] = transposed(ops[0])
            yield Sample(*ops, **kwargs)
    return gen


NORM_ERRORS = {
    "layer_norm": [ierr("shape_mismatch", T((3, 4)), T((5,))), ierr("int64", T((3, 4), "int64"), T((4,), "int64")),
                   ierr("0dim", T(()), T(()))],
    "rms_norm": [ierr("shape_mismatch", T((3, 4)), T((5,))), ierr("int64", T((3, 4), "int64"), T((4,), "int64"))],
    "group_norm": [ierr("groups_not_dividing", T((2, 4, 3)), 3), ierr("int64", T((2, 4, 3), "int64"), 2)],
    "batch_norm": [ierr("one_value_per_channel", T((1, 3)), None, None, training=True),
                   ierr("stats_shape", T((4, 3)), T((4,)), T((4,)))],
}
BATCH_NORM_ONE_VALUE_BUG = ("batch_norm in training with one value per channel raises RuntimeError; torch raises "
                            "ValueError 'Expected more than 1 value per channel when training, got input size "
                            "torch.Size([1, 3])'")
SDPA_HALF_BUG = ("scaled_dot_product_attention of float16/bfloat16 rounds its intermediates (scores, softmax) to the "
                 "input dtype: on (4, 4, 128, 64) inputs its error against float64 is 6x torch's (which computes in "
                 "float32), 68% of the results are not the correctly rounded value (torch's: 23%)")
BCE_RANGE_BUG = ("binary_cross_entropy of an input outside [0, 1] returns NaN; torch raises RuntimeError 'all elements "
                 "of input should be between 0 and 1'")
BCE_TARGET_DTYPE_BUG = ("binary_cross_entropy takes a target of another dtype than the input (float64, int64, "
                        "float16) and computes in the promoted dtype; torch raises RuntimeError 'Found dtype "
                        "Double but expected Float'")
CROSS_ENTROPY_IGNORE_BUG = ("cross_entropy with class-probability targets ignores ignore_index; torch raises "
                            "RuntimeError 'ignore_index is not supported for floating point target'")


def conv_cases(dims):
    sp = (7,) if dims == 1 else (6, 5)
    k = (3,) if dims == 1 else (3, 2)
    return {
        "basic": [(((2, 3) + sp, (4, 3) + k, (4,)), {}), (((2, 3) + sp, (4, 3) + k), {"stride": 2, "padding": 1}),
                  (((2, 4) + sp, (6, 2) + k, (6,)), {"groups": 2, "dilation": 2}), (((3,) + sp, (4, 3) + k), {}),
                  (((2, 3) + sp, (5, 3) + k, (5,)), {"dilation": 2, "padding": 2}),
                  # 30 output channels (two whole register tiles and a part), 384 window rows
                  # (two blocks of K in the CPU GEMM)
                  (((2, 64) + sp, (30, 64) + k, (30,)), {"padding": 1}),
                  # a pointwise (1x1, stride 1) window: per-sample matrix products, no im2col
                  (((2, 6) + sp, (5, 6) + (1,) * dims, (5,)), {})],
        "padding_same": [(((1, 3) + sp, (2, 3) + k), {"padding": p}) for p in ("same", "valid")],
        "empty": [(((0, 3) + sp, (4, 3) + k), {})],
        "noncontig": [(((2, 3) + sp, (4, 3) + k, (4,)), {}), (((2, 3) + sp, (4, 3) + (1,) * dims), {})],
        "large": [(((4, 16, 1605), (8, 16, 5), (8,)), {"padding": 2})] if dims == 1 else
                 [(((2, 8, 80, 80), (8, 8, 3, 3), (8,)), {"padding": 1})],
    }


def pool_cases(op):
    cases = {"max_pool2d": [((2,), {}), ((3,), {"stride": 2, "padding": 1}), ((2,), {"ceil_mode": True}),
                            ((3,), {"dilation": 2, "stride": 1}), (((2, 3),), {"stride": (1, 2)})],
             "avg_pool2d": [((2,), {}), ((3,), {"stride": 2, "padding": 1}),
                            ((3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
                            ((2,), {"ceil_mode": True}), ((2,), {"divisor_override": 3})],
             "adaptive_avg_pool2d": [(((3, 4),), {}), ((1,), {}), (((7, 9),), {}), (((5, 2),), {})]}[op]
    return {"basic": [(((2, 3, 7, 9),) + a, k) for a, k in cases] + [(((3, 7, 9),) + cases[0][0], cases[0][1])],
            "empty": [(((0, 3, 7, 9),) + cases[0][0], {})],
            "noncontig": [(((2, 3, 7, 9),) + a, k) for a, k in cases[:2]],
            "large": [(((4, 8, 60, 60),) + cases[0][0], cases[0][1])]}


def shaped_first(cases):
    """Samples whose first entry is a shape (made in the dtype) and the rest plain arguments."""
    def gen(dtype, kind):
        for i, (spec, kwargs) in enumerate(cases.get(kind, [])):
            x = T(spec[0], dtype, seed=i)
            for v in (noncontig_versions(x) if kind == "noncontig" else [x]):
                yield Sample(v, *spec[1:], **kwargs)
    return gen


def sdpa_cases():
    q = (2, 3, 4, 8)
    kv = (2, 3, 6, 8)
    big = (4, 4, 128, 64)
    return {"basic": [((q, kv, kv), {}), ((q, kv, kv), {"scale": 0.5}), ((q, kv, kv, (4, 6)), {}),
                      (((4, 8), (6, 8), (6, 5)), {})],
            # attention masks: causal, boolean, additive with -inf
            "masked": [((q, kv, kv), {"is_causal": True}), ((q, kv, kv, lambda d: T((4, 6), "bool", seed=3)), {}),
                       ((q, kv, kv, lambda d: masked_scores((4, 6), d)), {}), ((big, big, big), {"is_causal": True})],
            "empty": [(((2, 3, 0, 8), kv, kv), {}), ((q, (2, 3, 0, 8), (2, 3, 0, 8)), {})],
            "noncontig": [((q, q, q), {})],
            "large": [((big, big, big), {})]}


add(
    *[nn_entry(f"conv{d}d", conv_cases(d), dtypes=FLOATS, tol=CONV_TOL,
               xfail=xfails(f"conv{d}d(padding='same'/'valid') raises NotImplementedError 'string padding is not "
                            f"supported yet'; torch pads to keep the size ('same') or not at all ('valid')",
                            f"conv{d}d-*-padding_same"),
               errors=[ierr("channel_mismatch", T((2, 3) + (7,) * d), T((4, 2) + (3,) * d)),
                       ierr("bad_ndim", T((7,) * 1), T((4, 3) + (3,) * d)),
                       ierr("kernel_too_large", T((2, 3) + (2,) * d), T((4, 3) + (3,) * d)),
                       ierr("dtype_mismatch", T((2, 3) + (7,) * d), T((4, 3) + (3,) * d, "float64")),
                       ierr("bias_size", T((2, 3) + (7,) * d), T((4, 3) + (3,) * d), T((3,)))],
               covers=[("_conv2d_dense", "conv2d (and conv1d) with one group runs it; not bound in Python")] * (d == 2))
      for d in (1, 2)],
    *[OpInfo(op, fn=call(op, nn=True), samples=shaped_first(pool_cases(op)), dtypes=FLOATS, tol=NN_TOL,
             kinds=NN_KINDS, xfail=xfails(EMPTY_BATCH_BUG.format(op=op), f"{op}-*-empty") if op == "max_pool2d" else {},
             errors=err(*([] if op == "adaptive_avg_pool2d" else [ierr("kernel_too_large", T((2, 3, 4, 4)), 5)]),
                        ierr("2d_input", T((4, 4)), 2)),
             xfail_errors=xfails(POOL_2D_INPUT_BUG.format(op=op), f"{op}-2d_input") if op != "avg_pool2d" else {})
      for op in ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d")],
    *[OpInfo(op, fn=norm_fn(op), samples=norm_samples(op), dtypes=FLOATS, tol=NN_TOL,
             kinds=tuple(k for k in KINDS if k in norm_cases(op)),
             xfail=xfails(EMPTY_BATCH_BUG.format(op=op), f"{op}-*-empty") if op == "group_norm" else {},
             xfail_errors=xfails(BATCH_NORM_ONE_VALUE_BUG, "batch_norm-one_value_per_channel"),
             errors=err(*NORM_ERRORS[op]))
      for op in ("layer_norm", "rms_norm", "group_norm", "batch_norm")],
    nn_entry("scaled_dot_product_attention", sdpa_cases(),
             xfail={**xfails(SDPA_HALF_BUG, "scaled_dot_product_attention-float16-large"),
                    **xfails(SDPA_HALF_BUG, "scaled_dot_product_attention-float16-masked"),
                    **xfails(SDPA_HALF_BUG, "scaled_dot_product_attention-bfloat16-masked")},
             errors=[ierr("head_dim_mismatch", T((2, 4, 8)), T((2, 6, 7)), T((2, 6, 8))),
                     ierr("int64", T((2, 4, 8), "int64"), T((2, 6, 8), "int64"), T((2, 6, 8), "int64"))]),
    *[nn_entry(op, loss_cases(same, same, extra),
               errors=[ierr("shape_mismatch", T((6,)), T((5,))),
                       ierr("bad_reduction", T((3,)), T((3,)), reduction="bogus"),
                       ierr("reduction_none", T((3,)), T((3,)), reduction=None)],
               xfail_errors={f"{op}-reduction_none": REDUCTION_NONE_BUG})
      for op, extra in (("mse_loss", ()), ("l1_loss", ()),
                        ("smooth_l1_loss", ({"beta": 0.5}, {"beta": 0.0}, {"beta": 10.0, "reduction": "sum"})))],
    nn_entry("binary_cross_entropy", loss_cases(BCE_INPUT, BCE_TARGET, ({"weight": None},)),
             errors=[ierr("out_of_range", T((3,), low=1.5, high=2.0), T((3,), low=0, high=1)),
                     ierr("target_dtype", T((3,), low=0.1, high=0.9), T((3,), "float64", low=0, high=1))],
             xfail_errors={"binary_cross_entropy-out_of_range": BCE_RANGE_BUG,
                           "binary_cross_entropy-target_dtype": BCE_TARGET_DTYPE_BUG}),
    nn_entry("binary_cross_entropy_with_logits", loss_cases(same, BCE_TARGET),
             errors=[ierr("shape_mismatch", T((6,)), T((5,), low=0, high=1))],
             xfail_errors={"binary_cross_entropy_with_logits-shape_mismatch": LOSS_SHAPE_BUG}),
    nn_entry("nll_loss", class_cases(True),
             errors=[ierr("batch_mismatch", T((6, 3)), targets((5,), 3)),
                     ierr("class_out_of_range", T((2, 3)), torch.tensor([0, 3])),
                     ierr("float_target", T((2, 3)), T((2,)))],
             xfail_errors={"nll_loss-batch_mismatch": LOSS_SHAPE_BUG}),
    nn_entry("cross_entropy_loss", class_cases(False), fn=call("cross_entropy", nn=True),
             errors=[ierr("batch_mismatch", T((6, 3)), targets((5,), 3)),
                     ierr("class_out_of_range", T((2, 3)), torch.tensor([0, 3])),
                     ierr("probability_ignore_index", T((2, 3)), T((2, 3), low=0, high=1), ignore_index=1)],
             xfail_errors={"cross_entropy_loss-batch_mismatch": LOSS_SHAPE_BUG,
                           "cross_entropy_loss-probability_ignore_index": CROSS_ENTROPY_IGNORE_BUG}),
)


# =====================================================================================================
# Random ops (compared by shape, dtype, statistics and reproducibility) and factories
# =====================================================================================================

def sigma(n, sd):
    """A tolerance for the difference of two sample means of n values with standard deviation sd:
    six standard deviations of that difference."""
    return 6 * math.sqrt(2) * sd / math.sqrt(max(n, 1))


def moments(v, want_mean, want_sd, tol_scale=1.0):
    """Mean and standard deviation, with tolerances for comparing the two libraries' values."""
    n = v.numel()
    if n < 1000:
        return {}
    return {"mean": (v.mean().item(), tol_scale * sigma(n, want_sd)),
            "std": (v.std().item(), tol_scale * sigma(n, want_sd) * 1.5)}


def uniform_stats(t, sample):
    lo, hi = (list(sample.args[1:3]) + [0.0, 1.0][len(sample.args[1:3]):]) if sample.args else (0.0, 1.0)
    lo, hi = sample.kwargs.get("from", lo), sample.kwargs.get("to", hi)
    v = t.double()
    stats = {"in_range": (bool(((v >= lo) & (v <= hi)).all()), None)}
    stats.update(moments(v, (lo + hi) / 2, (hi - lo) / math.sqrt(12)))
    return stats


def normal_stats(t, sample):
    mean, std = (list(sample.args[1:3]) + [0.0, 1.0][len(sample.args[1:3]):]) if sample.args else (0.0, 1.0)
    mean, std = sample.kwargs.get("mean", mean), sample.kwargs.get("std", std)
    v = t.double()
    return {"finite": (bool(v.isfinite().all()), None), **moments(v, mean, std)}


def random_stats(t, sample):
    lo, hi = sample.args[1], sample.args[2] if len(sample.args) > 2 else sample.kwargs.get("to")
    v = t.double()
    stats = {"integral": (bool((v == v.round()).all()), None),
             "in_range": (bool(((v >= lo) & (v < hi)).all()), None)}
    stats.update(moments(v, (lo + hi - 1) / 2, (hi - lo) / math.sqrt(12)))
    return stats


def bernoulli_stats(t, sample):
    p = sample.args[1]
    p_mean = p.double().mean().item() if isinstance(p, torch.Tensor) else p
    v = t.double()
    return {"zero_or_one": (bool(((v == 0) | (v == 1)).all()), None),
            **moments(v, p_mean, math.sqrt(max(p_mean * (1 - p_mean), 1e-3)))}


def dropout_stats(t, sample):
    x, p = sample.args[0].double(), sample.kwargs.get("p", 0.5)
    train = sample.kwargs.get("training", True)
    v = t.double()
    if not train or p == 0:
        return {"identity": (bool(torch.equal(v, x)), None)}
    if p == 1:
        return {"zeros": (bool((v == 0).all()), None)}
    kept = v != 0
    scaled = x / (1 - p)
    stats = {"kept_scaled": (bool(torch.isclose(v[kept], scaled[kept], rtol=1e-2, atol=1e-3).all()), None)}
    if v.numel() >= 1000:
        stats["dropped"] = ((~kept).double().mean().item(), sigma(v.numel(), math.sqrt(p * (1 - p))))
    return stats


def multinomial_stats(t, sample):
    probs, n = sample.args[0], sample.args[1]
    replacement = sample.args[2] if len(sample.args) > 2 else sample.kwargs.get("replacement", False)
    categories = probs.shape[-1]
    v = t.double()
    stats = {"in_range": (bool(((v >= 0) & (v < categories)).all()), None),
             "drawn_from_support": (bool((probs.double().gather(-1, t.view(probs.shape[:-1] + (-1,))) > 0).all())
                                    if t.numel() else True, None)}
    if not replacement and t.numel():
        rows = t.view(-1, t.shape[-1])
        stats["no_repeats"] = (all(r.unique().numel() == r.numel() for r in rows), None)
    if replacement and v.numel() >= 1000:
        p = probs.double().view(-1, categories)[0]
        p = p / p.sum()
        mean = (p * torch.arange(categories, dtype=torch.float64)).sum().item()
        sd = math.sqrt((p * (torch.arange(categories, dtype=torch.float64) - mean) ** 2).sum().item())
        stats["mean"] = (v.view(-1, t.shape[-1])[0].mean().item(), sigma(t.shape[-1], sd))
    return stats


def multinomial_samples(dtype, kind):
    def p(shape, seed=0):
        return T(shape, dtype, 0.0, 1.0, seed=seed)
    cases = {"basic": [(p((5,)), 3), (p((5,)), 4, True), (p((2, 6)), 2), (p((2, 6)), 5, True),
                       (torch.tensor([0.0, 1.0, 0.0, 2.0]).to(getattr(torch, dtype)), 2)],
             "empty": [(p((0, 5)), 2)],
             "noncontig": [(transposed(p((6, 2))), 2), (strided(p((5,))), 3, True)],
             "large": [(p((10,)), 102720, True), (p((320, 321)), 5)]}
    for c in cases.get(kind, []):
        yield Sample(*c)


def randperm_stats(t, sample):
    return {"permutation": (bool(torch.equal(t.sort().values, torch.arange(sample.args[0]).to(t.dtype))), None)}


def random_fill_samples(call_args, low=None, high=None):
    """In-place random fills: self of each shape class (in the entry's dtype), called with each of
    `call_args` ((args, kwargs) pairs)."""
    def gen(dtype, kind):
        for s in unary_samples(low, high, specials=False)(dtype, kind):
            if 0 in s.args[0].stride() and s.args[0].numel() > 1:  # filling an expanded tensor: an error input
                continue
            for args, kwargs in call_args:
                yield Sample(s.args[0], *args, **kwargs)
    return gen


EXPANDED_SELF = T((1, 4)).expand(3, 4)


def inplace_method(name):
    return lambda m, x, *a, **k: getattr(x, name)(*a, **k)


RANDOM_KINDS = ("basic", "0dim", "empty", "noncontig", "large")


def uniform_samples(dtype, kind):
    if kind == "factory":  # rand and rand_like draw through uniform_
        yield Sample(LARGE, fn=lambda m, shape: m.rand(*shape, dtype=getattr(m, dtype)))
        yield Sample(T(LARGE, dtype), fn=lambda m, x: m.rand_like(x))
    else:
        yield from random_fill_samples([((), {}), ((-2.0, 3.0), {}), ((), {"to": 0.5})])(dtype, kind)


def normal_samples(dtype, kind):
    if kind == "factory":  # randn and randn_like draw through normal_
        yield Sample(LARGE, fn=lambda m, shape: m.randn(*shape, dtype=getattr(m, dtype)))
        yield Sample(T(LARGE, dtype), fn=lambda m, x: m.randn_like(x))
    else:
        yield from random_fill_samples([((), {}), ((2.0, 0.5), {}), ((), {"std": 3.0})])(dtype, kind)


def randint_samples(dtype, kind):
    if kind == "factory":  # randint draws through random_
        yield Sample(T(LARGE, dtype), 3, 17, fn=lambda m, x, lo, hi: m.randint(lo, hi, tuple(x.shape), dtype=x.dtype))
    else:
        yield from random_fill_samples([((0, 5), {}), ((3, 10), {}), ((0,), {"to": 100})])(dtype, kind)


def bernoulli_samples(dtype, kind):
    if kind == "factory":  # bernoulli(p) draws through bernoulli_
        p = T(LARGE, dtype if is_float(dtype) else "float32", 0.0, 1.0)
        yield Sample(p, p, fn=lambda m, p, _: m.bernoulli(p))
        return
    for s in random_fill_samples([((), {})])(dtype, kind):
        for p in (0.3, T(s.args[0].shape, "float32", 0.0, 1.0, seed=4)):
            yield Sample(s.args[0], p)


def dropout_samples(dtype, kind):
    for s in unary_samples(specials=False)(dtype, kind):
        for kwargs in ({"p": 0.5}, {"p": 0.2, "training": True}, {"p": 0.5, "training": False}, {"p": 0.0},
                       {"p": 1.0}):
            yield Sample(s.args[0], **kwargs)


def factory(args_by_kind):
    """Factory calls: the args of each kind, with dtype= the sample's dtype."""
    def gen(dtype, kind):
        for args in args_by_kind.get(kind, []):
            yield Sample(*args, dtype=getattr(torch, dtype))
    return gen


def arange_samples(dtype, kind):
    if kind == "mixed":  # no dtype: inferred from the numbers
        for args, kwargs in ARANGE_CALLS["basic"] + [((0, 10), {}), ((2.5,), {})]:
            yield Sample(*args, **kwargs)
        return
    for args, kwargs in ARANGE_CALLS.get(kind, []):
        if is_float(dtype) or all(float(v).is_integer() for v in list(args) + list(kwargs.values())):
            yield Sample(*args, dtype=getattr(torch, dtype), **kwargs)


def full_samples(dtype, kind):
    dt = getattr(torch, dtype)
    if kind == "mixed":  # no dtype: inferred from the fill value
        for value in (2, 2.5, True, -7):
            yield Sample((2, 3), value)
        yield Sample((2,), math.inf, dtype=torch.float16)
        return
    cases = {"basic": [((2, 3), scalar_for(dtype)[0]), ([4], 1)], "0dim": [((), scalar_for(dtype)[0])],
             "empty": [((0, 3), 1)], "large": [(LARGE, 1)]}
    for size, value in cases[kind]:
        yield Sample(size, value, dtype=dt)
ARANGE_CALLS = {
    "basic": [((5,), {}), ((1, 10, 3), {}), ((10, 0, -2), {}), ((-3, 3), {}), ((0, 1, 0.25), {}), ((1.5, 4.0), {}),
              ((0, 2.5, 0.5), {})],
    "empty": [((0,), {}), ((3, 3), {}), ((5, 5), {"step": 2})],
    "large": [((102720,), {}), ((0, 102720, 3), {})],
}

add(
    OpInfo("uniform_", fn=inplace_method("uniform_"), compare="random", stats=uniform_stats, dtypes=FLOATS,
           kinds=RANDOM_KINDS + ("factory",), samples=uniform_samples,
           errors=err(ierr("from_above_to", T((3,)), 2.0, 1.0), ierr("int64", T((3,), "int64")),
                      ierr("expanded_self", EXPANDED_SELF))),
    OpInfo("normal_", fn=inplace_method("normal_"), compare="random", stats=normal_stats, dtypes=FLOATS,
           kinds=RANDOM_KINDS + ("factory",), samples=normal_samples,
           errors=err(ierr("negative_std", T((3,)), 0.0, -1.0), ierr("int64", T((3,), "int64")),
                      ierr("expanded_self", EXPANDED_SELF))),
    OpInfo("random_.from", fn=inplace_method("random_"), compare="random", stats=random_stats,
           dtypes=("float32", "float64", "int64", "int32", "uint8", "bfloat16"), kinds=RANDOM_KINDS + ("factory",),
           samples=randint_samples,
           errors=err(ierr("from_not_below_to", T((3,)), 5, 5), ierr("to_out_of_range", T((3,), "uint8"), 0, 300),
                      ierr("expanded_self", EXPANDED_SELF, 0, 5))),
    OpInfo("bernoulli_.Tensor", fn=inplace_method("bernoulli_"), compare="random", stats=bernoulli_stats,
           dtypes=FLOATS + ("int64", "bool"), kinds=RANDOM_KINDS + ("factory",), samples=bernoulli_samples,
           errors=err(ierr("p_above_1", T((3,)), 1.5), ierr("p_shape", T((3,)), T((4,), low=0, high=1)),
                      ierr("expanded_self", EXPANDED_SELF, 0.5))),
    OpInfo("dropout", fn=call("dropout", nn=True), compare="random", stats=dropout_stats, dtypes=FLOATS,
           kinds=RANDOM_KINDS, samples=dropout_samples,
           errors=err(ierr("p_above_1", T((3,)), 1.5), ierr("negative_p", T((3,)), -0.1))),
    OpInfo("randperm", compare="random", stats=randperm_stats, dtypes=("int64", "int32", "float32"),
           kinds=("basic", "empty", "large"),
           samples=factory({"basic": [(5,), (100,)], "empty": [(0,)], "large": [(102720,)]}),
           errors=err(ierr("negative", -1), ierr("too_large_for_dtype", 300, dtype=torch.uint8))),
    OpInfo("multinomial", method="multinomial", compare="random", stats=multinomial_stats, dtypes=FLOATS,
           kinds=("basic", "empty", "noncontig", "large"), samples=multinomial_samples,
           errors=err(ierr("too_many_without_replacement", T((3,), low=0, high=1), 4),
                      ierr("negative_probability", torch.tensor([0.5, -0.1]), 1),
                      ierr("all_zero", torch.zeros(3), 1), ierr("3d", T((2, 2, 2), low=0, high=1), 1),
                      ierr("zero_samples", T((5,), low=0, high=1), 0),
                      ierr("int64", torch.tensor([1, 2]), 1))),
    OpInfo("arange", dtypes=("int64", "float32", "float64", "float16", "int32", "bfloat16"),
           kinds=("basic", "empty", "large", "mixed"), samples=arange_samples,
           errors=err(ierr("step_zero", 0, 5, 0), ierr("wrong_sign", 0, 5, -1), ierr("bool", 5, dtype=torch.bool))),
    OpInfo("full", dtypes=STD, kinds=("basic", "0dim", "empty", "large", "mixed"), samples=full_samples,
           errors=err(ierr("negative_size", (-1, 3), 1.0), ierr("int_overflow", (2,), 300, dtype=torch.uint8))),
    OpInfo("empty", compare="meta", dtypes=STD, kinds=("basic", "0dim", "empty", "large"),
           fn=lambda m, *a, **k: m.empty(*a, **k),
           samples=factory({"basic": [(2, 3), ((4,),)], "0dim": [((),)], "empty": [(0, 3)], "large": [LARGE]}),
           errors=err(ierr("negative_size", -1, 3))),
)


# =====================================================================================================
# Sorting and selection, scans, products, norms, rearrangements, counting, interpolation
# =====================================================================================================

def gathered(m, x, indices, dim, keepdim=True):
    """x's values at `indices` along `dim` (the index-valued result of sort/topk/kthvalue/median
    made comparable where ties make the indices implementation-defined)."""
    if x.ndim == 0:
        return x
    if not keepdim:
        indices = indices.unsqueeze(dim)
    out = x.gather(dim, indices)
    return out if keepdim else out.squeeze(dim)


def values_indices(op, dim_of, keepdim_of=lambda a, k: True):
    """fn for ops returning (values, indices): values as they are, indices as the values they select
    (ties), and the result's field names."""
    def fn(m, x, *args, **kwargs):
        r = getattr(m, op)(x, *args, **kwargs)
        dim = dim_of(x, args, kwargs)
        return r.values, gathered(m, x, r.indices, dim, keepdim_of(args, kwargs)), r.indices.dtype, type(r).__name__
    return fn


def sort_fn(m, x, *args, **kwargs):
    r = m.sort(x, *args, **kwargs)
    dim = args[0] if args else kwargs.get("dim", -1)
    permutation = r.indices.sort(dim).values if x.ndim else r.indices
    return r.values, gathered(m, x, r.indices, dim), permutation, type(r).__name__


def argsort_fn(m, x, *args, **kwargs):
    idx = m.argsort(x, *args, **kwargs)
    dim = args[0] if args else kwargs.get("dim", -1)
    return gathered(m, x, idx, dim), idx.sort(dim).values if x.ndim else idx


def topk_fn(m, x, k, *args, **kwargs):
    r = m.topk(x, k, *args, **kwargs)
    dim = args[0] if args else kwargs.get("dim", -1)
    values = r.values if kwargs.get("sorted", True) or x.ndim == 0 else r.values.sort(dim).values
    picked = gathered(m, x, r.indices, dim)
    if not kwargs.get("sorted", True) and x.ndim:
        picked = picked.sort(dim).values
    return values, picked, r.indices.dtype, type(r).__name__


def dim_arg(position, default=-1):
    return lambda x, a, k: a[position] if len(a) > position else k.get("dim", default)


def keepdim_arg(position):
    return lambda a, k: a[position] if len(a) > position else k.get("keepdim", False)


def sort_calls(nd):
    return [((), {}), ((0,), {}), ((-1, True), {}), ((), {"descending": True, "dim": 0})]


def topk_calls(nd):
    if nd == 0:
        return [((1,), {}), ((0,), {})]
    return [((1,), {}), ((2, 0), {}), ((3, -1, False), {}), ((2,), {"sorted": False}), ((0,), {})]


def kth_calls(nd):
    if nd == 0:
        return [((1,), {}), ((1, 0, True), {})]
    return [((1,), {}), ((2, 0), {}), ((3, -1, True), {})]


def median_dim_calls(nd):
    return [((0,), {}), ((-1, True), {})]


def cum_calls(nd):
    return [((0,), {}), ((-1,), {})]


def norm_calls(nd):
    calls = [((), {}), ((1,), {}), ((math.inf,), {}), ((-math.inf,), {}), ((0,), {}), ((3.5,), {}),
             ((2, 0), {}), ((1, -1, True), {})]
    if nd >= 2:
        calls.append(((2, (0, 1)), {}))
    return calls


# torch multiplies float16/bfloat16 products in the input dtype, rounding at every step (69% of its
# prod(x, -1) of (64, 16) float16 values are not the correctly rounded product; vibetensor's all are):
# tolerances of torch's error, a few ulps
PROD_TOL = {"float16": (8e-3, 1e-3), "bfloat16": (6e-2, 1e-2)}
HALF_COMPOSITE_BUG = ("{op} of float16/bfloat16 rounds intermediates to the operands' dtype (a composite of "
                      "half-precision ops; torch computes in float32 and rounds once): on (320, 321) float16 inputs "
                      "{share} of the results are not the correctly rounded value (torch's: 0%), with up to 2x torch's "
                      "error; with float16 self and bfloat16 operands, addcmul/addcdiv differ from torch's float32 "
                      "result by 0.013")


def no_expanded(gen):
    def wrapped(dtype, kind):
        for sample in gen(dtype, kind):
            if 0 not in sample.args[0].stride() or sample.args[0].numel() <= 1:
                yield sample
    return wrapped


def einsum_samples(dtype, kind):
    x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
    cases = {"basic": [("ij,jk->ik", (3, 4), (4, 5)), ("ii->i", (4, 4)), ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
                       ("i,j->ij", (3,), (4,)), ("...ij->...ji", (2, 3, 4)), ("ij->", (3, 4)),
                       ("ij,ij->i", (3, 4), (3, 4)),
                       ("i,i", (5,), (5,)), ("ijk", (2, 3, 4)), ("ji", (3, 4))],
             "0dim": [(",->", (), ()), ("i,->i", (3,), ())],
             "empty": [("ij,jk->ik", (0, 4), (4, 5)), ("ij,jk->ik", (3, 0), (0, 5))],
             "broadcast": [("...ij,jk->...ik", (2, 3, 4), (4, 5)), ("bij,bjk->bik", (1, 3, 4), (2, 4, 5))],
             "noncontig": [("ij,jk->ik", (5, 6), (6, 4))],
             "large": [("ij,j->i", (320, 321), (321,)), ("ij->j", LARGE)]}
    for i, (eq, *shapes) in enumerate(cases.get(kind, [])):
        ops = [x(s, i * 3 + j) for j, s in enumerate(shapes)]
        if kind == "noncontig":
            ops = [transposed(o) for o in ops]
        yield Sample(eq, *ops)


def tensordot_samples(dtype, kind):
    x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
    cases = {"basic": [((3, 4, 5), (4, 5, 2), 2), ((3, 4), (4, 5), 1), ((3, 4), (5,), 0),
                       ((3, 4, 5), (5, 3, 2), ([0, 2], [1, 0]))],
             "0dim": [((), (), 0)], "empty": [((0, 4), (4, 5), 1), ((3, 0), (0, 5), 1)],
             "noncontig": [((5, 6), (6, 4), 1)], "large": [((320, 321), (321, 48), 1)]}
    for i, (a, b, dims) in enumerate(cases.get(kind, [])):
        ta, tb = x(a, i), x(b, i + 1)
        if kind == "noncontig":
            ta, tb = transposed(ta), transposed(tb)
        yield Sample(ta, tb, dims=dims)


def search_samples(op):
    def gen(dtype, kind):
        def sorted_seq(shape, seed=0):
            return T(shape, dtype, seed=seed).sort(-1).values
        x = lambda shape, seed=5: T(shape, dtype, seed=seed)  # noqa: E731
        if op == "bucketize":
            cases = {"basic": [(x((3, 4)), sorted_seq((5,)), {}), (x((3, 4)), sorted_seq((5,)), {"right": True}),
                               (x((6,)), sorted_seq((4,)), {"out_int32": True})],
                     "0dim": [(x(()), sorted_seq((5,)), {})],
                     "empty": [(x((0, 4)), sorted_seq((5,)), {}), (x((3,)), sorted_seq((0,)), {})],
                     "noncontig": [(transposed(x((5, 6))), strided(sorted_seq((7,))), {})],
                     "large": [(x(LARGE), sorted_seq((100,)), {})]}
            for v, b, kw in cases.get(kind, []):
                yield Sample(v, b, **kw)
            return
        cases = {"basic": [(sorted_seq((5,)), x((3, 4)), {}), (sorted_seq((5,)), x((3, 4)), {"right": True}),
                           (sorted_seq((3, 5)), x((3, 4)), {}), (sorted_seq((3, 5)), x((3, 4)), {"side": "right"}),
                           (sorted_seq((5,)), x((6,)), {"out_int32": True}),
                           (T((5,), dtype, seed=1), x((4,)), {"sorter": T((5,), dtype, seed=1).argsort()})],
                 "0dim": [(sorted_seq((5,)), x(()), {})],
                 "empty": [(sorted_seq((0,)), x((3,)), {}), (sorted_seq((5,)), x((0,)), {})],
                 "noncontig": [(transposed(sorted_seq((4, 6))), transposed(x((4, 5))), {})],
                 "large": [(sorted_seq((1000,)), x(LARGE), {})],
                 "scalar": [(sorted_seq((5,)), scalar_for(dtype)[0], {})]}
        for seq, v, kw in cases.get(kind, []):
            yield Sample(seq, v, **kw)
    return gen


def bincount_samples(dtype, kind):
    cases = {"basic": [(index((10,), 5), {}), (index((10,), 5), {"minlength": 8}),
                       (index((10,), 5), {"weights": T((10,), seed=2)}),
                       (index((10,), 5), {"weights": T((10,), "float64", seed=2)})],
             "empty": [(index((0,), 5), {}), (index((0,), 5), {"minlength": 3})],
             "noncontig": [(strided(index((10,), 6)), {})],
             "large": [(index((102720,), 1000), {}),
                       (index((102720,), 50),
                        {"weights": T((102720,), seed=3), "atol": UNORDERED_SUM_ATOL.get("float32")})]}
    for x, kw in cases.get(kind, []):
        yield Sample(x.to(getattr(torch, dtype)), **kw)


def histc_samples(dtype, kind):
    for s in unary_samples(specials=False)(dtype, kind):
        x = s.args[0]
        yield Sample(x)
        yield Sample(x, bins=7, min=-2, max=2)
        if kind == "basic":
            yield Sample(x, bins=4, min=5, max=10)  # nothing in range
            yield Sample(torch.full((5,), 2.0, dtype=x.dtype), bins=3)  # min == max: the data's range widened


def unique_fn(m, x, **kwargs):
    return m.unique(x, **kwargs)


def unique_samples(dtype, kind):
    for s in unary_samples(-3, 3, specials=False)(dtype, kind):
        x = s.args[0]
        if is_float(dtype):
            x = x.round()  # repeats
        calls = ({}, {"return_inverse": True}, {"return_counts": True}, {"return_inverse": True, "return_counts": True})
        for kw in calls[-1:] if kind == "large" else calls:  # (the large kind: all outputs at once)
            yield Sample(x, **kw)


def unique_consecutive_samples(dtype, kind):
    if kind == "dim":
        for s in unique_samples(dtype, "basic"):
            yield Sample(s.args[0], dim=0, **s.kwargs)
            yield Sample(s.args[0], dim=-1, **s.kwargs)
        return
    yield from unique_samples(dtype, kind)


def lerp_samples(tensor_weight):
    def gen(dtype, kind):
        for s in binary_samples()(dtype, kind if kind != "scalar" else "basic"):
            a, b = s.args[:2]
            if not isinstance(b, torch.Tensor):
                continue
            if tensor_weight:
                shape = torch.broadcast_shapes(a.shape, b.shape)
                yield Sample(a, b, T(shape, dtype, -0.5, 1.5, seed=7))
                yield Sample(a, b, T((), dtype, 0.0, 1.0, seed=8))
            else:
                for w in (0.25, -0.5, 1.5):
                    yield Sample(a, b, w)
    return gen


ADDCDIV_PARTNER = dict(PARTNER, float64="float32")  # (integer tensor1/tensor2 are an error input)


def addc_samples(op):
    def gen(dtype, kind):
        for s in binary_samples(low2=0.5 if op == "addcdiv" else None, high2=3 if op == "addcdiv" else None,
                                partner=ADDCDIV_PARTNER if op == "addcdiv" else PARTNER)(dtype, kind):
            a, b = s.args[:2]
            if not isinstance(b, torch.Tensor):
                continue
            c = T(b.shape, b.dtype, 0.5, 3, seed=9) if op == "addcdiv" else T(b.shape, b.dtype, seed=9)
            yield Sample(a, T(b.shape, b.dtype, seed=10), c)
            if kind == "basic":
                yield Sample(a, T(b.shape, b.dtype, seed=10), c, value=-0.5 if is_float(dtype) else 2)
    return gen


def half_ids(name, *kinds):
    """Test ids of the float16 and bfloat16 runs of these kinds ("float16-noncontig": that one only;
    the large kind and SHAPE_KINDS run float16 only)."""
    ids = []
    for kind in kinds:
        if "-" in kind:
            ids.append(f"{name}-{kind}")
        elif kind == "large" or kind in SHAPE_KINDS:
            ids.append(f"{name}-float16-{kind}")
        else:
            ids += [f"{name}-float16-{kind}", f"{name}-bfloat16-{kind}"]
    return ids


UNIQUE_DIM_GAP = "unique_consecutive(x, dim=d) raises NotImplementedError 'dim is not supported yet'; torch supports it"
LERP_0DIM_BUG = ("lerp of 0-dim float16/bfloat16 tensors with a Python-number weight returns float32; torch keeps the "
                 "input dtype: torch.lerp(torch.tensor(1., dtype=torch.float16), torch.tensor(2., "
                 "dtype=torch.float16), 0.25).dtype is float16")


PAD_MODES = {
    "basic": [((2, 3, 5), (1, 2), "reflect"), ((2, 3, 5), (2, 1), "replicate"), ((2, 3, 5), (1, 3), "circular"),
              ((1, 2, 4, 5), (1, 1, 2, 0), "reflect"), ((1, 2, 4, 5), (2, 1, 1, 2), "replicate"),
              ((1, 2, 4, 5), (1, 2, 0, 1), "circular"), ((2, 3), (1, 1), "constant"),
              ((2, 3, 5), (-1, 1), "replicate")],
    "empty": [((0, 3, 5), (1, 2), "reflect"), ((0, 3, 5), (1, 1), "replicate")],
    "noncontig": [((2, 5, 6), (2, 2), "reflect")],
    "large": [((4, 320, 321), (3, 3), "reflect"), ((4, 320, 321), (1, 2, 3, 4), "replicate")],
}


def pad_mode_samples(dtype, kind):
    for i, (shape, pad, mode) in enumerate(PAD_MODES.get(kind, [])):
        x = T(shape, dtype, seed=i)
        if kind == "noncontig":
            x = transposed(x)
        yield Sample(x, pad, mode=mode)


def repeat_interleave_samples(variant):
    def gen(dtype, kind):
        x = lambda shape, seed=0: T(shape, dtype, seed=seed)  # noqa: E731
        if variant == "Tensor":
            cases = {"basic": [index((4,), 4)], "empty": [index((0,), 3)], "0dim": [],
                     "noncontig": [strided(index((5,), 3))], "large": [index((20000,), 9)]}
            for r in cases.get(kind, []):
                yield Sample(r.to(getattr(torch, dtype)))
            return
        rep = (lambda n, seed=1: index((n,), 4, seed)) if variant == "self_Tensor" else (lambda n, seed=1: 3)
        cases = {"basic": [(x((3, 4)), rep(12), None), (x((3, 4)), rep(3), 0), (x((3, 4)), rep(4), -1)],
                 "0dim": [(x(()), rep(1), None)],
                 "empty": [(x((0, 4)), rep(0), 0),
                           (x((3, 4)), index((3,), 1) * 0 if variant == "self_Tensor" else 0, 0)],
                 "noncontig": [(transposed(x((5, 6))), rep(6), 1)],
                 "large": [(x(LARGE), rep(320), 0)]}
        for t, r, dim in cases.get(kind, []):
            yield Sample(t, r, dim) if dim is not None else Sample(t, r)
    return gen


add(
    OpInfo("sort", fn=sort_fn, dtypes=STD, samples=reduction_samples(calls=sort_calls, empty_dims=(0, 1)),
           errors=err(bad_dim(), NOT_A_TENSOR)),
    OpInfo("argsort", fn=argsort_fn, dtypes=STD, samples=reduction_samples(calls=sort_calls, empty_dims=(0, 1)),
           errors=err(bad_dim(), NOT_A_TENSOR)),
    OpInfo("msort", dtypes=STD, samples=reduction_samples(calls=lambda nd: [((), {})]), errors=err(NOT_A_TENSOR)),
    OpInfo("topk", fn=topk_fn, dtypes=NO_BOOL_STD, samples=reduction_samples(calls=topk_calls, empty_dims=()),
           kinds=("basic", "0dim", "noncontig", "large"),
           errors=err(ErrorInput("k_too_large", T((3, 4)), 5), ErrorInput("negative_k", T((3, 4)), -1),
                      ErrorInput("bad_dim", T((3, 4)), 1, 2))),
    OpInfo("kthvalue", fn=values_indices("kthvalue", dim_arg(1), keepdim_arg(2)), dtypes=NO_BOOL_STD,
           samples=reduction_samples(calls=kth_calls), kinds=("basic", "0dim", "noncontig", "large"),
           errors=err(ErrorInput("k_too_large", T((3, 4)), 5), ErrorInput("k_zero", T((3, 4)), 0),
                      ErrorInput("empty", T((0, 4)), 1, 0)),
           xfail_errors=xfails("kthvalue along an empty dim raises RuntimeError 'kthvalue(): selected number k out "
                               "of range for dimension 0'; torch raises IndexError 'kthvalue(): Expected reduction dim "
                               "0 to have non-zero size.'", "kthvalue-empty")),
    # (the median of an empty tensor is NaN; torch's of an empty integer tensor is INT64_MIN-like garbage,
    # vibetensor raises: the empty kind runs float dtypes)
    *[OpInfo(op, dtypes=NO_BOOL_STD, samples=reduction_samples(calls=lambda nd: [((), {})]),
             kind_dtypes={"empty": FLOATS}, errors=err(NOT_A_TENSOR)) for op in ("median", "nanmedian")],
    # (no expanded inputs: torch's median along dim 0 of a zero-stride tensor returns garbage,
    # torch.median(torch.tensor([[3., 1., 2.]]).expand(4, 3), 0).values is [1.0, 4.6e-41, 4.5e-44])
    *[OpInfo(op + ".dim", fn=values_indices(op, dim_arg(0), keepdim_arg(1)), dtypes=NO_BOOL_STD,
             samples=no_expanded(reduction_samples(calls=median_dim_calls, empty_dims=(1,))),
             errors=err(bad_dim(), empty_reduce())) for op in ("median", "nanmedian")],
    *[OpInfo(op, method=op, dtypes=STD, kinds=DTYPE_KINDS,
             samples=reduction_samples(low=-2 if op == "cumprod" else None, high=2 if op == "cumprod" else None,
                                       calls=cum_calls, mixed=TO_FLOAT64),
             errors=err(bad_dim(), ErrorInput("no_dim", T((3, 4))))) for op in ("cumsum", "cumprod")],
    OpInfo("prod", method="prod", dtypes=STD, kinds=DTYPE_KINDS, tol=PROD_TOL,
           samples=reduction_samples(low=0.5, high=1.5, calls=lambda nd: [((), {})], mixed=TO_FLOAT64),
           errors=err(NOT_A_TENSOR)),
    OpInfo("prod.dim_int", fn=call("prod"), method="prod", dtypes=STD, kinds=DTYPE_KINDS, tol=PROD_TOL,
           samples=reduction_samples(low=-2, high=2, calls=lambda nd: [((0,), {}), ((-1, True), {})], mixed=TO_FLOAT64),
           errors=err(bad_dim(), ErrorInput("dim_list", T((3, 4)), (0, 1)))),
    OpInfo("linalg_vector_norm", fn=lambda m, x, *a, **k: m.linalg.vector_norm(x, *a, **k), dtypes=FLOATS,
           kinds=DTYPE_KINDS, samples=reduction_samples(calls=norm_calls, mixed=TO_FLOAT64, empty_dims=(1,)),
           tol={"float32": (1e-5, 1e-5), "float16": (2e-3, 1e-3), "bfloat16": (1.6e-2, 1e-2)},
           xfail=xfails("linalg.vector_norm of float16 accumulates in float16 and overflows: the 2-norm of 102,720 "
                        "values in [-3, 3] is inf, torch's 555 (it accumulates in float32)",
                        "linalg_vector_norm-float16-large"),
           errors=err(ErrorInput("int64", T((3, 4), "int64")), ErrorInput("bad_dim", T((3, 4)), 2, 2),
                      ErrorInput("inf_norm_of_empty", T((0, 4)), math.inf))),
    shape_entry("roll", method="roll", dtypes=STD, view=False, cases={
        "basic": [((3, 4), (1,)), ((3, 4), (-5,)), ((3, 4), (1, 0)), ((3, 4), ((1, -2), (0, 1))), ((2, 3, 4), (7, -1))],
        "0dim": [((), (1,)), ((), (-3,))], "empty": [((0, 4), (1, 1)), ((0, 4), (2,))],
        "noncontig": [((5, 6), (2, 1)), ((5, 6), (3,))], "large": [(LARGE, (1000,)), (LARGE, (5, 0))]},
        errors=[("dims_mismatch", (3, 4), ((1, 2), (0,))), ("dim_out_of_range", (3, 4), (1, 2)),
                ("0dim_dim_0", (), (1, 0))]),
    shape_entry("tile", method="tile", dtypes=STD, view=False, cases={
        "basic": [((3, 4), ((2, 1),)), ((3, 4), ((2,),)), ((3, 4), ((1, 2, 3),))], "0dim": [((), ((3,),)), ((), ((),))],
        "empty": [((3, 4), ((0, 2),)), ((0, 4), ((2, 1),))], "noncontig": [((5, 6), ((2, 1),))],
        "large": [((320, 32), ((1, 10),))]},
        errors=[("negative", (3, 4), ((-1, 1),))]),
    OpInfo("repeat_interleave.self_int", fn=call("repeat_interleave"), method="repeat_interleave", dtypes=STD,
           samples=repeat_interleave_samples("self_int"),
           errors=err(ErrorInput("negative", T((3,)), -1), ErrorInput("dim_out_of_range", T((3,)), 2, 1))),
    OpInfo("repeat_interleave.self_Tensor", fn=call("repeat_interleave"), method="repeat_interleave", dtypes=STD,
           samples=repeat_interleave_samples("self_Tensor"),
           errors=err(ErrorInput("length_mismatch", T((3,)), torch.tensor([1, 2])),
                      ErrorInput("negative", T((3,)), torch.tensor([1, -1, 1])))),
    OpInfo("repeat_interleave.Tensor", fn=call("repeat_interleave"), dtypes=("int64", "int32"),
           xfail=xfails("repeat_interleave(repeats) of an int32 repeats tensor returns int64; torch returns int32 (the "
                        "repeats' dtype)", "repeat_interleave.Tensor-int32-*"),
           samples=repeat_interleave_samples("Tensor"), kinds=("basic", "empty", "noncontig", "large"),
           errors=err(ErrorInput("2d", torch.tensor([[1, 2]])), ErrorInput("negative", torch.tensor([1, -1])),
                      ErrorInput("float", torch.tensor([1.0, 2.0])))),
    OpInfo("einsum", dtypes=MM_DTYPES, samples=einsum_samples, tol=MM_TOL,
           xfail=xfails("einsum('ij,jk->ik', a, b) with a of shape (0, 4) raises RuntimeError 'The expanded size "
                        "of the tensor (1) must match the existing size (0) at non-singleton dimension 0'; torch "
                        "returns a (0, 5) tensor", "einsum-*-empty"),
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large"),
           errors=err(ErrorInput("operand_count", "ij,jk->ik", T((3, 4))),
                      ErrorInput("size_mismatch", "ij,jk->ik", T((3, 4)), T((5, 2))),
                      ErrorInput("bad_equation", "ij->k", T((3, 4))))),
    OpInfo("tensordot", dtypes=MM_DTYPES, samples=tensordot_samples, tol=MM_TOL,
           kinds=("basic", "0dim", "empty", "noncontig", "large"),
           errors=err(ErrorInput("size_mismatch", T((3, 4)), T((5, 2)), dims=1))),
    OpInfo("searchsorted.Tensor", fn=call("searchsorted"), dtypes=NO_BOOL_STD, samples=search_samples("searchsorted"),
           kinds=("basic", "0dim", "empty", "noncontig", "large", "scalar"),
           errors=err(ErrorInput("leading_dims_mismatch", T((2, 5)), T((3, 4))),
                      ErrorInput("side_and_right", T((5,)), T((3,)), right=True, side="left"))),
    OpInfo("bucketize.Tensor", fn=call("bucketize"), dtypes=NO_BOOL_STD, samples=search_samples("bucketize"),
           errors=err(ErrorInput("2d_boundaries", T((3,)), T((2, 5))))),
    OpInfo("bincount", method="bincount", dtypes=("int64", "int32", "uint8"), samples=bincount_samples,
           kinds=("basic", "empty", "noncontig", "large"),
           errors=err(ErrorInput("negative", torch.tensor([1, -1])), ErrorInput("2d", torch.tensor([[1]])),
                      ErrorInput("float", torch.tensor([1.0])),
                      ErrorInput("weights_length", torch.tensor([1, 2]), T((3,))))),
    OpInfo("histc", method="histc", dtypes=("float32", "float64"), samples=histc_samples,
           errors=err(ErrorInput("min_above_max", T((5,)), 4, 3, 1), ErrorInput("int64", T((5,), "int64")),
                      ErrorInput("zero_bins", T((5,)), 0))),
    OpInfo("_unique2", fn=unique_fn, dtypes=STD, samples=unique_samples, errors=err(NOT_A_TENSOR)),
    OpInfo("unique_consecutive", method="unique_consecutive", dtypes=STD, samples=unique_consecutive_samples,
           kinds=UNARY_KINDS + ("dim",), xfail=xfails(UNIQUE_DIM_GAP, "unique_consecutive-*-dim"),
           errors=err(ErrorInput("dim_out_of_range", T((3, 4)), dim=2)),
           xfail_errors=xfails(UNIQUE_DIM_GAP + " (so a dim out of range raises NotImplementedError, not torch's "
                                                "IndexError)", "unique_consecutive-dim_out_of_range")),
    OpInfo("lerp.Scalar", fn=call("lerp"), method="lerp", dtypes=FLOATS, samples=lerp_samples(False),
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large"),
           xfail={**xfails(HALF_COMPOSITE_BUG.format(op="lerp", share="15%"),
                           *half_ids("lerp.Scalar", "basic", "broadcast", "noncontig", "large")),
                  **xfails(LERP_0DIM_BUG, "lerp.Scalar-float16-0dim")},
           errors=err(ErrorInput("int64", T((3,), "int64"), T((3,), "int64"), 0.5),
                      ErrorInput("dtype_mismatch", T((3,)), T((3,), "float64"), 0.5))),
    OpInfo("lerp.Tensor", fn=call("lerp"), method="lerp", dtypes=FLOATS, samples=lerp_samples(True),
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large"),
           xfail=xfails(HALF_COMPOSITE_BUG.format(op="lerp", share="20%"),
                        *half_ids("lerp.Tensor", "basic", "broadcast", "noncontig", "large")),
           errors=err(ErrorInput("weight_dtype", T((3,)), T((3,)), T((3,), "float64")),
                      ErrorInput("shape_mismatch", T((3,)), T((3,)), T((4,)))),
           xfail_errors=xfails("lerp(float32, float32, weight=float64 tensor) computes in float64; torch raises "
                               "RuntimeError 'expected dtype float for `weight` but got dtype double'",
                               "lerp.Tensor-weight_dtype")),
    *[OpInfo(op, method=op, dtypes=NO_BOOL_STD if op == "addcmul" else FLOATS, samples=addc_samples(op),
             kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large", "mixed"),
             xfail=xfails(HALF_COMPOSITE_BUG.format(op=op, share="31%" if op == "addcmul" else "26%"),
                          *half_ids(op, "basic", "broadcast", "large", "mixed",
                                    *(("noncontig",) if op == "addcmul" else ("0dim", "float16-noncontig")))),
             errors=err(ErrorInput("shape_mismatch", T((3,)), T((4,)), T((3,))),
                        *([ErrorInput("int_division", T((3,), "int64"), T((3,), "int64"), T((3,), "int64", 1, 3))]
                          if op == "addcdiv" else [])))
      for op in ("addcmul", "addcdiv")],
    OpInfo("signbit", method="signbit", dtypes=ALL, variants=("method",),
           kinds=("basic", "0dim", "empty", "noncontig", "large"), samples=unary_samples(),
           errors=err(NOT_A_TENSOR)),
    OpInfo("isclose", method="isclose", dtypes=STD, variants=("method",),
           kinds=("basic", "0dim", "empty", "broadcast", "noncontig", "large"),
           samples=isclose_samples,
           errors=err(ErrorInput("dtype_mismatch", T((3,)), T((3,), "float64")),
                      ErrorInput("negative_rtol", T((3,)), T((3,)), rtol=-1.0),
                      ErrorInput("negative_atol", T((3,)), T((3,)), atol=-1.0))),
    OpInfo("pad", fn=call("pad", nn=True), dtypes=FLOATS + ("int64",), samples=pad_mode_samples,
           kinds=("basic", "empty", "noncontig", "large"),
           errors=err(ErrorInput("reflect_too_large", T((2, 3, 5)), (5, 0), mode="reflect"),
                      ErrorInput("bad_mode", T((2, 3, 5)), (1, 1), mode="bogus"),
                      ErrorInput("circular_too_large", T((2, 3, 5)), (6, 0), mode="circular"),
                      ErrorInput("too_many_dims", T((5,)), (1, 1, 1, 1), mode="replicate"))),
)


# =====================================================================================================
# Sampling: interpolate (upsample_*), unfold (im2col) and fold (col2im)
# =====================================================================================================

def interpolate_samples(dims, mode):
    linear = mode in ("linear", "bilinear", "trilinear")
    spatial = {1: (5,), 2: (4, 5), 3: (3, 4, 2)}[dims]

    def calls():
        sizes = {1: [(8,), (3,)], 2: [(8, 7), (2, 9)], 3: [(5, 6, 4), (2, 2, 3)]}[dims]
        out = [{"size": sizes[0]}, {"size": sizes[1]}, {"scale_factor": 2}, {"scale_factor": 0.6},
               {"scale_factor": 1.7, "recompute_scale_factor": True}]
        if linear:
            out += [dict(c, align_corners=True) for c in out[:3]]
        return out

    def gen(dtype, kind):
        if kind == "basic":
            for i, kw in enumerate(calls()):
                yield Sample(T((2, 3) + spatial, dtype, seed=i), mode=mode, **kw)
        elif kind == "empty":
            yield Sample(T((0, 3) + spatial, dtype), mode=mode, scale_factor=2)
        elif kind == "noncontig":
            x = T((2, 3) + spatial, dtype, seed=3)
            for v in noncontig_versions(x):
                yield Sample(v, mode=mode, **calls()[0])
        elif kind == "large":
            big = {1: (4, 64, 400), 2: (2, 8, 80, 80), 3: (1, 4, 16, 40, 40)}[dims]
            yield Sample(T(big, dtype, seed=4), mode=mode, scale_factor=2)
    return gen


INTERPOLATE = {
    "upsample_nearest{d}d.vec": "nearest", "_upsample_nearest_exact{d}d.vec": "nearest-exact",
}
LINEAR_MODES = {1: ("upsample_linear1d.vec", "linear"), 2: ("upsample_bilinear2d.vec", "bilinear"),
                3: ("upsample_trilinear3d.vec", "trilinear")}


INTERPOLATE_SIZE_BUG = ("interpolate with a size of another length than the spatial dims raises RuntimeError "
                        "'interpolate: size must either be a single int, or a tuple of 1 ints, got (8, 8)'; torch "
                        "raises ValueError 'Input and output must have the same number of spatial dimensions ...'")


def interpolate_entries():
    entries = []
    for d in (1, 2, 3):
        named = [(name.format(d=d), mode) for name, mode in INTERPOLATE.items()] + [LINEAR_MODES[d]]
        for name, mode in named:
            entries.append(OpInfo(
                name, fn=call("interpolate", nn=True), samples=interpolate_samples(d, mode), dtypes=FLOATS, tol=NN_TOL,
                kinds=NN_KINDS,
                errors=err(ErrorInput("size_and_scale", T((2, 3) + (4,) * d), size=(8,) * d, scale_factor=2, mode=mode),
                           ErrorInput("size_length", T((2, 3) + (4,) * d), size=(8,) * (d + 1), mode=mode),
                           ErrorInput("no_size", T((2, 3) + (4,) * d), mode=mode)),
                xfail_errors=xfails(INTERPOLATE_SIZE_BUG, f"{name}-size_length")))
    return entries


FOLD_CASES = {
    "basic": [((2, 3, 5, 6), dict(kernel_size=2)), ((2, 3, 5, 6), dict(kernel_size=(2, 3), stride=2, padding=1)),
              ((1, 2, 7, 7), dict(kernel_size=3, dilation=2)), ((3, 5, 6), dict(kernel_size=2, stride=(1, 2)))],
    "empty": [((0, 3, 5, 6), dict(kernel_size=2))],
    "noncontig": [((2, 3, 5, 6), dict(kernel_size=2))],
    "large": [((2, 8, 80, 80), dict(kernel_size=3, padding=1))],
}


def unfold_samples(dtype, kind):
    for i, (shape, kw) in enumerate(FOLD_CASES.get(kind, [])):
        x = T(shape, dtype, seed=i)
        for v in (noncontig_versions(x) if kind == "noncontig" else [x]):
            yield Sample(v, **kw)


def fold_samples(dtype, kind):
    """fold's inputs: unfold's outputs (torch computes their shape), folded back to the image size."""
    for s in unfold_samples(dtype, kind):
        x = s.args[0]
        blocks = torch.nn.functional.unfold(torch.zeros((1,) + tuple(x.shape[-3:])), **s.kwargs).shape[1:]
        cols = T(tuple(x.shape[:-3]) + tuple(blocks), dtype, seed=7)
        if kind == "noncontig":
            cols = transposed(cols)
        yield Sample(cols, tuple(x.shape[-2:]), atol=UNORDERED_SUM_ATOL.get(dtype), **s.kwargs)


add(
    *interpolate_entries(),
    OpInfo("im2col", fn=call("unfold", nn=True), samples=unfold_samples, dtypes=FLOATS, tol=NN_TOL,
           kinds=NN_KINDS, errors=err(ErrorInput("kernel_too_large", T((1, 2, 3, 3)), 4),
                                      ErrorInput("2d_input", T((3, 3)), 2),
                                      ErrorInput("zero_stride", T((1, 2, 3, 3)), 2, stride=0)),
           xfail_errors=xfails("F.unfold of a 2-D input raises RuntimeError 'Expected 3D or 4D (batch mode) tensor "
                               "...'; torch raises IndexError 'Dimension out of range (expected to be in range of [-2, "
                               "1], but got 2)'", "im2col-2d_input")),
    OpInfo("col2im", fn=call("fold", nn=True), samples=fold_samples, dtypes=FLOATS, tol=NN_TOL,
           kinds=NN_KINDS, errors=err(ErrorInput("blocks_mismatch", T((1, 12, 5)), (4, 4), 2),
                                      ErrorInput("channels_not_divisible", T((1, 7, 9)), (4, 4), 2))),
)


# =====================================================================================================
# Derivative kernels with a registry entry of their own, compared through autograd
# =====================================================================================================

def grad_of(op):
    """fn(m, x, grad, dim): the gradient of op(x, dim) against `grad`, through each library's autograd."""
    def fn(m, x, grad, dim):
        x = x.detach().requires_grad_()
        return m.autograd.grad(getattr(m, op)(x, dim), x, grad)[0]
    return fn


def grad_samples(dtype, kind):
    for s in reduction_samples(calls=softmax_calls, empty_dims=(0, 1))(dtype, kind):
        x, dim = s.args[0], s.args[1]
        grad = T(tuple(x.shape), dtype, seed=11)
        yield Sample(x, transposed(grad) if kind == "noncontig" and grad.ndim >= 2 else grad, dim)


add(*[OpInfo(f"_{op}_backward_data", fn=grad_of(op), dtypes=FLOATS, kinds=REDUCE_KINDS, samples=grad_samples,
             tol=NN_TOL, errors=err(ErrorInput("int64", T((3, 4), "int64"), T((3, 4), "int64"), 1)))
      for op in ("softmax", "log_softmax")])


# =====================================================================================================
# Fused optimizer steps: one call updates lists of parameters and their state in place. torch's
# own fused CPU kernels are the reference (for contiguous tensors only: with a strided parameter
# or gradient torch 2.13 walks memory in the wrong order; test_optim.py covers those layouts and
# compares whole training runs with torch.optim). torch has no fused RMSprop: test_optim.py
# checks _fused_rmsprop_ against torch.optim.RMSprop.
# =====================================================================================================

def pair(dtype, seed, low=None, high=None):
    """A list of two tensors shaped like the sample parameters, (3, 4) and (5,)."""
    return [T((3, 4), dtype, low=low, high=high, seed=seed), T((5,), dtype, low=low, high=high, seed=seed + 1)]


def steps_of(*values):
    return [T((), "float32", low=v, high=v) for v in values]


def scaling_samples(make_sample):
    """The sample with AMP's grad_scale (gradients divided by 2.5) and with found_inf (no step)."""
    yield make_sample(grad_scale=T((), "float32", low=2.5, high=2.5), found_inf=T((), "float32", low=0, high=0))
    yield make_sample(found_inf=T((), "float32", low=1, high=1))


def fused_sgd_samples(dtype, kind):
    params, grads, buffers = pair(dtype, 1), pair(dtype, 3), pair(dtype, 5)
    common = dict(weight_decay=0.0, momentum=0.0, lr=0.1, dampening=0.0, nesterov=False, maximize=False,
                  is_first_step=False)
    yield Sample(params, grads, [], **common)
    yield Sample(params, grads, buffers, **{**common, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01,
                                            "maximize": True})
    yield Sample(params, grads, buffers, **{**common, "momentum": 0.9, "nesterov": True, "is_first_step": True})
    yield from scaling_samples(lambda **scaling: Sample(params, grads, buffers, **{**common, "momentum": 0.5},
                                                        **scaling))


def fused_adam_samples(dtype, kind):
    params, grads, exp_avgs = pair(dtype, 1), pair(dtype, 3), pair(dtype, 5)
    exp_avg_sqs, max_exp_avg_sqs = pair(dtype, 7, low=0, high=2), pair(dtype, 9, low=0, high=2)
    common = dict(lr=0.01, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)
    yield Sample(params, grads, exp_avgs, exp_avg_sqs, [], steps_of(1, 1), **common)
    yield Sample(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps_of(3, 7),
                 **{**common, "amsgrad": True, "weight_decay": 0.1, "maximize": True, "beta1": 0.8})
    yield from scaling_samples(lambda **scaling: Sample(params, grads, exp_avgs, exp_avg_sqs, [], steps_of(2, 2),
                                                        **common, **scaling))


def fused_adagrad_samples(dtype, kind):
    params, grads, sums = pair(dtype, 1), pair(dtype, 3), pair(dtype, 5, low=0, high=2)
    common = dict(lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False)
    yield Sample(params, grads, sums, steps_of(1, 1), **common)
    yield Sample(params, grads, sums, steps_of(4, 9), **{**common, "lr_decay": 0.05, "weight_decay": 0.1,
                                                        "maximize": True})
    yield from scaling_samples(lambda **scaling: Sample(params, grads, sums, steps_of(2, 2), **common, **scaling))


def fused_errors(*state_lists, **kwargs):
    """torch refuses integer parameters, lists of other lengths and state of another dtype.
    `state_lists` says, for each list after the gradients, whether the call passes one."""
    ints, floats, doubles = [T((3,), "int64")], [T((3,), "float32")], [T((3,), "float64")]

    def states(like):
        return [like if used else [] for used in state_lists]
    return err(ErrorInput("int64", ints, ints, *states(ints), **kwargs),
               ErrorInput("length_mismatch", floats, floats * 2, *states(floats), **kwargs),
               ErrorInput("dtype_mismatch", floats, doubles, *states(floats), **kwargs))


FUSED_TOL = {"float16": (1e-2, 1e-3), "bfloat16": (2e-2, 1e-2), "float32": (1e-6, 1e-6)}
ADAM_ERROR_KWARGS = dict(lr=0.01, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)
add(OpInfo("_fused_sgd_", samples=fused_sgd_samples, dtypes=FLOATS, kinds=("basic",), tol=FUSED_TOL,
           errors=fused_errors(True, weight_decay=0.0, momentum=0.9, lr=0.1, dampening=0.0,
                               nesterov=False, maximize=False, is_first_step=False)),
    *[OpInfo(name, samples=fused_adam_samples, dtypes=FLOATS, kinds=("basic",), tol=FUSED_TOL,
             errors=fused_errors(True, True, False, True, **ADAM_ERROR_KWARGS))
      for name in ("_fused_adam_", "_fused_adamw_")],
    OpInfo("_fused_adagrad_", samples=fused_adagrad_samples, dtypes=FLOATS, kinds=("basic",), tol=FUSED_TOL,
           errors=fused_errors(True, True, lr=0.1, lr_decay=0.0, weight_decay=0.0, eps=1e-10,
                               maximize=False)),
    OpInfo("_fused_rmsprop_", skip_reason="torch has no fused RMSprop: tests/python/test_optim.py compares "
                                          "_fused_rmsprop_ with torch.optim.RMSprop"),
    OpInfo("_foreach_add_.Scalar", fn=call("_foreach_add_"), dtypes=STD[:-1], kinds=("basic",),
           samples=lambda dtype, kind: iter([Sample(pair(dtype, 1), 2), Sample([T((), dtype)], 1)]),
           errors=err(ErrorInput("float_into_int", [T((3,), "int64")], 1.5))))


# =====================================================================================================
# Fused normalization and activation backward kernels (native_layer_norm and its backward,
# gelu_backward): the forward outputs compared whole, the backward kernels through autograd
# (a backward without create_graph runs them)
# =====================================================================================================

def native_layer_norm_fn(m, x, shape, weight=None, bias=None, eps=1e-5):
    return m.native_layer_norm(x, tuple(shape.shape), weight, bias, eps)


def layer_norm_grads(m, x, shape, weight=None, bias=None, eps=1e-5):
    """The gradients of layer_norm for input, weight and bias against a fixed output gradient."""
    inputs = [t.detach().requires_grad_() for t in (x, weight, bias) if t is not None]
    x, weight, bias = inputs[0], (inputs[1] if weight is not None else None), (inputs[-1] if bias is not None else None)
    out = m.nn.functional.layer_norm(x, tuple(shape.shape), weight, bias, eps)
    # one sign: the weight and bias gradients sum over rows without cancelling to rounding noise
    # (made in float32: torch's float16 linspace of 1e5 steps is wrong in its middle)
    grad = m.linspace(0.5, 1.5, out.numel(), dtype=m.float32, device=out.device).to(out.dtype).reshape(out.shape)
    return m.autograd.grad(out, inputs, grad)


def gelu_grad(m, x, approximate="none"):
    x = x.detach().requires_grad_()
    out = m.nn.functional.gelu(x, approximate=approximate)
    grad = m.linspace(-2, 2, out.numel(), dtype=m.float32, device=out.device).to(out.dtype).reshape(out.shape)
    return m.autograd.grad(out, x, grad)[0]


def conv2d_grads(m, x, w, b=None, **kwargs):
    inputs = [t.detach().requires_grad_() for t in (x, w, b) if t is not None]
    out = m.nn.functional.conv2d(*inputs, **kwargs)
    # -0.75 .. 0.75 in steps of 0.25: exact in every dtype, the same in both libraries
    steps = m.arange(out.numel(), device=out.device).remainder(7).sub(3).to(out.dtype)
    return m.autograd.grad(out, inputs, (steps / 4).reshape(out.shape))


def gelu_grad_samples(dtype, kind):
    shapes = {"basic": [(3, 4), ()], "empty": [(0, 3)], "noncontig": [(4, 6)], "large": [(64, 129)]}[kind]
    for i, shape in enumerate(shapes):
        x = T(shape, dtype, low=-4, high=4, seed=i)
        if kind == "noncontig":
            x = transposed(x)
        yield Sample(x)
        yield Sample(x, approximate="tanh")


add(OpInfo("native_layer_norm", fn=native_layer_norm_fn, samples=norm_samples("layer_norm"), dtypes=FLOATS,
           tol=NN_TOL, kinds=tuple(k for k in KINDS if k in norm_cases("layer_norm")),
           errors=err(ErrorInput("shape_mismatch", T((3, 4)), T((5,))),
                      ErrorInput("int64", T((3, 4), "int64"), T((4,), "int64")))),
    # float16 weight gradients of 320 rows: torch's own error against float64 is 0.11 (ours 0.022), so
    # the comparison with torch needs that much room
    OpInfo("native_layer_norm_backward", fn=layer_norm_grads, samples=norm_samples("layer_norm"), dtypes=FLOATS,
           tol={**NN_TOL, "float16": (1e-2, 0.12)}, kinds=tuple(k for k in KINDS if k in norm_cases("layer_norm")),
           errors=err(ErrorInput("int64", T((3, 4), "int64"), T((4,), "int64")))),
    # one-group conv2d's gradients (conv2d's cases with groups=1; both libraries differentiate them)
    # The weight's gradient sums 12800 products in the large case: float32 and float16 need room.
    OpInfo("_conv2d_dense_backward", fn=conv2d_grads, dtypes=FLOATS,
           tol=dict(CONV_TOL, float32=(1e-4, 1e-3), float16=(2e-2, 2e-2)),
           samples=nn_samples({kind: [(shapes, kw) for shapes, kw in cases if kw.get("groups", 1) == 1
                                      and isinstance(kw.get("padding", 0), int) and len(shapes[0]) == 4]
                               for kind, cases in conv_cases(2).items() if kind != "padding_same"}),
           kinds=("basic", "empty", "noncontig", "large"),
           errors=err(ErrorInput("int64", T((2, 3, 6, 5), "int64"), T((4, 3, 3, 2), "int64")))),
    OpInfo("gelu_backward", fn=gelu_grad, samples=gelu_grad_samples, dtypes=FLOATS, tol=NN_TOL,
           kinds=("basic", "empty", "noncontig", "large"),
           errors=err(ErrorInput("int64", T((3, 4), "int64")))))


# =====================================================================================================
# Fused CPU attention (no mask, no dropout): the forward against torch's own fused kernel, the
# backward through autograd against torch's gradients of scaled_dot_product_attention
# =====================================================================================================

def flash_attention(m, q, k, v, **kwargs):
    fn = (torch.ops.aten._scaled_dot_product_flash_attention_for_cpu if m is torch
          else m._C._scaled_dot_product_flash_attention_for_cpu)
    return tuple(fn(q, k, v, **kwargs))


def attention_grads(m, q, k, v, **kwargs):
    inputs = [t.detach().requires_grad_() for t in (q, k, v)]
    out = m.nn.functional.scaled_dot_product_attention(*inputs, **kwargs)
    grad = m.linspace(-1, 1, out.numel(), dtype=out.dtype, device=out.device).reshape(out.shape)
    return m.autograd.grad(out, inputs, grad)


def attention_samples(dtype, kind):
    # torch's kernel takes 4-d inputs with one head size for query, key and value
    shapes = {"basic": [((2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 4)), ((1, 2, 4, 8), (1, 2, 6, 8), (1, 2, 6, 8))],
              "noncontig": [((2, 3, 6, 4), (2, 3, 6, 4), (2, 3, 6, 4))],
              "large": [((8, 4, 33, 16), (8, 4, 33, 16), (8, 4, 33, 16))]}[kind]
    for i, (qs, ks, vs) in enumerate(shapes):
        q, k, v = T(qs, dtype, seed=i), T(ks, dtype, seed=i + 10), T(vs, dtype, seed=i + 20)
        if kind == "noncontig":
            # heads split from a (batch, length, heads, dim) projection, the layout attention sees;
            # torch's kernel gets other layouts (a transposed last dim) wrong
            q, k, v = (t.transpose(1, 2).contiguous().transpose(1, 2) for t in (q, k, v))
        yield Sample(q, k, v)
        yield Sample(q, k, v, is_causal=True)
        yield Sample(q, k, v, scale=0.3)
    if kind == "noncontig":
        # query, key and value as views into one packed (batch, length, 3, heads, dim) projection,
        # as multi-head attention makes them: rows with gaps between them
        packed = T((2, 5, 3, 3, 4), dtype, seed=30)
        q, k, v = (t.transpose(1, 2) for t in packed.unbind(2))
        yield Sample(q, k, v)
        yield Sample(q, k, v, is_causal=True)


add(OpInfo("_scaled_dot_product_flash_attention_for_cpu", fn=flash_attention, samples=attention_samples,
           dtypes=("float32", "float64"), kinds=("basic", "noncontig", "large"),
           errors=err(ErrorInput("head_dim_mismatch", T((2, 4, 8)), T((2, 6, 7)), T((2, 6, 8))))),
    OpInfo("_scaled_dot_product_flash_attention_for_cpu_backward", fn=attention_grads, samples=attention_samples,
           dtypes=("float32", "float64"), kinds=("basic", "noncontig", "large"),
           errors=err(ErrorInput("int64", T((2, 4, 8), "int64"), T((2, 6, 8), "int64"), T((2, 6, 8), "int64")))))
