"""LossScaleOptimizer (``keras.optimizers.LossScaleOptimizer``, also ``keras.mixed_precision``): dynamic loss
scaling around another optimizer, so that float16 gradients do not underflow.

``fit`` differentiates ``scale_loss(loss)`` (the loss times ``dynamic_scale``); ``apply`` then checks the gradients:
all finite, it divides them by the scale and lets the inner optimizer update, doubling the scale after
``dynamic_growth_steps`` such steps in a row; any inf or NaN, it skips the update and halves the scale.
``compile`` wraps the optimizer in one by itself when the model's policy is 'mixed_float16'.

>>> import chainrule as cr
>>> from chainrule.keras.optimizers import SGD
>>> w = cr.Variable([1.0])
>>> opt = LossScaleOptimizer(SGD(0.1), initial_scale=8.0)
>>> _ = opt.apply([cr.constant([8.0])], [w])  # the gradient of 8 * loss: unscaled to 1
>>> w.numpy(), float(opt.dynamic_scale.numpy())
(array([0.9], dtype=float32), 8.0)
>>> _ = opt.apply([cr.constant([float("inf")])], [w])  # skipped, the scale halved
>>> w.numpy(), float(opt.dynamic_scale.numpy())
(array([0.9], dtype=float32), 4.0)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, Variable
from chainrule.keras.optimizers.optimizer import Optimizer

# the base optimizer's arguments a LossScaleOptimizer only accepts at their defaults (old configs write them)
_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                  "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    """Dynamic loss scaling around ``inner_optimizer``: the scale starts at ``initial_scale`` (2**15), is halved on
    a step with non-finite gradients (which is skipped) and doubled after ``dynamic_growth_steps`` (2000) finite
    steps."""

    def __init__(self, inner_optimizer: Optimizer, initial_scale: float = 2.0 ** 15, dynamic_growth_steps: int = 2000,
                 name: str | None = None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                             "`loss_scale_factor` directly on the `inner_optimizer`.")
        for key, default in _BASE_DEFAULTS.items():
            if key in kwargs and kwargs.pop(key) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{key}`. Instead, set `{key}` on the "
                                 f"`inner_optimizer`.")
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"LossScaleOptimizer: `inner_optimizer` must be an optimizer instance, got "
                            f"{inner_optimizer!r}")
        self.inner_optimizer = inner_optimizer
        super().__init__(learning_rate=0.0, name=name or "loss_scale_optimizer")
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        inner_optimizer.loss_scale_factor = None  # scaled once, here
        self.step_counter = Variable(0, trainable=False, name="step_counter", dtype=np.int64)
        # a Variable, so that a traced step's scale_loss reads the current scale on every replay
        self.dynamic_scale = Variable(self.initial_scale, trainable=False, name="dynamic_scale", dtype=np.float32)
        self._caller_unscales = False  # set by TF 2's get_unscaled_gradients: apply then takes unscaled gradients

    # --- what the wrapper forwards to the inner optimizer -----------------------------------------------------------
    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if "inner_optimizer" in self.__dict__ and "step_counter" in self.__dict__:  # (not the base __init__'s 0.0)
            self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def iterations(self) -> Variable:
        return self.inner_optimizer.iterations

    @property
    def variables(self) -> list[Tensor]:
        return [self.step_counter, self.dynamic_scale] + self.inner_optimizer.variables

    def build(self, var_list) -> None:
        self.inner_optimizer.build(var_list)

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        self.inner_optimizer.exclude_from_weight_decay(var_list, var_names)

    def finalize_variable_values(self, var_list) -> None:
        self.inner_optimizer.finalize_variable_values(var_list)  # (the inner optimizer keeps any moving averages)

    # --- scaling ----------------------------------------------------------------------------------------------------
    def scale_loss(self, loss):
        """``loss * dynamic_scale``: what ``fit`` differentiates."""
        return loss * self.dynamic_scale

    # TF 2's (Keras 2's) names, which its mixed-precision guide's custom loop calls: the loop scales the loss and
    # unscales the gradients itself, so from then on apply checks and applies the gradients as they come
    @property
    def loss_scale(self) -> Variable:
        """TF 2's name of the current scale."""
        return self.dynamic_scale

    @property
    def dynamic(self) -> bool:
        return True

    def get_scaled_loss(self, loss):
        """TF 2's ``loss * loss_scale`` (a callable loss gives a callable)."""
        if callable(loss):
            return lambda: self.scale_loss(loss())
        return self.scale_loss(loss)

    def get_unscaled_gradients(self, grads: list) -> list:
        """TF 2's ``grads / loss_scale`` (None kept); ``apply`` no longer unscales what it gets."""
        self._caller_unscales = True
        return [None if g is None else g / self.dynamic_scale for g in grads]

    @replayed  # in a traced step, the check and the update are repeated on every replay
    def apply(self, grads: list, trainable_variables: list | None = None, *, only_if_finite=None) -> Variable:
        """Unscale and apply ``grads`` when all are finite (growing the scale on schedule); otherwise skip the step
        and halve the scale. ``only_if_finite`` goes to the inner optimizer (Optimizer.apply)."""
        arrays = [None if g is None else g.data if isinstance(g, Tensor) else backend.xp.asarray(g) for g in grads]
        scale = float(self.dynamic_scale.data)
        if all(bool(backend.array_namespace(g).all(backend.array_namespace(g).isfinite(g)))
               for g in arrays if g is not None):
            if not self._caller_unscales:
                arrays = [None if g is None else g / scale for g in arrays]
            self.inner_optimizer.apply(arrays, trainable_variables, **(
                {} if only_if_finite is None else {"only_if_finite": only_if_finite}))
            if int(self.step_counter.data) == self.dynamic_growth_steps - 1:
                self.step_counter.data[...] = 0
                self.dynamic_scale.data[...] = scale * 2.0
            else:
                self.step_counter.data[...] = int(self.step_counter.data) + 1
        else:
            self.step_counter.data[...] = 0
            self.dynamic_scale.data[...] = scale * 0.5
        return self.iterations

    # --- saving -----------------------------------------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """The inner optimizer's state plus the scale and the count of finite steps since it last changed."""
        return {**self.inner_optimizer.get_state(), "dynamic_scale": np.array(self.dynamic_scale.numpy()),
                "step_counter": np.array(self.step_counter.numpy())}

    def set_state(self, state: dict) -> None:
        state = dict(state)
        for key in ("dynamic_scale", "step_counter"):
            if key in state:
                getattr(self, key).data[...] = np.asarray(state.pop(key))
        self.inner_optimizer.set_state(state)

    def get_config(self) -> dict:
        from chainrule.keras.configurable import serialize

        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "LossScaleOptimizer":
        from chainrule.keras import optimizers

        config = dict(config)
        inner = optimizers.deserialize(config.pop("inner_optimizer"), custom_objects)
        return cls(inner, **config)

    def __repr__(self) -> str:
        return f"<LossScaleOptimizer inner={self.inner_optimizer!r} dynamic_scale={float(self.dynamic_scale.data):g}>"
