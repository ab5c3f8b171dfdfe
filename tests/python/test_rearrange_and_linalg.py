"""tile, repeat_interleave, roll, pad modes, lerp/addcmul/addcdiv, einsum, tensordot and the
norms, against torch on the same inputs: values, dtypes, gradients and errors."""
import math

import numpy as np
import pytest
import torch

import vibetensor as vt
from helpers import same_error_type

RNG = np.random.default_rng(2)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal((4, 5)).astype(np.float32)
C3 = RNG.standard_normal((2, 3, 4)).astype(np.float32)
IMG = RNG.standard_normal((2, 3, 5, 6)).astype(np.float32)


def t(m, x):
    return m.tensor(x)


CASES = {
    "tile": lambda m: t(m, A).tile((2, 1, 2)),
    "tile_fewer": lambda m: m.tile(t(m, C3), (2,)),
    "tile_args": lambda m: t(m, A).tile(2, 3),
    "repeat_interleave_int": lambda m: t(m, A).repeat_interleave(2),
    "repeat_interleave_dim": lambda m: m.repeat_interleave(t(m, A), 3, dim=1),
    "repeat_interleave_tensor": lambda m: t(m, A).repeat_interleave(m.tensor([1, 0, 2]), dim=0),
    "repeat_interleave_counts": lambda m: m.repeat_interleave(m.tensor([2, 0, 3, 1])),
    "repeat_interleave_zero_dim": lambda m: m.tensor(5.0).repeat_interleave(3),
    "roll": lambda m: m.roll(t(m, A), 1, 0),
    "roll_flat": lambda m: t(m, A).roll(-5),
    "roll_multi": lambda m: m.roll(t(m, C3), shifts=(1, -2), dims=(2, 0)),
    "pad_reflect": lambda m: m.nn.functional.pad(t(m, IMG), (2, 1, 1, 3), mode="reflect"),
    "pad_replicate": lambda m: m.nn.functional.pad(t(m, IMG), (3, 0, 2, 2), mode="replicate"),
    "pad_circular": lambda m: m.nn.functional.pad(t(m, IMG), (1, 2, 0, 1), mode="circular"),
    "pad_reflect_1d": lambda m: m.nn.functional.pad(t(m, C3), (3, 2), mode="reflect"),
    "pad_replicate_3d": lambda m: m.nn.functional.pad(t(m, IMG)[None], (1, 1, 1, 0, 2, 1), mode="replicate"),
    "pad_constant": lambda m: m.nn.functional.pad(t(m, A), (1, 2), value=-1.0),
    "lerp_scalar": lambda m: m.lerp(t(m, A), t(m, A) * 3 + 1, 0.3),
    "lerp_tensor": lambda m: t(m, A).lerp(t(m, A[::-1].copy()), m.tensor([0.0, 0.25, 0.75, 1.0])),
    "addcmul": lambda m: m.addcmul(t(m, A), t(m, A), t(m, A[:1]), value=0.5),
    "addcdiv": lambda m: t(m, A).addcdiv(t(m, A), t(m, A) + 5, value=-2),
    "addcmul_int": lambda m: m.addcmul(m.tensor([1, 2]), m.tensor([3, 4]), m.tensor([5, 6]), value=2),
    "einsum_matmul": lambda m: m.einsum("ij,jk->ik", t(m, A), t(m, B)),
    "einsum_implicit": lambda m: m.einsum("ij,jk", t(m, A), t(m, B)),
    "einsum_batch": lambda m: m.einsum("bij,bjk->bik", t(m, C3), t(m, C3).transpose(1, 2)),
    "einsum_trace": lambda m: m.einsum("ii", t(m, A[:, :3])),
    "einsum_diagonal": lambda m: m.einsum("ii->i", t(m, A[:, :3])),
    "einsum_outer": lambda m: m.einsum("i,j->ij", t(m, A[0]), t(m, B[0])),
    "einsum_sum_all": lambda m: m.einsum("ij->", t(m, A)),
    "einsum_transpose": lambda m: m.einsum("ij->ji", t(m, A)),
    "einsum_ellipsis": lambda m: m.einsum("...ij,...jk->...ik", t(m, C3), t(m, B)),
    "einsum_ellipsis_broadcast": lambda m: m.einsum("b...,b->...", t(m, C3), t(m, C3[:, 0, 0])),
    "einsum_three": lambda m: m.einsum("ij,jk,kl->il", t(m, A), t(m, B), t(m, B.T.copy())),
    "einsum_list": lambda m: m.einsum("bhqd,bhkd->bhqk", [t(m, IMG), t(m, IMG)]),
    "einsum_spaces": lambda m: m.einsum("i j , j k -> i k", t(m, A), t(m, B)),
    "tensordot_int": lambda m: m.tensordot(t(m, C3), t(m, B), dims=1),
    "tensordot_lists": lambda m: m.tensordot(t(m, C3), t(m, C3), dims=([0, 2], [0, 2])),
    "tensordot_zero": lambda m: m.tensordot(t(m, A), t(m, B), dims=0),
    "norm_default": lambda m: m.norm(t(m, A)),
    "norm_p1_dim": lambda m: t(m, A).norm(1, dim=1),
    "norm_inf": lambda m: m.norm(t(m, A), float("inf")),
    "norm_p3_keepdim": lambda m: m.norm(t(m, C3), 3, dim=(0, 2), keepdim=True),
    "vector_norm": lambda m: m.linalg.vector_norm(t(m, C3), dim=-1),
    "vector_norm_zero": lambda m: m.linalg.vector_norm(t(m, A), 0),
    "vector_norm_neg_inf": lambda m: m.linalg.vector_norm(t(m, A), -math.inf, dim=0),
    "vector_norm_dtype": lambda m: m.linalg.vector_norm(t(m, A), dtype=m.float64),
    "linalg_norm_matrix_fro": lambda m: m.linalg.norm(t(m, A)),
    "linalg_norm_matrix_1": lambda m: m.linalg.norm(t(m, A), 1),
    "linalg_norm_matrix_inf": lambda m: m.linalg.matrix_norm(t(m, C3), -math.inf),
    "linalg_norm_vector": lambda m: m.linalg.norm(t(m, A), 3, dim=1),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    expected, actual = CASES[name](torch), CASES[name](vt)
    assert tuple(actual.shape) == tuple(expected.shape)
    assert str(actual.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    np.testing.assert_allclose(np.array(actual.tolist(), dtype=np.float64), expected.double().numpy(), rtol=1e-5,
                               atol=1e-5)


GRADS = {
    "pad_reflect": lambda m, x: (m.nn.functional.pad(x[None], (2, 1, 1, 2), mode="reflect") ** 2).sum(),
    "pad_replicate": lambda m, x: (m.nn.functional.pad(x[None], (2, 0, 3, 1), mode="replicate") * 2).pow(2).sum(),
    "roll": lambda m, x: (x.roll(1, 1) * m.arange(4.0)).sum(),
    "repeat_interleave": lambda m, x: (x.repeat_interleave(m.tensor([2, 1, 3]), dim=0) ** 2).sum(),
    "tile": lambda m, x: (x.tile(2, 1) ** 3).sum(),
    "lerp": lambda m, x: m.lerp(x, x * x, x[:, :1] / 5).sum(),
    "addcdiv": lambda m, x: m.addcdiv(x, x, x * x + 1, value=0.5).sum(),
    "einsum": lambda m, x: m.einsum("ij,kj,ii->k", x, x * 2, x[:, :3]).sum(),
    "tensordot": lambda m, x: m.tensordot(x, x, dims=([1], [1])).sum(),
    "norm2": lambda m, x: m.linalg.vector_norm(x, dim=1).sum(),
    "norm2_zero_vector": lambda m, x: m.linalg.vector_norm(x * m.tensor([[0.0], [1.0], [1.0]]), dim=1).sum(),
    "norm_inf_ties": lambda m, x: m.linalg.vector_norm(x.abs().round(), float("inf")),
    "norm3": lambda m, x: m.norm(x, 3),
    "norm1": lambda m, x: x.norm(1, dim=0).sum(),
}


@pytest.mark.parametrize("name", GRADS)
def test_gradient_matches_torch(name):
    grads = []
    for m in (torch, vt):
        x = m.tensor(A.astype(np.float64) * 2, requires_grad=True)
        GRADS[name](m, x).backward()
        grads.append(np.array(x.grad.tolist()))
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6, atol=1e-8)


ERRORS = {
    "einsum_operand_count": lambda m: m.einsum("ij,jk", m.zeros(2, 2)),
    "einsum_rank": lambda m: m.einsum("ijk", m.zeros(2, 2)),
    "einsum_size": lambda m: m.einsum("ij,jk", m.zeros(2, 3), m.zeros(2, 2)),
    "einsum_output_label": lambda m: m.einsum("ij->k", m.zeros(2, 2)),
    "tensordot_mismatch": lambda m: m.tensordot(m.zeros(2, 3), m.zeros(2, 3), dims=([1], [1, 0])),
    "tensordot_size": lambda m: m.tensordot(m.zeros(2, 3), m.zeros(2, 3), dims=([1], [0])),
    "pad_reflect_too_big": lambda m: m.nn.functional.pad(m.zeros(1, 2, 3), (3, 0), mode="reflect"),
    "pad_odd": lambda m: m.nn.functional.pad(m.zeros(1, 2, 3), (1,)),
    "pad_mode": lambda m: m.nn.functional.pad(m.zeros(1, 2, 3), (1, 1), mode="wrap"),
    "roll_mismatch": lambda m: m.roll(m.zeros(2, 3), (1, 1), (0,)),
    "repeat_interleave_negative": lambda m: m.zeros(3).repeat_interleave(m.tensor([1, -1, 1])),
    "repeat_interleave_size": lambda m: m.zeros(3).repeat_interleave(m.tensor([1, 1])),
    "norm_int": lambda m: m.linalg.vector_norm(m.tensor([1, 2])),
    "norm_inf_empty": lambda m: m.linalg.vector_norm(m.zeros(0), float("inf")),
    "addcdiv_int": lambda m: m.addcdiv(m.tensor([1]), m.tensor([1]), m.tensor([2])),
    "lerp_dtype": lambda m: m.lerp(m.zeros(2), m.zeros(2, dtype=m.float64), 0.5),
}


@pytest.mark.parametrize("name", ERRORS)
def test_error_type_matches_torch(name):
    same_error_type(ERRORS[name])
