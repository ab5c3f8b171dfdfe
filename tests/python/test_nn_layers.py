"""vibetensor.nn layers against torch.nn: each layer is built in both libraries from one lambda,
torch's state dict is copied into vibetensor's, and the forward outputs, the parameter
gradients and the input gradients must agree (float64, so any formula difference shows).
Also: MultiheadAttention with masks, the Transformer layers, nn.init statistics, and a small
ViT whose state dict goes torch -> vibetensor -> torch."""
import math

import numpy as np
import pytest
import torch

import vibetensor as vt
from helpers import to_torch, to_vt
from nn_helpers import assert_close, check_layer, torch_state, twins, vt_state

pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")]


def randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def indices(high, *shape, seed=0):
    return torch.randint(0, high, shape, generator=torch.Generator().manual_seed(seed))


# ---- one row per layer configuration: (id, make(nn), inputs)

LAYERS = [
    ("Identity", lambda nn: nn.Identity(3, foo=1), [randn(2, 3)]),
    ("Linear", lambda nn: nn.Linear(5, 3), [randn(4, 5)]),
    ("Linear-3d-nobias", lambda nn: nn.Linear(5, 3, bias=False), [randn(2, 4, 5)]),
    ("Bilinear", lambda nn: nn.Bilinear(3, 4, 2), [randn(5, 3), randn(5, 4, seed=1)]),
    ("Conv1d", lambda nn: nn.Conv1d(3, 4, 3, stride=2, padding=1), [randn(2, 3, 9)]),
    ("Conv1d-same-even-kernel", lambda nn: nn.Conv1d(2, 2, 4, padding="same", dilation=2), [randn(1, 2, 9)]),
    ("Conv1d-reflect", lambda nn: nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"), [randn(2, 2, 7)]),
    ("Conv2d", lambda nn: nn.Conv2d(3, 4, 3), [randn(2, 3, 6, 6)]),
    ("Conv2d-tuple-args", lambda nn: nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
     [randn(2, 2, 7, 6)]),
    ("Conv2d-groups-nobias", lambda nn: nn.Conv2d(4, 6, 3, groups=2, bias=False, padding=1), [randn(1, 4, 5, 5)]),
    ("Conv2d-same", lambda nn: nn.Conv2d(2, 3, (3, 4), padding="same"), [randn(1, 2, 5, 6)]),
    ("Conv2d-valid", lambda nn: nn.Conv2d(2, 3, 3, padding="valid"), [randn(1, 2, 5, 6)]),
    ("Conv2d-replicate", lambda nn: nn.Conv2d(2, 2, 3, padding=1, padding_mode="replicate"), [randn(1, 2, 4, 5)]),
    ("Conv2d-circular", lambda nn: nn.Conv2d(2, 2, 3, padding=(1, 2), padding_mode="circular"), [randn(1, 2, 4, 5)]),
    ("Conv2d-unbatched", lambda nn: nn.Conv2d(2, 3, 3), [randn(2, 5, 5)]),
    ("ConvTranspose1d", lambda nn: nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1),
     [randn(2, 3, 5)]),
    ("ConvTranspose2d", lambda nn: nn.ConvTranspose2d(4, 2, 3, stride=2, groups=2, dilation=2), [randn(1, 4, 3, 4)]),
    ("BatchNorm1d-eval", lambda nn: nn.BatchNorm1d(3), [randn(4, 3)]),
    ("BatchNorm2d-eval", lambda nn: nn.BatchNorm2d(3), [randn(2, 3, 4, 4)]),
    ("BatchNorm2d-no-affine", lambda nn: nn.BatchNorm2d(3, affine=False), [randn(2, 3, 4, 4)]),
    ("BatchNorm1d-no-stats", lambda nn: nn.BatchNorm1d(3, track_running_stats=False), [randn(4, 3, 5)]),
    ("LayerNorm", lambda nn: nn.LayerNorm(6), [randn(3, 6)]),
    ("LayerNorm-2d-nobias", lambda nn: nn.LayerNorm((2, 3), bias=False, eps=1e-3), [randn(4, 2, 3)]),
    ("LayerNorm-no-affine", lambda nn: nn.LayerNorm([5], elementwise_affine=False), [randn(2, 5)]),
    ("RMSNorm", lambda nn: nn.RMSNorm(4), [randn(3, 4)]),
    ("RMSNorm-eps", lambda nn: nn.RMSNorm([2, 4], eps=1e-3), [randn(3, 2, 4)]),
    ("GroupNorm", lambda nn: nn.GroupNorm(2, 4), [randn(2, 4, 3, 3)]),
    ("InstanceNorm2d", lambda nn: nn.InstanceNorm2d(3, affine=True), [randn(2, 3, 4, 4)]),
    ("LocalResponseNorm", lambda nn: nn.LocalResponseNorm(3), [randn(2, 4, 3, 3)]),
    ("Flatten", lambda nn: nn.Flatten(), [randn(2, 3, 4)]),
    ("Unflatten", lambda nn: nn.Unflatten(1, (2, 3)), [randn(4, 6)]),
    ("MaxPool1d", lambda nn: nn.MaxPool1d(3, stride=2, padding=1), [randn(2, 3, 9)]),
    ("MaxPool2d", lambda nn: nn.MaxPool2d(2), [randn(2, 3, 6, 6)]),
    ("MaxPool2d-ceil", lambda nn: nn.MaxPool2d(3, 2, ceil_mode=True), [randn(1, 2, 6, 6)]),
    ("AvgPool1d", lambda nn: nn.AvgPool1d(2), [randn(2, 3, 8)]),
    ("AvgPool2d", lambda nn: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), [randn(1, 2, 7, 7)]),
    ("AdaptiveAvgPool1d", lambda nn: nn.AdaptiveAvgPool1d(3), [randn(2, 3, 7)]),
    ("AdaptiveAvgPool2d", lambda nn: nn.AdaptiveAvgPool2d((2, 3)), [randn(2, 3, 7, 6)]),
    ("AdaptiveMaxPool2d", lambda nn: nn.AdaptiveMaxPool2d(2), [randn(1, 2, 5, 5)]),
    ("LPPool2d", lambda nn: nn.LPPool2d(2, 2), [randn(1, 2, 4, 4)]),
    ("Upsample-nearest", lambda nn: nn.Upsample(scale_factor=2), [randn(1, 2, 3, 3)]),
    ("Upsample-bilinear", lambda nn: nn.Upsample(size=(5, 4), mode="bilinear", align_corners=False),
     [randn(1, 2, 3, 3)]),
    ("PixelShuffle", lambda nn: nn.PixelShuffle(2), [randn(1, 8, 2, 3)]),
    ("PixelUnshuffle", lambda nn: nn.PixelUnshuffle(2), [randn(1, 2, 4, 6)]),
    ("ZeroPad2d", lambda nn: nn.ZeroPad2d((1, 2, 0, 1)), [randn(1, 2, 3, 3)]),
    ("ConstantPad1d", lambda nn: nn.ConstantPad1d(2, 3.5), [randn(2, 3, 4)]),
    ("ReflectionPad1d", lambda nn: nn.ReflectionPad1d((2, 1)), [randn(2, 3, 4)]),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d(1), [randn(1, 2, 3, 4)]),
    ("ReplicationPad1d", lambda nn: nn.ReplicationPad1d(2), [randn(2, 3, 4)]),
    ("ReplicationPad2d", lambda nn: nn.ReplicationPad2d((1, 0, 2, 1)), [randn(1, 2, 3, 4)]),
    ("CircularPad2d", lambda nn: nn.CircularPad2d(1), [randn(1, 2, 3, 4)]),
    ("Embedding", lambda nn: nn.Embedding(10, 4), [indices(10, 3, 5)]),
    ("Embedding-padding_idx", lambda nn: nn.Embedding(10, 3, padding_idx=2),
     [torch.tensor([[2, 1, 2], [4, 2, 9]])]),
    ("CosineSimilarity", lambda nn: nn.CosineSimilarity(dim=1), [randn(3, 4), randn(3, 4, seed=1)]),
    ("PairwiseDistance", lambda nn: nn.PairwiseDistance(), [randn(3, 4), randn(3, 4, seed=1)]),
]

