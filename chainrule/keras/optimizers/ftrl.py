"""FTRL-Proximal (``keras.optimizers.Ftrl``, McMahan et al., 2013): per-coordinate learning rates and L1/L2
regularization folded into a closed-form weight, which keeps weights at exactly zero under L1.

>>> import chainrule as cr
>>> w = cr.Variable([0.0, 0.0])
>>> opt = Ftrl(learning_rate=0.1, l1_regularization_strength=0.5)
>>> _ = opt.apply_gradients([(cr.constant([2.0, 0.1]), w)])
>>> w.numpy()  # the small gradient stays under the L1 threshold: its weight stays zero
array([-0.07407973,  0.        ], dtype=float32)
"""
from __future__ import annotations

from chainrule import backend
from chainrule.backend.kernels import optim
from chainrule.keras.optimizers.optimizer import Optimizer


def ftrl_numpy(var, grad, accumulator, linear, scratch, learning_rate, power, l1, two_l2, two_shrinkage, keep=1.0,
               gscale=1.0):
    """One FTRL step in place (``power = -learning_rate_power``, ``two_l2 = 2 l2 + beta / lr``); the NumPy twin of
    :func:`chainrule.backend.kernels.optim.ftrl_numba` (it allocates temporaries beside the scratch)."""
    # n' = n + g²;  z += g + 2 s w - (n'^p - n^p) / lr * w;  w = (clip(z, ±l1) - z) / (n'^p / lr + 2 l2);  n = n'
    xp, t = backend.xp, scratch

    def raised(x):
        return xp.sqrt(x) if power == 0.5 else xp.power(x, power)

    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    new_acc = accumulator + xp.multiply(grad, grad, out=t)
    root = raised(new_acc)
    shrunk = grad + xp.multiply(var, two_shrinkage, out=t)
    change = root - raised(accumulator)
    change /= learning_rate
    change *= var
    shrunk -= change
    linear += shrunk
    quadratic = root / learning_rate
    quadratic += two_l2
    xp.clip(linear, -l1, l1, out=t)
    t -= linear
    xp.divide(t, quadratic, out=var)
    accumulator[...] = new_acc


class Ftrl(Optimizer):
    """Keras's Ftrl: ``n' = n + g²; z += g + 2 s w - (n'^-p - n^-p) / lr * w; w = (clip(z, -l1, l1) - z) /
    (n'^-p / lr + 2 (l2 + beta / (2 lr))); n = n'`` with ``p = learning_rate_power`` and ``s`` the L2 shrinkage
    strength; the accumulator ``n`` starts at ``initial_accumulator_value``."""

    slot_names = ("accumulator", "linear")

    def __init__(self, learning_rate=0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, l2_shrinkage_regularization_strength: float = 0.0,
                 beta: float = 0.0, name: str = "ftrl", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        checks = (("initial_accumulator_value", initial_accumulator_value, "needs to be positive or zero"),
                  ("l1_regularization_strength", l1_regularization_strength, "needs to be positive or zero"),
                  ("l2_regularization_strength", l2_regularization_strength, "needs to be positive or zero"),
                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
                   "needs to be positive or zero"))
        if learning_rate_power > 0.0:
            raise ValueError(f"`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        for argument, value, rule in checks:
            if value < 0.0:
                raise ValueError(f"`{argument}` {rule}. Received: {argument}={value}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta
        if learning_rate_power != -0.5:  # the kernel takes square roots only: the NumPy formula on both paths
            self._update = (ftrl_numpy, ftrl_numpy)

    _update = (ftrl_numpy, optim.ftrl_numba)
    _update_slots = ("accumulator", "linear")

    def initial_slot(self, name, variable):
        if name == "accumulator":
            return backend.xp.full(variable.shape, self.initial_accumulator_value, dtype=variable.dtype)
        return super().initial_slot(name, variable)

    def _constants(self, learning_rate):
        """lr, -learning_rate_power, l1, 2 (l2 + beta / (2 lr)), 2 * shrinkage."""
        return (learning_rate, -float(self.learning_rate_power), float(self.l1_regularization_strength),
                2.0 * float(self.l2_regularization_strength) + float(self.beta) / learning_rate,
                2.0 * float(self.l2_shrinkage_regularization_strength))

    def get_config(self) -> dict:
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
