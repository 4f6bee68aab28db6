"""RMSprop (``keras.optimizers.RMSprop``): steps scaled by a running root mean square of the gradient.

>>> import chainrule as cr
>>> w = cr.Variable([1.0])
>>> _ = RMSprop(learning_rate=0.1, epsilon=0.0).apply_gradients([(cr.constant([2.0]), w)])
>>> round(float(w.numpy()[0]), 4)  # 1 - 0.1 * 2 / sqrt(0.1 * 4)
0.6838
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import optim
from chainrule.keras.optimizers.optimizer import Optimizer


def rmsprop_numpy(var, grad, velocity, mom, average_gradient, scratch, learning_rate, rho, one_minus_rho, momentum,
                  epsilon, keep=1.0, gscale=1.0):
    """One RMSprop step in place; ``mom`` (momentum) and ``average_gradient`` (centered) are None when their option
    is off. The NumPy twin of :func:`chainrule.backend.kernels.optim.rmsprop_numba`."""
    # v = v*rho + g²(1-rho);  [a = a*rho + g(1-rho)];  inc = g / sqrt(v [- a²] + eps) * lr;
    # [mom = mom*momentum + inc;  inc = mom];  w -= inc
    owner, t, v = backend.extras_for(var), scratch, velocity
    xp = owner.xp
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    if not owner.takes_out:  # the same operations, each into a new array (the array API has no out=)
        v *= rho
        v += grad * grad * one_minus_rho
        if average_gradient is not None:
            average_gradient *= rho
            average_gradient += grad * one_minus_rho
            t = (v - average_gradient * average_gradient) + epsilon
        else:
            t = v + epsilon
        increment = grad / xp.sqrt(t) * learning_rate
        if mom is not None:
            mom *= momentum
            mom += increment
            increment = mom
        var -= increment
        return
    v *= rho
    v += xp.multiply(xp.multiply(grad, grad, out=t), one_minus_rho, out=t)
    if average_gradient is not None:
        a = average_gradient
        a *= rho
        a += xp.multiply(grad, one_minus_rho, out=t)
        xp.subtract(v, xp.multiply(a, a, out=t), out=t)
        t += epsilon
    else:
        xp.add(v, epsilon, out=t)
    increment = xp.divide(grad, xp.sqrt(t, out=t), out=t)
    increment *= learning_rate
    if mom is not None:
        mom *= momentum
        mom += increment
        increment = mom
    var -= increment


class RMSprop(Optimizer):
    """``v = rho*v + (1-rho)*g²``; ``w -= lr*g / sqrt(v + eps)`` (centered: ``sqrt(v - mean(g)² + eps)``);
    with momentum the increments accumulate: ``mom = momentum*mom + increment; w -= mom``."""

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-7,
                 centered: bool = False, name: str = "rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, bool(centered)
        self.slot_names = ("velocity",) + (("momentum",) if momentum > 0 else ()) + \
            (("average_gradient",) if centered else ())

    _update = (rmsprop_numpy, optim.rmsprop_numba)
    _update_slots = ("velocity", "momentum", "average_gradient")

    def _constants(self, learning_rate):
        rho = float(self.rho)
        return learning_rate, rho, 1 - rho, float(self.momentum), float(self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}