ACTIVATIONS = [
    ("ReLU", lambda nn: nn.ReLU()), ("ReLU6", lambda nn: nn.ReLU6()), ("GELU", lambda nn: nn.GELU()),
    ("GELU-tanh", lambda nn: nn.GELU(approximate="tanh")), ("SiLU", lambda nn: nn.SiLU()),
    ("Mish", lambda nn: nn.Mish()), ("Tanh", lambda nn: nn.Tanh()), ("Sigmoid", lambda nn: nn.Sigmoid()),
    ("Softmax", lambda nn: nn.Softmax(dim=1)), ("LogSoftmax", lambda nn: nn.LogSoftmax(dim=-1)),
    ("Softmin", lambda nn: nn.Softmin(dim=0)), ("LeakyReLU", lambda nn: nn.LeakyReLU(0.2)),
    ("ELU", lambda nn: nn.ELU(alpha=0.5)), ("SELU", lambda nn: nn.SELU()), ("CELU", lambda nn: nn.CELU(2.0)),
    ("Hardtanh", lambda nn: nn.Hardtanh(-0.5, 2.0)), ("Hardswish", lambda nn: nn.Hardswish()),
    ("Hardsigmoid", lambda nn: nn.Hardsigmoid()), ("Softplus", lambda nn: nn.Softplus(beta=2, threshold=3)),
    ("Softsign", lambda nn: nn.Softsign()), ("PReLU", lambda nn: nn.PReLU()),
    ("PReLU-channels", lambda nn: nn.PReLU(4, init=0.1)), ("GLU", lambda nn: nn.GLU()),
    ("Threshold", lambda nn: nn.Threshold(0.1, 20.0)), ("Tanhshrink", lambda nn: nn.Tanhshrink()),
    ("LogSigmoid", lambda nn: nn.LogSigmoid()), ("Hardshrink", lambda nn: nn.Hardshrink(0.3)),
    ("Softshrink", lambda nn: nn.Softshrink()), ("Softmax2d", lambda nn: nn.Softmax2d()),
]

