"""conv2d_relu_max_pool2d (the fused Conv2D(relu) + MaxPooling2D node) against finite differences, PyTorch, and the
same computation as three separate ops; second order; the numba switch; errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers
from test_conv_ops import torch_conv2d

import chainrule as cr
from chainrule.backend import kernels
from chainrule.ops import conv2d, max_pool2d, relu
from chainrule.ops.conv_pool import conv2d_relu_max_pool2d
from chainrule.engine.gradcheck import check_gradients

# (x shape NHWC, kernel shape HWIO, strides, padding, dilations, pool)
CASES = [
    ((2, 8, 8, 1), (3, 3, 1, 4), 1, "valid", 1, 2),  # the seed block, small: 6x6 -> 3x3
    ((2, 7, 7, 3), (3, 3, 3, 2), 1, "same", 1, 2),  # odd size: the last row and column are in no window
    ((1, 9, 8, 2), (3, 2, 2, 3), 2, "same", 1, (2, 1)),
    ((2, 10, 9, 1), (2, 3, 1, 2), 1, "valid", (2, 1), 3),
    ((1, 6, 6, 2), (3, 3, 2, 2), 1, ((2, 0), (1, 3)), 1, 2),  # explicit asymmetric padding
]
IDS = [f"x{c[0]}-k{c[1]}-s{c[2]}-{c[3]}-d{c[4]}-p{c[5]}" for c in CASES]


def _data(x_shape, w_shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[3])


def _fused(strides, padding, dilations, pool):
    return lambda x, w, b: conv2d_relu_max_pool2d(x, w, b, strides, padding, dilations, pool)


def _unfused(strides, padding, dilations, pool):
    return lambda x, w, b: max_pool2d(relu(conv2d(x, w, strides, padding, dilations) + b), pool)


def _torch(strides, padding, dilations, pool):
    def run(x, w, b):
        y = torch.relu(torch_conv2d(x, w, strides, padding, dilations) + b)
        return F.max_pool2d(y.permute(0, 3, 1, 2), pool).permute(0, 2, 3, 1)
    return run


@covers("conv2d_relu_max_pool2d", kind="fd")
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations, pool", CASES, ids=IDS)
def test_gradients_match_finite_differences(x_shape, w_shape, strides, padding, dilations, pool):
    assert check_gradients(_fused(strides, padding, dilations, pool), *_data(x_shape, w_shape))


@covers("conv2d_relu_max_pool2d", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations, pool", CASES, ids=IDS)
def test_matches_torch(x_shape, w_shape, strides, padding, dilations, pool, dtype):
    compare_with_torch(_fused(strides, padding, dilations, pool), _torch(strides, padding, dilations, pool),
                       *_data(x_shape, w_shape, seed=1), dtype=dtype)


@pytest.mark.parametrize("numba_on", [False, True])
@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations, pool", CASES, ids=IDS)
def test_equals_the_three_ops_it_replaces(x_shape, w_shape, strides, padding, dilations, pool, numba_on):
    """Same values and gradients as conv2d, + bias, relu and max_pool2d applied one by one, float32 (to rounding:
    the node's products have other shapes, and BLAS's order of summation depends on the shape)."""
    previous = kernels.enabled()
    kernels.set_enabled(numba_on)
    try:
        results = []
        for fn in (_fused, _unfused):
            args = [cr.Tensor(a.astype(np.float32), requires_grad=True) for a in _data(x_shape, w_shape, seed=2)]
            y = fn(strides, padding, dilations, pool)(*args)
            results.append([y.numpy()] + [g.numpy() for g in cr.grad((y * y).sum(), args)])
    finally:
        kernels.set_enabled(previous)
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6, atol=1e-6)
    for fused_grad, plain_grad in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(fused_grad, plain_grad, rtol=1e-5, atol=1e-5)


def _values_and_grads(x, w, b, strides, padding, dilations, pool):
    args = [cr.Tensor(a, requires_grad=True) for a in (x, w, b)]
    y = _fused(strides, padding, dilations, pool)(*args)
    return [y.numpy()] + [g.numpy() for g in cr.grad((y * y).sum(), args)]


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations, pool", CASES, ids=IDS)
def test_numba_and_numpy_paths_give_the_same_bits_but_the_bias_sum(x_shape, w_shape, strides, padding, dilations, pool):
    data = [a.astype(np.float32) for a in _data(x_shape, w_shape, seed=6)]
    previous = kernels.enabled()
    try:
        results = []
        for flag in (False, True):
            kernels.set_enabled(flag)
            results.append(_values_and_grads(*data, strides, padding, dilations, pool))
    finally:
        kernels.set_enabled(previous)
    (y, dx, dw, db), (y_fast, dx_fast, dw_fast, db_fast) = results
    for numpy_result, numba_result in ((y, y_fast), (dx, dx_fast), (dw, dw_fast)):
        assert numba_result.tobytes() == numpy_result.tobytes()
    np.testing.assert_allclose(db_fast, db, rtol=1e-6)  # the bias sum: numba adds block by block (activation.py)


@pytest.mark.parametrize("x_shape, w_shape, strides, padding, dilations, pool", CASES, ids=IDS)
def test_gradients_are_the_same_when_patches_are_rebuilt(monkeypatch, x_shape, w_shape, strides, padding, dilations,
                                                         pool):
    """Large patch matrices are not kept by forward; backward rebuilds them and gets the same bits."""
    from chainrule.ops import conv_pool

    data = _data(x_shape, w_shape, seed=7)
    kept = _values_and_grads(*data, strides, padding, dilations, pool)
    monkeypatch.setattr(conv_pool, "KEEP_PATCHES_MAX_BYTES", 0)
    for rebuilt, original in zip(_values_and_grads(*data, strides, padding, dilations, pool), kept):
        assert rebuilt.tobytes() == original.tobytes()


def test_backward_twice_accumulates():
    """A second backward through the node (its patches dropped by the first) adds the same gradients again."""
    x, w, b = (cr.Tensor(a, requires_grad=True) for a in _data((2, 7, 7, 3), (3, 3, 3, 2), seed=8))
    loss = (conv2d_relu_max_pool2d(x, w, b, padding="same") ** 2).sum()
    loss.backward()
    first = [t.grad.numpy().copy() for t in (x, w, b)]
    loss.backward()
    for t, once in zip((x, w, b), first):
        np.testing.assert_allclose(t.grad.numpy(), 2 * once, rtol=1e-12)


def test_seed_block_float32_matches_torch():
    """The seed CNN's block: Conv2D(32, 3x3, relu) on 28x28x1, then 2x2 max pooling."""
    x, w, b = _data((4, 28, 28, 1), (3, 3, 1, 32), seed=3)
    compare_with_torch(_fused(1, "valid", 1, 2), _torch(1, "valid", 1, 2), x, w * 0.3, b * 0.1,
                       dtype=np.float32, atol=1e-3)


