"""vibetensor.nn.Module against torch.nn.Module: registration of parameters, buffers and
submodules, reprs and state dicts of the same models built in both libraries, load_state_dict
and its errors, hooks, train/eval, dtype conversion that keeps parameter identity, the
containers, Parameter itself, and nn.utils (gradient clipping, parameter vectors)."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import vibetensor as vt
from helpers import to_torch, to_vt
from nn_helpers import assert_close, twins, vt_state

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")


def both(fn):
    """fn(torch) and fn(vibetensor)."""
    return fn(torch), fn(vt)


def vt_text(text):
    """torch's message or repr as vibetensor words it (its dtypes and Size print as vibetensor.*)."""
    return text.replace("torch.", "vibetensor.")


def error_of(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the test compares whatever was raised
        return error
    raise AssertionError("did not raise")


def assert_same_error(torch_fn, vt_fn):
    expected, actual = error_of(torch_fn), error_of(vt_fn)
    assert type(actual) is type(expected), (actual, expected)
    assert str(actual) == vt_text(str(expected))


# ---- models written once, built in both libraries: reprs, parameter names, state dicts

class Block:
    """A user-defined module class (defined per library, as user code would be)."""

    @staticmethod
    def make(lib):
        nn = lib.nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
                self.bn = nn.BatchNorm2d(8)
                self.act = nn.ReLU(inplace=True)
                self.register_buffer("scale", lib.ones(8))
                self.register_buffer("cache", lib.zeros(2), persistent=False)
                self.gamma = nn.Parameter(lib.zeros(8))

            def forward(self, x):
                return self.act(self.bn(self.conv(x))) * self.scale.reshape(1, -1, 1, 1)

        return Block()


MODELS = [
    ("mlp", lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.GELU(), lib.nn.Dropout(0.1),
                                          lib.nn.Linear(8, 2, bias=False))),
    ("sequential-ordereddict", lambda lib: lib.nn.Sequential(OrderedDict([
        ("fc", lib.nn.Linear(3, 3)), ("norm", lib.nn.LayerNorm(3, eps=1e-6)), ("out", lib.nn.Softmax(dim=-1))]))),
    ("block", Block.make),
    ("modulelist-repeats", lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)]
                                                         + [lib.nn.ReLU(), lib.nn.Linear(2, 2)])),
    ("moduledict", lambda lib: lib.nn.ModuleDict({"b": lib.nn.Tanh(), "a": lib.nn.Conv1d(2, 4, 3, groups=2)})),
    ("convs", lambda lib: lib.nn.Sequential(
        lib.nn.Conv2d(3, 4, (3, 5), stride=2, padding="same" if False else (1, 2), dilation=(1, 2)),
        lib.nn.Conv2d(4, 4, 3, padding="same", padding_mode="reflect"), lib.nn.Conv1d(2, 2, 1, padding="valid"),
        lib.nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1), lib.nn.Conv3d(1, 2, 2))),
    ("norms", lambda lib: lib.nn.Sequential(
        lib.nn.BatchNorm1d(3, momentum=None), lib.nn.BatchNorm2d(3, affine=False, track_running_stats=False),
        lib.nn.LayerNorm((2, 3), elementwise_affine=False), lib.nn.LayerNorm(4, bias=False), lib.nn.RMSNorm(5),
        lib.nn.GroupNorm(2, 4), lib.nn.InstanceNorm2d(3), lib.nn.InstanceNorm1d(3, affine=True),
        lib.nn.LocalResponseNorm(2))),
    ("activations", lambda lib: lib.nn.Sequential(
        lib.nn.ReLU(), lib.nn.ReLU6(inplace=True), lib.nn.GELU("tanh"), lib.nn.SiLU(inplace=True), lib.nn.Mish(),
        lib.nn.LeakyReLU(0.2, True), lib.nn.ELU(), lib.nn.CELU(0.5), lib.nn.SELU(), lib.nn.Hardtanh(-2, 2),
        lib.nn.Hardswish(), lib.nn.Hardsigmoid(), lib.nn.Softplus(2), lib.nn.Softsign(), lib.nn.PReLU(3),
        lib.nn.GLU(1), lib.nn.Threshold(0.1, 0.0), lib.nn.Tanhshrink(), lib.nn.LogSigmoid(), lib.nn.Softmin(1),
        lib.nn.LogSoftmax(dim=1), lib.nn.Softmax(), lib.nn.Softshrink(0.3), lib.nn.Hardshrink(), lib.nn.RReLU(),
        lib.nn.Sigmoid(), lib.nn.Tanh(), lib.nn.Softmax2d())),
    ("shape-layers", lambda lib: lib.nn.Sequential(
        lib.nn.Flatten(), lib.nn.Unflatten(1, (2, 3)), lib.nn.Identity(), lib.nn.Dropout2d(0.2),
        lib.nn.Dropout1d(), lib.nn.AlphaDropout(0.1), lib.nn.Embedding(10, 3, padding_idx=0),
        lib.nn.Embedding(5, 2, max_norm=1.0, norm_type=1.0), lib.nn.Bilinear(2, 3, 4),
        lib.nn.PixelShuffle(2), lib.nn.PixelUnshuffle(3), lib.nn.Upsample(scale_factor=2, mode="bilinear"),
        lib.nn.Upsample(size=(3, 4)), lib.nn.UpsamplingNearest2d(scale_factor=2),
        lib.nn.CosineSimilarity(), lib.nn.PairwiseDistance(), lib.nn.Fold((4, 4), 2), lib.nn.Unfold(2, padding=1),
        lib.nn.ChannelShuffle(2), lib.nn.EmbeddingBag(5, 2, mode="sum"))),
    ("pools-pads", lambda lib: lib.nn.Sequential(
        lib.nn.MaxPool2d(2), lib.nn.MaxPool1d(3, 2, 1, ceil_mode=True), lib.nn.AvgPool2d(3, stride=1),
        lib.nn.AvgPool1d(2), lib.nn.AdaptiveAvgPool2d((1, 1)), lib.nn.AdaptiveAvgPool1d(4),
        lib.nn.AdaptiveMaxPool2d(2), lib.nn.LPPool2d(2, 3), lib.nn.MaxUnpool2d(2),
        lib.nn.FractionalMaxPool2d(2, output_size=3), lib.nn.ZeroPad2d(1), lib.nn.ZeroPad1d((1, 2)),
        lib.nn.ConstantPad2d((1, 2, 3, 4), 0.5), lib.nn.ReflectionPad2d(2), lib.nn.ReplicationPad1d(1),
        lib.nn.CircularPad1d(3), lib.nn.ConstantPad3d(1, 2.0))),
    ("losses", lambda lib: lib.nn.ModuleList([
        lib.nn.CrossEntropyLoss(weight=lib.ones(3), label_smoothing=0.1), lib.nn.NLLLoss(), lib.nn.MSELoss(),
        lib.nn.L1Loss(), lib.nn.SmoothL1Loss(), lib.nn.HuberLoss(), lib.nn.BCELoss(),
        lib.nn.BCEWithLogitsLoss(pos_weight=lib.ones(2)), lib.nn.KLDivLoss(), lib.nn.CosineEmbeddingLoss(),
        lib.nn.TripletMarginWithDistanceLoss(), lib.nn.CTCLoss()])),
    ("attention", lambda lib: lib.nn.ModuleList([
        lib.nn.MultiheadAttention(8, 2), lib.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True),
        lib.nn.MultiheadAttention(8, 4, bias=False, batch_first=True)])),
    ("transformer", lambda lib: lib.nn.Transformer(8, 2, num_encoder_layers=2, num_decoder_layers=1,
                                                   dim_feedforward=16)),
    ("encoder-module-activation", lambda lib: lib.nn.TransformerEncoder(
        lib.nn.TransformerEncoderLayer(8, 2, 16, activation=lib.nn.GELU(), norm_first=True), 3,
        norm=lib.nn.LayerNorm(8))),
    ("parameter-containers", lambda lib: lib.nn.ModuleDict({
        "list": lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4)]),
        "dict": lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.ones(3)), "b": lib.zeros(2, 2)})})),
]


