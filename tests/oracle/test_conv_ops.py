"""conv2d against finite differences and PyTorch: forward, backward, second order, dtypes, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.autograd import enable_grad
from chainrule.ops import conv as conv_module
from chainrule.ops.conv import conv2d
from chainrule.engine.gradcheck import check_gradients

# (x shape NHWC, kernel shape HWIO, strides, padding, dilations)
CASES = [
    ((1, 5, 5, 1), (3, 3, 1, 1), 1, "valid", 1),
    ((2, 7, 6, 3), (3, 2, 3, 4), 1, "same", 1),
    ((2, 7, 6, 3), (3, 3, 3, 2), 2, "valid", 1),
    ((2, 7, 6, 2), (3, 3, 2, 2), 2, "same", 1),
    ((1, 8, 7, 2), (3, 2, 2, 3), (2, 1), "same", 2),
    ((2, 9, 9, 1), (2, 3, 1, 2), 1, "valid", (2, 1)),
    ((1, 6, 5, 2), (4, 4, 2, 1), 3, "same", 1),  # even kernel: the extra padding pixel goes after
    ((2, 5, 6, 2), (1, 1, 2, 3), 2, "same", 1),  # 1x1 kernel with stride: some input pixels are never read
    ((1, 6, 6, 2), (3, 3, 2, 2), 1, ((2, 0), (1, 3)), 1),  # explicit asymmetric padding
]
IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-{c[3]}-d{c[4]}" for c in CASES]


def _pairs(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _tf_pads(in_hw, k_hw, strides, padding, dilations):
    """TensorFlow's padding rule, written out again here so that the test does not trust the code under test."""
    if not isinstance(padding, str):
        return tuple(tuple(p) for p in padding)
    if padding == "valid":
        return (0, 0), (0, 0)
    pads = []
    for n, k, s, d in zip(in_hw, k_hw, _pairs(strides), _pairs(dilations)):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def torch_conv2d(x, w, strides=1, padding="valid", dilations=1):
    """The same convolution in PyTorch: NHWC -> NCHW, HWIO -> OIHW, explicit (possibly asymmetric) F.pad."""
    (top, bottom), (left, right) = _tf_pads(x.shape[1:3], w.shape[:2], strides, padding, dilations)
    xt = F.pad(x.permute(0, 3, 1, 2), (left, right, top, bottom)).contiguous()
    y = F.conv2d(xt, w.permute(3, 2, 0, 1).contiguous(), stride=_pairs(strides), dilation=_pairs(dilations))
    return y.permute(0, 2, 3, 1)


