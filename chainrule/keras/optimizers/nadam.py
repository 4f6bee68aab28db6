"""Nadam (``keras.optimizers.Nadam``): Adam with Nesterov momentum and Keras's momentum schedule
``u_t = b1 (1 - 0.5 * 0.96^t)``.

>>> import chainrule as cr
>>> w = cr.Variable([1.0])
>>> _ = Nadam(learning_rate=0.1).apply_gradients([(cr.constant([5.0]), w)])
>>> round(float(w.numpy()[0]), 4)  # 1 - 0.1 (u2 m / (1 - u1 u2) + g) / sqrt(v / (1 - b2)) with u1, u2 = 0.468, 0.485
0.8937
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import optim
from chainrule.keras.optimizers.adam import update_moments
from chainrule.keras.optimizers.optimizer import Optimizer


def nadam_numpy(var, grad, m, v, scratch, one_minus_beta_1, one_minus_beta_2, m_coef, g_coef, v_scale, epsilon,
                keep=1.0, gscale=1.0):
    """One Nadam step in place with the step's coefficients (see :meth:`Nadam._constants`); the NumPy twin of
    :func:`chainrule.backend.kernels.optim.nadam_numba` (it needs one temporary array beside the scratch)."""
    # m += (g - m)(1-b1);  v += (g² - v)(1-b2);  w -= (m*m_coef + g*g_coef) / (sqrt(v*v_scale) + eps)
    xp, t = backend.xp, scratch
    grad = update_moments(var, grad, m, v, t, one_minus_beta_1, one_minus_beta_2, keep, gscale)
    step = m * m_coef
    step += xp.multiply(grad, g_coef, out=t)
    xp.multiply(v, v_scale, out=t)
    xp.sqrt(t, out=t)
    t += epsilon
    step /= t
    var -= step


class Nadam(Optimizer):
    """Keras's Nadam: with ``u_t = b1 (1 - 0.5 * 0.96^t)`` and ``P_t = u_1 ... u_t``, ``m += (g - m)(1 - b1);
    v += (g² - v)(1 - b2); w -= lr (u_{t+1} m / (1 - P_{t+1}) + (1 - u_t) g / (1 - P_t)) / (sqrt(v / (1 - b2^t))
    + eps)``. PyTorch's NAdam with ``momentum_decay=1`` takes the same steps."""

    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 name: str = "nadam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self._u_product = (0, 1.0)  # (t, P_t): the product follows the step count, so saved state holds none

    _update = (nadam_numpy, optim.nadam_numba)
    _update_slots = ("momentum", "velocity")

    def _momentum(self, t: int) -> float:
        return float(self.beta_1) * (1.0 - 0.5 * 0.96 ** t)

    def _product(self, t: int) -> float:
        """P_t = u_1 ... u_t, kept from the previous step (recomputed after a jump in the step count)."""
        done, product = self._u_product
        if done > t:
            done, product = 0, 1.0
        for k in range(done + 1, t + 1):
            product *= self._momentum(k)
        self._u_product = (t, product)
        return product

    def _constants(self, learning_rate):
        """1 - b1, 1 - b2, lr u_{t+1} / (1 - P_{t+1}), lr (1 - u_t) / (1 - P_t), 1 / (1 - b2^t), epsilon at step t."""
        t = self._iterations.data.item() + 1
        u_t, u_next = self._momentum(t), self._momentum(t + 1)
        product = self._product(t)
        b1, b2 = float(self.beta_1), float(self.beta_2)
        return (1 - b1, 1 - b2, learning_rate * u_next / (1 - product * u_next),
                learning_rate * (1 - u_t) / (1 - product), 1 / (1 - b2 ** t), float(self.epsilon))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
