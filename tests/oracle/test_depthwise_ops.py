"""depthwise_conv2d and separable_conv2d against finite differences and PyTorch (F.conv2d with groups=C)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.backend import kernels
from chainrule.backend.kernels import depthwise as depthwise_kernels
from chainrule.engine.autograd import enable_grad
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.depthwise import depthwise_conv2d, separable_conv2d
from test_conv_ops import _pairs, _tf_pads
from test_conv_transpose_ops import check_second_order_against_torch


def torch_depthwise_conv2d(x, w, strides=1, padding="valid", dilations=1):
    """F.conv2d with groups = C: TF's kernel (kh, kw, C, M) is PyTorch's (C*M, 1, kh, kw), output channel c*M + m."""
    kh, kw, c, m = w.shape
    (top, bottom), (left, right) = _tf_pads(x.shape[1:3], (kh, kw), strides, padding, dilations)
    xt = F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom)).contiguous()
    wt = w.reshape(kh, kw, c * m).permute(2, 0, 1).unsqueeze(1).contiguous()
    y = F.conv2d(xt, wt, stride=_pairs(strides), dilation=_pairs(dilations), groups=c)
    return y.permute(0, 2, 3, 1)


CASES = [
    ((2, 6, 5, 3), (3, 3, 3, 1), 1, "valid", 1),
    ((2, 6, 6, 2), (3, 3, 2, 2), 1, "same", 1),
    ((1, 7, 6, 3), (3, 2, 3, 2), 2, "same", 1),
    ((2, 7, 7, 2), (2, 2, 2, 3), (2, 1), "valid", 1),
    ((1, 8, 7, 2), (3, 3, 2, 1), 1, "same", 2),
    ((1, 6, 6, 1), (4, 4, 1, 1), 3, "same", 1),  # even kernel, large stride: the odd padding pixel after
    ((1, 5, 5, 2), (3, 3, 2, 1), 1, ((2, 0), (1, 1)), 1),  # explicit asymmetric padding
]
IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-{c[3]}-d{c[4]}" for c in CASES]


def _data(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@covers("depthwise_conv2d", kind="fd")
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", CASES, ids=IDS)
def test_depthwise_gradients_match_finite_differences(x_shape, w_shape, strides, padding, dilations):
    x, w = _data(x_shape, w_shape)
    assert check_gradients(lambda a, b: depthwise_conv2d(a, b, strides, padding, dilations), x, w)


@covers("depthwise_conv2d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", CASES, ids=IDS)
def test_depthwise_matches_torch(x_shape, w_shape, strides, padding, dilations, dtype):
    x, w = _data(x_shape, w_shape, seed=1)
    compare_with_torch(lambda a, b: depthwise_conv2d(a, b, strides, padding, dilations),
                       lambda a, b: torch_depthwise_conv2d(a, b, strides, padding, dilations), x, w, dtype=dtype)


@pytest.mark.parametrize("use_kernels", [True, False])
def test_depthwise_numpy_and_kernel_paths_match_torch(use_kernels):
    """With the numba kernels on or off the values are PyTorch's."""
    x, w = _data((2, 7, 6, 3), (3, 3, 3, 2), seed=2)
    before = kernels.enabled()
    kernels.set_enabled(use_kernels)
    try:
        for dtype in (np.float64, np.float32):
            compare_with_torch(lambda a, b: depthwise_conv2d(a, b, 2, "same"),
                               lambda a, b: torch_depthwise_conv2d(a, b, 2, "same"), x, w, dtype=dtype)
    finally:
        kernels.set_enabled(before)