@pytest.mark.parametrize("name, make", MODELS, ids=[row[0] for row in MODELS])
def test_repr_and_state_dict_match_torch(name, make):
    torch.manual_seed(0)
    torch_model, vt_model = both(make)
    assert repr(vt_model) == vt_text(repr(torch_model))
    torch_state, vt_state_dict = torch_model.state_dict(), vt_model.state_dict()
    assert list(vt_state_dict) == list(torch_state)
    for key, value in torch_state.items():
        assert list(vt_state_dict[key].shape) == list(value.shape), key
        assert repr(vt_state_dict[key].dtype) == vt_text(repr(value.dtype)), key
    assert [n for n, _ in vt_model.named_parameters()] == [n for n, _ in torch_model.named_parameters()]
    assert [n for n, _ in vt_model.named_buffers()] == [n for n, _ in torch_model.named_buffers()]
    assert [n for n, _ in vt_model.named_modules()] == [n for n, _ in torch_model.named_modules()]
    assert [type(m).__name__ for m in vt_model.modules()] == [type(m).__name__ for m in torch_model.modules()]
    assert vt_state_dict._metadata == torch_state._metadata
    # torch's values load into vibetensor's model and come back unchanged
    vt_model.load_state_dict(vt_state(torch_state))
    for key, value in torch_state.items():
        assert torch.equal(to_torch(vt_model.state_dict()[key]), value), key


