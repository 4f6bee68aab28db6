"""Augmentations that mix images or cover patches of them: MixUp, CutMix (which mix the labels too, given
``{"images": ..., "labels": ...}``) and RandomErasing, with Keras 3's arguments, defaults and draws.

MixUp blends each image with another of the batch (a random permutation) by a weight drawn from Beta(alpha,
alpha); CutMix pastes a box of the partner image, its area set by a Beta draw; both mix the (one-hot) labels by the
share of each image kept. RandomErasing overwrites a box of each image (chosen with probability drawn from
``factor``) with ``fill_value`` or, by default, Gaussian noise.

>>> import numpy as np
>>> images = np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 3)).astype("float32")
>>> labels = np.eye(4, dtype="float32")
>>> out = MixUp(seed=1)({"images": images, "labels": labels})
>>> out["images"].shape, np.allclose(out["labels"].numpy().sum(axis=1), 1.0)
(TensorShape([4, 8, 8, 3]), True)
"""
from __future__ import annotations

import numpy as np

from chainrule import ops
from chainrule.engine.tensor import Tensor
from chainrule.keras.layers.augmentation_base import (_Augmentation, _is_number, factor_range, per_image,
                                                      value_range_pair)


def _mixed_labels(labels: Tensor, drawn: dict) -> Tensor:
    """``w * labels + (1 - w) * labels[permutation]``, ``w`` the share of each image kept."""
    weight = drawn["mix_weight"]
    if labels.dtype.kind != "f":
        labels = ops.cast(labels, weight.dtype.name)
    weight = ops.reshape(weight, (-1,) + (1,) * (labels.ndim - 1))
    return labels * weight + ops.take(labels, drawn["permutation"], axis=0) * (1.0 - weight)


class MixUp(_Augmentation):
    """Blend each image (and its label) with a random partner of the batch: ``w x + (1 - w) x[p]``, ``w`` drawn
    from Beta(``alpha``, ``alpha``) per image."""

    def __init__(self, alpha: float = 0.2, data_format=None, seed: int | None = None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        if not _is_number(alpha) or alpha <= 0:
            raise ValueError(f"MixUp: `alpha` must be a number > 0. Received: alpha={alpha}")
        self.alpha = float(alpha)

    def _sample(self, rng, shape):
        return {"permutation": rng.permutation(shape[0]), "mix_weight": rng.beta(self.alpha, self.alpha, shape[0])}

    def _apply(self, images, drawn):
        weight = per_image(drawn["mix_weight"])
        return images * weight + ops.take(images, drawn["permutation"], axis=0) * (1.0 - weight)

    _transform_labels = staticmethod(_mixed_labels)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


def boxes(rng: np.random.Generator, batch: int, height: int, width: int, width_share, height_share) -> np.ndarray:
    """(batch, height, width, 1) masks of one box per image, its sides ``share`` of the image's, placed uniformly
    (Keras's CutMix and RandomErasing: a pixel is inside when start <= coordinate < start + length)."""
    masks = []
    for size, share in ((width, width_share), (height, height_share)):
        length = np.asarray(share, dtype=np.float64) * size
        start = rng.uniform(0.0, 1.0, batch) * (size - length)
        grid = np.arange(size, dtype=np.float64)
        masks.append((grid >= start[:, None]) & (grid < (start + length)[:, None]))
    inside_x, inside_y = masks
    return (inside_y[:, :, None] & inside_x[:, None, :])[..., None]


class CutMix(_Augmentation):
    """Paste into each image a box of a random partner image of the batch, and mix their labels by the areas kept.
    The box's area share is ``1 - w``, ``w`` drawn from Beta(a, a), ``a`` drawn once per batch from ``factor``."""

    def __init__(self, factor=1.0, seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1))

    def _sample(self, rng, shape):
        batch, height, width = shape[:3]
        alpha = rng.uniform(*self.factor) + 1e-6
        ratio = np.sqrt(1.0 - rng.beta(alpha, alpha, batch))
        mask = boxes(rng, batch, height, width, ratio, ratio)
        kept = 1.0 - mask.reshape(batch, -1).mean(axis=1)  # the share of pixels that stay the image's own
        return {"mask": mask, "mix_weight": kept, "permutation": rng.permutation(batch)}

    def _apply(self, images, drawn):
        return ops.where(drawn["mask"], ops.take(images, drawn["permutation"], axis=0), images)

    _transform_labels = staticmethod(_mixed_labels)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}


class RandomErasing(_Augmentation):
    """Erase a box of each image with probability drawn from ``factor``: its width and height shares drawn from
    ``scale``, filled with ``fill_value`` (a number or one per RGB channel) or, when None, Gaussian noise scaled by
    the top of ``value_range``; the fill clipped to ``value_range``."""

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed: int | None = None,
                 data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1))
        self.scale = factor_range(scale, (0, 1), "scale")
        if fill_value is not None and not _is_number(fill_value) and not (
                isinstance(fill_value, (tuple, list)) and len(fill_value) == 3 and all(map(_is_number, fill_value))):
            raise ValueError(f"The `fill_value` argument should be a number (or a list of three numbers). "
                             f"Received: fill_value={fill_value}")
        self.fill_value = list(fill_value) if isinstance(fill_value, (tuple, list)) else fill_value
        self.value_range = value_range_pair(value_range, "RandomErasing")

    def _sample(self, rng, shape):
        batch, height, width, channels = shape
        shares = rng.uniform(self.scale[0], self.scale[1], (batch, 2))
        mask = boxes(rng, batch, height, width, shares[:, 0], shares[:, 1])
        chosen = rng.uniform(0.0, 1.0, batch) < rng.uniform(self.factor[0], self.factor[1], batch)
        if self.fill_value is None:
            fill = rng.standard_normal(shape) * self.value_range[1]
        else:
            fill = np.broadcast_to(np.asarray(self.fill_value, dtype=np.float64), shape)
        return {"mask": mask & chosen[:, None, None, None], "fill": np.clip(fill, *self.value_range)}

    def _apply(self, images, drawn):
        return ops.where(drawn["mask"], drawn["fill"], images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "scale": list(self.scale),
                "fill_value": self.fill_value, "value_range": list(self.value_range)}


__all__ = ["MixUp", "CutMix", "RandomErasing"]
