"""linear (the dense layer's fused x @ W + b) against finite differences, PyTorch, and second order."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients

SHAPES = [(5, 4), (2, 3, 4), (4,)]


def _inputs(x_shape, seed=0):
    r = np.random.default_rng(seed)
    return r.standard_normal(x_shape), r.standard_normal((4, 3)), r.standard_normal(3)


@covers("linear", kind="fd")
@pytest.mark.parametrize("x_shape", SHAPES)
def test_linear_finite_differences(x_shape):
    x, w, b = _inputs(x_shape)
    assert check_gradients(cr.ops.linear, x, w, b)
    assert check_gradients(lambda x, w: cr.ops.linear(x, w), x, w)


@covers("linear", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape", SHAPES)
def test_linear_matches_torch(x_shape, dtype):
    compare_with_torch(cr.ops.linear, lambda x, w, b: x @ w + b, *_inputs(x_shape), dtype=dtype)


def test_linear_second_order_matches_torch():
    x, w, b = (cr.Tensor(a, requires_grad=True) for a in _inputs((5, 4)))
    (gx,) = cr.grad(cr.reduce_sum(cr.tanh(cr.ops.linear(x, w, b))), [x], create_graph=True)
    gw, gb = cr.grad(cr.reduce_sum(gx * gx), [w, b])
    tx, tw, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w, b))
    (tgx,) = torch.autograd.grad(torch.tanh(tx @ tw + tb).sum(), [tx], create_graph=True)
    tgw, tgb = torch.autograd.grad((tgx * tgx).sum(), [tw, tb])
    np.testing.assert_allclose(gw.numpy(), tgw.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), tgb.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(5, 3\).*kernel of shape \(4, 3\)"):
        cr.ops.linear(np.ones((5, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"bias of shape \(2,\)"):
        cr.ops.linear(np.ones((5, 4)), np.ones((4, 3)), np.ones(2))
