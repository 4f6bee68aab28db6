"""The kernels of the fused conv and dense nodes (chainrule/backend/kernels/activation.py: bias + relu in place, the relu
mask with the bias gradient) against their NumPy versions, and the Conv2DBiasAct op with the numba switch off and on:
forward, every gradient, second order."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import kernels
from chainrule.backend.kernels import activation as act_kernels
from chainrule.ops.conv import Conv2DBiasAct, resolve_padding

numba = pytest.importorskip("numba", reason="the numba kernels need numba (pip install chainrule[fast])")


@pytest.fixture
def numba_on():
    before = kernels.enabled()
    kernels.set_enabled(True)
    if not kernels.enabled():
        pytest.skip("numba kernels unavailable (CHAINRULE_NUMBA=0 is not the cause: set_enabled(True) was called)")
    yield
    kernels.set_enabled(before)


def _close(mine, ref, dtype):
    """float64: equal to rounding; float32: summation order differs, so relative to the array's magnitude."""
    assert mine.dtype == ref.dtype == dtype and mine.shape == ref.shape
    scale = max(float(np.abs(ref).max(initial=0.0)), 1.0)
    tol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(mine, ref, rtol=0, atol=tol * scale)


# --- bias + relu kernels -----------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:invalid value encountered")  # inf * 0 on purpose
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (32, 128), (5, 7, 3), (3000, 17), (2, 26, 26, 32)])
def test_activation_kernels_equal_numpy_versions(numba_on, shape, dtype):
    rng = np.random.default_rng(3)
    special = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30, -1e-30], dtype)
    y = rng.standard_normal(shape).astype(dtype)
    y.flat[:min(y.size, special.size)] = special[:y.size]
    b = rng.standard_normal(shape[-1]).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    g.flat[-min(g.size, 3):] = np.array([np.inf, -np.inf, np.nan], dtype)[:g.size]
    for bias in (b, None):
        mine, ref = y.copy(), y.copy()
        act_kernels.bias_relu_(mine, bias)
        act_kernels.bias_relu_numpy(ref, bias)
        np.testing.assert_array_equal(mine, ref)  # NaN stays NaN, and in the same places
        assert not np.signbit(mine[mine == 0]).any()  # -0.0 becomes 0.0, as np.maximum does
    out = np.maximum(y, 0)
    np.testing.assert_array_equal(act_kernels.relu_grad(g, out), act_kernels.relu_grad_numpy(g, out))
    gm, total = act_kernels.relu_grad_sum(g, out)
    gm_ref, total_ref = act_kernels.relu_grad_sum_numpy(g.reshape(-1, shape[-1]), out.reshape(-1, shape[-1]))
    np.testing.assert_array_equal(gm, gm_ref.reshape(shape))
    finite = np.isfinite(total_ref)
    np.testing.assert_array_equal(np.isfinite(total), finite)
    _close(np.where(finite, total, 0), np.where(finite, total_ref, 0).astype(dtype), dtype)


def test_bias_gradient_sum_is_as_accurate_as_blas(numba_on):
    """A long float32 column (a conv output at batch 128) summed in blocks: no worse than NumPy's BLAS product."""
    rng = np.random.default_rng(6)
    g = (rng.standard_normal((128 * 26 * 26, 4)) + 0.5).astype(np.float32)
    y = np.ones_like(g)
    exact = g.astype(np.float64).sum(axis=0)
    mine = act_kernels.relu_grad_sum(g, y)[1]
    blas = act_kernels.relu_grad_sum_numpy(g, y)[1]
    assert np.abs(mine - exact).max() <= max(2 * np.abs(blas - exact).max(), 1e-6 * np.abs(exact).max())


def test_bias_relu_in_place_on_a_strided_view_falls_back_and_still_writes_through(numba_on):
    base = np.full((4, 6), -1.0, np.float32)
    view = base[:, ::2]
    act_kernels.bias_relu_(view, np.array([2.0, 0.5, -3.0], np.float32))
    np.testing.assert_array_equal(base[:, ::2], np.tile([1.0, 0.0, 0.0], (4, 1)))
    np.testing.assert_array_equal(base[:, 1::2], -1.0)


# --- the ops, numba off and on ---------------------------------------------------------------------------------------
OP_CASES = [((4, 9, 9, 1), (3, 3, 1, 32), (1, 1), "valid", (1, 1)),
            ((2, 7, 8, 3), (3, 3, 3, 4), (2, 1), "same", (1, 1)),
            ((2, 9, 8, 1), (3, 2, 1, 3), (1, 1), "same", (2, 1)),
            ((2, 6, 6, 8), (3, 3, 8, 5), (1, 1), "same", (1, 1))]


def _op_results(x, w, b, strides, padding, dilations, relu, train_bias=True):
    """y, (dx, dw, db) of sum(y * y * u), and the second-order gradients of the penalty sum(dx²) + sum(dw²)."""
    xt, wt = cr.Tensor(x, requires_grad=True), cr.Tensor(w, requires_grad=True)
    bt = None if b is None else cr.Tensor(b, requires_grad=train_bias)
    pads = resolve_padding(padding, x.shape[1:3], w.shape[:2], strides, dilations, "test")
    y = Conv2DBiasAct.apply(xt, wt, bt, pads=pads, strides=strides, dilations=dilations, relu=relu)
    u = np.random.default_rng(5).standard_normal(y.shape).astype(x.dtype)
    wrt = [xt, wt] + ([bt] if bt is not None and train_bias else [])
    first = cr.grad((y * y * u).sum(), wrt, create_graph=True)
    penalty = (first[0] * first[0]).sum() + (first[1] * first[1]).sum()
    second = cr.grad(penalty, wrt)
    plain = cr.grad((Conv2DBiasAct.apply(xt, wt, bt, pads=pads, strides=strides, dilations=dilations,
                                         relu=relu) * u).sum(), wrt)  # the array path of backward
    return [y.numpy()] + [t.numpy() for t in (*first, *second, *plain)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", OP_CASES)
def test_ops_equal_with_numba_off_and_on(numba_on, x_shape, w_shape, strides, padding, dilations, dtype):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[3]).astype(dtype)
    for relu, bias, train_bias in ((True, b, True), (False, b, True), (True, None, False), (True, b, False)):
        on = _op_results(x, w, bias, strides, padding, dilations, relu, train_bias)
        kernels.set_enabled(False)
        off = _op_results(x, w, bias, strides, padding, dilations, relu, train_bias)
        kernels.set_enabled(True)
        for mine, ref in zip(on, off):
            _close(mine, ref, dtype)
