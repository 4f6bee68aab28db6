"""Adam (``keras.optimizers.Adam``): steps from running means of the gradient and of its square, bias-corrected.

>>> import chainrule as cr
>>> w = cr.Variable([1.0])
>>> _ = Adam(learning_rate=0.1).apply_gradients([(cr.constant([5.0]), w)])
>>> round(float(w.numpy()[0]), 4)  # the first step moves each weight by about lr
0.9
"""
from __future__ import annotations

import math

from chainrule import backend
from chainrule.backend.kernels import optim
from chainrule.keras.optimizers.optimizer import Optimizer


def update_moments(var, grad, m, v, t, one_minus_beta_1, one_minus_beta_2, keep=1.0, gscale=1.0):
    """The step Adam and Nadam share: weight decay by ``keep``, the gradient scaled, then both moments updated in
    place (``t`` is scratch where the backend writes into buffers); returns the scaled gradient."""
    # m += (g - m)(1-b1);  v += (g² - v)(1-b2)
    owner = backend.extras_for(var)
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    if not owner.takes_out:  # the same operations, each into a new array (the array API has no out=)
        m += (grad - m) * one_minus_beta_1
        v += (grad * grad - v) * one_minus_beta_2
        return grad
    xp = owner.xp
    m += xp.multiply(xp.subtract(grad, m, out=t), one_minus_beta_1, out=t)
    xp.multiply(grad, grad, out=t)
    t -= v
    t *= one_minus_beta_2
    v += t
    return grad


def adam_numpy(var, grad, m, v, v_hat, scratch, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
               keep=1.0, gscale=1.0):
    """One Adam step in place with ``alpha = lr sqrt(1 - b2^t) / (1 - b1^t)``, amsgrad when ``v_hat`` is given;
    the NumPy twin of :func:`chainrule.backend.kernels.optim.adam_numba`."""
    # m += (g - m)(1-b1);  v += (g² - v)(1-b2);  [v_hat = max(v_hat, v)];  w -= m / (sqrt(v) + eps) * alpha
    owner, t = backend.extras_for(var), scratch
    xp = owner.xp
    update_moments(var, grad, m, v, t, one_minus_beta_1, one_minus_beta_2, keep, gscale)
    if not owner.takes_out:
        if v_hat is not None:
            v_hat[...] = xp.maximum(v_hat, v)
            v = v_hat
        var -= m / (xp.sqrt(v) + epsilon) * alpha
        return
    if v_hat is not None:
        v = xp.maximum(v_hat, v, out=v_hat)
    xp.sqrt(v, out=t)
    t += epsilon
    step = xp.divide(m, t, out=t)
    step *= alpha
    var -= step


class Adam(Optimizer):
    """Keras's Adam: ``m += (g - m)(1 - b1); v += (g² - v)(1 - b2); w -= alpha m / (sqrt(v) + eps)`` with
    ``alpha = lr sqrt(1 - b2^t) / (1 - b1^t)`` at step t = iterations + 1 (amsgrad: v replaced by its running max)."""

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, name: str = "adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, bool(amsgrad)
        self.slot_names = ("m", "v", "v_hat") if amsgrad else ("m", "v")

    _update = (adam_numpy, optim.adam_numba)
    _update_slots = ("m", "v", "v_hat")

    def _constants(self, learning_rate):
        """alpha = lr sqrt(1 - b2^t) / (1 - b1^t) at step t, 1 - b1, 1 - b2, epsilon."""
        b1, b2, t = float(self.beta_1), float(self.beta_2), self._iterations.data.item() + 1
        return learning_rate * math.sqrt(1 - b2 ** t) / (1 - b1 ** t), 1 - b1, 1 - b2, float(self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}
