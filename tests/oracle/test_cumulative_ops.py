"""Running sums and products (chainrule/ops/cumulative.py) against finite differences and PyTorch; cumprod with
zeros among its inputs (one zero, two zeros, a zero at either end) takes the exact path, which must agree too."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers
from test_second_order import assert_second_order_matches_torch

import chainrule as cr
from chainrule import ops
from chainrule.engine.gradcheck import check_gradients

CASES = [((6,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), 1)]


def _zeros_at(x, *positions):
    x = x.copy().reshape(-1)
    x[list(positions)] = 0.0
    return x


def cumsum_torch(axis):
    return lambda t: torch.cumsum(t, axis)


def cumprod_torch(axis):
    return lambda t: torch.cumprod(t, axis)


@covers("cumsum", "cumprod", kind="fd")
@pytest.mark.parametrize("shape, axis", CASES, ids=str)
def test_cumulative_ops_match_finite_differences(shape, axis):
    x = np.random.default_rng(0).uniform(0.5, 1.5, shape) * np.random.default_rng(1).choice([-1, 1], shape)
    check_gradients(lambda t: ops.cumsum(t, axis), x)
    check_gradients(lambda t: ops.cumprod(t, axis), x)


@covers("cumsum", "cumprod", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape, axis", CASES, ids=str)
def test_cumulative_ops_match_torch(shape, axis, dtype):
    x = np.random.default_rng(2).standard_normal(shape)
    compare_with_torch(lambda t: ops.cumsum(t, axis), cumsum_torch(axis), x, dtype=dtype)
    compare_with_torch(lambda t: ops.cumprod(t, axis), cumprod_torch(axis), x, dtype=dtype)


ZERO_POSITIONS = {"one zero": (2,), "two zeros": (1, 4), "first": (0,), "last": (5,), "all": tuple(range(6))}


@pytest.mark.parametrize("where", sorted(ZERO_POSITIONS))
def test_cumprod_with_zeros_matches_torch_and_finite_differences(where):
    x = _zeros_at(np.random.default_rng(3).uniform(0.5, 2.0, 6), *ZERO_POSITIONS[where])
    compare_with_torch(lambda t: ops.cumprod(t, 0), cumprod_torch(0), x)
    check_gradients(lambda t: ops.cumprod(t, 0), x)


def test_cumprod_with_zeros_in_some_rows_only():
    x = np.random.default_rng(4).uniform(0.5, 2.0, (3, 5))
    x[1, 2] = 0.0
    compare_with_torch(lambda t: ops.cumprod(t, 1), cumprod_torch(1), x)
    compare_with_torch(lambda t: ops.cumprod(t, 0), cumprod_torch(0), x)


@pytest.mark.parametrize("zeros", [False, True], ids=["no zeros", "a zero"])
def test_second_order_matches_torch(zeros):
    x = np.random.default_rng(5).uniform(0.5, 2.0, (2, 4))
    if zeros:
        x[0, 1] = 0.0
    assert_second_order_matches_torch(lambda t: ops.cumprod(t, 1), cumprod_torch(1), x)
    assert_second_order_matches_torch(lambda t: ops.cumsum(t, 1) * t, lambda t: torch.cumsum(t, 1) * t, x)


def test_axis_none_runs_over_the_flattened_tensor_and_integers_keep_their_dtype():
    x = np.arange(1, 7).reshape(2, 3)
    np.testing.assert_array_equal(ops.cumsum(x).numpy(), np.cumsum(x))
    np.testing.assert_array_equal(ops.cumprod(x.astype(np.int32), axis=1).numpy(), np.cumprod(x, axis=1))
    assert ops.cumprod(x.astype(np.int32), axis=1).dtype == np.int32
    with pytest.raises(ValueError, match="cumsum: axis 2 is out of range"):
        ops.cumsum(cr.ones((2, 3)), axis=2)
