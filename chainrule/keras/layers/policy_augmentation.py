"""Augmentation policies built from the other augmentation layers: RandAugment (``num_ops`` layers picked at
random per batch) and AugMix (chains of random layers mixed by Dirichlet weights, then blended with the image),
with Keras 3's arguments, defaults and layer lists.

Which layer runs is itself a random draw. So that a traced training step (``fit``) picks anew on every replay, every
candidate layer transforms the images and the draw selects among the results (``where``), as Keras does.

>>> import numpy as np
>>> images = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
>>> out = RandAugment(seed=1)(images)
>>> out.shape, bool(out.numpy().min() >= 0 and out.numpy().max() <= 255)
(TensorShape([2, 8, 8, 3]), True)
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule import ops
from chainrule.keras.layers.augmentation import RandomRotation, RandomTranslation
from chainrule.keras.layers.augmentation_base import _Augmentation, factor_range, value_range_pair
from chainrule.keras.layers.color_augmentation import RandomColorDegeneration
from chainrule.keras.layers.filter_augmentation import RandomSharpness
from chainrule.keras.layers.geometric_augmentation import RandomShear
from chainrule.keras.layers.image_preprocessing import RandomBrightness, RandomContrast
from chainrule.keras.layers.tone_augmentation import AutoContrast, Equalization, RandomPosterization, Solarization

GEOMETRIC = ("random_shear", "random_translation", "random_rotation")
TONE = ("solarization", "random_posterization", "auto_contrast", "equalization")
COLOR = ("random_brightness", "random_color_degeneration", "random_contrast", "random_sharpness")


def _positive_int(value, name: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{layer}: `{name}` must be a positive int. Received: {name}={value!r}")
    return int(value)


def _interpolation(value: str, layer: str) -> str:
    if value not in ("nearest", "bilinear"):
        raise NotImplementedError(f"{layer}: Unknown `interpolation` {value}. Expected of one ('nearest', "
                                  f"'bilinear').")
    return value


class _Policy(_Augmentation):
    """Holds the candidate layers, each with its own seed (one given seed would draw alike in all of them)."""

    def _make_layers(self, names, factor, value_range, interpolation, seed):
        def seeded(i):
            return None if seed is None else seed + 1 + i

        makers = {
            "random_shear": lambda s: RandomShear(factor, factor, interpolation=interpolation, seed=s),
            "random_translation": lambda s: RandomTranslation(factor, factor, interpolation=interpolation, seed=s),
            "random_rotation": lambda s: RandomRotation(factor, interpolation=interpolation, seed=s),
            "random_brightness": lambda s: RandomBrightness(factor, value_range=value_range, seed=s),
            "random_color_degeneration": lambda s: RandomColorDegeneration(factor, value_range=value_range, seed=s),
            "random_contrast": lambda s: RandomContrast(factor, value_range=value_range, seed=s),
            "random_sharpness": lambda s: RandomSharpness(factor, value_range=value_range, seed=s),
            "solarization": lambda s: Solarization(factor, factor, value_range=value_range, seed=s),
            "random_posterization": lambda s: RandomPosterization(max(1, int(8 * factor[1])),
                                                                  value_range=value_range, seed=s),
            "auto_contrast": lambda s: AutoContrast(value_range=value_range),
            "equalization": lambda s: Equalization(value_range=value_range),
        }
        self.candidates = [makers[name](seeded(i)) for i, name in enumerate(names)]

    @staticmethod
    def _selected(images, outputs, choice):
        """``outputs[k]`` where ``choice[k]`` is set (at most one), else ``images``."""
        for k, out in enumerate(outputs):
            images = ops.where(choice[k], out, images)
        return images


class RandAugment(_Policy):
    """Apply ``num_ops`` layers in turn, each picked at random per batch from Keras's eleven (shear, translation,
    rotation, brightness, colour degeneration, contrast, sharpness, posterization, solarization, auto-contrast,
    equalization), their strengths drawn up to ``factor``; the result stays in ``value_range``."""

    _AUGMENT_LAYERS = ("random_shear", "random_translation", "random_rotation", "random_brightness",
                       "random_color_degeneration", "random_contrast", "random_sharpness", "random_posterization",
                       "solarization", "auto_contrast", "equalization")

    def __init__(self, value_range=(0, 255), num_ops: int = 2, factor=0.5, interpolation: str = "bilinear",
                 seed: int | None = None, data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.value_range = value_range_pair(value_range, "RandAugment")
        self.num_ops = _positive_int(num_ops, "num_ops", "RandAugment")
        self.factor = factor_range(factor, (0, 1))
        self.interpolation = _interpolation(interpolation, "RandAugment")
        self._make_layers(self._AUGMENT_LAYERS, self.factor, self.value_range, self.interpolation, seed)

    def _sample(self, rng, shape):
        picks = rng.integers(0, len(self.candidates), self.num_ops)
        return {"choices": np.arange(len(self.candidates))[None, :] == picks[:, None]}

    def _apply(self, images, drawn):
        for i in range(self.num_ops):
            outputs = [layer._augment(images) for layer in self.candidates]
            images = self._selected(images, outputs, drawn["choices"][i])
        return ops.clip(images, *self.value_range)

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range), "num_ops": self.num_ops,
                "factor": list(self.factor), "interpolation": self.interpolation}


class AugMix(_Policy):
    """AugMix: ``num_chains`` chains of up to ``chain_depth`` random layers (a step may do nothing), the chains'
    results summed with Dirichlet(``alpha``) weights, then blended with the image by a Beta(``alpha``, ``alpha``)
    weight. ``all_ops=False`` leaves out the colour layers (brightness, colour degeneration, contrast, sharpness)."""

    def __init__(self, value_range=(0, 255), num_chains: int = 3, chain_depth: int = 3, factor=0.3,
                 alpha: float = 1.0, all_ops: bool = True, interpolation: str = "bilinear", seed: int | None = None,
                 data_format=None, **kwargs):
        super().__init__(seed, data_format, **kwargs)
        self.value_range = value_range_pair(value_range, "AugMix")
        self.num_chains = _positive_int(num_chains, "num_chains", "AugMix")
        self.chain_depth = _positive_int(chain_depth, "chain_depth", "AugMix")
        self.factor = factor_range(factor, (0, 1))
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or alpha <= 0:
            raise ValueError(f"AugMix: `alpha` must be a number > 0. Received: alpha={alpha}")
        self.alpha, self.all_ops = float(alpha), bool(all_ops)
        self.interpolation = _interpolation(interpolation, "AugMix")
        names = GEOMETRIC + TONE + (COLOR if self.all_ops else ())
        self._make_layers(names, self.factor, self.value_range, self.interpolation, seed)

    def _sample(self, rng, shape):
        count = len(self.candidates)
        picks = rng.integers(0, count + 1, (self.num_chains, self.chain_depth))  # count: the step does nothing
        return {"choices": np.arange(count)[None, None, :] == picks[:, :, None],
                "chain_weights": rng.dirichlet([self.alpha] * self.num_chains),
                "blend": np.asarray(rng.beta(self.alpha, self.alpha))}

    def _apply(self, images, drawn):
        mixed = None
        for c in range(self.num_chains):
            chain = images
            for d in range(self.chain_depth):
                outputs = [layer._augment(chain) for layer in self.candidates]
                chain = self._selected(chain, outputs, drawn["choices"][c, d])
            part = chain * drawn["chain_weights"][c]
            mixed = part if mixed is None else mixed + part
        blend = drawn["blend"]
        return ops.clip(images * blend + mixed * (1.0 - blend), *self.value_range)

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range), "num_chains": self.num_chains,
                "chain_depth": self.chain_depth, "factor": list(self.factor), "alpha": self.alpha,
                "all_ops": self.all_ops, "interpolation": self.interpolation}


__all__ = ["RandAugment", "AugMix"]
