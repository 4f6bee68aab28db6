"""max_pool2d and avg_pool2d against finite differences, PyTorch and a direct NumPy loop: ties, padding, overlap."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.autograd import enable_grad
from chainrule.ops.conv import conv2d
from chainrule.ops.pool import AvgPool2DSpread, MaxPool2DGather, MaxPool2DScatter, avg_pool2d, max_pool2d
from chainrule.engine.gradcheck import check_gradients

# (x shape NHWC, pool_size, strides, padding)
CASES = [
    ((1, 4, 4, 1), 2, None, "valid"),            # the fast case: stride == size, exact tiling
    ((2, 7, 5, 3), 2, None, "valid"),            # odd sizes: the last row / column is dropped
    ((2, 7, 5, 2), 2, None, "same"),             # odd sizes: one padding pixel after
    ((1, 6, 7, 2), 3, 1, "valid"),               # overlapping windows
    ((2, 6, 7, 1), (3, 2), (2, 1), "same"),      # overlapping, asymmetric padding
    ((1, 5, 8, 2), (2, 3), (1, 2), "valid"),
    ((1, 5, 5, 2), 3, 2, "same"),                # symmetric padding of 1
    ((2, 5, 6, 1), 1, 2, "same"),                # 1x1 windows with stride: skips pixels
]
IDS = [f"x{c[0]}-p{c[1]}-s{c[2]}-{c[3]}" for c in CASES]


def _pairs(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _tf_pads(in_hw, pool, strides, padding):
    """TensorFlow's 'same' rule, written again so the test does not trust the code under test."""
    if padding == "valid":
        return (0, 0), (0, 0)
    pads = []
    for n, k, s in zip(in_hw, pool, strides):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _torch_geometry(x, pool_size, strides, padding):
    pool = _pairs(pool_size)
    strides = pool if strides is None else _pairs(strides)
    (top, bottom), (left, right) = _tf_pads(x.shape[1:3], pool, strides, padding)
    return pool, strides, (left, right, top, bottom)


def torch_max_pool2d(x, pool_size, strides=None, padding="valid"):
    pool, strides, pads = _torch_geometry(x, pool_size, strides, padding)
    xt = F.pad(x.permute(0, 3, 1, 2), pads, value=-float("inf"))
    return F.max_pool2d(xt, pool, strides).permute(0, 2, 3, 1)


def torch_avg_pool2d(x, pool_size, strides=None, padding="valid"):
    """Average over the real pixels only: window sums of x divided by window sums of ones (both zero-padded)."""
    pool, strides, pads = _torch_geometry(x, pool_size, strides, padding)
    xt = F.pad(x.permute(0, 3, 1, 2), pads)
    ones = F.pad(torch.ones_like(x[:1, :, :, :1]).permute(0, 3, 1, 2), pads)
    total = F.avg_pool2d(xt, pool, strides, divisor_override=1)
    count = F.avg_pool2d(ones, pool, strides, divisor_override=1)
    return (total / count).permute(0, 2, 3, 1)


