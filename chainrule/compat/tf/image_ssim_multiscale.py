"""``tf.image.ssim_multiscale``: MS-SSIM (Wang, Simoncelli and Bovik 2004) as TensorFlow computes it: contrast-
structure at each of ``len(power_factors)`` scales (each a 2x2 average pool of the last, odd sides padded by
repeating the edge) and the full SSIM at the coarsest, clipped at 0, raised to the power factors, multiplied, and
averaged over channels. Built from ops, so it is differentiable (a loss for image restoration).

>>> import numpy as np
>>> import chainrule as tf
>>> image = np.random.default_rng(0).random((1, 48, 48, 1)).astype("float32")
>>> round(float(tf.image.ssim_multiscale(image, image, 1.0, power_factors=(0.5, 0.5), filter_size=5)[0]), 6)
1.0
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.keras.ops.image_filters import _separable, gaussian_kernel_1d
from chainrule.ops.pool import avg_pool2d

MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _ssim_and_cs(x: Tensor, y: Tensor, max_val: float, taps: np.ndarray, k1: float, k2: float):
    """Per image and channel (N, C): the mean SSIM and the mean contrast-structure term over valid windows."""
    def window_mean(values: Tensor) -> Tensor:
        return _separable(values, taps, taps, ((0, 0), (0, 0)))

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mean_x, mean_y = window_mean(x), window_mean(y)
    num0 = mean_x * mean_y * 2.0
    den0 = mean_x * mean_x + mean_y * mean_y
    luminance = (num0 + c1) / (den0 + c1)
    cs = (window_mean(x * y) * 2.0 - num0 + c2) / (window_mean(x * x + y * y) - den0 + c2)
    return ops.mean(luminance * cs, axis=(1, 2)), ops.mean(cs, axis=(1, 2))


def _halved(x: Tensor) -> Tensor:
    """A 2x2 average pool; an odd height or width first gets its last row or column repeated (symmetric pad)."""
    if x.shape[1] % 2:
        x = ops.concat([x, x[:, -1:]], axis=1)
    if x.shape[2] % 2:
        x = ops.concat([x, x[:, :, -1:]], axis=2)
    return avg_pool2d(x, 2, 2, "valid")


def ssim_multiscale(img1: TensorLike, img2: TensorLike, max_val: float, power_factors=MSSSIM_WEIGHTS,
                    filter_size: int = 11, filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> Tensor:
    """The MS-SSIM of each pair of images ([..., height, width, channels], the leading axes a batch): shape
    img1.shape[:-3]; in [0, 1], 1 for equal images. The coarsest scale must still be ``filter_size`` wide."""
    x, y = as_tensor(img1), as_tensor(img2)
    if x.ndim < 3 or tuple(x.shape) != tuple(y.shape):
        raise ValueError(f"tf.image.ssim_multiscale: img1 and img2 must have the same shape [..., height, width, "
                         f"channels], got {list(x.shape)} and {list(y.shape)}")
    factors = [float(p) for p in np.ravel(power_factors)]
    if not factors:
        raise ValueError("tf.image.ssim_multiscale: power_factors must hold at least one weight")
    heads = tuple(x.shape[:-3])
    x, y = (t if t.dtype.kind == "f" else ops.cast(t, np.float32) for t in (x, y))
    x, y = (ops.reshape(t, (-1, *t.shape[-3:])) for t in (x, y))
    taps = gaussian_kernel_1d(int(filter_size), filter_sigma, x.dtype)
    terms = []
    for scale in range(len(factors)):
        if scale:
            x, y = _halved(x), _halved(y)
        if min(x.shape[1:3]) < filter_size:
            raise ValueError(f"tf.image.ssim_multiscale: at scale {scale} the images are {list(x.shape[1:3])}, "
                             f"smaller than filter_size={filter_size}: use larger images, fewer power_factors or a "
                             f"smaller filter")
        ssim, cs = _ssim_and_cs(x, y, float(max_val), taps, k1, k2)
        terms.append(ops.relu(cs) if scale < len(factors) - 1 else ops.relu(ssim))
    # a weighted geometric mean over scales, then the mean over channels
    product = terms[0] ** factors[0]
    for term, factor in zip(terms[1:], factors[1:]):
        product = product * term ** factor
    return ops.reshape(ops.mean(product, axis=-1), heads)


__all__ = ["ssim_multiscale"]
