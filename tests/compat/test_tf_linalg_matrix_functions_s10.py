"""tf.linalg.sqrtm, logm and tridiagonal_matmul: values against eigendecomposition references and PyTorch's
matrix_exp, gradients by finite differences, TensorFlow's dtype rule for logm."""
import numpy as np
import pytest
import torch

import chainrule as tf
from chainrule.engine.gradcheck import check_gradients

RNG = np.random.default_rng(0)


def _eig_function(a, f):
    w, v = np.linalg.eig(a)
    return v @ np.apply_along_axis(np.diag, -1, f(w.astype(complex))) @ np.linalg.inv(v)


def test_sqrtm_is_the_principal_root_batched_and_in_float32():
    a = RNG.standard_normal((3, 5, 5)) + 3 * np.eye(5)  # some complex-conjugate eigenvalue pairs, none negative real
    s = tf.linalg.sqrtm(a)
    assert s.shape == (3, 5, 5) and s.dtype == np.float64
    np.testing.assert_allclose(s.numpy() @ s.numpy(), a, atol=1e-12)
    np.testing.assert_allclose(s.numpy(), _eig_function(a, np.sqrt).real, atol=1e-10)
    s32 = tf.linalg.sqrtm(a.astype(np.float32))
    assert s32.dtype == np.float32
    np.testing.assert_allclose(s32.numpy(), s.numpy(), atol=1e-5)


def test_sqrtm_gradient_by_finite_differences():
    a = RNG.standard_normal((2, 3, 3)) * 0.3 + 2 * np.eye(3)
    check_gradients(lambda x: tf.linalg.sqrtm(x), a, atol=1e-6, rtol=1e-5)


def test_sqrtm_errors():
    with pytest.raises(ValueError, match="did not converge"):
        tf.linalg.sqrtm(np.diag([-1.0, 4.0]))
    with pytest.raises(ValueError, match="must be a square matrix"):
        tf.linalg.sqrtm(np.ones((2, 3)))


def test_logm_matches_eigendecomposition_and_inverts_pytorch_matrix_exp():
    a = RNG.standard_normal((2, 4, 4)) + 1j * RNG.standard_normal((2, 4, 4)) + 2 * np.eye(4)
    got = tf.linalg.logm(a)
    assert got.dtype == np.complex128 and got.shape == (2, 4, 4)
    np.testing.assert_allclose(got.numpy(), _eig_function(a, np.log), atol=1e-10)
    np.testing.assert_allclose(torch.linalg.matrix_exp(torch.from_numpy(got.numpy())).numpy(), a, atol=1e-10)
    rotation = np.array([[0.0, -2.0], [2.0, 0.0]], np.complex64)  # eigenvalues +-2i: log has +-i pi/2
    np.testing.assert_allclose(tf.linalg.logm(rotation).numpy(), [[np.log(2), -np.pi / 2], [np.pi / 2, np.log(2)]],
                               atol=1e-5)


def test_logm_takes_complex_only_as_tensorflow():
    with pytest.raises(TypeError, match="complex64 or complex128"):
        tf.linalg.logm(np.eye(2))


def _dense(upper, middle, lower):
    return np.diag(middle) + np.diag(upper[:-1], 1) + np.diag(lower[1:], -1)


def test_tridiagonal_matmul_formats_batch_and_gradients():
    diagonals = RNG.standard_normal((2, 3, 5))
    rhs = RNG.standard_normal((2, 5, 4))
    dense = np.stack([_dense(*d) for d in diagonals])
    expected = dense @ rhs
    np.testing.assert_allclose(tf.linalg.tridiagonal_matmul(diagonals, rhs).numpy(), expected, atol=1e-12)
    sequence = [diagonals[:, 0], diagonals[:, 1], diagonals[:, 2]]
    np.testing.assert_allclose(tf.linalg.tridiagonal_matmul(sequence, rhs, diagonals_format="sequence").numpy(),
                               expected, atol=1e-12)
    noisy = dense + np.triu(np.ones((5, 5)), 2)  # entries off the band are ignored
    np.testing.assert_allclose(tf.linalg.tridiagonal_matmul(noisy, rhs, diagonals_format="matrix").numpy(),
                               expected, atol=1e-12)
    check_gradients(lambda d, b: tf.linalg.tridiagonal_matmul(d, b), diagonals, rhs)
    with pytest.raises(ValueError, match="unrecognized diagonals_format"):
        tf.linalg.tridiagonal_matmul(diagonals, rhs, diagonals_format="banded")
    with pytest.raises(ValueError, match="rhs must have shape"):
        tf.linalg.tridiagonal_matmul(diagonals, rhs[:, :4])
