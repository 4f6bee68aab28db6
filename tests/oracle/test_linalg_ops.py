"""matmul (chainrule/ops/linalg.py) against finite differences and PyTorch: vectors, matrices, broadcast batches."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients

# (a shape, b shape): NumPy's matmul rules, 1-D operands included
MATMUL_SHAPES = [
    ((2, 3), (3, 4)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((3,), (3,)),
    ((2, 2, 3), (2, 3, 4)),
    ((2, 2, 3), (3, 4)),
    ((3, 4), (2, 4, 2)),
    ((2, 1, 2, 3), (3, 3, 2)),
    ((3,), (2, 3, 2)),
    ((2, 2, 3), (3,)),
]


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@covers("matmul", kind="fd")
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_finite_differences(shapes):
    check_gradients(cr.matmul, *_inputs(shapes))


@covers("matmul", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_matches_torch(shapes, dtype):
    out = compare_with_torch(cr.matmul, torch.matmul, *_inputs(shapes), dtype=dtype)
    assert out.shape == np.matmul(*_inputs(shapes)).shape


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_matmul_operator_and_a_constant_operand_match_torch(dtype):
    a, w = _inputs([(2, 3), (3, 4)])
    compare_with_torch(lambda t: t @ w, lambda t: t @ torch.tensor(w, dtype=t.dtype), a, dtype=dtype)
    compare_with_torch(lambda t: a @ t, lambda t: torch.tensor(a, dtype=t.dtype) @ t, w, dtype=dtype)
