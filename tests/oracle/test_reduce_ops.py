"""Reductions (chainrule/ops/reduce.py) against finite differences and PyTorch, over axes, keepdims and ties."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients

HYPOTHESIS = settings(max_examples=25, deadline=None)


def normal(rng, shape):
    return rng.standard_normal(shape)


def distinct(rng, shape):  # values at least 1 apart: no ties for max/min, even after a finite-difference step
    return rng.permutation(int(np.prod(shape))).reshape(shape) + rng.uniform(0, 0.5)


# name -> (chainrule fn(x, axis, keepdims), torch fn(x, dims, keepdim), sampler)
REDUCTIONS = {
    "sum": (cr.reduce_sum, lambda x, d, k: torch.sum(x, d, keepdim=k), normal),
    "mean": (cr.reduce_mean, lambda x, d, k: torch.mean(x, d, keepdim=k), normal),
    "max": (cr.reduce_max, lambda x, d, k: torch.amax(x, d, keepdim=k), distinct),
    "min": (cr.reduce_min, lambda x, d, k: torch.amin(x, d, keepdim=k), distinct),
    "logsumexp": (cr.reduce_logsumexp, lambda x, d, k: torch.logsumexp(x, d, keepdim=k), normal),
    "var": (cr.reduce_variance, lambda x, d, k: torch.var(x, d, correction=0, keepdim=k), normal),
}
# (shape, axis, keepdims)
CASES = [((5,), None, False), ((2, 3), 0, False), ((2, 3), 1, True), ((2, 3, 4), (0, 2), False),
         ((2, 3, 4), -1, True), ((2, 3, 4), None, True), ((3, 1, 2), [1], False), ((2, 3), (-2, 1), False)]


def torch_dims(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def check_reduction(name, shape, axis, keepdims, dtype=np.float64, seed=0, fd=True):
    cr_fn, torch_fn, sample = REDUCTIONS[name]
    x = sample(np.random.default_rng(seed), shape)
    out = compare_with_torch(lambda t: cr_fn(t, axis, keepdims),
                             lambda t: torch_fn(t, torch_dims(axis, len(shape)), keepdims), x, dtype=dtype)
    if fd:
        check_gradients(lambda t: cr_fn(t, axis, keepdims), x)
    return out


@covers(*REDUCTIONS, kind="fd")
@covers(*REDUCTIONS, kind="torch")
@pytest.mark.parametrize("shape, axis, keepdims", CASES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_matches_torch_and_finite_differences(name, shape, axis, keepdims):
    check_reduction(name, shape, axis, keepdims)


@pytest.mark.parametrize("shape, axis, keepdims", CASES[:4], ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_float32_matches_torch(name, shape, axis, keepdims):
    check_reduction(name, shape, axis, keepdims, dtype=np.float32, fd=False)


@st.composite
def shape_and_axis(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    ndim = len(shape)
    axis = draw(st.none() | st.integers(-ndim, ndim - 1)
                | st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple))
    return shape, axis


@given(name=st.sampled_from(sorted(REDUCTIONS)), case=shape_and_axis(), keepdims=st.booleans(),
       seed=st.integers(0, 2**16))
@HYPOTHESIS
def test_reduction_hypothesis_shapes_and_axes(name, case, keepdims, seed):
    shape, axis = case
    out = check_reduction(name, shape, axis, keepdims, seed=seed)
    axes = {a % len(shape) for a in torch_dims(axis, len(shape))}
    expected = tuple(1 if i in axes else n for i, n in enumerate(shape) if keepdims or i not in axes)
    assert out.shape == expected


@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "max"])
def test_reduction_of_a_scalar(name):
    check_reduction(name, (), None, False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_logsumexp_is_stable_for_large_inputs(dtype):
    x = np.array([[1000.0, 999.0, -1000.0], [-1e4, -1e4 + 1.0, -1e4 + 2.0]])
    out = compare_with_torch(lambda t: cr.reduce_logsumexp(t, 1), lambda t: torch.logsumexp(t, 1), x, dtype=dtype)
    assert np.isfinite(out.numpy()).all()


# ties: the gradient is shared equally among the positions holding the extreme, as torch.amax / torch.amin do
TIES = [([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], 1), ([[1.0, 3.0, 3.0], [3.0, 2.0, 0.0]], None),
        ([[5.0, 1.0], [5.0, 1.0]], 0), ([[0.0, 0.0], [0.0, 0.0]], (0, 1))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("x, axis", TIES, ids=str)
def test_max_and_min_ties_share_like_torch_amax(x, axis, name, dtype):
    x = np.array(x) if name == "max" else -np.array(x)
    cr_fn, torch_fn, _ = REDUCTIONS[name]
    compare_with_torch(lambda t: cr_fn(t, axis), lambda t: torch_fn(t, torch_dims(axis, 2), False), x, dtype=dtype)


def test_max_tie_shares_equally():
    x = cr.Tensor([2.0, 7.0, 7.0, 7.0], requires_grad=True)
    (dx,) = cr.grad(cr.reduce_max(x), [x])
    np.testing.assert_allclose(dx.numpy(), [0.0, 1 / 3, 1 / 3, 1 / 3])


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_axis_out_of_range_names_the_op(name):
    with pytest.raises(ValueError, match=rf"{name}: axis 2 is out of range for a tensor of rank 2"):
        REDUCTIONS[name][0](cr.constant(np.ones((2, 3))), 2)
