"""Gathers and scatters with tensor indices (chainrule/ops/indexing.py) against finite differences and PyTorch:
take, take_along_axis, scatter, scatter_update, slice_update, segment_sum; repeated indices accumulate gradients."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers
from test_second_order import assert_second_order_matches_torch

from chainrule import ops
from chainrule.engine.gradcheck import check_gradients

X = np.random.default_rng(0).standard_normal((3, 4))

# np.take(x, indices, axis): id -> (indices, axis, the same in torch)
TAKES = {
    "axis 1 with repeats": (np.array([3, 0, 3]), 1, lambda t, i: t[:, i]),
    "axis 0, 2-d indices": (np.array([[2, 0], [2, 2]]), 0, lambda t, i: t[i]),
    "negative indices": (np.array([-1, -4]), 1, lambda t, i: t[:, i % 4]),
    "flattened": (np.array([11, 0, 5, 5]), None, lambda t, i: t.reshape(-1)[i]),
}


@covers("take", kind="fd")
@covers("take", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(TAKES))
def test_take_matches_torch_and_finite_differences(case, dtype):
    indices, axis, torch_fn = TAKES[case]
    compare_with_torch(lambda t: ops.take(t, indices, axis), lambda t: torch_fn(t, torch.tensor(indices)), X,
                       dtype=dtype)
    np.testing.assert_allclose(ops.take(X, indices, axis).numpy(), np.take(X, indices, axis))
    if dtype == np.float64:
        check_gradients(lambda t: ops.take(t, indices, axis), X)


ALONG = {
    "argsort order, axis 1": (np.argsort(X, axis=1), 1),
    "one column, axis 1": (np.array([[1], [3], [3]]), 1),
    "broadcast rows, axis 0": (np.array([[2, 0, 0, 1]]), 0),
    "repeats, axis 0": (np.array([[0, 0, 0, 0], [0, 0, 0, 0]]), 0),
}


@covers("take_along_axis", kind="fd")
@covers("take_along_axis", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(ALONG))
def test_take_along_axis_matches_torch_and_finite_differences(case, dtype):
    indices, axis = ALONG[case]
    compare_with_torch(lambda t: ops.take_along_axis(t, indices, axis),
                       lambda t: torch.take_along_dim(t, torch.tensor(indices), axis), X, dtype=dtype)
    np.testing.assert_allclose(ops.take_along_axis(X, indices, axis).numpy(), np.take_along_axis(X, indices, axis))
    if dtype == np.float64:
        check_gradients(lambda t: ops.take_along_axis(t, indices, axis), X)


def test_take_second_order_matches_torch():
    indices = np.array([[1, 1], [0, 2]])
    assert_second_order_matches_torch(lambda t: ops.take_along_axis(t, indices, 1) ** 2,
                                      lambda t: torch.take_along_dim(t, torch.tensor(indices), 1) ** 2, X[:2, :3])


# scatter(indices, values, shape): id -> (indices, values shape, shape)
SCATTERS = {
    "elements with repeats": (np.array([[0, 1], [2, 3], [0, 1]]), (3,), (3, 4)),
    "rows": (np.array([[2], [0]]), (2, 4), (3, 4)),
    "2-d batch of coordinates": (np.array([[[0, 0], [1, 1]], [[2, 2], [0, 0]]]), (2, 2), (3, 4)),
}


def _torch_scatter(indices, shape):
    def f(values):
        coords = tuple(torch.tensor(indices[..., k]) for k in range(indices.shape[-1]))
        return torch.zeros(shape, dtype=values.dtype).index_put(coords, values, accumulate=True)
    return f


@covers("scatter", kind="fd")
@covers("scatter", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(SCATTERS))
def test_scatter_matches_torch_and_finite_differences(case, dtype):
    indices, values_shape, shape = SCATTERS[case]
    values = np.random.default_rng(1).standard_normal(values_shape)
    compare_with_torch(lambda v: ops.scatter(indices, v, shape), _torch_scatter(indices, shape), values, dtype=dtype)
    if dtype == np.float64:
        check_gradients(lambda v: ops.scatter(indices, v, shape), values)


def _torch_update(indices):
    def f(x, u):
        coords = tuple(torch.tensor(indices[..., k]) for k in range(indices.shape[-1]))
        return x.index_put(coords, u)
    return f


UPDATES = {
    "elements": (np.array([[0, 1], [2, 3]]), (2,)),
    "rows": (np.array([[2], [0]]), (2, 4)),
}


@covers("scatter_update", kind="fd")
@covers("scatter_update", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(UPDATES))
def test_scatter_update_matches_torch_and_finite_differences(case, dtype):
    indices, updates_shape = UPDATES[case]
    updates = np.random.default_rng(2).standard_normal(updates_shape)
    compare_with_torch(lambda x, u: ops.scatter_update(x, indices, u), _torch_update(indices), X, updates, dtype=dtype)
    if dtype == np.float64:
        check_gradients(lambda x, u: ops.scatter_update(x, indices, u), X, updates)


def test_scatter_update_with_repeated_indices_lets_the_last_write_win_and_gives_it_the_gradient():
    indices = np.array([[1, 1], [0, 0], [1, 1]])
    updates = np.array([10.0, 20.0, 30.0])
    out = ops.scatter_update(X, indices, updates).numpy()
    assert out[1, 1] == 30.0 and out[0, 0] == 20.0
    check_gradients(lambda x, u: ops.scatter_update(x, indices, u), X, updates)  # the overwritten 10 gets 0


SLICES = {"inner block": ((1, 1), (2, 2)), "whole rows": ((0, 0), (1, 4)), "corner": ((2, 3), (1, 1))}


def _torch_slice_update(start, shape):
    def f(x, u):
        y = x.clone()
        y[tuple(slice(s, s + n) for s, n in zip(start, shape))] = u
        return y
    return f


@covers("slice_update", kind="fd")
@covers("slice_update", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(SLICES))
def test_slice_update_matches_torch_and_finite_differences(case, dtype):
    start, shape = SLICES[case]
    updates = np.random.default_rng(3).standard_normal(shape)
    compare_with_torch(lambda x, u: ops.slice_update(x, start, u), _torch_slice_update(start, shape), X, updates,
                       dtype=dtype)
    if dtype == np.float64:
        check_gradients(lambda x, u: ops.slice_update(x, start, u), X, updates)
        assert_second_order_matches_torch(lambda x, u: ops.slice_update(x, start, u) ** 2,
                                          lambda x, u: _torch_slice_update(start, shape)(x, u) ** 2, X, updates)


SEGMENTS = {"sorted": (np.array([0, 0, 1]), 2), "unsorted with an empty segment": (np.array([3, 0, 3]), 4),
            "ids dropped": (np.array([-1, 1, 5]), 3)}


def _torch_segment_sum(ids, num):
    keep = (ids >= 0) & (ids < num)

    def f(data):
        return torch.zeros((num,) + tuple(data.shape[1:]), dtype=data.dtype).index_add(
            0, torch.tensor(ids[keep]), data[torch.tensor(keep)])
    return f


@covers("segment_sum", kind="fd")
@covers("segment_sum", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(SEGMENTS))
def test_segment_sum_matches_torch_and_finite_differences(case, dtype):
    ids, num = SEGMENTS[case]
    compare_with_torch(lambda d: ops.segment_sum(d, ids, num), _torch_segment_sum(ids, num), X, dtype=dtype)
    if dtype == np.float64:
        check_gradients(lambda d: ops.segment_sum(d, ids, num), X)


def test_bad_indices_are_refused_naming_the_argument():
    with pytest.raises(TypeError, match="take: `indices` must be integers"):
        ops.take(X, np.array([0.5]))
    with pytest.raises(IndexError, match="take_along_axis: `indices` out of range for axis 1 of size 4"):
        ops.take_along_axis(X, np.array([[4]]), axis=1)
    with pytest.raises(ValueError, match="take_along_axis: `indices` must have the rank of `x`"):
        ops.take_along_axis(X, np.array([1]), axis=1)
    with pytest.raises(ValueError, match=r"scatter: `values` must have shape \(2,\)"):
        ops.scatter(np.array([[0, 0], [1, 1]]), np.ones(3), (3, 4))
    with pytest.raises(IndexError, match="scatter_update: `indices` coordinate 0 out of range"):
        ops.scatter_update(X, np.array([[3, 0]]), np.ones(1))
    with pytest.raises(ValueError, match="slice_update: a block of shape"):
        ops.slice_update(X, (2, 2), np.ones((2, 2)))
