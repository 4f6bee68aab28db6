"""tf.linalg's decompositions and solves with TensorFlow's names, argument orders and results: values against
NumPy and SciPy, gradients against finite differences."""
import numpy as np
import pytest
import scipy.linalg as sl

import chainrule as tf
from chainrule.engine.gradcheck import check_gradients

RNG = np.random.default_rng(4)


def _spd(n, batch=()):
    x = RNG.standard_normal(batch + (n, n))
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def test_cholesky_solve_logdet_and_slogdet():
    a = _spd(4, (2,))
    chol = tf.linalg.cholesky(a)
    np.testing.assert_allclose(chol.numpy(), np.linalg.cholesky(a), rtol=1e-12)
    rhs = RNG.standard_normal((2, 4, 3))
    np.testing.assert_allclose(tf.linalg.cholesky_solve(chol, rhs).numpy(), np.linalg.solve(a, rhs), rtol=1e-10)
    np.testing.assert_allclose(tf.linalg.logdet(a).numpy(), np.log(np.linalg.det(a)), rtol=1e-12)
    sign, logabs = tf.linalg.slogdet(-a)
    np.testing.assert_allclose(sign.numpy(), [1.0, 1.0])  # 4x4: (-1)^4
    np.testing.assert_allclose(logabs.numpy(), np.linalg.slogdet(a)[1], rtol=1e-12)
    check_gradients(lambda c, r: tf.linalg.cholesky_solve(c, r), np.linalg.cholesky(a[0]), rhs[0])


def test_svd_returns_s_u_v_in_tensorflows_order():
    x = RNG.standard_normal((2, 5, 3))
    s, u, v = tf.linalg.svd(x)
    assert (s.shape, u.shape, v.shape) == ((2, 3), (2, 5, 3), (2, 3, 3))
    np.testing.assert_allclose((u.numpy() * s.numpy()[:, None, :]) @ np.swapaxes(v.numpy(), -1, -2), x, atol=1e-12)
    np.testing.assert_allclose(tf.linalg.svd(x, compute_uv=False).numpy(), np.linalg.svd(x, compute_uv=False))
    assert tf.linalg.svd(x, full_matrices=True)[1].shape == (2, 5, 5)


def test_qr_eigh_eig_and_matrix_rank():
    x = RNG.standard_normal((4, 3))
    q, r = tf.linalg.qr(x)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), x, atol=1e-12)
    assert tf.linalg.qr(x, full_matrices=True)[0].shape == (4, 4)
    a = _spd(3)
    e, v = tf.linalg.eigh(a)
    np.testing.assert_allclose(e.numpy(), np.linalg.eigvalsh(a), rtol=1e-12)
    np.testing.assert_allclose(tf.linalg.eigvalsh(a).numpy(), np.linalg.eigvalsh(a), rtol=1e-12)
    w, vecs = tf.linalg.eig(x[:3])
    assert w.dtype == np.complex128 and vecs.dtype == np.complex128
    np.testing.assert_allclose(np.sort_complex(tf.linalg.eigvals(x[:3]).numpy()), np.sort_complex(np.linalg.eigvals(
        x[:3])), rtol=1e-10)
    assert tf.linalg.eig(x[:3].astype("float32"))[0].dtype == np.complex64
    assert int(tf.linalg.matrix_rank(np.outer([1.0, 2.0], [3.0, 4.0]))) == 1


@pytest.mark.parametrize("lower, adjoint", [(True, False), (False, False), (True, True), (False, True)])
def test_triangular_solve(lower, adjoint):
    a = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    rhs = RNG.standard_normal((3, 2))
    tri = np.tril(a) if lower else np.triu(a)
    expected = np.linalg.solve(tri.T if adjoint else tri, rhs)
    np.testing.assert_allclose(tf.linalg.triangular_solve(a, rhs, lower=lower, adjoint=adjoint).numpy(), expected,
                               rtol=1e-10)


def test_lu_and_what_is_built_on_it():
    a = RNG.standard_normal((2, 4, 4))
    lu, p = tf.linalg.lu(a)
    assert p.dtype == np.int32
    lower = np.tril(lu.numpy(), -1) + np.eye(4)
    upper = np.triu(lu.numpy())
    for k in range(2):
        np.testing.assert_allclose(a[k][p.numpy()[k]], lower[k] @ upper[k], atol=1e-12)
        _, l_ref, u_ref = sl.lu(a[k])
        np.testing.assert_allclose(upper[k], u_ref, atol=1e-12)
    np.testing.assert_allclose(tf.linalg.lu_reconstruct(lu, p).numpy(), a, atol=1e-12)
    rhs = RNG.standard_normal((2, 4, 2))
    np.testing.assert_allclose(tf.linalg.lu_solve(lu, p, rhs).numpy(), np.linalg.solve(a, rhs), rtol=1e-9)
    np.testing.assert_allclose(tf.linalg.lu_matrix_inverse(lu, p).numpy(), np.linalg.inv(a), rtol=1e-9)
    check_gradients(lambda r: tf.linalg.lu_solve(lu.numpy()[0], p.numpy()[0], r), rhs[0])


