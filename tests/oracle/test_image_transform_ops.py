"""affine_transform against finite differences, PyTorch's grid_sample and a loop over Keras's padding rule."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.image_transform import affine_transform


def rotation(angle_deg, h, w, scale=1.0, tx=0.0, ty=0.0):
    """Keras's _compute_affine_matrix about the image centre (no shear), as a row of 8."""
    a = math.radians(angle_deg)
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    a0, a1 = scale * math.cos(a), -scale * math.sin(a)
    b0, b1 = scale * math.sin(a), scale * math.cos(a)
    return [a0, a1, tx + cx - cx * a0 - cy * a1, b0, b1, ty + cy - cx * b0 - cy * b1, 0.0, 0.0]


def _sources(transforms, h, w):
    t = torch.as_tensor(np.asarray(transforms, np.float64)).reshape(-1, 8, 1, 1)
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                            indexing="ij")
    k = t[:, 6] * xx + t[:, 7] * yy + 1
    return (t[:, 0] * xx + t[:, 1] * yy + t[:, 2]) / k, (t[:, 3] * xx + t[:, 4] * yy + t[:, 5]) / k


TORCH_PADDING = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}


def torch_affine(x, transforms, interpolation, fill_mode):
    """grid_sample with align_corners=False on pixel coordinates (-1 and 1 are the outer edges of the edge pixels):
    its 'reflection' reflects about those edges, Keras's 'reflect'; 'border' is 'nearest'; 'zeros' is 'constant'."""
    n, h, w, _ = x.shape
    sx, sy = _sources(transforms, h, w)
    grid = torch.stack([(2 * sx + 1) / w - 1, (2 * sy + 1) / h - 1], dim=-1).to(x.dtype)
    y = F.grid_sample(x.permute(0, 3, 1, 2), grid, mode=interpolation, padding_mode=TORCH_PADDING[fill_mode],
                      align_corners=False)
    return y.permute(0, 2, 3, 1)


NUMPY_PAD = {"reflect": "symmetric", "mirror": "reflect", "wrap": "wrap", "nearest": "edge", "constant": "constant"}


def keras_numpy_affine(x, transforms, fill_mode, fill_value):
    """Keras's NumPy backend: pad the image by fill_mode, then interpolate bilinearly, one pixel at a time."""
    n, h, w, c = x.shape
    m = 2 * (h + w)
    kwargs = {"constant_values": fill_value} if fill_mode == "constant" else {}
    padded = np.pad(x, ((0, 0), (m, m), (m, m), (0, 0)), mode=NUMPY_PAD[fill_mode], **kwargs)
    sx, sy = (s.numpy() + m for s in _sources(transforms, h, w))
    out = np.zeros_like(x)
    for b, r, q in np.ndindex(n, h, w):
        y0, x0 = math.floor(sy[b, r, q]), math.floor(sx[b, r, q])
        fy, fx = sy[b, r, q] - y0, sx[b, r, q] - x0
        out[b, r, q] = ((1 - fy) * (1 - fx) * padded[b, y0, x0] + (1 - fy) * fx * padded[b, y0, x0 + 1]
                        + fy * (1 - fx) * padded[b, y0 + 1, x0] + fy * fx * padded[b, y0 + 1, x0 + 1])
    return out


TRANSFORMS = {
    "rotate-30": lambda h, w: [rotation(30, h, w), rotation(-65, h, w)],
    "zoom-out-shift": lambda h, w: [rotation(0, h, w, scale=1.4, tx=0.63), rotation(10, h, w, scale=0.8, ty=-1.37)],
    "projective": lambda h, w: [[1.1, 0.2, -0.5, -0.1, 0.9, 0.8, 0.02, -0.03], rotation(200, h, w)],
}


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@covers("affine_transform", kind="fd")
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "mirror", "wrap"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_transform_gradient_matches_finite_differences(fill_mode, interpolation):
    transforms = np.array(TRANSFORMS["rotate-30"](4, 5))
    assert check_gradients(lambda a: affine_transform(a, transforms, interpolation, fill_mode, fill_value=0.5),
                           _x((2, 4, 5, 2)))


