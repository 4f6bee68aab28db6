"""cholesky, triangular_solve, qr, svd, eigh and slogdet (chainrule/ops/decomposition.py) against finite differences
and PyTorch's torch.linalg, batched; outputs that a decomposition fixes only up to signs are compared through
sign-free functions of them; second derivatives through the backward formulas; errors for bad input."""
import numpy as np
import pytest
import torch
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.decomposition import cholesky, eigh, pinv, qr, slogdet, svd, triangular_solve

SQUARE_SHAPES = [(1, 1), (3, 3), (2, 4, 4)]
RECT_SHAPES = [(3, 3), (5, 3), (3, 5), (2, 4, 2), (2, 2, 4)]


def _random(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _spd(shape, seed=0):
    """Symmetric positive-definite matrices."""
    x = _random(shape, seed)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def _sym(x):
    """The symmetric part (the decompositions of symmetric matrices read one triangle: a finite difference of one
    entry must move both)."""
    return (x + cr.transpose(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))) * 0.5


def _torch_sym(x):
    return (x + x.transpose(-1, -2)) * 0.5


# --- cholesky ------------------------------------------------------------------------------------------------------
@covers("cholesky", kind="fd")
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_cholesky_matches_finite_differences(shape):
    check_gradients(lambda a: cholesky(_sym(a)), _spd(shape))


@covers("cholesky", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_cholesky_matches_torch(shape, dtype):
    compare_with_torch(lambda a: cholesky(_sym(a)), lambda a: torch.linalg.cholesky(_torch_sym(a)), _spd(shape),
                       dtype=dtype, rtol=1e-4 if dtype == np.float32 else None)


def test_cholesky_refuses_a_matrix_that_is_not_positive_definite():
    with pytest.raises(np.linalg.LinAlgError, match="cholesky: the matrix is not positive definite"):
        cholesky(cr.constant([[1.0, 2.0], [2.0, 1.0]]))


# --- triangular_solve ----------------------------------------------------------------------------------------------
TRI_SHAPES = [((3, 3), (3, 2)), ((2, 4, 4), (2, 4, 1)), ((3, 3), (2, 3, 2))]


def _triangular(shape, lower, seed=0):
    a = _random(shape, seed) + 2 * shape[-1] * np.eye(shape[-1])
    return np.tril(a) if lower else np.triu(a)


@covers("triangular_solve", kind="fd")
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("shapes", TRI_SHAPES, ids=str)
def test_triangular_solve_matches_finite_differences(shapes, lower):
    a_shape, b_shape = shapes
    check_gradients(lambda a, b: triangular_solve(a, b, lower=lower), _triangular(a_shape, lower),
                    _random(b_shape, 1))


@covers("triangular_solve", kind="torch")
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("shapes", TRI_SHAPES, ids=str)
def test_triangular_solve_matches_torch(shapes, lower):
    a_shape, b_shape = shapes
    # a full matrix: only its triangle is read, and only the triangle gets a gradient, as in PyTorch
    compare_with_torch(lambda a, b: triangular_solve(a, b, lower=lower),
                       lambda a, b: torch.linalg.solve_triangular(a, b, upper=not lower),
                       _random(a_shape) + 2 * a_shape[-1] * np.eye(a_shape[-1]), _random(b_shape, 1))


# --- qr ------------------------------------------------------------------------------------------------------------
def _qr_both(a, mode="reduced"):
    q, r = qr(a, mode)
    return cr.concat([cr.reshape(q, tuple(q.shape[:-2]) + (-1,)), cr.reshape(r, tuple(r.shape[:-2]) + (-1,))], axis=-1)


def _torch_qr_both(a, mode="reduced"):
    q, r = torch.linalg.qr(a, mode)
    return torch.cat([q.reshape(tuple(q.shape[:-2]) + (-1,)), r.reshape(tuple(r.shape[:-2]) + (-1,))], dim=-1)


@covers("qr", kind="fd")
@pytest.mark.parametrize("shape", RECT_SHAPES, ids=str)
def test_qr_matches_finite_differences(shape):
    check_gradients(_qr_both, _random(shape))


@covers("qr", kind="torch")
@pytest.mark.parametrize("shape", RECT_SHAPES, ids=str)
def test_qr_matches_torch(shape):
    # LAPACK's Householder QR gives the same signs in NumPy and PyTorch
    compare_with_torch(_qr_both, _torch_qr_both, _random(shape), rtol=1e-9, atol=1e-10)


def test_qr_complete_values_and_gradient_rules():
    a = _random((5, 3))
    q, r = qr(a, mode="complete")
    assert q.shape == (5, 5) and r.shape == (5, 3)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-12)
    compare_with_torch(lambda x: _qr_both(x, "complete"), lambda x: _torch_qr_both(x, "complete"), _random((3, 4)),
                       rtol=1e-9, atol=1e-10)
    x = cr.Tensor(a, requires_grad=True)
    with pytest.raises(NotImplementedError, match="mode='complete'"):
        cr.grad(cr.reduce_sum(qr(x, mode="complete")[0]), [x])
    with pytest.raises(ValueError, match="mode"):
        qr(a, mode="r")


