"""Lamb (``keras.optimizers.Lamb``): Adam's step scaled per variable by the trust ratio ||w|| / ||step|| (You et al.,
2019, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes").

>>> import chainrule as cr
>>> w = cr.Variable([3.0, 4.0])
>>> _ = Lamb(learning_rate=0.1).apply_gradients([(cr.constant([1.0, 1.0]), w)])
>>> w.numpy().round(4)  # Adam's first step is (1, 1) (norm √2); the trust ratio 5/√2 makes it 0.5 long
array([2.6464, 3.6464], dtype=float32)
"""
from __future__ import annotations

import math

from chainrule import backend
from chainrule.keras.optimizers.optimizer import Optimizer


class Lamb(Optimizer):
    """Keras's Lamb: ``m, v`` as Adam's (bias-corrected), ``step = m̂ / (√v̂ + epsilon)``, then
    ``w -= lr * (||w|| / ||step||) * step`` (ratio 1 when either norm is 0); weight decay is the base class's."""

    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 name: str | None = None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name or "lamb", **kwargs)
        for key, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= value < 1:
                raise ValueError(f"Lamb: `{key}` must be in [0, 1). Received: {key}={value}")
        if epsilon < 0:
            raise ValueError(f"Lamb: `epsilon` must be >= 0. Received: epsilon={epsilon}")
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def update_step(self, gradient, variable, slots, learning_rate) -> None:
        # m += (g - m)(1 - b1);  v += (g² - v)(1 - b2);  u = (m / (1 - b1^t)) / (√(v / (1 - b2^t)) + eps)
        xp = backend.array_namespace(variable)
        t = int(self.iterations) + 1
        m, v = slots["momentum"], slots["velocity"]
        m += (gradient - m) * (1 - self.beta_1)
        v += (gradient * gradient - v) * (1 - self.beta_2)
        step = (m / (1 - self.beta_1 ** t)) / (xp.sqrt(v / (1 - self.beta_2 ** t)) + self.epsilon)
        w_norm = math.sqrt(float(xp.sum(variable * variable)))
        step_norm = math.sqrt(float(xp.sum(step * step)))
        ratio = w_norm / step_norm if w_norm > 0 and step_norm > 0 else 1.0
        variable -= (ratio * learning_rate) * step

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