LOSSES = [
    ("CrossEntropyLoss", lambda nn: nn.CrossEntropyLoss(), [randn(5, 4), indices(4, 5)]),
    ("CrossEntropyLoss-options", lambda nn: nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.0])
                                                                 if nn is torch.nn else
                                                                 vt.tensor([1.0, 2.0, 0.5, 1.0]),
                                                                 ignore_index=1, label_smoothing=0.1),
     [randn(5, 4), indices(4, 5)]),
    ("CrossEntropyLoss-sum", lambda nn: nn.CrossEntropyLoss(reduction="sum"), [randn(2, 3, 4), indices(3, 2, 4)]),
    ("NLLLoss", lambda nn: nn.NLLLoss(reduction="none"), [randn(5, 4), indices(4, 5)]),
    ("MSELoss", lambda nn: nn.MSELoss(), [randn(3, 4), randn(3, 4, seed=1)]),
    ("L1Loss", lambda nn: nn.L1Loss(reduction="sum"), [randn(3, 4), randn(3, 4, seed=1)]),
    ("SmoothL1Loss", lambda nn: nn.SmoothL1Loss(beta=0.5), [randn(3, 4), randn(3, 4, seed=1)]),
    ("HuberLoss", lambda nn: nn.HuberLoss(delta=0.7), [randn(3, 4), randn(3, 4, seed=1)]),
    ("BCELoss", lambda nn: nn.BCELoss(), [torch.rand(3, 4, dtype=torch.float64), torch.rand(3, 4)]),
    ("BCEWithLogitsLoss", lambda nn: nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 3.0, 0.5])
                                                           if nn is torch.nn else
                                                           vt.tensor([1.0, 2.0, 3.0, 0.5])),
     [randn(3, 4), torch.rand(3, 4)]),
    ("KLDivLoss", lambda nn: nn.KLDivLoss(reduction="batchmean"),
     [torch.log_softmax(randn(3, 4), 1), torch.softmax(randn(3, 4, seed=1), 1)]),
    ("CosineEmbeddingLoss", lambda nn: nn.CosineEmbeddingLoss(margin=0.1),
     [randn(3, 4), randn(3, 4, seed=1), torch.tensor([1.0, -1.0, 1.0])]),
    ("MarginRankingLoss", lambda nn: nn.MarginRankingLoss(0.2),
     [randn(5), randn(5, seed=1), torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0])]),
    ("SoftMarginLoss", lambda nn: nn.SoftMarginLoss(), [randn(3, 4), torch.tensor([1.0, -1.0, 1.0, 1.0])]),
    ("TripletMarginLoss", lambda nn: nn.TripletMarginLoss(), [randn(3, 4), randn(3, 4, seed=1), randn(3, 4, seed=2)]),
]


