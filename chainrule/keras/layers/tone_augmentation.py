"""Tone augmentations: RandomInvert, Solarization, RandomPosterization (random, in training) and AutoContrast,
Equalization, ContrastLimitedAdaptiveHistogramEqualization (fixed), with Keras 3's arguments and defaults. Values are
read on a 0-255 scale mapped from ``value_range``, as Keras does.

>>> import numpy as np
>>> images = np.array([[[[10.0], [20.0]], [[30.0], [40.0]]]], "float32")
>>> AutoContrast()(images).numpy()[0, :, :, 0]
array([[  0.,  85.],
       [170., 255.]], dtype=float32)
>>> RandomInvert(factor=(1.0, 1.0))(images).numpy()[0, 0, :, 0]
array([245., 235.], dtype=float32)
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule import ops
from chainrule.keras.layers.augmentation_base import (_Augmentation, factor_range, per_image, rescaled,
                                                      value_range_pair)
from chainrule.ops.no_gradient import no_gradient

BYTE = (0.0, 255.0)


class RandomInvert(_Augmentation):
    """Replace each image by ``high - image`` (``high`` the top of ``value_range``) with a probability drawn from
    ``factor``."""

    def __init__(self, factor=1.0, value_range=(0, 255), seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1))
        self.value_range = value_range_pair(value_range, "RandomInvert")

    def _sample(self, rng, shape):
        chance = rng.uniform(self.factor[0], self.factor[1], shape[0])
        return {"apply": (rng.uniform(0.0, 1.0, shape[0]) < chance)[:, None, None, None]}

    def _apply(self, images, drawn):
        return ops.where(drawn["apply"], self.value_range[1] - images, images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}


def _unit_range(factor, name: str) -> tuple[float, float]:
    """Solarization's factors: a number f gives (0, f), a pair is sorted; each within [0, 1]."""
    message = f"The `factor` argument should be a number (or a list of two numbers) in the range [0, 1]. "
    values = list(factor) if isinstance(factor, (tuple, list)) else [0.0, factor]
    if len(values) != 2:
        raise ValueError(message + f"Received: {name}={factor}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
            raise ValueError(message + f"Received: {name}={factor}")
    lower, upper = sorted(float(v) for v in values)
    return lower, upper


class Solarization(_Augmentation):
    """Add to each image (on 0-255) a draw from ``addition_factor`` x 255, then invert the values at or above a
    threshold drawn from ``threshold_factor`` x 255 (Keras's draws: from the lower factor itself to the upper x 255)."""

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed: int | None = None,
                 **kwargs):
        super().__init__(seed, kwargs.pop("data_format", None), **kwargs)
        self.addition_factor = _unit_range(addition_factor, "addition_factor")
        self.threshold_factor = _unit_range(threshold_factor, "threshold_factor")
        self.value_range = value_range_pair(value_range, "Solarization")

    def _sample(self, rng, shape):
        return {"additions": rng.uniform(self.addition_factor[0], self.addition_factor[1] * 255, shape[0]),
                "thresholds": rng.uniform(self.threshold_factor[0], self.threshold_factor[1] * 255, shape[0])}

    def _apply(self, images, drawn):
        x = ops.clip(rescaled(images, self.value_range, BYTE) + per_image(drawn["additions"]), 0.0, 255.0)
        x = ops.where(x < per_image(drawn["thresholds"]), x, 255.0 - x)
        return rescaled(x, BYTE, self.value_range)

    def get_config(self):
        return {**super().get_config(), "addition_factor": list(self.addition_factor),
                "threshold_factor": list(self.threshold_factor), "value_range": list(self.value_range)}


