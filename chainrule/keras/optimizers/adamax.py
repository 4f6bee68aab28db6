"""Adamax (``keras.optimizers.Adamax``): Adam with the infinity norm, a running maximum of |g| in place of the root
mean square.

>>> import chainrule as cr
>>> w = cr.Variable([1.0])
>>> _ = Adamax(learning_rate=0.1).apply_gradients([(cr.constant([5.0]), w)])
>>> round(float(w.numpy()[0]), 4)  # the first step moves each weight by about lr
0.9
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import optim
from chainrule.keras.optimizers.optimizer import Optimizer


def adamax_numpy(var, grad, m, u, scratch, alpha, one_minus_beta_1, beta_2, epsilon, keep=1.0, gscale=1.0):
    """One Adamax step in place with ``alpha = lr / (1 - b1^t)``; the NumPy twin of
    :func:`chainrule.backend.kernels.optim.adamax_numba`."""
    # m += (g - m)(1-b1);  u = max(u*b2, |g|);  w -= m / (u + eps) * alpha
    xp, t = backend.xp, scratch
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    m += xp.multiply(xp.subtract(grad, m, out=t), one_minus_beta_1, out=t)
    u *= beta_2
    xp.maximum(u, xp.abs(grad, out=t), out=u)
    xp.add(u, epsilon, out=t)
    step = xp.divide(m, t, out=t)
    step *= alpha
    var -= step


class Adamax(Optimizer):
    """Keras's Adamax: ``m += (g - m)(1 - b1); u = max(b2 u, |g|); w -= lr m / ((1 - b1^t)(u + eps))``."""

    slot_names = ("momentum", "norm")

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 name: str = "adamax", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    _update = (adamax_numpy, optim.adamax_numba)
    _update_slots = ("momentum", "norm")

    def _constants(self, learning_rate):
        """alpha = lr / (1 - b1^t) at step t, 1 - b1, b2, epsilon."""
        b1, t = float(self.beta_1), self._iterations.data.item() + 1
        return learning_rate / (1 - b1 ** t), 1 - b1, float(self.beta_2), float(self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