@pytest.mark.parametrize("name, make, inputs", LAYERS, ids=[row[0] for row in LAYERS])
def test_layer_matches_torch(name, make, inputs):
    check_layer(make, *inputs)


# torch's float64 backward of these uses the float32 constant 1/6; vibetensor's is exact.
FLOAT32_CONSTANT_GRADIENTS = {"Hardsigmoid", "Hardswish"}


@pytest.mark.parametrize("name, make", ACTIVATIONS, ids=[row[0] for row in ACTIVATIONS])
def test_activation_matches_torch(name, make):
    check_layer(make, randn(2, 4, 3, 2), tol=1e-7 if name in FLOAT32_CONSTANT_GRADIENTS else 1e-10)


@pytest.mark.parametrize("name, make, inputs", LOSSES, ids=[row[0] for row in LOSSES])
def test_loss_matches_torch(name, make, inputs):
    # targets do not require grad in torch's losses; only the first input is differentiated
    def call(module, *args):
        return module(*args)

    torch_module, vt_module = twins(make)
    first = inputs[0].detach().requires_grad_()
    rest = [x.to(torch.float64) if x.is_floating_point() else x for x in inputs[1:]]
    expected = torch_module(first, *rest)
    vt_first = to_vt(first.detach()).requires_grad_()
    actual = vt_module(vt_first, *[to_vt(x) for x in rest])
    assert_close(actual, expected, 1e-10, "loss")
    expected.sum().backward()
    actual.sum().backward()
    assert_close(vt_first.grad, first.grad, 1e-10, "grad")


def test_batchnorm_training_updates_running_stats_like_torch():
    for momentum in (0.1, None):
        torch_bn, vt_bn = twins(lambda nn: nn.BatchNorm2d(3, momentum=momentum), train=True)
        for step in range(3):
            x = randn(4, 3, 2, 2, seed=step)
            assert_close(vt_bn(to_vt(x)), torch_bn(x), 1e-10, "train forward")
        for key, value in torch_bn.state_dict().items():
            assert_close(vt_bn.state_dict()[key], value, 1e-12, key)
        assert vt_bn.num_batches_tracked.item() == 3 and vt_bn.num_batches_tracked.dtype == vt.int64
        torch_bn.eval()
        vt_bn.eval()
        x = randn(2, 3, 2, 2, seed=9)
        assert_close(vt_bn(to_vt(x)), torch_bn(x), 1e-10, "eval forward uses running stats")
    check_layer(lambda nn: nn.BatchNorm1d(3), randn(5, 3, 2), train=True)


def test_batchnorm_rejects_wrong_rank_like_torch():
    for lib in (torch, vt):
        with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
            lib.nn.BatchNorm2d(3)(lib.zeros(2, 3, 4))