@pytest.mark.numpy_only("the numba kernels against their NumPy twins")
@pytest.mark.skipif(kernels.numba is None, reason="without numba the kernels are slow plain Python")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", CASES, ids=IDS)
def test_depthwise_kernels_equal_their_numpy_twins(x_shape, w_shape, strides, padding, dilations, dtype):
    """Forward and input gradient bit for bit (but for the sign of a zero), the filter gradient (summed in float64 by
    the kernel) to rounding; with chunks of images on the NumPy side too."""
    x, w = (a.astype(dtype) for a in _data(x_shape, w_shape, seed=12))
    x[0, 0, 0, 0] = -0.0
    pads = _tf_pads(x_shape[1:3], w_shape[:2], strides, padding, dilations)
    strides, dilations = _pairs(strides), _pairs(dilations)
    for chunk_bytes in (depthwise_kernels.CHUNK_BYTES, 1):  # the whole batch, then an image at a time
        depthwise_kernels.CHUNK_BYTES, saved = chunk_bytes, depthwise_kernels.CHUNK_BYTES
        try:
            y = depthwise_kernels.depthwise_numpy(x, w, pads, strides, dilations)
            np.testing.assert_array_equal(depthwise_kernels.depthwise_numba(x, w, pads, strides, dilations), y)
            g = np.random.default_rng(13).standard_normal(y.shape).astype(dtype)
            dx = depthwise_kernels.backprop_input_numpy(g, w, x.shape, pads, strides, dilations)
            np.testing.assert_array_equal(depthwise_kernels.backprop_input_numba(g, w, x.shape, pads, strides,
                                                                                 dilations), dx)
        finally:
            depthwise_kernels.CHUNK_BYTES = saved
    dw = depthwise_kernels.backprop_filter_numpy(x, g, w.shape, pads, strides, dilations)
    got = depthwise_kernels.backprop_filter_numba(x, g, w.shape, pads, strides, dilations)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, dw, **({"rtol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-5}))


@covers("depthwise_conv2d", kind="torch")
def test_depthwise_second_order_matches_torch():
    x, w = _data((2, 5, 5, 2), (3, 3, 2, 2), seed=3)
    check_second_order_against_torch(lambda a, b: depthwise_conv2d(a, b, 2, "same"),
                                     lambda a, b: torch_depthwise_conv2d(a, b, 2, "same"), x, w)


@covers("depthwise_conv2d", kind="fd")
def test_depthwise_second_order_matches_finite_differences():
    x, w = _data((1, 5, 4, 2), (3, 2, 2, 2), seed=4)

    def filter_grad(a, b):
        with enable_grad():
            y = depthwise_conv2d(a, b, strides=(1, 2), padding="same")
            (db,) = cr.grad((y * y * y).sum(), [b], create_graph=True)
        return db

    assert check_gradients(filter_grad, x, w)


def torch_separable_conv2d(x, dw, pw, strides=1, padding="valid", dilations=1):
    y = torch_depthwise_conv2d(x, dw, strides, padding, dilations)
    return F.conv2d(y.permute(0, 3, 1, 2), pw[0, 0].T[:, :, None, None]).permute(0, 2, 3, 1)


SEPARABLE_CASES = [((2, 6, 5, 3), (3, 3, 3, 1), (1, 1, 3, 4), 1, "valid"),
                   ((1, 7, 7, 2), (3, 3, 2, 2), (1, 1, 4, 3), 2, "same")]


@covers("separable_conv2d", kind="fd")
@pytest.mark.parametrize("x_shape, dw_shape, pw_shape, strides, padding", SEPARABLE_CASES)
def test_separable_gradients_match_finite_differences(x_shape, dw_shape, pw_shape, strides, padding):
    x, dw, pw = _data(x_shape, dw_shape, pw_shape, seed=5)
    assert check_gradients(lambda a, b, c: separable_conv2d(a, b, c, strides, padding), x, dw, pw)


@covers("separable_conv2d", kind="torch")
@pytest.mark.parametrize("x_shape, dw_shape, pw_shape, strides, padding", SEPARABLE_CASES)
def test_separable_matches_torch(x_shape, dw_shape, pw_shape, strides, padding):
    x, dw, pw = _data(x_shape, dw_shape, pw_shape, seed=6)
    compare_with_torch(lambda a, b, c: separable_conv2d(a, b, c, strides, padding),
                       lambda a, b, c: torch_separable_conv2d(a, b, c, strides, padding), x, dw, pw)


@pytest.mark.parametrize("x_shape, w_shape, kwargs, error, message", [
    ((1, 5, 5, 3), (3, 3, 2, 1), {}, ValueError, r"depthwise_conv2d: input has 3 channels but the kernel expects 2"),
    ((5, 5, 3), (3, 3, 3, 1), {}, ValueError, r"depthwise_conv2d: input must be 4-D"),
    ((1, 5, 5, 3), (3, 3, 3), {}, ValueError, r"depthwise_conv2d: kernel must be 4-D \(height, width, in_channels, "
                                              r"channel_multiplier\)"),
    ((1, 2, 5, 3), (3, 3, 3, 1), {}, ValueError, r"depthwise_conv2d: the kernel \(extent 3\) is larger than the "
                                                 r"padded input along height \(2\)"),
    ((1, 5, 5, 3), (3, 3, 3, 1), {"strides": 0}, ValueError, r"depthwise_conv2d: strides must be a positive int"),
])
def test_depthwise_errors(x_shape, w_shape, kwargs, error, message):
    with pytest.raises(error, match=message):
        depthwise_conv2d(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), **kwargs)


def test_separable_rejects_a_pointwise_kernel_that_is_not_1x1():
    with pytest.raises(ValueError, match=r"separable_conv2d: pointwise_kernel must be \(1, 1"):
        separable_conv2d(np.zeros((1, 5, 5, 2)), np.zeros((3, 3, 2, 1)), np.zeros((3, 3, 2, 4)), padding="same")