def test_lstsq_pinv_and_regularization():
    a, b = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 2))
    np.testing.assert_allclose(tf.linalg.lstsq(a, b).numpy(), np.linalg.lstsq(a, b)[0], rtol=1e-10)
    ridge = np.linalg.solve(a.T @ a + 0.5 * np.eye(3), a.T @ b)
    np.testing.assert_allclose(tf.linalg.lstsq(a, b, l2_regularizer=0.5).numpy(), ridge, rtol=1e-10)
    np.testing.assert_allclose(tf.linalg.pinv(a).numpy(), np.linalg.pinv(a), rtol=1e-10)
    check_gradients(lambda m: tf.linalg.lstsq(m, b, l2_regularizer=0.1), a)
    with pytest.raises(ValueError, match="rows"):
        tf.linalg.lstsq(a, b[:4])


@pytest.mark.parametrize("scale", [0.1, 1.0, 6.0])
def test_expm_matches_scipy_and_is_differentiable(scale):
    x = RNG.standard_normal((2, 3, 3)) * scale
    np.testing.assert_allclose(tf.linalg.expm(x).numpy(), np.stack([sl.expm(m) for m in x]), rtol=1e-10,
                               atol=1e-12)
    check_gradients(tf.linalg.expm, x[0] / scale)


def test_set_diag_adjoint_cross_normalize_and_aliases():
    x = RNG.standard_normal((2, 3, 4))
    out = tf.linalg.set_diag(x, np.ones((2, 3))).numpy()
    expected = x.copy()
    for k in range(2):
        np.fill_diagonal(expected[k], 1.0)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(tf.linalg.adjoint(x).numpy(), np.swapaxes(x, -1, -2))
    np.testing.assert_allclose(tf.linalg.cross(x[..., :3], x[..., 1:]).numpy(), np.cross(x[..., :3], x[..., 1:]))
    unit, size = tf.linalg.normalize(x, axis=-1)
    np.testing.assert_allclose(size.numpy(), np.linalg.norm(x, axis=-1, keepdims=True))
    np.testing.assert_allclose(unit.numpy(), x / size.numpy())
    np.testing.assert_allclose(tf.linalg.einsum("bij,bkj->bik", x, x).numpy(), x @ np.swapaxes(x, -1, -2))
    np.testing.assert_allclose(tf.linalg.tensordot(x, x, [[1, 2], [1, 2]]).numpy(), np.tensordot(x, x, [[1, 2],
                                                                                                      [1, 2]]))
    np.testing.assert_allclose(tf.linalg.l2_normalize(x, axis=-1).numpy(), unit.numpy(), rtol=1e-12)
    assert float(tf.linalg.global_norm([x, x])) == pytest.approx(np.sqrt(2) * np.linalg.norm(x))


@pytest.mark.parametrize("diagonals_format", ["compact", "sequence", "matrix"])
def test_tridiagonal_solve_matches_a_dense_solve(diagonals_format):
    m = 5
    upper, middle, lower = RNG.standard_normal(m), RNG.standard_normal(m) + 4.0, RNG.standard_normal(m)
    dense = np.diag(middle) + np.diag(upper[:-1], 1) + np.diag(lower[1:], -1)
    rhs = RNG.standard_normal((m, 2))
    given = {"compact": np.stack([upper, middle, lower]), "sequence": (upper, middle, lower),
             "matrix": dense}[diagonals_format]
    out = tf.linalg.tridiagonal_solve(given, rhs, diagonals_format=diagonals_format)
    np.testing.assert_allclose(out.numpy(), np.linalg.solve(dense, rhs), rtol=1e-10)
    np.testing.assert_allclose(tf.linalg.tridiagonal_solve(given, rhs[:, 0], diagonals_format=diagonals_format)
                               .numpy(), np.linalg.solve(dense, rhs[:, 0]), rtol=1e-10)
    np.testing.assert_allclose(tf.linalg.tridiagonal_solve(given, rhs.T, diagonals_format=diagonals_format,
                                                           transpose_rhs=True).numpy(),
                               np.linalg.solve(dense, rhs), rtol=1e-10)
    if diagonals_format == "compact":
        check_gradients(lambda d, r: tf.linalg.tridiagonal_solve(d, r), np.stack([upper, middle, lower]), rhs)
    with pytest.raises(ValueError, match="diagonals_format"):
        tf.linalg.tridiagonal_solve(given, rhs, diagonals_format="banded")