def numpy_avg_pool2d(x, pool_size, strides=None, padding="valid"):
    """The definition, one window at a time (only for forward values)."""
    pool = _pairs(pool_size)
    strides = pool if strides is None else _pairs(strides)
    (top, _), (left, _) = _tf_pads(x.shape[1:3], pool, strides, padding)
    n, h, w, c = x.shape
    oh = -(-h // strides[0]) if padding == "same" else (h - pool[0]) // strides[0] + 1
    ow = -(-w // strides[1]) if padding == "same" else (w - pool[1]) // strides[1] + 1
    out = np.zeros((n, oh, ow, c), x.dtype)
    for p in range(oh):
        for q in range(ow):
            r0, c0 = p * strides[0] - top, q * strides[1] - left
            window = x[:, max(r0, 0):max(r0 + pool[0], 0), max(c0, 0):max(c0 + pool[1], 0), :]
            out[:, p, q, :] = window.mean(axis=(1, 2))
    return out


def _ties(shape, seed):
    """Values from {0, 1}: most windows hold several equal maxima, like saturated MNIST pixels or ReLU zeros."""
    return np.random.default_rng(seed).integers(0, 2, shape).astype(np.float64)


# --- finite differences -----------------------------------------------------------------------------------------------
@covers("max_pool2d", "avg_pool2d", kind="fd")
@pytest.mark.parametrize("x_shape, pool_size, strides, padding", CASES, ids=IDS)
def test_pool_gradients_match_finite_differences(x_shape, pool_size, strides, padding):
    x = np.random.default_rng(0).permutation(np.prod(x_shape)).reshape(x_shape) * 0.1  # distinct: no ties
    assert check_gradients(lambda a: max_pool2d(a, pool_size, strides, padding), x)
    assert check_gradients(lambda a: avg_pool2d(a, pool_size, strides, padding), x)


@covers("max_pool2d", "avg_pool2d", kind="fd")
def test_pool_backward_ops_match_finite_differences():
    """The scatter / gather / spread ops behind the backward passes, each checked as an op of its own."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 5, 2))
    y = max_pool2d(cr.Tensor(x, requires_grad=True), 3, 2, "same")
    argmax = y.node.argmax  # per window, the row-major index of its first maximum
    geometry = dict(argmax=argmax, in_shape=x.shape, out_hw=(3, 3), **y.node.geometry)  # pads ((0, 1), (1, 1))
    g, u = rng.standard_normal((2, 3, 3, 2)), rng.standard_normal(x.shape)
    np.testing.assert_array_equal(MaxPool2DGather.apply(cr.Tensor(x), **geometry).numpy(), y.numpy())  # the maxima
    assert check_gradients(lambda a: MaxPool2DScatter.apply(a, **geometry), g)
    assert check_gradients(lambda a: MaxPool2DGather.apply(a, **geometry), u)
    node = avg_pool2d(cr.Tensor(x, requires_grad=True), 3, 2, "same").node
    assert check_gradients(lambda a: AvgPool2DSpread.apply(a, in_shape=x.shape, out_hw=(3, 3), scale=node.scale,
                                                           **node.geometry), g)


# --- PyTorch ----------------------------------------------------------------------------------------------------------
@covers("max_pool2d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, pool_size, strides, padding", CASES, ids=IDS)
def test_max_pool2d_with_ties_matches_torch(x_shape, pool_size, strides, padding, dtype):
    """Each window's gradient goes to ONE position, its first maximum in row-major order, exactly as in torch."""
    x = _ties(x_shape, seed=2)
    compare_with_torch(lambda a: max_pool2d(a, pool_size, strides, padding),
                       lambda a: torch_max_pool2d(a, pool_size, strides, padding), x, dtype=dtype)


@covers("max_pool2d", kind="torch")
def test_max_pool2d_all_equal_windows_send_the_gradient_to_the_top_left():
    x = cr.Tensor(np.zeros((1, 4, 4, 1)), requires_grad=True)
    (dx,) = cr.grad(max_pool2d(x, 2).sum(), [x])
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(dx.numpy()[0, :, :, 0], expected)
    xt = torch.zeros((1, 1, 4, 4), dtype=torch.float64, requires_grad=True)
    F.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy()[0, 0], expected)


@covers("avg_pool2d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, pool_size, strides, padding", CASES, ids=IDS)
def test_avg_pool2d_matches_torch_and_numpy(x_shape, pool_size, strides, padding, dtype):
    x = np.random.default_rng(3).standard_normal(x_shape)
    out = compare_with_torch(lambda a: avg_pool2d(a, pool_size, strides, padding),
                             lambda a: torch_avg_pool2d(a, pool_size, strides, padding), x, dtype=dtype)
    np.testing.assert_allclose(out.numpy(), numpy_avg_pool2d(x.astype(dtype), pool_size, strides, padding),
                               rtol=1e-10 if dtype == np.float64 else 1e-5, atol=1e-6)


@covers("avg_pool2d", kind="torch")
@pytest.mark.parametrize("x_shape, pool_size, strides", [((2, 5, 5, 2), 3, 2), ((1, 7, 6, 1), 3, 1)])
def test_avg_pool2d_same_symmetric_matches_torch_count_include_pad_false(x_shape, pool_size, strides):
    """Where TF's 'same' padding is symmetric, torch's own padding with count_include_pad=False is the same op."""
    x = np.random.default_rng(4).standard_normal(x_shape)
    compare_with_torch(
        lambda a: avg_pool2d(a, pool_size, strides, "same"),
        lambda a: F.avg_pool2d(a.permute(0, 3, 1, 2), pool_size, strides, padding=1,
                               count_include_pad=False).permute(0, 2, 3, 1), x)


@covers("avg_pool2d", kind="torch")
def test_avg_pool2d_valid_matches_torch_avg_pool2d():
    x = np.random.default_rng(5).standard_normal((2, 7, 6, 3))
    compare_with_torch(lambda a: avg_pool2d(a, 2), lambda a: F.avg_pool2d(a.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1),
                       x, dtype=np.float32)


# --- second order -----------------------------------------------------------------------------------------------------
def _conv_pool_penalty(conv, pool, grad, x, w):
    """loss = sum(pool(conv(x, w))²); the gradient of sum((dloss/dx)²) w.r.t. w: through both pool backward ops."""
    y = pool(conv(x, w))
    (dx,) = grad((y * y).sum(), [x], create_graph=True)
    return grad((dx * dx).sum(), [w])[0]


@covers("max_pool2d", "avg_pool2d", kind="torch")
@pytest.mark.parametrize("pool_kind", ["max", "avg"])
@pytest.mark.parametrize("pool_size, strides, padding", [(2, None, "valid"), (3, 2, "same"), (2, 1, "valid")])
def test_pool_second_order_matches_torch(pool_kind, pool_size, strides, padding):
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 7, 7, 2)), rng.standard_normal((2, 2, 2, 3))
    ours_pool = max_pool2d if pool_kind == "max" else avg_pool2d
    torch_pool = torch_max_pool2d if pool_kind == "max" else torch_avg_pool2d
    ours = _conv_pool_penalty(conv2d, lambda y: ours_pool(y, pool_size, strides, padding), cr.grad,
                              cr.Tensor(x, requires_grad=True), cr.Tensor(w, requires_grad=True))
    theirs = _conv_pool_penalty(
        lambda a, b: F.conv2d(a.permute(0, 3, 1, 2), b.permute(3, 2, 0, 1).contiguous()).permute(0, 2, 3, 1),
        lambda y: torch_pool(y, pool_size, strides, padding), torch.autograd.grad,
        torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-9)


