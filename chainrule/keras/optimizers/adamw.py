"""AdamW (``keras.optimizers.AdamW``): Adam with decoupled weight decay, on by default.

The decay is the base class's ``weight_decay`` (``w -= w * weight_decay * lr`` before each Adam step), which Adam's
formula and kernel apply in the same pass; AdamW only makes it a required argument with Keras's default.

>>> AdamW().weight_decay
0.004
"""
from __future__ import annotations

from chainrule.keras.optimizers.adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay (``w -= w * weight_decay * lr`` before each Adam step)."""

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, name: str = "adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: argument `weight_decay` must be a float, got weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         name=name, weight_decay=weight_decay, **kwargs)
