"""Activations (chainrule/ops/activation.py, and relu/sigmoid/tanh/softplus) against finite differences and PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule as cr
from chainrule import ops
from chainrule.engine.gradcheck import check_gradients

# id -> (op name, chainrule fn, torch fn); the data keeps |x| >= 0.1, away from the kinks at 0
ACTIVATIONS = {
    "relu": ("relu", ops.relu, torch.relu),
    "leaky_relu": ("leaky_relu", ops.leaky_relu, lambda t: F.leaky_relu(t, 0.2)),
    "leaky_relu alpha=0.01": ("leaky_relu", lambda t: ops.leaky_relu(t, 0.01), lambda t: F.leaky_relu(t, 0.01)),
    "elu": ("elu", ops.elu, F.elu),
    "elu alpha=0.5": ("elu", lambda t: ops.elu(t, alpha=0.5), lambda t: F.elu(t, alpha=0.5)),
    "gelu": ("gelu", ops.gelu, F.gelu),
    "gelu tanh": ("gelu", lambda t: ops.gelu(t, approximate=True), lambda t: F.gelu(t, approximate="tanh")),
    "sigmoid": ("sigmoid", cr.sigmoid, torch.sigmoid),
    "tanh": ("tanh", cr.tanh, torch.tanh),
    "softplus": ("softplus", ops.softplus, F.softplus),
    "softmax": ("softmax", cr.softmax, lambda t: torch.softmax(t, -1)),
    "softmax axis 0": ("softmax", lambda t: cr.softmax(t, 0), lambda t: torch.softmax(t, 0)),
    "log_softmax": ("log_softmax", ops.log_softmax, lambda t: torch.log_softmax(t, -1)),
    "log_softmax axis 0": ("log_softmax", lambda t: ops.log_softmax(t, axis=0), lambda t: torch.log_softmax(t, 0)),
}
NAMES = sorted({name for name, _, _ in ACTIVATIONS.values()})
SHAPES = [(5,), (2, 3), (2, 3, 4)]


def away_from_zero(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 3.0, shape)


@covers(*NAMES, kind="fd")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("case", sorted(ACTIVATIONS))
def test_activation_matches_finite_differences(case, shape):
    check_gradients(ACTIVATIONS[case][1], away_from_zero(shape))


@covers(*NAMES, kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("case", sorted(ACTIVATIONS))
def test_activation_matches_torch(case, shape, dtype):
    _, cr_fn, torch_fn = ACTIVATIONS[case]
    compare_with_torch(cr_fn, torch_fn, away_from_zero(shape), dtype=dtype)


@given(case=st.sampled_from(sorted(ACTIVATIONS)), shape=array_shapes(min_dims=1, max_dims=3, max_side=4),
       seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_activation_hypothesis_shapes(case, shape, seed):
    _, cr_fn, torch_fn = ACTIVATIONS[case]
    x = away_from_zero(shape, seed)
    compare_with_torch(cr_fn, torch_fn, x)
    check_gradients(cr_fn, x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", sorted(ACTIVATIONS))
def test_activation_is_stable_for_large_inputs(case, dtype):
    """No overflow to inf or nan at |x| = 60 or 800, forward or backward (softplus: both sides of torch's cutoff)."""
    _, cr_fn, torch_fn = ACTIVATIONS[case]
    x = np.array([[-800.0, -60.0, -0.5, 0.7, 60.0], [-3.0, 1.0, 15.0, 30.0, 800.0]])
    out = compare_with_torch(cr_fn, torch_fn, x, dtype=dtype)
    assert np.isfinite(out.numpy()).all()


# at the kink x = 0 chainrule takes the same one-sided slope as PyTorch
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", ["relu", "leaky_relu", "elu alpha=0.5"])
def test_slope_at_zero_matches_torch(case, dtype):
    _, cr_fn, torch_fn = ACTIVATIONS[case]
    compare_with_torch(cr_fn, torch_fn, np.array([-1.0, 0.0, 1.0]), dtype=dtype)


def test_softmax_rows_sum_to_one_and_axis_is_checked():
    p = cr.softmax(cr.constant(away_from_zero((3, 4))), axis=0)
    np.testing.assert_allclose(p.numpy().sum(axis=0), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="log_softmax: axis 2 is out of range for a tensor of rank 2"):
        ops.log_softmax(cr.constant(np.ones((2, 2))), axis=2)
