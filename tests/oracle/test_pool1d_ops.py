"""max_pool1d and avg_pool1d against finite differences and PyTorch (F.max_pool1d, F.avg_pool1d)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.pool1d import avg_pool1d, max_pool1d


def _tf_pads(n, k, s, padding):
    """TensorFlow's 'same' rule, written again so the test does not trust the code under test."""
    if padding == "valid":
        return 0, 0
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def torch_max_pool1d(x, k, s=None, padding="valid"):
    s = k if s is None else s
    xt = F.pad(x.transpose(1, 2), _tf_pads(x.shape[1], k, s, padding), value=float("-inf"))
    return F.max_pool1d(xt, k, s).transpose(1, 2)


def torch_avg_pool1d(x, k, s=None, padding="valid"):
    """Average over the real steps only: the zero-padded sum divided by the zero-padded count of ones."""
    s = k if s is None else s
    pads = _tf_pads(x.shape[1], k, s, padding)
    xt = F.pad(x.transpose(1, 2), pads)
    ones = F.pad(torch.ones_like(x[:1, :, :1]).transpose(1, 2), pads)
    return (F.avg_pool1d(xt, k, s) / F.avg_pool1d(ones, k, s)).transpose(1, 2)


CASES = [((2, 8, 3), 2, None, "valid"), ((2, 7, 2), 3, 2, "same"), ((1, 9, 2), 3, 1, "valid"),
         ((2, 5, 1), 2, None, "same"), ((1, 6, 2), 4, 3, "same")]


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@covers("max_pool1d", kind="fd")
@covers("avg_pool1d", kind="fd")
@pytest.mark.parametrize("x_shape, k, s, padding", CASES)
def test_pool1d_gradients_match_finite_differences(x_shape, k, s, padding):
    x = _x(x_shape)
    assert check_gradients(lambda a: max_pool1d(a, k, s, padding), x)
    assert check_gradients(lambda a: avg_pool1d(a, k, s, padding), x)


@covers("max_pool1d", kind="torch")
@covers("avg_pool1d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, k, s, padding", CASES)
def test_pool1d_matches_torch(x_shape, k, s, padding, dtype):
    x = _x(x_shape, seed=1)
    out = compare_with_torch(lambda a: max_pool1d(a, k, s, padding), lambda a: torch_max_pool1d(a, k, s, padding),
                             x, dtype=dtype)
    compare_with_torch(lambda a: avg_pool1d(a, k, s, padding), lambda a: torch_avg_pool1d(a, k, s, padding),
                       x, dtype=dtype)
    step = k if s is None else s
    assert out.shape[1] == (-(-x_shape[1] // step) if padding == "same" else (x_shape[1] - k) // step + 1)


def test_max_pool1d_gradient_goes_to_the_first_maximum_of_a_tie():
    x = np.array([[[1.0], [1.0], [0.0], [0.0]]])
    compare_with_torch(lambda a: max_pool1d(a, 2), lambda a: torch_max_pool1d(a, 2), x)


def test_pool1d_errors_name_the_1d_op():
    with pytest.raises(ValueError, match=r"max_pool1d: input must be 3-D"):
        max_pool1d(np.zeros((1, 4, 4, 1)), 2)
    with pytest.raises(ValueError, match=r"avg_pool1d: the pool window \(5\) is longer than the input's 4 steps"):
        avg_pool1d(np.zeros((1, 4, 1)), 5)
    with pytest.raises(ValueError, match=r"max_pool1d: pool_size must be a positive int, got 0"):
        max_pool1d(np.zeros((1, 4, 1)), 0)
    with pytest.raises(ValueError, match=r"max_pool1d: strides must be an int or a 1-tuple"):
        max_pool1d(np.zeros((1, 4, 1)), 2, (1, 1))
