"""Adafactor (``keras.optimizers.Adafactor``): Adam-like steps with the second moment of a matrix kept as row and
column means only (Shazeer and Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost"),
steps relative to the weights' scale and clipped in RMS.

>>> import chainrule as cr
>>> w = cr.Variable([[1.0, 2.0], [3.0, 4.0]])
>>> _ = Adafactor(learning_rate=0.1).apply_gradients([(cr.constant([[1.0, 1.0], [1.0, 1.0]]), w)])
>>> w.numpy().round(4)  # a step of RMS 1 scaled by rms(w) = 2.7386 times lr
array([[0.7261, 1.7261],
       [2.7261, 3.7261]], dtype=float32)
"""
from __future__ import annotations

import math

from chainrule import backend
from chainrule.keras.optimizers.optimizer import Optimizer


def _rms(xp, x) -> float:
    return math.sqrt(float(xp.mean(x * x)))


class Adafactor(Optimizer):
    """Keras's Adafactor: with ``t`` the step, ``rho = min(lr, 1/√t)``, ``alpha = max(epsilon_2, rms(w)) rho``,
    ``beta = 1 - t^beta_2_decay``; the squared gradient (+ ``epsilon_1``) is averaged into row means ``r`` and column
    means ``c`` (matrices and above) giving ``v = (r / mean(r)) c``, or into ``v`` directly (vectors, scalars); the
    step ``g / √v`` is divided by ``max(1, rms(step) / clip_threshold)`` and ``w -= alpha step``."""

    slot_names = ("r", "c", "velocity")

    def __init__(self, learning_rate=0.001, beta_2_decay: float = -0.8, epsilon_1: float = 1e-30,
                 epsilon_2: float = 1e-3, clip_threshold: float = 1.0, relative_step: bool = True,
                 name: str | None = None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name or "adafactor", **kwargs)
        if clip_threshold <= 0:
            raise ValueError(f"Adafactor: `clip_threshold` must be > 0. Received: clip_threshold={clip_threshold}")
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step

    def slot_shape(self, name, variable):
        if variable.ndim < 2 and name in ("r", "c"):
            return ()  # unused for vectors and scalars
        if name == "r":
            return variable.shape[:-1]
        if name == "c":
            return variable.shape[:-2] + variable.shape[-1:]
        return variable.shape

    def update_step(self, gradient, variable, slots, learning_rate) -> None:
        xp = backend.array_namespace(variable)
        t = float(int(self.iterations) + 1)
        rho = min(float(learning_rate), 1.0 / math.sqrt(t))  # relative_step caps lr the same way
        alpha = max(self.epsilon_2, _rms(xp, variable)) * rho
        squared = gradient * gradient + self.epsilon_1
        beta = 1.0 - t ** self.beta_2_decay
        v = slots["velocity"]
        if variable.ndim >= 2:
            r, c = slots["r"], slots["c"]
            r[...] = beta * r + (1 - beta) * xp.mean(squared, axis=-1)
            c[...] = beta * c + (1 - beta) * xp.mean(squared, axis=-2)
            v[...] = (r / xp.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v[...] = beta * v + (1 - beta) * squared
        step = gradient / xp.sqrt(v)
        step /= max(1.0, _rms(xp, step) / self.clip_threshold)
        variable -= alpha * step

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}
