"""SGD (``keras.optimizers.SGD``): gradient descent, optionally with momentum, classical or Nesterov.

>>> import chainrule as cr
>>> w = cr.Variable([1.0])
>>> opt = SGD(learning_rate=0.1, momentum=0.9)
>>> for _ in range(2):
...     _ = opt.apply_gradients([(cr.constant([1.0]), w)])
>>> round(float(w.numpy()[0]), 4)  # 1 - 0.1, then - (0.9 * 0.1 + 0.1)
0.71
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import optim
from chainrule.keras.optimizers.optimizer import Optimizer


def sgd_numpy(var, grad, m, scratch, learning_rate, momentum, nesterov, keep=1.0, gscale=1.0):
    """One SGD step in place, with a momentum slot ``m`` (None without momentum); the NumPy twin of
    :func:`chainrule.backend.kernels.optim.sgd_numba`."""
    # step = g*lr;  m = m*momentum - step;  w += m  (Nesterov: w = (w - step) + m*momentum; no momentum: w -= step)
    owner = backend.extras_for(var)
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    step = owner.xp.multiply(grad, learning_rate, out=scratch) if owner.takes_out else grad * learning_rate
    if m is None:
        var -= step
        return
    m *= momentum
    m -= step
    if nesterov:
        var -= step
        var += owner.xp.multiply(m, momentum, out=step) if owner.takes_out else m * momentum
    else:
        var += m


class SGD(Optimizer):
    """Gradient descent, optionally with momentum: ``m = momentum*m - lr*g; w += m``
    (Nesterov: ``w += momentum*m - lr*g``)."""

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False, name: str = "SGD",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD: `momentum` must be a float between [0, 1], got momentum={momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum else ()

    _update = (sgd_numpy, optim.sgd_numba)
    _update_slots = ("momentum",)

    def _constants(self, learning_rate):
        return learning_rate, float(self.momentum), bool(self.nesterov)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