def test_embedding_padding_idx_row_is_zero_and_gets_no_gradient():
    embedding = vt.nn.Embedding(6, 3, padding_idx=-2)
    assert embedding.padding_idx == 4
    assert embedding.weight[4].abs().sum().item() == 0
    assert embedding.weight[3].abs().sum().item() > 0
    embedding(vt.tensor([4, 1, 4])).sum().backward()
    grad = embedding.weight.grad
    assert grad[4].abs().sum().item() == 0 and grad[1].abs().sum().item() == 3


def test_embedding_max_norm_renormalizes_looked_up_rows_like_torch():
    torch_emb, vt_emb = twins(lambda nn: nn.Embedding(6, 3, max_norm=1.0))
    ids = torch.tensor([[0, 2], [2, 5]])
    assert_close(vt_emb(to_vt(ids)), torch_emb(ids), 1e-6)
    assert_close(vt_emb.weight, torch_emb.weight, 1e-6, "rows renormalized in place, the others untouched")


def test_embedding_from_pretrained_shares_and_freezes():
    weights = vt.randn(4, 2)
    embedding = vt.nn.Embedding.from_pretrained(weights)
    assert not embedding.weight.requires_grad
    assert embedding.weight.data_ptr() == weights.data_ptr()
    assert vt.nn.Embedding.from_pretrained(weights, freeze=False).weight.requires_grad


def test_conv_transpose_output_size_like_torch():
    x = randn(1, 2, 4, 4)
    check_layer(lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), x,
                call=lambda module, inp: module(inp, output_size=[8, 8]))


def test_dropout_modes():
    x = vt.ones(1000)
    dropout = vt.nn.Dropout(0.5)
    assert dropout.eval()(x) is x or (dropout.eval()(x) == x).all().item()
    out = dropout.train()(x)
    zeros = (out == 0).sum().item()
    assert 350 < zeros < 650
    assert ((out == 0) | (out == 2)).all().item()  # survivors scaled by 1 / (1 - p)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        vt.nn.Dropout(1.5)
    check_layer(lambda nn: nn.Dropout(0.0), randn(3, 4), train=True)


# ---- attention and transformers

def _mask_inputs(batch_first, bool_masks):
    """query/key/value and masks for batch 2, target length 3, source length 4, embed dim 8."""
    q = randn(2, 3, 8) if batch_first else randn(3, 2, 8)
    kv = randn(2, 4, 8, seed=1) if batch_first else randn(4, 2, 8, seed=1)
    attn_mask = torch.tensor([[False, True, False, False], [False, False, True, True], [True, False, False, False]])
    key_padding_mask = torch.tensor([[False, False, False, True], [False, True, False, False]])
    if not bool_masks:
        attn_mask = attn_mask.double().masked_fill(attn_mask, -1e4)
        key_padding_mask = key_padding_mask.double().masked_fill(key_padding_mask, float("-inf"))
    return q, kv, attn_mask, key_padding_mask


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("bool_masks", [True, False])
def test_multihead_attention_with_masks(batch_first, need_weights, average, bool_masks):
    q, kv, attn_mask, key_padding_mask = _mask_inputs(batch_first, bool_masks)
    check_layer(lambda nn: nn.MultiheadAttention(8, 2, batch_first=batch_first), q, kv, attn_mask,
                key_padding_mask,
                call=lambda m, query, keyvalue, am, kpm: m(query, keyvalue, keyvalue, attn_mask=am,
                                                            key_padding_mask=kpm, need_weights=need_weights,
                                                            average_attn_weights=average))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("options", [dict(kdim=5, vdim=6), dict(add_bias_kv=True, add_zero_attn=True),
                                     dict(bias=False)], ids=["kdim-vdim", "bias_kv-zero_attn", "no-bias"])
def test_multihead_attention_variants(options, batch_first):
    q, k, v = randn(3, 2, 8), randn(4, 2, options.get("kdim", 8), seed=1), randn(4, 2, options.get("vdim", 8), seed=2)
    if batch_first:
        q, k, v = (t.transpose(0, 1) for t in (q, k, v))
    torch_module, _ = check_layer(lambda nn: nn.MultiheadAttention(8, 4, batch_first=batch_first, **options), q, k, v)
    assert ("in_proj_weight" in torch_module.state_dict()) == ("kdim" not in options)


