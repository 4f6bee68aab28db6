"""inv, det and solve (chainrule/ops/matrix.py) against finite differences and PyTorch's torch.linalg, batched and
broadcast; second derivatives through the backward formulas; the errors for singular and misshapen inputs."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.matrix import det, inv, solve

SQUARE_SHAPES = [(1, 1), (3, 3), (2, 4, 4), (2, 3, 2, 2)]
SOLVE_SHAPES = [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 1)), ((3, 3), (4, 3, 2)), ((2, 1, 2, 2), (3, 2, 2))]


def _matrices(shape, seed=0):
    """Well-conditioned matrices: random entries plus n on the diagonal."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + shape[-1] * np.eye(shape[-1])


@covers("inv", kind="fd")
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_inv_matches_finite_differences(shape):
    check_gradients(inv, _matrices(shape))


@covers("det", kind="fd")
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_det_matches_finite_differences(shape):
    check_gradients(det, _matrices(shape))


@covers("solve", kind="fd")
@pytest.mark.parametrize("shapes", SOLVE_SHAPES, ids=str)
def test_solve_matches_finite_differences(shapes):
    a_shape, b_shape = shapes
    check_gradients(solve, _matrices(a_shape), np.random.default_rng(1).standard_normal(b_shape))


@covers("inv", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_inv_matches_torch(shape, dtype):
    compare_with_torch(inv, torch.linalg.inv, _matrices(shape), dtype=dtype, rtol=1e-4 if dtype == np.float32 else None)


@covers("det", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_det_matches_torch(shape, dtype):
    compare_with_torch(det, torch.linalg.det, _matrices(shape), dtype=dtype, rtol=1e-4 if dtype == np.float32 else None)


@covers("solve", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shapes", SOLVE_SHAPES, ids=str)
def test_solve_matches_torch(shapes, dtype):
    a_shape, b_shape = shapes
    out = compare_with_torch(solve, torch.linalg.solve, _matrices(a_shape),
                             np.random.default_rng(1).standard_normal(b_shape), dtype=dtype,
                             rtol=1e-4 if dtype == np.float32 else None)
    assert out.shape == np.broadcast_shapes(a_shape[:-2], b_shape[:-2]) + b_shape[-2:]


@pytest.mark.parametrize("name", ["inv", "det"])
def test_second_derivatives_match_torch(name):
    """The backward formulas are ops: the gradient of a gradient (Hessian-vector product) is PyTorch's."""
    ours_fn, theirs_fn = {"inv": (inv, torch.linalg.inv), "det": (det, torch.linalg.det)}[name]
    a = _matrices((3, 3), seed=4)
    v = np.random.default_rng(5).standard_normal((3, 3))
    x = cr.Tensor(a, requires_grad=True)
    (g,) = cr.grad(cr.reduce_sum(ours_fn(x) ** 2), [x], create_graph=True)
    (hv,) = cr.grad(cr.reduce_sum(g * cr.constant(v)), [x])
    t = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad((theirs_fn(t) ** 2).sum(), t, create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), t)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-9)


def test_singular_and_misshapen_inputs_are_refused_with_the_op_named():
    with pytest.raises(np.linalg.LinAlgError, match="inv: the matrix is not invertible"):
        inv(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"det: input must be a square matrix .* got shape \(2, 3\)"):
        det(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="inv: expected a float tensor"):
        inv(np.eye(2, dtype=np.int64))
    with pytest.raises(ValueError, match=r"solve: the right-hand side must have shape \(\.\.\., 2, k\)"):
        solve(np.eye(2, dtype=np.float32), np.ones(2, np.float32))
    with pytest.raises(TypeError, match="solve: the right-hand side has dtype float64"):
        solve(np.eye(2, dtype=np.float32), np.ones((2, 1)))