# ---- registration

def test_registration_of_parameters_buffers_and_submodules():
    block = Block.make(vt)
    assert [n for n, _ in block.named_parameters()] == ["gamma", "conv.weight", "bn.weight", "bn.bias"]
    assert [n for n, _ in block.named_parameters(recurse=False)] == ["gamma"]
    assert [n for n, _ in block.named_parameters(prefix="model")][0] == "model.gamma"
    assert [n for n, _ in block.named_buffers()] == ["scale", "cache", "bn.running_mean", "bn.running_var",
                                                     "bn.num_batches_tracked"]
    assert "cache" not in block.state_dict() and "scale" in block.state_dict()
    assert [n for n, _ in block.named_children()] == ["conv", "bn", "act"]
    assert block.get_submodule("bn") is block.bn and block.get_submodule("") is block
    assert block.get_parameter("bn.weight") is block.bn.weight
    assert block.get_buffer("bn.running_mean") is block.bn.running_mean
    assert isinstance(block.gamma, vt.nn.Parameter) and block.gamma.requires_grad
    # reassigning a name moves it between kinds; None keeps the slot
    block.gamma = None
    assert "gamma" not in dict(block.named_parameters()) and "gamma" in block._parameters
    block.scale = vt.zeros(8)
    assert (block.state_dict()["scale"] == 0).all().item()
    block.extra = vt.nn.Buffer(vt.ones(1), persistent=False)
    assert "extra" in dict(block.named_buffers()) and "extra" not in block.state_dict()
    block.plain = 3
    assert block.plain == 3 and "plain" not in block._parameters
    del block.conv, block.scale, block.gamma
    assert [n for n, _ in block.named_children()] == ["bn", "act"]
    assert "scale" not in block.state_dict()


def test_shared_parameters_and_modules_are_listed_once_unless_asked():
    for lib in (torch, vt):
        shared = lib.nn.Linear(2, 2)
        model = lib.nn.Sequential(shared, lib.nn.ReLU(), shared)
        assert len(list(model.parameters())) == 2
        assert [n for n, _ in model.named_parameters(remove_duplicate=False)] == ["0.weight", "0.bias", "2.weight",
                                                                                 "2.bias"]
        assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
        assert len(list(model.modules(remove_duplicate=False))) == 4
        assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_registration_errors_match_torch():
    def cases(lib):
        m = lib.nn.Linear(2, 2)
        return [
            lambda: setattr(m, "weight", lib.ones(2, 2)),
            lambda: setattr(m, "child", None) or setattr(lib.nn.Sequential(lib.nn.ReLU()), "0", lib.ones(1)),
            lambda: m.register_parameter("a.b", None),
            lambda: m.register_parameter("", None),
            lambda: m.register_parameter("in_features", None),
            lambda: m.register_buffer("x", 3),
            lambda: m.register_buffer("a.b", None),
            lambda: m.add_module("x", 3),
            lambda: m.add_module("a.b", lib.nn.ReLU()),
            lambda: m.add_module("weight", lib.nn.ReLU()),
            lambda: m.register_parameter("x", lib.nn.Parameter(lib.ones(2)) * 2),
            lambda: m.nonexistent,
            lambda: m.get_submodule("foo"),
            lambda: m.get_parameter("in_features"),
            lambda: m.get_buffer("weight"),
            lambda: m.train("yes"),
            lambda: m.to(lib.int64),
            lambda: lib.nn.Module().forward(1),
            lambda: lib.nn.Module(3),
            lambda: lib.nn.Linear(2, 2).load_state_dict([1]),
        ]

    for torch_case, vt_case in zip(cases(torch), cases(vt)):
        assert_same_error(torch_case, vt_case)