def test_multihead_attention_self_attention_unbatched_and_3d_mask():
    x = randn(5, 8)
    mask = torch.rand(2, 5, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    check_layer(lambda nn: nn.MultiheadAttention(8, 2), x, mask,
                call=lambda m, inp, am: m(inp, inp, inp, attn_mask=am))


@pytest.mark.parametrize("need_weights", [False, True])
def test_multi_head_attention_forward_with_static_key_and_value(need_weights):
    """F.multi_head_attention_forward with precomputed (N * heads, S, head_dim) keys and values."""
    embed, heads = 8, 2
    weights = [randn(3 * embed, embed, seed=4), randn(3 * embed, seed=5), randn(embed, embed, seed=6),
               randn(embed, seed=7)]
    query = randn(3, 2, embed)
    static_k, static_v = randn(2 * heads, 4, embed // heads, seed=8), randn(2 * heads, 4, embed // heads, seed=9)

    def run(lib, tensors):
        w_in, b_in, w_out, b_out, q, sk, sv = tensors
        return lib.nn.functional.multi_head_attention_forward(
            q, q, q, embed, heads, w_in, b_in, None, None, False, 0.0, w_out, b_out, need_weights=need_weights,
            static_k=sk, static_v=sv)
    torch_tensors = [t.double() for t in (*weights, query, static_k, static_v)]
    expected = run(torch, torch_tensors)
    actual = run(vt, [to_vt(t) for t in torch_tensors])
    for a, e in zip(actual, expected):
        if e is None:
            assert a is None
        else:
            assert_close(a, e, 1e-12, "output")


def test_multihead_attention_unbatched_batch_first():
    x = randn(5, 8)
    check_layer(lambda nn: nn.MultiheadAttention(8, 2, batch_first=True), x,
                call=lambda m, inp: m(inp, inp, inp, need_weights=False))


def test_multihead_attention_causal_self_attention_with_sdpa():
    x = randn(2, 5, 8)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    check_layer(lambda nn: nn.MultiheadAttention(8, 2, batch_first=True), x, causal,
                call=lambda m, inp, am: m(inp, inp, inp, attn_mask=am, need_weights=False, is_causal=True))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_layer(norm_first, batch_first):
    x = randn(2, 5, 8) if batch_first else randn(5, 2, 8)
    src_mask = torch.ones(5, 5, dtype=torch.bool).triu(1)
    padding = torch.tensor([[False] * 5, [False, False, False, True, True]])
    check_layer(lambda nn: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, norm_first=norm_first,
                                                      batch_first=batch_first, activation="gelu"),
                x, src_mask, padding,
                call=lambda m, inp, mask, kpm: m(inp, src_mask=mask, src_key_padding_mask=kpm))


def test_transformer_encoder_in_eval_mode_with_norm_and_module_activation():
    x = randn(3, 4, 8)

    def make(nn):
        layer = nn.TransformerEncoderLayer(8, 4, 16, dropout=0.2, activation=nn.SiLU(), batch_first=True)
        return nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(8), enable_nested_tensor=False)

    torch_module, vt_module = check_layer(make, x)
    assert len(vt_module.layers) == 2 and vt_module.layers[0] is not vt_module.layers[1]
    assert vt_module.layers[0].linear1.weight is not vt_module.layers[1].linear1.weight


def test_transformer_decoder_and_full_transformer():
    src, tgt = randn(2, 5, 8), randn(2, 3, 8, seed=1)
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
    check_layer(lambda nn: nn.Transformer(8, 2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16,
                                          dropout=0.0, batch_first=True),
                src, tgt, tgt_mask, call=lambda m, s, t, mask: m(s, t, tgt_mask=mask))
    memory = randn(4, 2, 8, seed=2)
    check_layer(lambda nn: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True), randn(3, 2, 8),
                memory)
    assert torch.equal(to_torch(vt.nn.Transformer.generate_square_subsequent_mask(3)),
                       torch.nn.Transformer.generate_square_subsequent_mask(3))


