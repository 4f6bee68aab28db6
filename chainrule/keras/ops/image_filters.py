"""``keras.ops.image``'s filters: ``gaussian_blur``, ``sobel_edges`` and ``ssim`` (the structural similarity of two
images), each a depthwise convolution of the images with a fixed kernel, so gradients flow to the images.

>>> import numpy as np
>>> from chainrule.keras import ops
>>> image = np.zeros((1, 5, 5, 1), "float32"); image[0, 2, 2, 0] = 1.0
>>> np.round(ops.image.gaussian_blur(image, (3, 3), (1.0, 1.0)).numpy()[0, 1:4, 1:4, 0], 4)
array([[0.0751, 0.1238, 0.0751],
       [0.1238, 0.2042, 0.1238],
       [0.0751, 0.1238, 0.0751]], dtype=float32)
>>> ops.image.sobel_edges(image).shape
TensorShape([1, 5, 5, 1, 2])
>>> float(ops.image.ssim(image, image, filter_size=3))
1.0
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops import numpy as knp
from chainrule.keras.ops.image import batched_channels_last, restored
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops.depthwise import depthwise_conv2d

# the Sobel operator's vertical (d/dy) and horizontal (d/dx) kernels, applied as a cross-correlation
SOBEL_Y = ((-1.0, -2.0, -1.0), (0.0, 0.0, 0.0), (1.0, 2.0, 1.0))
SOBEL_X = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))


def gaussian_kernel_1d(size: int, sigma: float, dtype) -> np.ndarray:
    """The normalised Gaussian weights of ``size`` taps centred on the middle.

    >>> gaussian_kernel_1d(3, 1.0, "float64").round(4)
    array([0.2741, 0.4519, 0.2741])
    """
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    weights = np.exp(-0.5 * (offsets / float(sigma)) ** 2)
    return (weights / weights.sum()).astype(dtype)


def _filtered(x: Tensor, kernel_2d: np.ndarray, pads: tuple[tuple[int, int], tuple[int, int]]) -> Tensor:
    """Each channel of (N, H, W, C) ``x`` cross-correlated with one 2-D kernel after zero padding."""
    channels = x.shape[-1]
    kernel = np.repeat(kernel_2d.astype(x.dtype)[:, :, None, None], channels, axis=2)
    if any(p for pair in pads for p in pair):
        x = knp.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    return depthwise_conv2d(x, kernel)


def _separable(x: Tensor, taps_y: np.ndarray, taps_x: np.ndarray, pads) -> Tensor:
    """``x`` filtered by the outer product of two 1-D kernels, as a column pass and a row pass (kh + kw taps per
    pixel instead of kh * kw; the same sums up to rounding)."""
    x = _filtered(x, taps_y[:, None], (pads[0], (0, 0)))
    return _filtered(x, taps_x[None, :], ((0, 0), pads[1]))


def _same_pads(kh: int, kw: int) -> tuple[tuple[int, int], tuple[int, int]]:
    return ((kh - 1) // 2, kh - 1 - (kh - 1) // 2), ((kw - 1) // 2, kw - 1 - (kw - 1) // 2)


def _two_positive(value, name: str, fn: str, kind) -> tuple:
    values = (value, value) if isinstance(value, numbers.Number) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, kind) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"{fn}: `{name}` must be a positive number or a pair of them. Received: {name}={value!r}")
    return values


def gaussian_blur(images: TensorLike, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format: str | None = None) -> Tensor:
    """Blur each channel with a Gaussian of ``kernel_size`` (height, width) taps and ``sigma`` (along height,
    width), zero padding keeping the size; integer images are blurred as float32 and cast back."""
    kh, kw = (int(k) for k in _two_positive(kernel_size, "kernel_size", "gaussian_blur", numbers.Integral))
    sy, sx = _two_positive(sigma, "sigma", "gaussian_blur", numbers.Real)
    x, single, first = batched_channels_last(images, "gaussian_blur", data_format)
    dtype = x.dtype
    if dtype.kind != "f":
        x = knp.cast(x, "float32")
    out = _separable(x, gaussian_kernel_1d(kh, sy, x.dtype), gaussian_kernel_1d(kw, sx, x.dtype), _same_pads(kh, kw))
    return restored(out if out.dtype == dtype else knp.cast(out, dtype), single, first)


def sobel_edges(images: TensorLike, data_format: str | None = None) -> Tensor:
    """The Sobel gradients of each channel, zero padded to the image's size: shape (..., H, W, C, 2) holding
    [d/dy, d/dx] ((..., C, H, W, 2) channels first), as Keras's JAX and PyTorch backends (its TensorFlow backend,
    like ``tf.image.sobel_edges``, pads by reflection instead)."""
    x, single, first = batched_channels_last(images, "sobel_edges", data_format)
    if x.dtype.kind != "f":
        x = knp.cast(x, "float32")
    pads = _same_pads(3, 3)
    out = knp.stack([_filtered(x, np.asarray(k), pads) for k in (SOBEL_Y, SOBEL_X)], axis=-1)
    return restored(out, single, first, trailing=1)


def ssim(image1: TensorLike, image2: TensorLike, max_val: float = 1.0, filter_size: int = 11,
         filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03, data_format: str | None = None) -> Tensor:
    """The mean structural similarity of each pair of images (Wang et al. 2004) over Gaussian windows of
    ``filter_size`` (no padding) and all channels: shape (N,), or a scalar for single images; 1 for equal images."""
    x1, single, _ = batched_channels_last(image1, "ssim", data_format)
    x2, _, _ = batched_channels_last(image2, "ssim", data_format)
    if tuple(x1.shape) != tuple(x2.shape):
        raise ValueError(f"ssim: image1 and image2 must have the same shape, got {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}")
    if not isinstance(filter_size, numbers.Integral) or filter_size < 1 or filter_size > min(x1.shape[1:3]):
        raise ValueError(f"ssim: `filter_size` must be an int from 1 to the images' smaller side "
                         f"({min(x1.shape[1:3])}). Received: filter_size={filter_size!r}")
    dtype = x1.dtype
    x1, x2 = (x if x.dtype.kind == "f" else knp.cast(x, "float32") for x in (x1, x2))
    if x2.dtype != x1.dtype:
        x2 = knp.cast(x2, x1.dtype)
    taps = gaussian_kernel_1d(int(filter_size), filter_sigma, x1.dtype)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2

    def window_mean(values: Tensor) -> Tensor:
        return _separable(values, taps, taps, ((0, 0), (0, 0)))

    mu1, mu2 = window_mean(x1), window_mean(x2)
    var1 = window_mean(x1 * x1) - mu1 * mu1
    var2 = window_mean(x2 * x2) - mu2 * mu2
    covariance = window_mean(x1 * x2) - mu1 * mu2
    similarity = ((2.0 * mu1 * mu2 + c1) * (2.0 * covariance + c2)) / \
        ((mu1 * mu1 + mu2 * mu2 + c1) * (var1 + var2 + c2))
    out = knp.mean(similarity, axis=(1, 2, 3))
    out = out if out.dtype == dtype or dtype.kind != "f" else knp.cast(out, dtype)
    return out[0] if single else out


__all__ = ["gaussian_blur", "sobel_edges", "ssim"]
wrap_namespace(globals(), __all__, "keras.ops.image.")