def _data(x_shape, w_shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(x_shape), rng.standard_normal(w_shape)


@covers("conv2d", kind="fd")
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", CASES, ids=IDS)
def test_conv2d_gradients_match_finite_differences(x_shape, w_shape, strides, padding, dilations):
    x, w = _data(x_shape, w_shape)
    assert check_gradients(lambda a, b: conv2d(a, b, strides, padding, dilations), x, w)


@covers("conv2d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", CASES, ids=IDS)
def test_conv2d_matches_torch(x_shape, w_shape, strides, padding, dilations, dtype):
    x, w = _data(x_shape, w_shape, seed=1)
    out = compare_with_torch(lambda a, b: conv2d(a, b, strides, padding, dilations),
                             lambda a, b: torch_conv2d(a, b, strides, padding, dilations), x, w, dtype=dtype)
    if isinstance(padding, str):  # the output size TensorFlow promises
        ceil_or_valid = [-(-n // s) if padding == "same" else (n - (k - 1) * d - 1) // s + 1
                         for n, k, s, d in zip(x_shape[1:3], w_shape[:2], _pairs(strides), _pairs(dilations))]
        assert out.shape == (x_shape[0], *ceil_or_valid, w_shape[3])


def test_conv2d_seed_cnn_shape_float32_matches_torch():
    """The seed CNN's first layer (Conv2D(32, 3x3) on 28x28x1), small batch, float32 end to end."""
    x, w = _data((4, 28, 28, 1), (3, 3, 1, 32), seed=2)
    # the filter gradient sums 4*26*26 products into values near 100: float32 rounding of ~1e-6 relative to that
    compare_with_torch(conv2d, torch_conv2d, x, w, dtype=np.float32, atol=1e-3)


def test_conv2d_without_input_gradient_still_gives_the_filter_gradient():
    """The first layer's input needs no gradient: backward skips it and the filter gradient is unchanged."""
    x, w = _data((2, 6, 6, 2), (3, 3, 2, 3), seed=3)
    kernel = cr.Tensor(w, requires_grad=True)
    out = conv2d(cr.Tensor(x), kernel, padding="same")
    (dw,) = cr.grad((out * out).sum(), [kernel])
    wt = torch.tensor(w, requires_grad=True)
    ref = torch_conv2d(torch.tensor(x), wt, padding="same")
    (dw_ref,) = torch.autograd.grad((ref * ref).sum(), [wt])
    np.testing.assert_allclose(dw.numpy(), dw_ref.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_filter_gradient_is_the_same_when_patches_are_rebuilt(monkeypatch):
    """Large patch matrices are not kept by forward; backward rebuilds them and must get the same answer."""
    x, w = _data((2, 7, 7, 3), (3, 3, 3, 2), seed=4)

    def filter_grad():
        kernel = cr.Tensor(w, requires_grad=True)
        (dw,) = cr.grad(conv2d(cr.Tensor(x), kernel, strides=2, padding="same").sum(), [kernel])
        return dw.numpy()

    kept = filter_grad()
    monkeypatch.setattr(conv_module, "KEEP_PATCHES_MAX_BYTES", 0)
    np.testing.assert_array_equal(filter_grad(), kept)


def test_conv2d_backward_twice_accumulates():
    x, w = _data((1, 5, 5, 2), (3, 3, 2, 2), seed=5)
    xt, wt = cr.Tensor(x, requires_grad=True), cr.Tensor(w, requires_grad=True)
    y = conv2d(xt, wt).sum()
    y.backward()
    first = wt.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(wt.grad.numpy(), 2 * first, rtol=1e-12)


# --- second order -----------------------------------------------------------------------------------------------------
SECOND_ORDER_CASES = [((2, 6, 5, 2), (3, 3, 2, 3), 1, "same", 1),
                      ((1, 7, 7, 2), (3, 2, 2, 2), 2, "same", 1),
                      ((2, 7, 6, 1), (2, 2, 1, 2), 1, "valid", 2)]


def _penalties(conv, grad, x, w):
    """loss = sum(conv(x, w)²); penalty_x = sum((dloss/dx)²), penalty_w = sum((dloss/dw)²); their gradients."""
    y = conv(x, w)
    loss = (y * y).sum()
    dx, dw = grad(loss, [x, w], create_graph=True)
    return grad((dx * dx).sum(), [x, w]), grad((dw * dw).sum(), [x, w])


@covers("conv2d", kind="torch")
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations", SECOND_ORDER_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv2d_second_order_matches_torch(x_shape, w_shape, strides, padding, dilations, dtype):
    """Gradient penalties differentiate through both conv backward ops, w.r.t. both of their inputs."""
    x, w = _data(x_shape, w_shape, seed=6)
    x, w = x.astype(dtype), w.astype(dtype)
    ours = _penalties(lambda a, b: conv2d(a, b, strides, padding, dilations), cr.grad,
                      cr.Tensor(x, requires_grad=True), cr.Tensor(w, requires_grad=True))
    theirs = _penalties(lambda a, b: torch_conv2d(a, b, strides, padding, dilations),
                        lambda out, ins, create_graph=False: torch.autograd.grad(out, ins, create_graph=create_graph,
                                                                                 retain_graph=True),
                        torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True))
    tol = dict(rtol=1e-10, atol=1e-9) if dtype == np.float64 else dict(rtol=2e-5, atol=1e-3)
    for mine_pair, ref_pair in zip(ours, theirs):
        for mine, ref in zip(mine_pair, ref_pair):
            assert mine.dtype == dtype
            np.testing.assert_allclose(mine.numpy(), ref.numpy(), **tol)


@covers("conv2d", kind="fd")
def test_conv2d_second_order_matches_finite_differences():
    """The input gradient, built with create_graph=True, is itself checked against finite differences."""
    x, w = _data((1, 5, 6, 2), (3, 2, 2, 2), seed=7)

    def input_grad(a, b):
        with enable_grad():
            y = conv2d(a, b, strides=(1, 2), padding="same")
            (dx,) = cr.grad((y * y).sum(), [a], create_graph=True)
        return dx

    def filter_grad(a, b):
        with enable_grad():
            y = conv2d(a, b, strides=(1, 2), padding="same")
            (dw,) = cr.grad((y * y * y).sum(), [b], create_graph=True)
        return dw

    assert check_gradients(input_grad, x, w)
    assert check_gradients(filter_grad, x, w)


# --- dtypes and errors ------------------------------------------------------------------------------------------------
def test_conv2d_keeps_float32_through_forward_and_backward():
    x, w = _data((2, 6, 6, 3), (3, 3, 3, 4), seed=9)
    xt = cr.Tensor(x.astype(np.float32), requires_grad=True)
    wt = cr.Tensor(w.astype(np.float32), requires_grad=True)
    y = conv2d(xt, wt, strides=2, padding="same", dilations=1)
    assert y.dtype == np.float32
    dx, dw = cr.grad((y * y).sum(), [xt, wt], create_graph=True)
    assert dx.dtype == np.float32 and dw.dtype == np.float32
    ddx, ddw = cr.grad((dx * dx).sum() + (dw * dw).sum(), [xt, wt])
    assert ddx.dtype == np.float32 and ddw.dtype == np.float32


@pytest.mark.parametrize("x_shape, w_shape, kwargs, error, message", [
    ((8, 28, 28, 3), (3, 3, 1, 32), {}, ValueError,
     r"conv2d: input has 3 channels but the kernel expects 1 \(input shape \(8, 28, 28, 3\), "
     r"kernel shape \(3, 3, 1, 32\)\)"),
    ((28, 28, 1), (3, 3, 1, 32), {}, ValueError, r"conv2d: input must be 4-D.*\(28, 28, 1\)"),
    ((1, 28, 28, 1), (3, 3, 32), {}, ValueError, r"conv2d: kernel must be 4-D.*\(3, 3, 32\).*\(1, 28, 28, 1\)"),
    ((1, 4, 4, 1), (5, 3, 1, 2), {}, ValueError,
     r"conv2d: the kernel .* larger than the padded input along height \(4\) .*\(1, 4, 4, 1\).*\(5, 3, 1, 2\)"),
    ((1, 6, 6, 1), (3, 3, 1, 2), {"dilations": 3}, ValueError, r"conv2d: the kernel \(dilated extent 7\)"),
    ((1, 6, 6, 1), (3, 3, 1, 2), {"padding": "full"}, ValueError, r"conv2d: padding must be 'valid' or 'same'"),
    ((1, 6, 6, 1), (3, 3, 1, 2), {"padding": ((1, -1), (0, 0))}, ValueError, r"conv2d: padding must be"),
    ((1, 6, 6, 1), (3, 3, 1, 2), {"strides": 0}, ValueError, r"conv2d: strides must be a positive int"),
    ((1, 6, 6, 1), (3, 3, 1, 2), {"dilations": (1, 2, 3)}, ValueError, r"conv2d: dilations must be"),
])
def test_conv2d_errors_name_the_op_and_the_shapes(x_shape, w_shape, kwargs, error, message):
    with pytest.raises(error, match=message):
        conv2d(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), **kwargs)


def test_conv2d_rejects_mixed_and_integer_dtypes():
    with pytest.raises(TypeError, match=r"conv2d: input dtype float64 and kernel dtype float32 differ"):
        conv2d(np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1), np.float32))
    with pytest.raises(TypeError, match=r"conv2d: input must be floating point, got dtype uint8"):
        conv2d(np.zeros((1, 4, 4, 1), np.uint8), np.zeros((3, 3, 1, 1), np.float32))


def test_conv2d_accepts_tensorflow_explicit_padding_form():
    x, w = _data((1, 5, 5, 1), (3, 3, 1, 1), seed=10)
    tf_form = conv2d(x, w, padding=[[0, 0], [1, 2], [0, 1], [0, 0]]).numpy()
    np.testing.assert_array_equal(tf_form, conv2d(x, w, padding=((1, 2), (0, 1))).numpy())
    np.testing.assert_array_equal(conv2d(x, w, padding=1).numpy(), conv2d(x, w, padding="same").numpy())