@covers("affine_transform", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@pytest.mark.parametrize("fill_mode", sorted(TORCH_PADDING))
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_transform_matches_torch_grid_sample(name, fill_mode, interpolation, dtype):
    transforms = np.array(TRANSFORMS[name](6, 7))
    compare_with_torch(lambda a: affine_transform(a, transforms, interpolation, fill_mode),
                       lambda a: torch_affine(a, transforms, interpolation, fill_mode), _x((2, 6, 7, 3), 1),
                       dtype=dtype)


@pytest.mark.parametrize("fill_mode, fill_value", [("wrap", 0.0), ("mirror", 0.0), ("constant", -2.5),
                                                   ("reflect", 0.0), ("nearest", 0.0)])
def test_affine_transform_matches_keras_padding_rule(fill_mode, fill_value):
    """The fill modes PyTorch lacks (and a non-zero fill value) against Keras's NumPy backend's rule."""
    x = _x((2, 5, 6, 2), 2)
    for name in sorted(TRANSFORMS):
        transforms = np.array(TRANSFORMS[name](5, 6))
        got = affine_transform(x, transforms, fill_mode=fill_mode, fill_value=fill_value).numpy()
        np.testing.assert_allclose(got, keras_numpy_affine(x, transforms, fill_mode, fill_value), rtol=1e-10,
                                   atol=1e-12)


def test_affine_transform_identity_single_image_and_channels_first():
    x = _x((4, 5, 3), 3)
    identity = [1.0, 0, 0, 0, 1.0, 0, 0, 0]
    np.testing.assert_array_equal(affine_transform(x, identity).numpy(), x)
    batch = _x((2, 3, 4, 5), 4)  # channels first
    got = affine_transform(batch, [rotation(90, 4, 5)] * 2, fill_mode="nearest", data_format="channels_first")
    want = affine_transform(batch.transpose(0, 2, 3, 1), [rotation(90, 4, 5)] * 2, fill_mode="nearest")
    np.testing.assert_allclose(got.numpy(), want.numpy().transpose(0, 3, 1, 2))


def test_affine_transform_takes_host_transforms_for_device_images():
    """The augmentation layers draw their transforms on the host: images on the current backend's device are
    resampled by them there, with the gradient, as by the same transforms on the device."""
    x = cr.Tensor(_x((2, 5, 6, 2), 5), requires_grad=True)
    transforms = np.array([rotation(30, 5, 6), rotation(-50, 5, 6)])
    results = []
    for t in (cr.Tensor._wrap(transforms), cr.Tensor(transforms)):  # the NumPy array as it is; moved over
        y = affine_transform(x, t, fill_mode="reflect")
        (dx,) = cr.grad((y * y).sum(), [x])
        results.append((y.numpy(), dx.numpy()))
    for host, device in zip(*results):
        np.testing.assert_array_equal(host, device)


def test_affine_transform_errors():
    x = np.zeros((1, 4, 4, 1))
    with pytest.raises(ValueError, match=r"Invalid value for argument `interpolation`"):
        affine_transform(x, [1.0, 0, 0, 0, 1, 0, 0, 0], interpolation="bicubic")
    with pytest.raises(ValueError, match=r"Invalid value for argument `fill_mode`"):
        affine_transform(x, [1.0, 0, 0, 0, 1, 0, 0, 0], fill_mode="zeros")
    with pytest.raises(ValueError, match=r"Invalid transform: expected 8 numbers"):
        affine_transform(x, [1.0, 0, 0, 0, 1, 0])
    with pytest.raises(ValueError, match=r"Invalid images rank"):
        affine_transform(np.zeros((4, 4)), [1.0, 0, 0, 0, 1, 0, 0, 0])
    with pytest.raises(ValueError, match=r"affine_transform: 2 transforms for 1 images"):
        affine_transform(x, np.zeros((2, 8)))