def _posterized(values: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Keep the top ``8 - shift`` bits of each 0-255 value (``x >> s << s`` on bytes)."""
    as_bytes = np.clip(values, 0, 255).astype(np.uint8)
    return ((as_bytes >> shifts) << shifts).astype(values.dtype)


class RandomPosterization(_Augmentation):
    """Keep only the top ``bits`` bits of each value on the 0-255 scale, ``bits`` drawn per image from ``factor``
    (an int in [1, 8]: f gives [1, f); a pair (a, b) gives [a, b), a single value when a == b)."""

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed: int | None = None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        bounds = factor_range(factor, (1, 8))
        self.factor = (int(bounds[0]), int(bounds[1]))
        self.value_range = value_range_pair(value_range, "RandomPosterization")

    def _sample(self, rng, shape):
        low, high = self.factor
        bits = np.full(shape[0], low) if low == high else rng.integers(low, high, shape[0])
        return {"shifts": (8 - bits).astype(np.uint8)[:, None, None, None]}

    def _apply(self, images, drawn):
        x = rescaled(images, self.value_range, BYTE)
        return rescaled(no_gradient(_posterized, x, drawn["shifts"]), BYTE, self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}


class _FixedToneLayer(_Augmentation):
    """A deterministic layer (no draw) with a ``value_range``; Keras's has no seed in its config."""

    def __init__(self, value_range=(0, 255), data_format=None, **kwargs):
        super().__init__(None, data_format, **kwargs)
        self.value_range = value_range_pair(value_range, type(self).__name__)

    def get_config(self):
        config = super().get_config()
        config.pop("seed", None)
        return {**config, "value_range": list(self.value_range)}


class AutoContrast(_FixedToneLayer):
    """Stretch each channel of each image to span ``value_range`` (its minimum to the bottom, its maximum to the
    top); a flat channel is left as it is. Applied in inference too, as in Keras."""

    _changes_in_inference = True

    def _apply(self, images, drawn):
        x = rescaled(images, self.value_range, BYTE)
        low = ops.min(x, axis=(1, 2), keepdims=True)
        high = ops.max(x, axis=(1, 2), keepdims=True)
        flat = high <= low
        span = ops.where(flat, 1.0, high - low)
        out = rescaled(ops.clip((x - low) * (255.0 / span), 0.0, 255.0), BYTE, self.value_range)
        return ops.where(flat, images, out)

    def _infer(self, images):
        return self._apply(images, {})


def _equalized(values: np.ndarray, bins: int) -> np.ndarray:
    """Histogram equalisation of 0-255 values (N, H, W, C), each channel of each image by its own histogram (PIL's
    and Keras's for one image): values map through the rounded, scaled cumulative histogram."""
    out = values.copy()
    n, _, _, channels = values.shape
    index = np.clip((values * ((bins - 1) / 255.0)).astype(np.int64), 0, bins - 1)
    for i in range(n):
        for c in range(channels):
            hist = np.bincount(index[i, :, :, c].ravel(), minlength=bins)
            if np.count_nonzero(hist) <= 1:
                continue
            cdf = np.cumsum(hist)
            cdf_min = cdf[np.nonzero(cdf)[0][0]]
            table = np.clip(np.round((cdf - cdf_min) * 255.0 / max(cdf[-1] - cdf_min, 1)), 0, 255)
            out[i, :, :, c] = table[index[i, :, :, c]]
    return out


class Equalization(_FixedToneLayer):
    """Equalise the histogram of each channel of each image (``bins`` bins over 0-255), in training."""

    def __init__(self, value_range=(0, 255), bins: int = 256, data_format=None, **kwargs):
        super().__init__(value_range, data_format, **kwargs)
        if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 2:
            raise ValueError(f"Equalization: `bins` must be an int >= 2. Received: bins={bins}")
        self.bins = int(bins)

    def _apply(self, images, drawn):
        x = rescaled(images, self.value_range, BYTE)
        return rescaled(no_gradient(_equalized, x, bins=self.bins), BYTE, self.value_range)

    def get_config(self):
        return {**super().get_config(), "bins": self.bins}


def _clahe(values: np.ndarray, clip_limit: float, grid: tuple[int, int]) -> np.ndarray:
    """Keras's CLAHE of 0-255 values (N, H, W, C): per tile of a ``grid`` (the image padded symmetrically to whole
    tiles) a 256-bin histogram, clipped at ``clip_limit`` times its mean with the excess spread evenly, turned into
    a look-up table by its normalised cumulative sum; each pixel maps through the four nearest tiles' tables,
    interpolated bilinearly (edge tiles repeated)."""
    n, height, width, channels = values.shape
    grid_h, grid_w = grid
    tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
    padded = np.pad(values, ((0, 0), (0, tile_h * grid_h - height), (0, tile_w * grid_w - width), (0, 0)),
                    mode="symmetric")
    pixels = np.clip(padded, 0, 255).astype(np.int64)
    tiles = pixels.reshape(n, grid_h, tile_h, grid_w, tile_w, channels).transpose(0, 1, 3, 5, 2, 4)
    tiles = tiles.reshape(n, grid_h, grid_w, channels, tile_h * tile_w)
    hists = np.apply_along_axis(lambda t: np.bincount(t, minlength=256), -1, tiles).astype(np.float64)
    if clip_limit > 0:
        clipped = np.minimum(hists, clip_limit * tile_h * tile_w / 256.0)
        hists = clipped + (hists - clipped).sum(axis=-1, keepdims=True) / 256.0
    cdf = np.cumsum(hists, axis=-1)
    cdf_min = cdf.min(axis=-1, keepdims=True)
    denominator = tile_h * tile_w - cdf_min
    tables = np.clip((cdf - cdf_min) * 255.0 / np.where(denominator == 0, 1.0, denominator), 0, 255)
    tables = np.pad(tables, ((0, 0), (1, 1), (1, 1), (0, 0), (0, 0)), mode="edge")

    def corners(size: int, tile: int, count: int):
        position = (np.arange(size, dtype=np.float64) - tile / 2.0) / tile + 1.0
        low = np.floor(position)
        weight = position - low
        return np.clip(low, 0, count + 1).astype(np.int64), np.clip(low + 1, 0, count + 1).astype(np.int64), weight

    y0, y1, wy = corners(tile_h * grid_h, tile_h, grid_h)
    x0, x1, wx = corners(tile_w * grid_w, tile_w, grid_w)
    b = np.arange(n)[:, None, None, None]
    c = np.arange(channels)[None, None, None, :]
    y0, y1, wy = y0[None, :, None, None], y1[None, :, None, None], wy[None, :, None, None]
    x0, x1, wx = x0[None, None, :, None], x1[None, None, :, None], wx[None, None, :, None]
    top = tables[b, y0, x0, c, pixels] * (1 - wx) + tables[b, y0, x1, c, pixels] * wx
    bottom = tables[b, y1, x0, c, pixels] * (1 - wx) + tables[b, y1, x1, c, pixels] * wx
    out = top * (1 - wy) + bottom * wy
    return out[:, :height, :width].astype(values.dtype)


class ContrastLimitedAdaptiveHistogramEqualization(_FixedToneLayer):
    """Contrast-limited adaptive histogram equalization (CLAHE) over a ``tile_grid_size`` grid of tiles, histograms
    clipped at ``clip_limit`` times their mean (0: no clipping); applied in inference too, as in Keras."""

    _changes_in_inference = True

    def __init__(self, value_range=(0, 255), clip_limit: float = 4.0, tile_grid_size=(8, 8), data_format=None,
                 **kwargs):
        super().__init__(value_range, data_format, **kwargs)
        if isinstance(clip_limit, bool) or not isinstance(clip_limit, numbers.Real) or clip_limit < 0:
            raise ValueError(f"ContrastLimitedAdaptiveHistogramEqualization: `clip_limit` must be a number >= 0. "
                             f"Received: clip_limit={clip_limit!r}")
        grid = tuple(tile_grid_size) if isinstance(tile_grid_size, (tuple, list)) else ()
        if len(grid) != 2 or not all(isinstance(g, numbers.Integral) and not isinstance(g, bool) and g > 0
                                     for g in grid):
            raise ValueError(f"ContrastLimitedAdaptiveHistogramEqualization: `tile_grid_size` must be two positive "
                             f"ints (height, width). Received: tile_grid_size={tile_grid_size!r}")
        self.clip_limit, self.tile_grid_size = float(clip_limit), (int(grid[0]), int(grid[1]))

    def _apply(self, images, drawn):
        x = rescaled(images, self.value_range, BYTE)
        out = no_gradient(_clahe, x, clip_limit=self.clip_limit, grid=self.tile_grid_size)
        return rescaled(out, BYTE, self.value_range)

    def _infer(self, images):
        return self._apply(images, {})

    def get_config(self):
        return {**super().get_config(), "clip_limit": self.clip_limit, "tile_grid_size": list(self.tile_grid_size)}


__all__ = ["RandomInvert", "Solarization", "RandomPosterization", "AutoContrast", "Equalization",
           "ContrastLimitedAdaptiveHistogramEqualization"]