def test_assigning_before_init_raises_like_torch():
    for lib in (torch, vt):
        class Early(lib.nn.Module):
            def __init__(self):
                self.weight = lib.nn.Parameter(lib.ones(1))

        with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__\\(\\) call"):
            Early()


# ---- load_state_dict

def test_load_state_dict_errors_and_results_match_torch():
    torch_model, vt_model = both(lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2)))
    good = torch_model.state_dict()
    bad = OrderedDict(good)
    del bad["0.bias"]
    bad["0.weight"] = torch.zeros(4, 3)
    bad["2.weight"] = torch.zeros(1)
    bad["1.extra"] = torch.zeros(1)
    bad["1.running_mean"] = "not a tensor"
    assert_same_error(lambda: torch_model.load_state_dict(bad), lambda: vt_model.load_state_dict(
        OrderedDict((k, to_vt(v) if isinstance(v, torch.Tensor) else v) for k, v in bad.items())))
    missing = OrderedDict(good)
    del missing["1.num_batches_tracked"], missing["0.weight"]
    missing["foo"] = torch.ones(1)
    expected = torch_model.load_state_dict(missing, strict=False)
    actual = vt_model.load_state_dict(vt_state(missing), strict=False)
    assert actual == expected and repr(actual) == repr(expected)
    assert repr(vt_model.load_state_dict(vt_state(good))) == "<All keys matched successfully>"


def test_load_state_dict_copies_in_place_or_assigns():
    model = vt.nn.Linear(3, 2)
    weight = model.weight
    state = {"weight": vt.ones(2, 3), "bias": vt.zeros(2)}
    model.load_state_dict(state)
    assert model.weight is weight and (weight == 1).all().item()
    assert model.weight.data_ptr() != state["weight"].data_ptr()
    model.load_state_dict(state, assign=True)
    assert model.weight is not weight and isinstance(model.weight, vt.nn.Parameter)
    assert model.weight.data_ptr() == state["weight"].data_ptr() and model.weight.requires_grad


def test_state_dict_options_and_hooks():
    model = vt.nn.Sequential(vt.nn.Linear(2, 2))
    keep = model.state_dict(keep_vars=True)
    assert keep["0.weight"] is model[0].weight
    detached = model.state_dict()
    assert not detached["0.weight"].requires_grad and detached["0.weight"].data_ptr() == model[0].weight.data_ptr()
    assert list(model.state_dict(prefix="net.")) == ["net.0.weight", "net.0.bias"]
    destination = {}
    assert model.state_dict(destination=destination) is destination
    calls = []
    model.register_state_dict_pre_hook(lambda module, prefix, keep_vars: calls.append(("pre", prefix)))
    model[0].register_state_dict_post_hook(lambda module, state, prefix, meta: calls.append(("post", prefix)))
    model.register_load_state_dict_post_hook(lambda module, keys: calls.append(("load", tuple(keys.missing_keys))))
    model.load_state_dict(model.state_dict())
    assert calls == [("pre", ""), ("post", "0."), ("load", ())]


def test_extra_state_round_trip():
    class WithExtra(vt.nn.Module):
        def __init__(self):
            super().__init__()
            self.counter = 0

        def get_extra_state(self):
            return {"counter": self.counter}

        def set_extra_state(self, state):
            self.counter = state["counter"]

    source, target = WithExtra(), WithExtra()
    source.counter = 5
    assert source.state_dict()["_extra_state"] == {"counter": 5}
    target.load_state_dict(source.state_dict())
    assert target.counter == 5


# ---- hooks

def test_forward_hooks_like_torch():
    def run(lib):
        calls = []
        model = lib.nn.Linear(2, 2)
        h1 = model.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        h2 = model.register_forward_pre_hook(lambda m, args, kwargs: calls.append(sorted(kwargs)), with_kwargs=True)
        h3 = model.register_forward_hook(lambda m, args, out: out + 1)
        model.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
        model.register_forward_hook(lambda m, args, kwargs, out: calls.append(("kw", len(args))), with_kwargs=True)
        x = lib.ones(1, 2)
        first = model(x)
        for handle in (h1, h2, h3):
            handle.remove()
        return calls, first, model(x), model

    (torch_calls, torch_first, torch_second, torch_model), (vt_calls, vt_first, vt_second, vt_model) = both(run)
    assert vt_calls == torch_calls == [[], "first", ("kw", 1), "first", ("kw", 1)]
    vt_model.load_state_dict(vt_state(torch_model.state_dict()))
    assert_close(vt_model(vt.ones(1, 2) * 2) + 1, torch_first, 1e-6)


