"""Adadelta (``keras.optimizers.Adadelta``): steps sized by the ratio of running root mean squares of past steps and
of gradients, so the learning rate only scales them.

>>> import chainrule as cr
>>> w = cr.Variable([1.0])
>>> _ = Adadelta(learning_rate=1.0, epsilon=1e-6).apply_gradients([(cr.constant([2.0]), w)])
>>> round(float(w.numpy()[0]), 5)  # 1 - sqrt(1e-6) * 2 / sqrt(0.05 * 4 + 1e-6)
0.99553
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import optim
from chainrule.keras.optimizers.optimizer import Optimizer


def adadelta_numpy(var, grad, acc_grad, acc_delta, scratch, learning_rate, rho, one_minus_rho, epsilon, keep=1.0,
                   gscale=1.0):
    """One Adadelta step in place; the NumPy twin of :func:`chainrule.backend.kernels.optim.adadelta_numba` (it
    needs one temporary array beside the scratch)."""
    # ag = ag*rho + g²(1-rho);  d = sqrt(ad + eps) * g / sqrt(ag + eps);  ad = ad*rho + d²(1-rho);  w -= d * lr
    xp, t = backend.xp, scratch
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    acc_grad *= rho
    acc_grad += xp.multiply(xp.multiply(grad, grad, out=t), one_minus_rho, out=t)
    delta = xp.sqrt(acc_delta + epsilon)
    delta *= grad
    delta /= xp.sqrt(xp.add(acc_grad, epsilon, out=t), out=t)
    acc_delta *= rho
    acc_delta += xp.multiply(xp.multiply(delta, delta, out=t), one_minus_rho, out=t)
    delta *= learning_rate
    var -= delta


class Adadelta(Optimizer):
    """Keras's Adadelta: ``ag = rho ag + (1 - rho) g²; d = sqrt(ad + eps) g / sqrt(ag + eps); ad = rho ad +
    (1 - rho) d²; w -= lr d`` (PyTorch's Adadelta takes the same steps)."""

    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-7, name: str = "adadelta",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    _update = (adadelta_numpy, optim.adadelta_numba)
    _update_slots = ("accumulated_grad", "accumulated_delta_var")

    def _constants(self, learning_rate):
        rho = float(self.rho)
        return learning_rate, rho, 1 - rho, float(self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
