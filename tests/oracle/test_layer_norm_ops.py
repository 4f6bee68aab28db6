"""layer_norm: finite differences (first and second order), PyTorch's F.layer_norm, several axes, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import test_second_order

import chainrule as cr
from chainrule.backend.kernels import layer_norm as ln_kernels
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.layer_norm import layer_norm


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@covers("layer_norm", kind="fd")
@pytest.mark.parametrize("shape,axis", [((3, 5), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4), 1), ((2, 3, 4), (0, 2))])
def test_layer_norm_finite_differences(shape, axis):
    affine = tuple(shape[d] for d in sorted(np.atleast_1d(np.array(axis)) % len(shape)))
    check_gradients(lambda x, g, b: layer_norm(x, g, b, axis=axis, epsilon=1e-3),
                    rand(*shape), rand(*affine, seed=1), rand(*affine, seed=2))


def test_layer_norm_without_scale_or_shift_finite_differences():
    check_gradients(lambda x: layer_norm(x, axis=-1, epsilon=1e-5), rand(4, 6))


def test_layer_norm_second_order_matches_torch():
    test_second_order.assert_second_order_matches_torch(
        lambda x, g: layer_norm(x, g, None, epsilon=1e-3), lambda x, g: F.layer_norm(x, (5,), g, None, eps=1e-3),
        rand(3, 5), rand(5, seed=1))  # (beta's gradient is Σg alone: nothing to differentiate twice)


@covers("layer_norm", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,axis", [((4, 8), -1), ((2, 3, 4, 5), (2, 3))])
def test_layer_norm_matches_torch(dtype, shape, axis):
    axes = tuple(np.atleast_1d(axis) % len(shape))
    normalized = tuple(shape[d] for d in axes)
    compare_with_torch(lambda x, g, b: layer_norm(x, g, b, axis=axis, epsilon=1e-5),
                       lambda x, g, b: F.layer_norm(x, normalized, g, b, eps=1e-5),
                       rand(*shape), rand(*normalized, seed=1), rand(*normalized, seed=2), dtype=dtype,
                       **({} if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)))


@pytest.mark.numpy_only("compares the numba row kernels with their NumPy twins")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_row_kernels_agree_with_their_numpy_twins(dtype):
    x, gamma, beta = rand(40, 24).astype(dtype), rand(24, seed=1).astype(dtype), rand(24, seed=2).astype(dtype)
    g = rand(40, 24, seed=3).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    y, mean, inv = ln_kernels.layer_norm(x, gamma, beta, 1e-3)
    y_np, mean_np, inv_np = ln_kernels.layer_norm_numpy(x, gamma, beta, 1e-3)
    for mine, want in ((y, y_np), (mean, mean_np), (inv, inv_np)):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, want, **tol)
    for mine, want in zip(ln_kernels.layer_norm_grad(g, x, gamma, mean, inv),
                          ln_kernels.layer_norm_grad_numpy(g, x, gamma, mean, inv)):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, want, **tol)
    cr.backend.kernels.set_enabled(False)
    try:
        off = layer_norm(x[:, ::2], None, beta[::2]).numpy()  # a strided input too
    finally:
        cr.backend.kernels.set_enabled(True)
    np.testing.assert_allclose(layer_norm(x[:, ::2], None, beta[::2]).numpy(), off, **tol)


def test_layer_norm_keeps_float32_and_normalizes_each_example():
    x = (rand(6, 16) * 10 + 3).astype(np.float32)
    y = layer_norm(x, epsilon=0.0).numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=-1), 1.0, rtol=1e-4)


def test_layer_norm_errors_name_the_argument():
    with pytest.raises(ValueError, match="gamma must have shape \\(5,\\)"):
        layer_norm(rand(2, 5), np.ones(4))
    with pytest.raises(TypeError, match="floating-point"):
        layer_norm(np.ones((2, 3), np.int64))
    with pytest.raises(ValueError, match="epsilon"):
        layer_norm(rand(2, 3), epsilon=-1.0)
    with pytest.raises(ValueError, match="axis"):
        layer_norm(rand(2, 3), axis=3)


def test_keras_layer_normalization_goes_through_the_fused_node_and_warns_on_rms_scaling():
    from chainrule.keras import ops

    x, gamma, beta = rand(3, 4, 5), rand(4, 5, seed=1), rand(4, 5, seed=2)
    compare_with_torch(lambda x, g, b: ops.layer_normalization(x, g, b, axis=(1, 2), epsilon=1e-5),
                       lambda x, g, b: F.layer_norm(x, (4, 5), g, b, eps=1e-5), x, gamma, beta)
    with pytest.warns(UserWarning, match="rms_scaling=True.*deprecated"):
        y = ops.layer_normalization(x, gamma[0], None, epsilon=1e-3, rms_scaling=True).numpy()
    np.testing.assert_allclose(y, x / np.sqrt(x.var(-1, keepdims=True) + 1e-3) * gamma[0], rtol=1e-12)