# --- svd -----------------------------------------------------------------------------------------------------------
def _svd_sign_free(a):
    """Singular values, and U Σ Vh rebuilt from the vectors (their signs cancel), and |U|² and |Vh|² entries."""
    u, s, vh = svd(a, full_matrices=False)
    parts = [s, cr.reshape(u * u, tuple(u.shape[:-2]) + (-1,)), cr.reshape(vh * vh, tuple(vh.shape[:-2]) + (-1,)),
             cr.reshape((u * cr.expand_dims(s, -2)) @ vh, tuple(a.shape[:-2]) + (-1,))]
    return cr.concat(parts, axis=-1)


def _torch_svd_sign_free(a):
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    parts = [s, (u * u).reshape(tuple(u.shape[:-2]) + (-1,)), (vh * vh).reshape(tuple(vh.shape[:-2]) + (-1,)),
             ((u * s.unsqueeze(-2)) @ vh).reshape(tuple(a.shape[:-2]) + (-1,))]
    return torch.cat(parts, dim=-1)


@covers("svd", kind="fd")
@pytest.mark.parametrize("shape", RECT_SHAPES, ids=str)
def test_svd_matches_finite_differences(shape):
    check_gradients(_svd_sign_free, _random(shape, 2))


@covers("svd", kind="torch")
@pytest.mark.parametrize("shape", RECT_SHAPES, ids=str)
def test_svd_matches_torch(shape):
    compare_with_torch(_svd_sign_free, _torch_svd_sign_free, _random(shape, 2), rtol=1e-8, atol=1e-9)


def test_svd_full_matrices_and_values_only():
    a = _random((4, 2), 3)
    u, s, vh = svd(a)
    assert (u.shape, s.shape, vh.shape) == ((4, 4), (2,), (2, 2))
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    x = cr.Tensor(a, requires_grad=True)
    (g,) = cr.grad(cr.reduce_sum(svd(x, compute_uv=False)), [x])
    uu, _, vvh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(g.numpy(), uu @ vvh, rtol=1e-10)  # d(Σ s)/dA = U Vᵀ
    (g,) = cr.grad(cr.reduce_sum(svd(x)[1]), [x])  # full U, its extra columns unused: the gradient is defined
    np.testing.assert_allclose(g.numpy(), uu @ vvh, rtol=1e-10)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        cr.grad(cr.reduce_sum(svd(x)[0]), [x])


# --- eigh ----------------------------------------------------------------------------------------------------------
def _eigh_sign_free(a):
    w, v = eigh(_sym(a))
    return cr.concat([w, cr.reshape(v * v, tuple(v.shape[:-2]) + (-1,))], axis=-1)