# ---- a small ViT, written once against either library

def define_vit(lib):
    nn = lib.nn

    class ViT(nn.Module):
        def __init__(self, image=8, patch=4, dim=16, depth=2, heads=4, classes=5):
            super().__init__()
            tokens = (image // patch) ** 2
            self.patch_embed = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
            self.cls_token = nn.Parameter(lib.zeros(1, 1, dim))
            self.pos_embedding = nn.Parameter(lib.zeros(1, tokens + 1, dim))
            nn.init.trunc_normal_(self.pos_embedding, std=0.02)
            nn.init.trunc_normal_(self.cls_token, std=0.02)
            layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=2 * dim, dropout=0.0,
                                               activation="gelu", batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, classes)

        def forward(self, images):
            x = self.patch_embed(images).flatten(2).transpose(1, 2)
            x = lib.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding
            x = self.encoder(x)
            return self.head(self.norm(x[:, 0]))

    return ViT


def test_vit_matches_torch_forward_and_gradients():
    images = randn(3, 3, 8, 8)
    torch_vit, vt_vit = check_layer(lambda nn: define_vit(torch if nn is torch.nn else vt)(), images, tol=1e-9)
    assert list(vt_vit.state_dict()) == list(torch_vit.state_dict())
    assert str(vt_vit) == str(torch_vit)


def test_vit_float32_state_dict_round_trip_torch_vt_torch():
    torch.manual_seed(1)
    torch_vit = define_vit(torch)()
    vt_vit = define_vit(vt)()
    vt_vit.load_state_dict(vt_state(torch_vit.state_dict()))
    images = torch.randn(2, 3, 8, 8)
    expected = torch_vit(images)
    assert_close(vt_vit(to_vt(images)), expected, 1e-5, "float32 forward")
    back = define_vit(torch)()
    back.load_state_dict(torch_state(vt_vit.state_dict()))
    assert torch.equal(back(images), expected)  # the round trip is bit-exact


# ---- nn.init

def test_linear_and_conv_default_init_bounds():
    linear = vt.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    weight = linear.weight.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.99 * bound
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.02 * bound  # U(-b, b) has std b / sqrt(3)
    assert np.abs(linear.bias.detach().numpy()).max() <= bound
    conv = vt.nn.Conv2d(8, 16, 3)
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / math.sqrt(8 * 9)


@pytest.mark.parametrize("mode, nonlinearity, a", [("fan_in", "relu", 0), ("fan_out", "leaky_relu", 0.1),
                                                   ("fan_in", "tanh", 0)])
def test_kaiming_and_xavier_statistics(mode, nonlinearity, a):
    w = vt.empty(256, 128)
    fan = 128 if mode == "fan_in" else 256
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    vt.nn.init.kaiming_uniform_(w, a=a, mode=mode, nonlinearity=nonlinearity)
    assert w.abs().max().item() <= math.sqrt(3) * std * (1 + 1e-6)
    assert abs(w.std().item() - std) < 0.03 * std
    vt.nn.init.kaiming_normal_(w, a=a, mode=mode, nonlinearity=nonlinearity)
    assert abs(w.std().item() - std) < 0.03 * std
    vt.nn.init.xavier_uniform_(w, gain=2.0)
    assert abs(w.std().item() - 2.0 * math.sqrt(2.0 / 384)) < 0.03 * 2.0 * math.sqrt(2.0 / 384)
    vt.nn.init.xavier_normal_(w)
    assert abs(w.std().item() - math.sqrt(2.0 / 384)) < 0.03 * math.sqrt(2.0 / 384)


