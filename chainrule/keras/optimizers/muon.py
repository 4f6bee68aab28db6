"""Muon (``keras.optimizers.Muon``): momentum steps orthogonalised by Newton-Schulz iterations for 2-D weights
(Jordan et al., 2024; Moonlight's RMS scaling, Liu et al., 2025), and AdamW for the others (vectors, scalars,
embeddings, and layers named in ``exclude_layers``), as Keras does it.

>>> import chainrule as cr
>>> w = cr.Variable([[1.0, 0.0], [0.0, 1.0]])
>>> _ = Muon(learning_rate=0.1, weight_decay=0.0, rms_rate=None).apply_gradients([(cr.constant([[1.0, 0.0],
...                                                                                          [0.0, 0.0]]), w)])
>>> w.numpy().round(3)  # the gradient's orthogonal factor, its singular value pushed into the iteration's band
array([[0.93, 0.  ],
       [0.  , 1.  ]], dtype=float32)
"""
from __future__ import annotations

import math
import re

from chainrule import backend
from chainrule.keras.optimizers.optimizer import Optimizer


def _swap_last(xp, x):
    return xp.swapaxes(x, -1, -2)


class Muon(Optimizer):
    """Keras's arguments and defaults: for Muon variables ``m += g + m (momentum - 1)``, the step is
    ``g + momentum m`` (``nesterov``) or ``m``, orthogonalised by ``ns_steps`` quintic Newton-Schulz steps
    (``muon_a``, ``muon_b``, ``muon_c``) and scaled by ``sqrt(max(rows, cols)) rms_rate``; the others take AdamW
    steps at ``learning_rate * adam_lr_ratio``. Weight decay is ``weight_decay`` for Muon variables and
    ``adam_weight_decay`` for the others."""

    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, adam_beta_1: float = 0.9, adam_beta_2: float = 0.999,
                 adam_weight_decay: float = 0.004, epsilon: float = 1e-7, weight_decay: float = 0.004,
                 name: str | None = None, exclude_layers=None, exclude_embeddings: bool = True,
                 muon_a: float = 3.4445, muon_b: float = -4.7750, muon_c: float = 2.0315,
                 adam_lr_ratio: float = 1, momentum: float = 0.95, ns_steps: int = 5, nesterov: bool = True,
                 rms_rate: float | None = 0.2, **kwargs):
        # the weight decay is applied here, per variable kind, rather than by the base class
        super().__init__(learning_rate=learning_rate, name=name or "muon", weight_decay=None, **kwargs)
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or ns_steps < 0:
            raise ValueError(f"Muon: `ns_steps` must be an int >= 0. Received: ns_steps={ns_steps!r}")
        self.muon_weight_decay = weight_decay
        self.adam_beta_1, self.adam_beta_2, self.adam_weight_decay = adam_beta_1, adam_beta_2, adam_weight_decay
        self.epsilon, self.adam_lr_ratio = epsilon, adam_lr_ratio
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = bool(exclude_embeddings)
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.momentum, self.ns_steps, self.nesterov, self.rms_rate = momentum, ns_steps, bool(nesterov), rms_rate
        self._positions: dict[int, int] = {}  # id(slots) -> the variable's position

    def _should_use_adamw(self, variable) -> bool:
        """Keras's rule: AdamW unless a 2-D weight outside embeddings and ``exclude_layers`` (matched on its name)."""
        name = variable.name or ""
        if variable.ndim != 2:
            return True
        if self.exclude_embeddings and "embedding" in name.lower():
            return True
        return any(re.search(pattern, name) for pattern in self.exclude_layers)

    def _create_slots(self, i: int) -> dict:
        slots = super()._create_slots(i)
        self._positions[id(slots)] = i
        return slots

    def zeropower_via_newtonschulz5(self, x, steps: int):
        """An approximation of ``U Vᵀ`` (the orthogonal factor of ``x = U S Vᵀ``) by quintic Newton-Schulz steps."""
        xp = backend.array_namespace(x)
        if x.ndim < 2:
            raise ValueError(f"Expected gradient or momentum to have at least 2 dimensions. Received: "
                             f"shape={x.shape}")
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = _swap_last(xp, x)
        x = x / (xp.sqrt(xp.sum(x * x, axis=(-2, -1), keepdims=True)) + 1e-7)
        for _ in range(steps):
            gram = x @ _swap_last(xp, x)
            x = self.muon_a * x + (self.muon_b * gram + self.muon_c * (gram @ gram)) @ x
        return _swap_last(xp, x) if tall else x

    def update_step(self, gradient, variable, slots, learning_rate) -> None:
        i = self._positions[id(slots)]
        tensor = self._variables[i]
        adamw = self._should_use_adamw(tensor)
        decay = self.adam_weight_decay if adamw else self.muon_weight_decay
        if decay and self._decays(tensor, i):
            variable -= variable * (decay * learning_rate)
        m = slots["momentum"]
        if adamw:
            # m += (g - m)(1 - b1);  v += (g² - v)(1 - b2);  w -= m α / (√v + eps)
            # with α = lr √(1 - b2^t) / (1 - b1^t)
            xp = backend.array_namespace(variable)
            t = int(self.iterations) + 1
            lr = learning_rate * self.adam_lr_ratio
            alpha = lr * math.sqrt(1 - self.adam_beta_2 ** t) / (1 - self.adam_beta_1 ** t)
            v = slots["velocity"]
            m += (gradient - m) * (1 - self.adam_beta_1)
            v += (gradient * gradient - v) * (1 - self.adam_beta_2)
            variable -= (m * alpha) / (xp.sqrt(v) + self.epsilon)
            return
        m += gradient + m * (self.momentum - 1)
        step = self.zeropower_via_newtonschulz5(gradient + self.momentum * m if self.nesterov else m, self.ns_steps)
        if self.rms_rate is not None:  # Moonlight's scaling: Adam-like update RMS, so Adam's rates apply
            step = step * (math.sqrt(max(variable.shape[0], variable.shape[1])) * self.rms_rate)
        variable -= learning_rate * step

    def get_config(self) -> dict:
        return {**super().get_config(), "weight_decay": self.muon_weight_decay, "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon, "exclude_layers": self.exclude_layers,
                "muon_a": self.muon_a, "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum, "ns_steps": self.ns_steps,
                "nesterov": self.nesterov, "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}