@covers("max_pool2d", "avg_pool2d", kind="fd")
@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_pool_second_order_matches_finite_differences(pool):
    x = np.random.default_rng(7).permutation(2 * 5 * 6 * 2).reshape(2, 5, 6, 2) * 0.1

    def input_grad(a):
        with enable_grad():
            y = pool(a, 3, 2, "same")
            (dx,) = cr.grad((y * y * y).sum(), [a], create_graph=True)
        return dx

    assert check_gradients(input_grad, x)


# --- dtypes and errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pool_keeps_float32_through_forward_and_backward(pool, padding):
    x = cr.Tensor(np.random.default_rng(8).standard_normal((2, 5, 5, 3)).astype(np.float32), requires_grad=True)
    y = pool(x, 2, 2, padding)
    assert y.dtype == np.float32
    (dx,) = cr.grad((y * y).sum(), [x], create_graph=True)
    assert dx.dtype == np.float32
    (ddx,) = cr.grad((dx * dx * dx).sum(), [x])
    assert ddx.dtype == np.float32


def test_max_pool2d_output_does_not_share_memory_with_the_input():
    x = np.ones((1, 3, 3, 1), np.float32)
    y = max_pool2d(x, 1, 1).numpy()
    x[...] = 5
    assert (y == 1).all()


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_pool_errors_name_the_op_and_the_shapes(pool):
    name = pool.__name__
    with pytest.raises(ValueError, match=rf"{name}: input must be 4-D.*\(4, 4, 1\)"):
        pool(np.zeros((4, 4, 1), np.float32), 2)
    with pytest.raises(ValueError, match=rf"{name}: the pool window \(5, 5\) is larger than the input along height "
                                         rf".*\(1, 4, 6, 1\)"):
        pool(np.zeros((1, 4, 6, 1), np.float32), 5)
    with pytest.raises(ValueError, match=rf"{name}: padding must be 'valid' or 'same', got 'full'"):
        pool(np.zeros((1, 4, 4, 1), np.float32), 2, padding="full")
    with pytest.raises(ValueError, match=rf"{name}: pool_size must be a positive int"):
        pool(np.zeros((1, 4, 4, 1), np.float32), 0)
    with pytest.raises(TypeError, match=rf"{name}: input must be floating point, got dtype int64"):
        pool(np.zeros((1, 4, 4, 1), np.int64), 2)
    assert pool(np.zeros((1, 4, 6, 1), np.float32), 5, padding="same").shape == (1, 1, 2, 1)