def test_forward_hook_always_call_runs_when_forward_raises():
    class Failing(vt.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    seen = []
    module = Failing()
    module.register_forward_hook(lambda m, args, out: seen.append("always"), always_call=True)
    module.register_forward_hook(lambda m, args, out: seen.append("normal"))
    with pytest.raises(ValueError, match="boom"):
        module(vt.ones(1))
    assert seen == ["always"]


def test_full_backward_hooks_match_torch():
    def run(lib):
        torch.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh())
        if lib is vt:
            model.load_state_dict(vt_state(reference_state))
        seen = {}
        model[0].register_full_backward_hook(
            lambda m, grad_in, grad_out: seen.update(grad_in=grad_in, grad_out=grad_out))
        model[1].register_full_backward_pre_hook(lambda m, grad_out: (grad_out[0] * 3,))
        model[1].register_full_backward_hook(lambda m, grad_in, grad_out: (grad_in[0] * 0.5,))
        x = lib.tensor([[0.1, 0.2, -0.3], [1.0, -2.0, 0.5]], dtype=lib.float64).requires_grad_()
        model.double()
        model(x).sum().backward()
        return seen, x.grad, model[0].weight.grad

    torch.manual_seed(0)
    reference_state = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh()).state_dict()
    (torch_seen, torch_x_grad, torch_w_grad), (vt_seen, vt_x_grad, vt_w_grad) = run(torch), run(vt)
    assert len(vt_seen["grad_in"]) == len(torch_seen["grad_in"]) == 1
    assert_close(vt_seen["grad_in"][0], torch_seen["grad_in"][0], 1e-12)
    assert_close(vt_seen["grad_out"][0], torch_seen["grad_out"][0], 1e-12)
    assert_close(vt_x_grad, torch_x_grad, 1e-12)
    assert_close(vt_w_grad, torch_w_grad, 1e-12)


def test_backward_hook_fires_when_no_input_requires_grad():
    model = vt.nn.Linear(2, 1)
    seen = []
    model.register_full_backward_hook(lambda m, grad_in, grad_out: seen.append((grad_in, grad_out[0].shape)))
    model(vt.ones(3, 2)).sum().backward()
    assert seen == [((None,), vt.Size([3, 1]))]


# ---- modes, gradients, conversion

def test_train_eval_and_requires_grad():
    model = vt.nn.Sequential(vt.nn.Linear(2, 2), vt.nn.Sequential(vt.nn.Dropout(), vt.nn.BatchNorm1d(2)))
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model[0].requires_grad_()
    assert [p.requires_grad for p in model.parameters()] == [True, True, False, False]


def test_zero_grad():
    model = vt.nn.Linear(3, 1)
    model(vt.ones(2, 3)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is not None and model.weight.grad.abs().sum().item() == 0
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_to_dtype_keeps_parameter_identity_and_converts_gradients():
    model = vt.nn.Sequential(vt.nn.Linear(3, 2), vt.nn.BatchNorm1d(2))
    params = list(model.parameters())
    model(vt.randn(4, 3)).sum().backward()
    values = model[0].weight.detach().clone()
    assert model.double() is model
    assert [p is q for p, q in zip(model.parameters(), params)] == [True] * 4
    assert all(p.dtype == vt.float64 and p.grad.dtype == vt.float64 for p in params)
    assert model[1].running_mean.dtype == vt.float64 and model[1].num_batches_tracked.dtype == vt.int64
    assert (model[0].weight.float() == values).all().item()
    for convert, dtype in [(lambda m: m.half(), vt.float16), (lambda m: m.bfloat16(), vt.bfloat16),
                           (lambda m: m.float(), vt.float32), (lambda m: m.to(vt.float64), vt.float64),
                           (lambda m: m.to(vt.zeros(1, dtype=vt.float16)), vt.float16),
                           (lambda m: m.to("cpu", vt.float32), vt.float32),
                           (lambda m: m.to(device="cpu", dtype=vt.float64, non_blocking=True), vt.float64),
                           (lambda m: m.type(vt.float32), vt.float32), (lambda m: m.cpu(), vt.float32)]:
        assert convert(model) is model
        assert all(p.dtype == dtype for p in model.parameters()) and model[0].weight is params[0]
    # a parameter still drives training after the conversion, through the same object
    model.double().zero_grad()
    model(vt.randn(4, 3, dtype=vt.float64)).sum().backward()
    assert params[0].grad is not None and params[0].grad.dtype == vt.float64


def test_apply_dir_name_and_misc():
    model = vt.nn.Sequential(vt.nn.Linear(2, 2), vt.nn.ReLU())
    names = []
    assert model.apply(lambda m: names.append(m._get_name())) is model
    assert names == ["Linear", "ReLU", "Sequential"]
    assert "weight" in dir(model[0]) and "in_features" in dir(model[0]) and "0" not in dir(model)
    assert model.share_memory() is model
    assert model.extra_repr() == "" and model[0].extra_repr() == "in_features=2, out_features=2, bias=True"


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))],
                         ids=["deepcopy", "pickle"])
