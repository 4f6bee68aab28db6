"""keras.ops.image's colour conversions and filters (rgb_to_hsv, hsv_to_rgb, gaussian_blur, sobel_edges, ssim):
values against colorsys, PyTorch's convolution and a NumPy SSIM, gradients against finite differences."""
import colorsys

import numpy as np
import pytest
import torch

from chainrule.engine.gradcheck import check_gradients
from chainrule.keras import ops


def _images(shape=(2, 6, 7, 3), seed=0, dtype="float64"):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def _torch_depthwise(x, kernel_2d, pads):
    """Each channel of (N, H, W, C) x cross-correlated with one kernel after zero padding (PyTorch's conv2d)."""
    t = torch.tensor(x).permute(0, 3, 1, 2)
    t = torch.nn.functional.pad(t, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    c = t.shape[1]
    k = torch.tensor(kernel_2d, dtype=t.dtype)[None, None].repeat(c, 1, 1, 1)
    return torch.nn.functional.conv2d(t, k, groups=c).permute(0, 2, 3, 1).numpy()


def test_rgb_to_hsv_matches_colorsys_and_round_trips():
    x = _images(dtype="float32")
    x[0, 0, 0] = [0.5, 0.5, 0.5]  # grey: hue and saturation 0
    x[0, 0, 1] = [0.0, 0.0, 0.0]
    hsv = ops.image.rgb_to_hsv(x)
    expected = np.array([colorsys.rgb_to_hsv(*p) for p in x.reshape(-1, 3)]).reshape(x.shape)
    np.testing.assert_allclose(hsv.numpy(), expected, atol=1e-6)
    assert hsv.dtype == np.float32
    np.testing.assert_allclose(ops.image.hsv_to_rgb(hsv).numpy(), x, atol=1e-6)
    single = ops.image.hsv_to_rgb(expected[0].astype("float32"))
    back = np.array([colorsys.hsv_to_rgb(*p) for p in expected[0].reshape(-1, 3)]).reshape(x[0].shape)
    np.testing.assert_allclose(single.numpy(), back, atol=1e-6)


def test_hsv_conversions_carry_gradients():
    x = 0.1 + 0.8 * _images((1, 3, 3, 3), seed=1)
    check_gradients(ops.image.rgb_to_hsv, x)
    check_gradients(ops.image.hsv_to_rgb, x)


@pytest.mark.parametrize("fn", [ops.image.rgb_to_hsv, ops.image.hsv_to_rgb])
def test_hsv_conversions_refuse_integer_images_and_wrong_ranks(fn):
    with pytest.raises(ValueError, match="expected float dtype"):
        fn(np.zeros((2, 2, 3), "uint8"))
    with pytest.raises(ValueError, match="Invalid images rank"):
        fn(np.zeros((3,), "float32"))
    with pytest.raises(ValueError, match="3 channels"):
        fn(np.zeros((2, 2, 4), "float32"))


@pytest.mark.parametrize("kernel_size,sigma", [((3, 3), (1.0, 1.0)), ((5, 3), (2.0, 0.5)), ((4, 2), (1.5, 1.5))])
def test_gaussian_blur_matches_torch_convolution(kernel_size, sigma):
    x = _images()
    kh, kw = kernel_size
    gy = np.exp(-0.5 * ((np.arange(kh) - (kh - 1) / 2) / sigma[0]) ** 2)
    gx = np.exp(-0.5 * ((np.arange(kw) - (kw - 1) / 2) / sigma[1]) ** 2)
    kernel = np.outer(gy / gy.sum(), gx / gx.sum())
    pads = (((kh - 1) // 2, kh - 1 - (kh - 1) // 2), ((kw - 1) // 2, kw - 1 - (kw - 1) // 2))
    out = ops.image.gaussian_blur(x, kernel_size, sigma)
    np.testing.assert_allclose(out.numpy(), _torch_depthwise(x, kernel, pads), rtol=1e-12, atol=1e-12)
    assert out.shape == x.shape
    assert ops.image.gaussian_blur(x[0], kernel_size, sigma).shape == x.shape[1:]


def test_gaussian_blur_gradient_and_integer_images():
    check_gradients(lambda x: ops.image.gaussian_blur(x, (3, 3), (0.8, 1.2)), _images((1, 4, 4, 2)))
    out = ops.image.gaussian_blur(np.full((4, 4, 1), 100, "uint8"))
    assert out.dtype == np.uint8 and out.shape == (4, 4, 1)
    as_float = ops.image.gaussian_blur(np.full((4, 4, 1), 100.0, "float32")).numpy()
    np.testing.assert_array_equal(out.numpy(), as_float.astype("uint8"))  # blurred as float32, cast as Keras does
    with pytest.raises(ValueError, match="kernel_size"):
        ops.image.gaussian_blur(_images(), kernel_size=(0, 3))


def test_sobel_edges_matches_torch_and_carries_gradients():
    x = _images()
    sobel_y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float)
    edges = ops.image.sobel_edges(x)
    assert edges.shape == x.shape + (2,)
    pads = ((1, 1), (1, 1))
    np.testing.assert_allclose(edges.numpy()[..., 0], _torch_depthwise(x, sobel_y, pads), atol=1e-12)
    np.testing.assert_allclose(edges.numpy()[..., 1], _torch_depthwise(x, sobel_y.T, pads), atol=1e-12)
    check_gradients(ops.image.sobel_edges, _images((1, 3, 4, 1), seed=2))
    step = np.zeros((1, 5, 6, 1)); step[0, :, 3:] = 1.0
    e = ops.image.sobel_edges(step).numpy()[0, 2, :, 0]
    np.testing.assert_allclose(e[:, 0], 0.0)           # no vertical change inside the image
    np.testing.assert_allclose(e[2:4, 1], [4.0, 4.0])  # the vertical edge between columns 2 and 3


def _numpy_ssim(a, b, size=11, sigma=1.5, max_val=1.0, k1=0.01, k2=0.03):
    g = np.exp(-0.5 * ((np.arange(size) - (size - 1) / 2) / sigma) ** 2)
    w = np.outer(g / g.sum(), g / g.sum())
    windows = lambda x: np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(1, 2))  # noqa: E731
    filt = lambda x: np.einsum("nhwcij,ij->nhwc", windows(x), w)  # noqa: E731
    mu1, mu2 = filt(a), filt(b)
    v1, v2, cov = filt(a * a) - mu1 ** 2, filt(b * b) - mu2 ** 2, filt(a * b) - mu1 * mu2
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    s = (2 * mu1 * mu2 + c1) * (2 * cov + c2) / ((mu1 ** 2 + mu2 ** 2 + c1) * (v1 + v2 + c2))
    return s.mean(axis=(1, 2, 3))


def test_ssim_matches_numpy_and_carries_gradients():
    a, b = _images((2, 16, 14, 3), seed=3), _images((2, 16, 14, 3), seed=4)
    np.testing.assert_allclose(ops.image.ssim(a, b).numpy(), _numpy_ssim(a, b), rtol=1e-10)
    np.testing.assert_allclose(ops.image.ssim(a, a).numpy(), [1.0, 1.0], rtol=1e-12)
    got = ops.image.ssim(a[0] * 255, b[0] * 255, max_val=255.0, filter_size=5, filter_sigma=1.0)
    assert got.shape == ()
    np.testing.assert_allclose(float(got), _numpy_ssim(a[:1] * 255, b[:1] * 255, 5, 1.0, 255.0)[0], rtol=1e-10)
    check_gradients(lambda x, y: ops.image.ssim(x, y, filter_size=3), _images((1, 4, 4, 1), seed=5),
                    _images((1, 4, 4, 1), seed=6))
    with pytest.raises(ValueError, match="same shape"):
        ops.image.ssim(a, b[:, :8])
    with pytest.raises(ValueError, match="filter_size"):
        ops.image.ssim(a[:, :5, :5], b[:, :5, :5])