def test_trunc_normal_range_and_moments():
    w = vt.empty(20000)
    vt.nn.init.trunc_normal_(w, mean=0.5, std=1.0, a=0.0, b=2.0)
    values = w.numpy()
    assert values.min() >= 0.0 and values.max() <= 2.0
    reference = torch.nn.init.trunc_normal_(torch.empty(20000, dtype=torch.float64), mean=0.5, std=1.0, a=0.0, b=2.0)
    assert abs(values.mean() - reference.mean().item()) < 0.02
    assert abs(values.std() - reference.std().item()) < 0.02
    vt.nn.init.trunc_normal_(w, std=0.02)
    assert w.abs().max().item() <= 2.0 and abs(w.std().item() - 0.02) < 0.002


def test_init_exact_initializers_match_torch():
    for shape, fn in [((3, 5), "eye_"), ((4, 2, 3), "dirac_"), ((6, 3, 3, 3), "dirac_"), ((2, 3), "ones_"),
                      ((2, 3), "zeros_")]:
        expected = getattr(torch.nn.init, fn)(torch.empty(shape))
        assert torch.equal(to_torch(getattr(vt.nn.init, fn)(vt.empty(*shape))), expected), (shape, fn)
    assert torch.equal(to_torch(vt.nn.init.dirac_(vt.empty(6, 2, 3), groups=3)),
                       torch.nn.init.dirac_(torch.empty(6, 2, 3), groups=3))
    assert (vt.nn.init.constant_(vt.empty(4), 0.3) == 0.3).all().item()


def test_init_orthogonal_and_sparse():
    for shape in [(6, 4), (3, 7), (4, 2, 3)]:
        w = vt.nn.init.orthogonal_(vt.empty(*shape), gain=2.0)
        flat = to_torch(w).reshape(shape[0], -1).double()
        small = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        assert torch.allclose(small, 4 * torch.eye(small.shape[0], dtype=torch.float64), atol=1e-5), shape
    w = vt.nn.init.sparse_(vt.empty(10, 5), sparsity=0.3)
    assert ((w == 0).sum(dim=0) >= 3).all().item()


def test_init_gain_fan_and_errors_match_torch():
    for args in [("linear",), ("relu",), ("tanh",), ("leaky_relu",), ("leaky_relu", 0.2), ("selu",), ("conv2d",)]:
        assert vt.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    assert vt.nn.init._calculate_fan_in_and_fan_out(vt.empty(4, 3, 2, 5)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(4, 3, 2, 5))
    for vt_fn, torch_fn in [(lambda: vt.nn.init.xavier_uniform_(vt.empty(3)),
                             lambda: torch.nn.init.xavier_uniform_(torch.empty(3))),
                            (lambda: vt.nn.init.calculate_gain("foo"), lambda: torch.nn.init.calculate_gain("foo")),
                            (lambda: vt.nn.init.kaiming_normal_(vt.empty(2, 2), mode="fan"),
                             lambda: torch.nn.init.kaiming_normal_(torch.empty(2, 2), mode="fan"))]:
        with pytest.raises(ValueError) as expected:
            torch_fn()
        with pytest.raises(ValueError) as actual:
            vt_fn()
        assert str(actual.value) == str(expected.value)


def test_init_generator_makes_it_reproducible_and_runs_without_grad():
    a, b = vt.nn.Parameter(vt.empty(3, 4)), vt.nn.Parameter(vt.empty(3, 4))
    vt.nn.init.normal_(a, generator=vt.Generator().manual_seed(7))
    vt.nn.init.normal_(b, generator=vt.Generator().manual_seed(7))
    assert (a == b).all().item() and a.is_leaf and a.grad_fn is None


def test_module_initial_values():
    mha = vt.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    assert mha.in_proj_bias.abs().sum().item() == 0 and mha.out_proj.bias.abs().sum().item() == 0
    assert mha.in_proj_weight.abs().max().item() <= math.sqrt(6 / (8 + 24))
    bn = vt.nn.BatchNorm1d(4)
    assert (bn.weight == 1).all().item() and (bn.bias == 0).all().item() and (bn.running_var == 1).all().item()
    assert (vt.nn.PReLU(3, init=0.1).weight == 0.1).all().item()
    assert (vt.nn.LayerNorm(3).weight == 1).all().item()