def test_without_bias_and_without_input_gradient():
    x, w, _ = _data((2, 6, 6, 2), (3, 3, 2, 3), seed=4)
    kernel = cr.Tensor(w, requires_grad=True)
    y = conv2d_relu_max_pool2d(cr.Tensor(x), kernel, None, padding="same")
    (dw,) = cr.grad((y * y).sum(), [kernel])
    wt = torch.tensor(w, requires_grad=True)
    ref = F.max_pool2d(torch.relu(torch_conv2d(torch.tensor(x), wt, padding="same")).permute(0, 3, 1, 2), 2)
    (dw_ref,) = torch.autograd.grad((ref * ref).sum(), [wt])
    np.testing.assert_allclose(dw.numpy(), dw_ref.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_second_order_matches_torch(dtype):
    """Gradient penalties through the fused node (its backward built from differentiable ops) equal PyTorch's."""
    x, w, b = (a.astype(dtype) for a in _data((2, 7, 6, 2), (3, 3, 2, 3), seed=5))

    def penalties(fn, grad, tensor):
        args = [tensor(a, requires_grad=True) for a in (x, w, b)]
        y = fn(*args)
        dx, dw, db = grad((y * y).sum(), args, create_graph=True)
        return [g for g in grad((dx * dx).sum() + (dw * dw).sum() + (db * db).sum(), args)]

    ours = penalties(_fused(1, "same", 1, 2), cr.grad, cr.Tensor)
    theirs = penalties(_torch(1, "same", 1, 2), torch.autograd.grad, torch.tensor)
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), ref.numpy(), **tol)


def test_errors_name_the_op_and_shapes():
    x = np.zeros((1, 4, 4, 2))
    with pytest.raises(ValueError, match=r"conv2d_relu_max_pool2d: the pool window \(3, 3\) is larger"):
        conv2d_relu_max_pool2d(x, np.zeros((3, 3, 2, 1)), pool_size=3)
    with pytest.raises(ValueError, match=r"conv2d_relu_max_pool2d: bias must have shape \(1,\)"):
        conv2d_relu_max_pool2d(x, np.zeros((3, 3, 2, 1)), np.zeros(2))
    with pytest.raises(ValueError, match=r"conv2d_relu_max_pool2d: input has 2 channels but the kernel expects 3"):
        conv2d_relu_max_pool2d(x, np.zeros((3, 3, 3, 1)))
