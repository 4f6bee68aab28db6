"""Lion (``keras.optimizers.Lion``): steps of size lr in the sign of an interpolated momentum (Chen et al., 2023,
"Symbolic Discovery of Optimization Algorithms").

>>> import chainrule as cr
>>> w = cr.Variable([1.0, 1.0])
>>> _ = Lion(learning_rate=0.1).apply_gradients([(cr.constant([5.0, -0.001]), w)])
>>> w.numpy()  # every weight moves by exactly lr
array([0.9, 1.1], dtype=float32)
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import optim
from chainrule.keras.optimizers.optimizer import Optimizer


def lion_numpy(var, grad, m, scratch, learning_rate, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, keep=1.0,
               gscale=1.0):
    """One Lion step in place; the NumPy twin of :func:`chainrule.backend.kernels.optim.lion_numba` (it needs one
    temporary array beside the scratch)."""
    # w -= sign(m*b1 + g(1-b1)) * lr;  m = m*b2 + g(1-b2)
    xp, t = backend.xp, scratch
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    direction = m * beta_1
    direction += xp.multiply(grad, one_minus_beta_1, out=t)
    xp.sign(direction, out=direction)
    direction *= learning_rate
    var -= direction
    m *= beta_2
    m += xp.multiply(grad, one_minus_beta_2, out=t)


class Lion(Optimizer):
    """Keras's Lion: ``w -= lr sign(b1 m + (1 - b1) g); m = b2 m + (1 - b2) g``; weight decay is the base class's
    decoupled one, as in the paper."""

    slot_names = ("momentum",)

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.99, name: str = "lion",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(f"Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates "
                             f"to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1, self.beta_2 = beta_1, beta_2

    _update = (lion_numpy, optim.lion_numba)
    _update_slots = ("momentum",)

    def _constants(self, learning_rate):
        b1, b2 = float(self.beta_1), float(self.beta_2)
        return learning_rate, b1, 1 - b1, b2, 1 - b2

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
