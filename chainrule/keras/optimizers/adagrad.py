"""Adagrad (``keras.optimizers.Adagrad``): steps scaled by the root of the summed squared gradients.

>>> import chainrule as cr
>>> w = cr.Variable([1.0])
>>> _ = Adagrad(learning_rate=0.1, epsilon=0.0).apply_gradients([(cr.constant([3.0]), w)])
>>> round(float(w.numpy()[0]), 4)  # 1 - 0.1 * 3 / sqrt(0.1 + 9)
0.9006
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import optim
from chainrule.keras.optimizers.optimizer import Optimizer


def adagrad_numpy(var, grad, accumulator, scratch, learning_rate, epsilon, keep=1.0, gscale=1.0):
    """One Adagrad step in place; the NumPy twin of :func:`chainrule.backend.kernels.optim.adagrad_numba`."""
    # acc += g²;  w -= g / sqrt(acc + eps) * lr
    xp, t, acc = backend.xp, scratch, accumulator
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    acc += xp.multiply(grad, grad, out=t)
    xp.add(acc, epsilon, out=t)
    step = xp.divide(grad, xp.sqrt(t, out=t), out=t)
    step *= learning_rate
    var -= step


class Adagrad(Optimizer):
    """``acc += g²; w -= lr*g / sqrt(acc + eps)``, the accumulator starting at ``initial_accumulator_value``."""

    slot_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 name: str = "adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    _update = (adagrad_numpy, optim.adagrad_numba)
    _update_slots = ("accumulator",)

    def initial_slot(self, name, variable):
        return backend.xp.full(variable.shape, self.initial_accumulator_value, dtype=variable.dtype)

    def _constants(self, learning_rate):
        return learning_rate, float(self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