def test_copies_are_independent(duplicate):
    model = vt.nn.Sequential(vt.nn.Linear(2, 2), vt.nn.TransformerEncoderLayer(4, 2, 8, activation="gelu"))
    clone = duplicate(model)
    assert clone[0].weight is not model[0].weight and isinstance(clone[0].weight, vt.nn.Parameter)
    assert (clone[0].weight == model[0].weight).all().item() and clone[0].weight.requires_grad
    assert clone[1].activation is vt.nn.functional.gelu  # functions bound from C++ are shared, not copied
    assert list(clone.state_dict()) == list(model.state_dict())
    with vt.no_grad():
        clone[0].weight.fill_(0)
    assert model[0].weight.abs().sum().item() > 0


def test_compile_keeps_the_module_callable():
    model = vt.nn.Linear(2, 2)
    x = vt.ones(1, 2)
    expected = model(x)
    model.compile()
    assert (model(x) == expected).all().item()


def test_parameter_and_buffer():
    data = vt.ones(2, 2)
    param = vt.nn.Parameter(data)
    assert isinstance(param, vt.Tensor) and param.requires_grad and param.is_leaf
    assert param.data_ptr() == data.data_ptr()
    assert repr(param) == vt_text(repr(torch.nn.Parameter(torch.ones(2, 2))))
    assert repr(vt.nn.Parameter(vt.ones(2), requires_grad=False)) == vt_text(
        repr(torch.nn.Parameter(torch.ones(2), requires_grad=False)))
    assert vt.nn.Parameter().shape == vt.Size([0])
    duplicate = copy.deepcopy(param)
    assert type(duplicate) is vt.nn.Parameter and duplicate.data_ptr() != param.data_ptr()
    buffer = vt.nn.Buffer(vt.zeros(3), persistent=False)
    assert isinstance(buffer, vt.Tensor) and buffer.persistent is False


# ---- containers

def test_sequential_operations_like_torch():
    def run(lib):
        nn = lib.nn
        seq = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3), nn.Tanh())
        out = [len(seq), type(seq[-1]).__name__, repr(seq[1:3]), list(seq[::2]._modules)]
        seq.append(nn.Sigmoid()).insert(1, nn.GELU()).extend([nn.Identity()])
        out.append([type(m).__name__ for m in seq])
        out.append(type(seq.pop(0)).__name__)
        del seq[1:3]
        out.append(list(seq._modules))
        seq[0] = nn.SiLU()
        out.append(repr(seq + nn.Sequential(nn.ReLU())))
        out.append(len(seq * 2))
        seq += nn.Sequential(nn.ELU())
        out.append(repr(seq))
        return out

    expected, actual = both(run)
    assert actual == expected
    seq = vt.nn.Sequential(vt.nn.Linear(3, 2), vt.nn.ReLU())
    x = vt.randn(4, 3)
    assert (seq(x) == vt.relu(seq[0](x))).all().item()


