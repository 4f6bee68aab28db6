"""upsample_nearest and resize_bilinear against finite differences and PyTorch (F.interpolate)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.upsampling import resize_bilinear, upsample_nearest


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def torch_nearest(x, size):
    """F.interpolate(mode='nearest') with integer factors, on channels-first; 1-D and 2-D."""
    if x.ndim == 3:
        return F.interpolate(x.transpose(1, 2), scale_factor=size, mode="nearest").transpose(1, 2)
    return F.interpolate(x.permute(0, 3, 1, 2), scale_factor=size, mode="nearest").permute(0, 2, 3, 1)


NEAREST_CASES = [((2, 3, 4, 2), (2, 2)), ((1, 2, 3, 3), (3, 1)), ((2, 4, 2), (3,)), ((1, 2, 2, 1), (1, 1))]


@covers("upsample_nearest", kind="fd")
@pytest.mark.parametrize("x_shape, size", NEAREST_CASES)
def test_upsample_nearest_gradients_match_finite_differences(x_shape, size):
    assert check_gradients(lambda a: upsample_nearest(a, size), _x(x_shape))


@covers("upsample_nearest", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, size", NEAREST_CASES)
def test_upsample_nearest_matches_torch(x_shape, size, dtype):
    compare_with_torch(lambda a: upsample_nearest(a, size), lambda a: torch_nearest(a, tuple(float(s) for s in size)),
                       _x(x_shape, 1), dtype=dtype)


@covers("upsample_nearest", kind="fd")
def test_upsample_nearest_second_order():
    """The block sum (its backward) is differentiable too: a gradient of a gradient."""
    x = _x((1, 2, 3, 2), 2)

    def grad_of_cube(a):
        with cr.enable_grad():
            y = upsample_nearest(a, 2)
            (da,) = cr.grad((y * y * y).sum(), [a], create_graph=True)
        return da

    assert check_gradients(grad_of_cube, x)


BILINEAR_CASES = [((2, 3, 4, 2), (6, 8)), ((1, 4, 4, 1), (12, 8)), ((1, 5, 3, 2), (7, 5)), ((1, 6, 6, 1), (3, 4)),
                  ((1, 1, 3, 2), (2, 3))]


@covers("resize_bilinear", kind="fd")
@pytest.mark.parametrize("x_shape, size", BILINEAR_CASES)
def test_resize_bilinear_gradients_match_finite_differences(x_shape, size):
    assert check_gradients(lambda a: resize_bilinear(a, size), _x(x_shape))


@covers("resize_bilinear", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, size", BILINEAR_CASES)
def test_resize_bilinear_matches_torch(x_shape, size, dtype):
    compare_with_torch(lambda a: resize_bilinear(a, size),
                       lambda a: F.interpolate(a.permute(0, 3, 1, 2), size=size, mode="bilinear",
                                               align_corners=False).permute(0, 2, 3, 1), _x(x_shape, 1), dtype=dtype)


def test_upsampling_errors():
    with pytest.raises(ValueError, match=r"upsample_nearest: size must be a positive int or 2 positive ints"):
        upsample_nearest(np.zeros((1, 2, 2, 1)), (2, 0))
    with pytest.raises(ValueError, match=r"upsample_nearest: x must be \(batch, \*spatial, channels\)"):
        upsample_nearest(np.zeros((2, 2)), 2)
    with pytest.raises(ValueError, match=r"resize_bilinear: x must be 4-D"):
        resize_bilinear(np.zeros((2, 2, 1)), (4, 4))
    with pytest.raises(TypeError, match=r"resize_bilinear: x must be floating point"):
        resize_bilinear(np.zeros((1, 2, 2, 1), np.uint8), (4, 4))