def _torch_eigh_sign_free(a):
    w, v = torch.linalg.eigh(_torch_sym(a))
    return torch.cat([w, (v * v).reshape(tuple(v.shape[:-2]) + (-1,))], dim=-1)


@covers("eigh", kind="fd")
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_eigh_matches_finite_differences(shape):
    check_gradients(_eigh_sign_free, _random(shape, 4))


@covers("eigh", kind="torch")
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_eigh_matches_torch(shape):
    compare_with_torch(_eigh_sign_free, _torch_eigh_sign_free, _random(shape, 4), rtol=1e-8, atol=1e-9)


# --- slogdet -------------------------------------------------------------------------------------------------------
@covers("slogdet", kind="fd")
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_slogdet_matches_finite_differences(shape):
    check_gradients(lambda a: slogdet(a)[1], _random(shape, 5) + 2 * np.eye(shape[-1]))


@covers("slogdet", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", SQUARE_SHAPES, ids=str)
def test_slogdet_matches_torch(shape, dtype):
    a = _random(shape, 5)
    compare_with_torch(lambda x: slogdet(x)[1], lambda x: torch.linalg.slogdet(x)[1], a, dtype=dtype,
                       rtol=1e-4 if dtype == np.float32 else None)
    np.testing.assert_array_equal(slogdet(a)[0].numpy(), torch.linalg.slogdet(torch.tensor(a))[0].numpy())


@pytest.mark.parametrize("name", ["cholesky", "svd", "eigh", "qr"])
def test_second_derivatives_match_torch(name):
    """The backward formulas are ops: a Hessian-vector product equals PyTorch's."""
    ours, theirs = {
        "cholesky": (lambda a: cholesky(_sym(a)), lambda a: torch.linalg.cholesky(_torch_sym(a))),
        "svd": (lambda a: svd(a, compute_uv=False), lambda a: torch.linalg.svdvals(a)),
        "eigh": (lambda a: eigh(_sym(a))[0], lambda a: torch.linalg.eigh(_torch_sym(a))[0]),
        "qr": (lambda a: qr(a)[1], lambda a: torch.linalg.qr(a)[1]),
    }[name]
    a = _spd((3, 3), 6) if name == "cholesky" else _random((3, 3), 6)
    v = _random((3, 3), 7)
    x = cr.Tensor(a, requires_grad=True)
    (g,) = cr.grad(cr.reduce_sum(ours(x) ** 3), [x], create_graph=True)
    (hv,) = cr.grad(cr.reduce_sum(g * cr.constant(v)), [x])
    t = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad((theirs(t) ** 3).sum(), t, create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), t)
    np.testing.assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-7, atol=1e-9)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="triangular_solve: the right-hand side must have shape"):
        triangular_solve(np.eye(3), np.ones((2, 1)))
    with pytest.raises(ValueError, match="svd: expected a float matrix"):
        svd(np.ones(3))
    with pytest.raises(ValueError, match="eigh: input must be a square matrix"):
        eigh(np.ones((2, 3)))


# --- pinv ----------------------------------------------------------------------------------------------------------
@covers("pinv", kind="fd")
@pytest.mark.parametrize("shape", RECT_SHAPES, ids=str)
def test_pinv_matches_finite_differences(shape):
    check_gradients(pinv, _random(shape, 8))


@covers("pinv", kind="torch")
@pytest.mark.parametrize("shape", RECT_SHAPES, ids=str)
def test_pinv_matches_torch(shape):
    compare_with_torch(pinv, torch.linalg.pinv, _random(shape, 8), rtol=1e-9, atol=1e-10)


def test_pinv_of_a_rank_deficient_matrix_and_its_cutoff():
    a = np.outer([1.0, 2.0, 3.0], [1.0, -1.0])  # rank 1
    np.testing.assert_allclose(pinv(a).numpy(), np.linalg.pinv(a), rtol=1e-12)
    np.testing.assert_allclose(pinv(np.diag([1.0, 1e-3]), rcond=1e-2).numpy(), np.diag([1.0, 0.0]))