def test_module_list_and_dict_operations_like_torch():
    def run(lib):
        nn = lib.nn
        layers = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
        layers.append(nn.Tanh()).extend([nn.ReLU(), nn.ReLU()])
        layers.insert(1, nn.GELU())
        layers += [nn.Identity()]
        out = [len(layers), repr(layers), repr(layers[1:3]), type(layers[-1]).__name__]
        del layers[0]
        out.append(list(layers._modules))
        out.append(type(layers.pop(1)).__name__)
        out.append(repr(layers + nn.ModuleList([nn.ELU()])))
        blocks = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
        blocks["c"] = nn.Tanh()
        blocks.update([("d", nn.GELU())])
        out.append((list(blocks), "a" in blocks, type(blocks.pop("b")).__name__, list(blocks.keys())))
        out.append(repr(blocks))
        out.append(list(blocks.state_dict()))
        return out

    expected, actual = both(run)
    assert actual == expected


def test_parameter_list_and_dict_like_torch():
    def run(lib):
        nn = lib.nn
        plist = nn.ParameterList([lib.ones(2), nn.Parameter(lib.zeros(3, 1))])
        plist.append(lib.ones(1))
        pdict = nn.ParameterDict({"b": lib.ones(2), "a": nn.Parameter(lib.zeros(1))})
        pdict["c"] = lib.ones(3)
        out = [len(plist), [type(p).__name__ for p in plist], list(plist.state_dict()), repr(plist),
               list(pdict), list(pdict.state_dict()), "a" in pdict, repr(pdict), pdict.get("zz", 7)]
        out.append(list(pdict.pop("b").shape))
        out.append(list((pdict | nn.ParameterDict({"z": lib.ones(1)})).keys()))
        return out

    expected, actual = both(run)
    assert [vt_text(x) if isinstance(x, str) else x for x in expected] == actual
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        vt.nn.ParameterList()()


# ---- nn.utils

@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.0])
def test_clip_grad_norm_matches_torch(norm_type):
    torch_model, vt_model = twins(lambda nn: nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)))
    x = torch.randn(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    (torch_model(x) ** 2).sum().backward()
    (vt_model(to_vt(x)) ** 2).sum().backward()
    expected = torch.nn.utils.clip_grad_norm_(torch_model.parameters(), 0.5, norm_type=norm_type)
    actual = vt.nn.utils.clip_grad_norm_(vt_model.parameters(), 0.5, norm_type=norm_type, foreach=True)
    assert_close(actual, expected, 1e-12, "total norm")
    for (name, p), q in zip(torch_model.named_parameters(), vt_model.parameters()):
        assert_close(q.grad, p.grad, 1e-12, name)
    # already within the limit: unchanged
    before = [p.grad.clone() for p in vt_model.parameters()]
    vt.nn.utils.clip_grad_norm_(vt_model.parameters(), 100.0, norm_type=norm_type)
    assert all((p.grad == b).all().item() for p, b in zip(vt_model.parameters(), before))


def test_clip_grad_norm_nonfinite_and_empty():
    p = vt.nn.Parameter(vt.ones(2))
    p.grad = vt.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is "
                                           "non-finite"):
        vt.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert vt.nn.utils.clip_grad_norm_([vt.nn.Parameter(vt.ones(1))], 1.0).item() == 0.0


def test_clip_grad_value_and_parameter_vectors():
    model = vt.nn.Linear(3, 2)
    model.weight.grad = vt.tensor([[-3.0, 0.5, 2.0], [0.25, -0.75, 9.0]])
    model.bias.grad = vt.tensor([-0.125, 4.0])
    vt.nn.utils.clip_grad_value_(model.parameters(), 1.0)
    assert model.weight.grad.tolist() == [[-1.0, 0.5, 1.0], [0.25, -0.75, 1.0]]
    assert model.bias.grad.tolist() == [-0.125, 1.0]
    vector = vt.nn.utils.parameters_to_vector(model.parameters())
    expected = np.concatenate([model.weight.detach().numpy().ravel(), model.bias.detach().numpy()])
    assert vector.shape == vt.Size([8]) and np.array_equal(vector.detach().numpy(), expected) and vector.requires_grad
    weight = model.weight
    vt.nn.utils.vector_to_parameters(vt.arange(8, dtype=vt.float32), model.parameters())
    assert model.weight is weight and model.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model.bias.tolist() == [6.0, 7.0]
    with pytest.raises(TypeError, match="expected vibetensor.Tensor, but got: list"):
        vt.nn.utils.vector_to_parameters([1.0], model.parameters())
