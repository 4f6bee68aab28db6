"""Einstein summation (chainrule/ops/einsum.py) against finite differences, PyTorch and NumPy: contractions, batch
and broadcast axes, '...', implicit outputs, diagonals and traces, outer products, letters summed by one operand."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers
from test_second_order import assert_second_order_matches_torch

from chainrule import ops
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.einsum import parse_subscripts

# id -> (subscripts, operand shapes)
CASES = {
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)]),
    "implicit matmul": ("ij,jk", [(2, 3), (3, 4)]),
    "batched matmul": ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    "ellipsis batch broadcast": ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    "attention logits": ("BTNH,BSNH->BNTS", [(2, 3, 2, 4), (2, 5, 2, 4)]),
    "transpose": ("ij->ji", [(2, 3)]),
    "sum all": ("ij->", [(2, 3)]),
    "trace": ("ii", [(3, 3)]),
    "diagonal": ("ii->i", [(3, 3)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "dot": ("i,i", [(4,), (4,)]),
    "three operands": ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    "letter only in one operand": ("ij,j->j", [(2, 3), (3,)]),
    "bilinear": ("bi,ij,bj->b", [(2, 3), (3, 3), (2, 3)]),
}


def _operands(case, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in CASES[case][1]]


@covers("einsum", kind="fd")
@pytest.mark.parametrize("case", sorted(CASES))
def test_einsum_matches_finite_differences_and_numpy(case):
    subscripts = CASES[case][0]
    operands = _operands(case)
    np.testing.assert_allclose(ops.einsum(subscripts, *operands).numpy(), np.einsum(subscripts, *operands),
                               rtol=1e-12, atol=1e-12)
    check_gradients(lambda *ts: ops.einsum(subscripts, *ts), *operands)


@covers("einsum", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(CASES))
def test_einsum_matches_torch(case, dtype):
    subscripts = CASES[case][0]
    compare_with_torch(lambda *ts: ops.einsum(subscripts, *ts), lambda *ts: torch.einsum(subscripts, *ts),
                       *_operands(case), dtype=dtype)


@pytest.mark.parametrize("case", ["batched matmul", "diagonal", "letter only in one operand", "bilinear"])
def test_einsum_second_order_matches_torch(case):
    subscripts = CASES[case][0]
    assert_second_order_matches_torch(lambda *ts: ops.einsum(subscripts, *ts) ** 2,
                                      lambda *ts: torch.einsum(subscripts, *ts) ** 2, *_operands(case, seed=1))


def test_subscripts_are_spelled_out_one_letter_per_axis():
    assert parse_subscripts("...ij,...jk", [(5, 1, 2, 3), (7, 3, 4)]) == (("ABij", "Bjk"), "ABik")
    assert parse_subscripts("ba", [(2, 3)]) == (("ba",), "ab")  # implicit output: alphabetical


@pytest.mark.parametrize("subscripts, shapes, message", [
    ("ij,jk->ik->i", [(2, 3), (3, 4)], "At most one '->'"),
    ("ij,jk->ik", [(2, 3)], r"Number of operands \(1\) does not match the number of input specs \(2\)"),
    ("ijk->i", [(2, 3)], "Number of dimensions in the subscript does not match"),
    ("ij->k", [(2, 3)], "output subscripts"),
    ("i1->i", [(2, 3)], "invalid subscripts"),
])
def test_bad_subscripts_are_refused_with_keras_messages(subscripts, shapes, message):
    with pytest.raises(ValueError, match=message):
        ops.einsum(subscripts, *[np.ones(s) for s in shapes])


def test_mixed_float_dtypes_promote_and_float32_stays_float32():
    a32, b64 = np.ones((2, 3), "float32"), np.ones((3,), "float64")
    assert ops.einsum("ij,j->i", a32, b64).dtype == np.float64
    assert ops.einsum("ij,j->i", a32, a32[0]).dtype == np.float32
