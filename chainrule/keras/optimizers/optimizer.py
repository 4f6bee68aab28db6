"""The optimizer base class (``keras.optimizers.Optimizer``): what every optimizer does around its update formula.

In Keras's order: drop variables without a gradient, clip the gradients (``clipnorm`` per variable,
``global_clipnorm`` over all, or ``clipvalue``), decay the weights (``weight_decay``: ``w -= w * weight_decay * lr``),
run each variable's update, and count ``iterations``. ``apply`` is the one door gradients pass through.

A built-in optimizer (one file each: sgd.py, rmsprop.py, adagrad.py, adam.py) names its per-variable state
(``slot_names``) and pairs its update formula, written in NumPy with ``out=`` so that a step allocates nothing, with
the fused numba kernel of :mod:`chainrule.backend.kernels.optim` that does the same in one pass over memory (bit for
bit; tests/keras/test_optimizer_kernels.py holds each pair equal). Both also apply the weight decay and the clipping
scale. The kernel runs when ``kernels.enabled()`` and the variable is float32/float64 and C-contiguous; otherwise
the NumPy formula does (it also serves other array backends). Per step, the base class computes the learning rate
and the update's constants once, and keeps for each variable the flat views the kernel takes.

A subclass of your own may instead define ``update_step(gradient, variable, slots, learning_rate)``, updating the
array ``variable`` in place (each variable also gets one scratch array, ``slots["scratch"]``).

State is created lazily, the first time a variable gets a gradient (or eagerly by ``build(var_list)``); variables
are numbered in the order the optimizer first sees them, and ``get_state()`` keys its arrays by that number
(``"0/m"``, ``"0/v"``, ...) plus ``"iterations"``, so ``set_state`` on a fresh optimizer resumes bit-identically.

>>> import chainrule as cr
>>> from chainrule.keras.optimizers import SGD
>>> w = cr.Variable([1.0, 2.0])
>>> opt = SGD(learning_rate=0.1)
>>> _ = opt.apply_gradients([(cr.constant([1.0, 1.0]), w)])
>>> w.numpy(), int(opt.iterations)
(array([0.9, 1.9], dtype=float32), 1)
"""
from __future__ import annotations

import math
import re
import warnings
from typing import Iterable

import numpy as np

from chainrule import backend
from chainrule.backend import kernels
from chainrule.backend.kernels import optim
from chainrule.engine.autograd import enable_grad, grad as _grad, no_grad
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, Variable
from chainrule.keras import distribution as _distribution
from chainrule.keras.optimizers import schedules
from chainrule.keras.optimizers.schedules import LearningRateSchedule

# Keras config keys we accept only at their defaults (features chainrule does not have)
_UNSUPPORTED_AT_DEFAULT = {"gradient_accumulation_steps": None, "jit_compile": True,
                           "is_legacy_optimizer": False, "decay": 0.0}


class LearningRate(float):
    """The current learning rate: a float that also answers ``.numpy()`` and ``.assign()`` as Keras's learning-rate
    variable does (``optimizer.learning_rate.assign(1e-4)`` sets the optimizer's rate)."""

    def numpy(self):
        return np.dtype(backend.floatx()).type(self)

    def assign(self, value) -> "LearningRate":
        self._optimizer.learning_rate = value
        return self._optimizer.learning_rate


def _restore_unless_finite(kept: list, value) -> None:
    """Each array back to its copy unless ``value``'s first element is finite: an update skipped on the device."""
    xp = backend.array_namespace(value)
    finite = xp.all(xp.isfinite(xp.reshape(value, (-1,))[:1]))
    for array, before in kept:
        array[...] = xp.where(finite, array, before)


def _apply_constraint(variable: Variable) -> None:
    """``variable.assign(variable.constraint(variable))``, recording no graph (the projection is no part of a loss)."""
    with no_grad():
        value = variable.constraint(variable)
    variable.assign(value.data if isinstance(value, Tensor) else value)


class Optimizer:
    """Base optimizer; subclasses set ``slot_names`` and define ``update_step``."""

    def __init__(self, learning_rate=0.001, weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None, name: str | None = None,
                 loss_scale_factor: float | None = None, use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None, **kwargs):
        if "lr" in kwargs:  # the TF 2.x spelling
            learning_rate = kwargs.pop("lr")
        for key, default in _UNSUPPORTED_AT_DEFAULT.items():
            if key in kwargs and kwargs.pop(key) not in (default, None):
                raise NotImplementedError(f"{type(self).__name__}: `{key}` is not supported by chainrule")
        if kwargs:
            raise ValueError(f"{type(self).__name__}: argument(s) not recognized: {kwargs}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                             f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}")
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                            or isinstance(ema_overwrite_frequency, bool)
                                            or ema_overwrite_frequency < 1):
                raise ValueError(f"`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                                 f"ema_overwrite_frequency={ema_overwrite_frequency}")
        # Keras's exponential moving average of the weights: kept per position, swapped in by SwapEMAWeights,
        # written into the weights every ema_overwrite_frequency steps and at the end of fit
        self.use_ema, self.ema_momentum = bool(use_ema), ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self._averages: dict[int, np.ndarray] = {}
        self.name = name or type(self).__name__.lower()
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        # Keras 3: fit multiplies the loss by it (scale_loss) and apply divides the gradients by it
        self.loss_scale_factor = loss_scale_factor
        self.learning_rate = learning_rate
        self._iterations = Variable(0, trainable=False, name="iterations", dtype=np.int64)
        self._iterations.data = np.zeros((), np.int64)  # on the host on every backend: the step's constants read it
        self._variables: list[Tensor] = []          # position order
        self._index: dict[int, int] = {}            # id(variable) -> position
        self._slots: list[dict | None] = []         # per position: slot name -> array (+ "scratch"), once created
        self._plans: list[tuple | None] = []        # per position: what the built-in update takes (see _plan)
        self._pending: dict[str, np.ndarray] = {}   # set_state entries for variables not seen yet
        self._no_decay_ids: set[int] = set()
        self._no_decay_names: list[str] = []
        self._decay_flags: dict[int, tuple] = {}    # position -> (variable name, decays?), cleared on new exclusions

    # --- per-variable state: what a subclass defines -------------------------------------------------------------
    slot_names: tuple[str, ...] = ()

    # A built-in update: (the NumPy formula, its numba kernel in chainrule.backend.kernels.optim), called per
    # variable as update(variable, gradient, *slots named in _update_slots (None where absent), scratch,
    # *_constants(lr), keep, gscale)
    _update: tuple | None = None
    _update_slots: tuple[str, ...] = ()

    def _constants(self, learning_rate: float) -> tuple:
        """The built-in update's per-step arguments after the slots (Python floats, computed once per step)."""
        return ()

    def initial_slot(self, name: str, variable: np.ndarray) -> np.ndarray:
        """A slot's starting value (zeros unless the optimizer says otherwise)."""
        return backend.xp.zeros(self.slot_shape(name, variable), dtype=variable.dtype)

    def slot_shape(self, name: str, variable: np.ndarray) -> tuple:
        """A slot's shape: the variable's, unless the optimizer keeps less (Adafactor's row and column means)."""
        return variable.shape

    def update_step(self, gradient: np.ndarray, variable: np.ndarray, slots: dict, learning_rate: float) -> None:
        """Update ``variable`` (an array, in place) from ``gradient`` (same shape and dtype) and its ``slots``.

        A subclass of ``Optimizer`` defines it; the built-in optimizers run their kernel or their NumPy formula."""
        if self._update is None:
            raise NotImplementedError(f"{type(self).__name__} must define update_step")
        state = [slots.get(name) for name in self._update_slots]
        fused = kernels.runs_on(variable.dtype) and optim.takes(variable, gradient, state)
        formula, kernel = self._update
        update = kernels.falls_back_to(formula)(kernel) if fused else formula  # (the formula while it compiles)
        update(variable, gradient, *state, slots["scratch"], *self._constants(float(learning_rate)))

    # --- learning rate and step count -----------------------------------------------------------------------------
    @property
    def iterations(self) -> Variable:
        """How many updates have been applied (an int64 Variable, as in Keras)."""
        return self._iterations

    @property
    def learning_rate(self) -> LearningRate:
        """The learning rate for the next update; a schedule is evaluated at ``iterations``."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            rate = LearningRate(lr(int(self._iterations.data)))
        else:
            rate = LearningRate(lr() if callable(lr) else lr)
        rate._optimizer = self
        return rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        """A number, a schedule, or a no-argument callable. An optimizer made with a schedule takes another schedule
        or callable, not a number (Keras's TypeError: a callback setting a number would end the schedule)."""
        if isinstance(value, Tensor):
            value = value.item()
        if not (isinstance(value, LearningRateSchedule) or callable(value)):
            if isinstance(getattr(self, "_learning_rate", None), LearningRateSchedule):
                raise TypeError("This optimizer was created with a `LearningRateSchedule` object as its "
                                "`learning_rate` constructor argument, hence its learning rate is not settable. If "
                                "you need the learning rate to be settable, you should instantiate the optimizer "
                                "with a float `learning_rate` argument.")
            value = float(value)
        self._learning_rate = value

    lr = learning_rate  # the TF 2.x name

    @property
    def variables(self) -> list[Tensor]:
        """``iterations`` and every slot array (shared memory), in position order."""
        found: list[Tensor] = [self._iterations]
        for slots in self._slots:
            if slots is not None:
                found.extend(Tensor._wrap(slots[name]) for name in self.slot_names)
        return found

    # --- variables and their state --------------------------------------------------------------------------------
    def _position(self, variable: Tensor) -> int:
        i = self._index.get(id(variable))
        if i is None:
            if not isinstance(variable, Tensor):
                raise TypeError(f"{type(self).__name__}: expected a chainrule Variable to update, got "
                                f"{type(variable).__name__}")
            i = self._index[id(variable)] = len(self._variables)
            self._variables.append(variable)
            self._slots.append(None)
            self._plans.append(None)
        return i

    def _create_slots(self, i: int) -> dict:
        w = self._variables[i].data
        if backend.dtype_kind(w.dtype) != "f":
            raise TypeError(f"{type(self).__name__}: cannot train variable {i} "
                            f"({self._variables[i].name or 'unnamed'}) of dtype {w.dtype}")
        slots = {}
        for name in self.slot_names:
            saved = self._pending.pop(f"{i}/{name}", None)
            if saved is not None and np.shape(saved) != self.slot_shape(name, w):
                raise ValueError(f"{type(self).__name__}: saved slot '{i}/{name}' has shape {np.shape(saved)} but "
                                 f"variable {i} has shape {w.shape}: the variables are not in the saved order")
            slot = self.initial_slot(name, w) if saved is None else backend.xp.array(saved, dtype=w.dtype)
            flags = getattr(slot, "flags", None)  # (the standard's arrays have no memory layout)
            slots[name] = slot if flags is None or flags.c_contiguous else slot.copy(order="C")  # flat views share it
        slots["scratch"] = backend.xp.empty(w.shape, dtype=w.dtype)
        self._slots[i] = slots
        self._plans[i] = None
        return slots

    def _plan(self, i: int) -> tuple:
        """What the built-in update takes for variable i: (its array, the array to update, the slot arrays and
        scratch, whether these are flat views, whether the kernel takes them), kept while the variable holds the
        same array. Flat (1-D) views let one compiled kernel serve every shape; a variable that is not C-contiguous
        is updated as it is, by the NumPy formula."""
        slots = self._slots[i] or self._create_slots(i)
        w = self._variables[i].data
        if slots["scratch"].shape != w.shape:
            raise ValueError(f"{type(self).__name__}: variable {self._variables[i].name or i} now has shape "
                             f"{w.shape}, its optimizer state {slots['scratch'].shape}")
        for name, slot in slots.items():
            if slot.dtype != w.dtype:  # the state follows the variable's dtype (as it does when created or set)
                slots[name] = backend.array_namespace(slot).astype(slot, w.dtype)
        arrays = [slots.get(name) for name in self._update_slots] + [slots["scratch"]]
        flags = getattr(w, "flags", None)  # the standard's arrays have no memory layout to view flat
        flat = flags is not None and bool(flags.c_contiguous)
        if flat:
            arrays = [None if a is None else a.reshape(-1) for a in arrays]
        fusable = flat and w.dtype in kernels.FLOATS
        plan = self._plans[i] = (w, w.reshape(-1) if flat else w, tuple(arrays), flat, fusable)
        return plan

    def build(self, var_list: Iterable[Tensor]) -> None:
        """Number ``var_list`` in this order and create their state now (Keras builds on the first update)."""
        for v in var_list:
            i = self._position(v)
            if self._slots[i] is None:
                self._create_slots(i)

    def exclude_from_weight_decay(self, var_list: Iterable[Tensor] | None = None,
                                  var_names: Iterable[str] | None = None) -> None:
        """Exempt these variables (or those whose name matches any of these regular expressions) from decay."""
        self._no_decay_ids.update(id(v) for v in var_list or ())
        self._no_decay_names.extend(var_names or ())
        self._decay_flags.clear()

    def _decays(self, variable: Tensor, i: int) -> bool:
        """Whether variable (at position i) decays; remembered until its name or the exclusions change."""
        name = variable.name
        known = self._decay_flags.get(i)
        if known is not None and known[0] == name:
            return known[1]
        decays = id(variable) not in self._no_decay_ids and \
            not any(re.search(pattern, name or "") for pattern in self._no_decay_names)
        self._decay_flags[i] = (name, decays)
        return decays

    # --- the update -----------------------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars: Iterable) -> Variable:
        """Apply one update from ``(gradient, variable)`` pairs; pairs whose gradient is None are skipped."""
        pairs = list(grads_and_vars)
        return self.apply([g for g, _ in pairs], [v for _, v in pairs])

    @replayed  # in a traced step (tf.function, fit), the update is repeated on every replay
    def apply(self, grads: list, trainable_variables: list | None = None, *, only_if_finite=None) -> Variable:
        """Keras 3's ``apply(grads, trainable_variables)``; without variables, those already seen, in order.
        ``only_if_finite`` (chainrule's own): an array (a step's loss on a device) whose first value must be finite
        for the variables to change; fused updates test it on the device, other updates keep copies of what they
        change and put them back where it is not (no read on the host either way)."""
        variables = self._variables if trainable_variables is None else trainable_variables
        if not isinstance(variables, (list, tuple)):
            variables = list(variables)
        if not isinstance(grads, (list, tuple)):
            grads = list(grads)
        combine = _distribution.replica_gradients()
        if combine is not None:  # inside strategy.run: every replica's gradients combined (TensorFlow sums them)
            grads = combine(self, grads, variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}: got {len(grads)} gradients for {len(variables)} variables")
        index = self._index
        work, missing = [], []
        for g, v in zip(grads, variables):
            i = index.get(id(v))
            if i is None:  # a new variable: number all of them now, in order, even those without a gradient (as
                for u in variables:  # Keras builds); those before this one are known already
                    self._position(u)
                i = index[id(v)]
            if g is None:
                missing.append(v.name or f"variable {i}")
                continue
            w = v.data
            if type(g) is not type(w):  # a Tensor, a list, or a NumPy array for a variable on another backend
                g = g.data if isinstance(g, Tensor) else backend.xp.asarray(g)
            if g.shape != w.shape:
                raise ValueError(f"{type(self).__name__}: gradient of shape {g.shape} for variable "
                                 f"{v.name or i} of shape {w.shape}")
            if g.dtype is not w.dtype and g.dtype != w.dtype:
                g = backend.array_namespace(g).astype(g, w.dtype)
            if self.loss_scale_factor is not None:  # the gradients of the scaled loss, unscaled
                g = g / self.loss_scale_factor
            work.append((g, v, i))
        if not work:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss.", stacklevel=2)
        kept = None
        if only_if_finite is not None and self._device_update(work[0][1].data) is None:
            kept = self._keep_state(work)
        scales = None
        if self.clipnorm or self.global_clipnorm or self.clipvalue:
            work, scales = self._clip(work)
        lr = self._learning_rate
        if type(lr) is not float:  # a schedule or a callable
            lr = float(self.learning_rate)
        keep = 1.0 - float(self.weight_decay) * lr if self.weight_decay else 1.0  # w - w * wd * lr, as w * keep
        if self._update is not None and type(self).update_step is Optimizer.update_step:
            self._apply_update(work, scales, lr, keep, only_if_finite)
        else:  # a subclass's own update_step
            for _, v, i in work:
                if keep != 1.0 and self._decays(v, i):
                    v.data *= keep
            for k, (g, v, i) in enumerate(work):
                slots = self._slots[i] or self._create_slots(i)
                if scales is not None and scales[k] != 1.0:
                    g = g * scales[k]
                self.update_step(g, v.data, slots, lr)
        if kept is not None:
            _restore_unless_finite(kept, only_if_finite)
        for _, v, _ in work:  # Keras 3: each updated variable's constraint, assigned after the update
            if getattr(v, "constraint", None) is not None:
                _apply_constraint(v)
        if self.use_ema:
            self._update_averages(work)
        count = self._iterations.data
        count[()] = int(count) + 1  # (an in-place += on a 0-d array costs microseconds)
        return self._iterations

    def _update_averages(self, work: list) -> None:
        """``average = m average + (1 - m) w`` after the step (m = 0 on the first, as Keras); every
        ``ema_overwrite_frequency`` steps the weights take their averages."""
        step = int(self._iterations.data)
        momentum = self.ema_momentum if step != 0 else 0.0
        overwrite = bool(self.ema_overwrite_frequency) and (step + 1) % self.ema_overwrite_frequency == 0
        for _, v, i in work:
            average = self._averages.get(i)
            if average is None:
                average = self._averages[i] = backend.copy(v.data)
            average *= momentum
            average += (1.0 - momentum) * v.data
            if overwrite:
                v.data[...] = average

    def average_of(self, variable: Tensor):
        """The moving average kept for ``variable`` (``use_ema``), or None before its first update."""
        i = self._index.get(id(variable))
        return None if i is None else self._averages.get(i)

    def finalize_variable_values(self, var_list: Iterable[Tensor]) -> None:
        """At the end of ``fit``: with ``use_ema``, each variable takes its moving average (Keras)."""
        if not self.use_ema:
            return
        for v in var_list:
            average = self.average_of(v)
            if average is not None:
                v.data[...] = average

    def _keep_state(self, work: list) -> list:
        """(array, copy) of every variable and slot the update of ``work`` will change, slots created first."""
        kept = []
        for _, v, i in work:
            slots = self._slots[i] or self._create_slots(i)
            kept += [(a, backend.copy(a)) for a in (v.data, *(slots[n] for n in self.slot_names))]
        return kept

    def _device_update(self, w):
        """The fused update the backend of ``w`` has for this optimizer's formula (CuPy's kernels), or None."""
        if self._update is None or type(w) is np.ndarray or type(self).update_step is not Optimizer.update_step:
            return None
        return backend.extras_for(w).fused(self._update[0].__name__.removesuffix("_numpy"))

    def _apply_update(self, work: list, scales: list | None, lr: float, keep: float, only_if_finite=None) -> None:
        """The built-in update of every variable: decay, clipping scale and step in one call each."""
        formula, kernel = self._update
        kernel = kernels.falls_back_to(formula)(kernel)  # the formula, bit-identical, while the kernel compiles
        fused = kernels.enabled()
        device_update = None if fused else self._device_update(work[0][1].data)
        extra = {} if device_update is None else {"only_if_finite": only_if_finite}
        constants = self._constants(lr)
        plans = self._plans
        for k, (g, v, i) in enumerate(work):
            plan = plans[i]
            if plan is None or plan[0] is not v.data:
                plan = self._plan(i)
            _, w, slots, flat, fusable = plan
            decay = keep if keep != 1.0 and self._decays(v, i) else 1.0
            update = kernel if fused and fusable else (device_update or formula) if fusable else formula
            update(w, g.ravel() if flat else g, *slots, *constants, decay, 1.0 if scales is None else scales[k],
                   **(extra if update is device_update else {}))

    def _clip(self, work: list) -> tuple[list, list | None]:
        """Keras's clipping: ``g * c / max(|g|, c)`` per variable, the same with the global norm, or ``clip(g, ±c)``.
        Returns the work and, for the norms, each gradient's scale (applied by the update)."""
        grads = [g for g, _, _ in work]
        if self.clipnorm:
            c = float(self.clipnorm)
            scales = [c / max(math.sqrt(float(backend.xp.vdot(g, g))), c) for g in grads]
        elif self.global_clipnorm:
            c = float(self.global_clipnorm)
            norm = math.sqrt(sum(float(backend.xp.vdot(g, g)) for g in grads))
            scale = c * min(1.0 / norm, 1.0 / c) if norm > 0 else 1.0
            scales = [scale if math.isfinite(norm) else math.nan] * len(grads)  # a non-finite norm poisons the step
        elif self.clipvalue:
            c = float(self.clipvalue)
            return [(backend.xp.clip(g, -c, c), v, i) for g, (_, v, i) in zip(grads, work)], None
        else:
            return work, None
        return work, scales

    def scale_loss(self, loss):
        """The loss ``fit`` differentiates: multiplied by ``loss_scale_factor`` when set (Keras 3), else as it is."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def minimize(self, loss, var_list, tape=None) -> None:
        """One update that lowers ``loss`` (a zero-argument callable, or a Tensor computed from ``var_list``)."""
        var_list = list(var_list() if callable(var_list) else var_list)
        if callable(loss):
            with enable_grad():
                loss = loss()
        if tape is not None:
            grads = tape.gradient(loss, var_list)
        elif isinstance(loss, Tensor) and loss.requires_grad:
            grads = _grad(loss, [v for v in var_list], allow_unused=True)
        else:
            grads = [None] * len(var_list)
        self.apply_gradients(zip(grads, var_list))

    # --- saving ---------------------------------------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """Every slot (``"<position>/<slot>"``) and ``"iterations"``, as NumPy copies: enough to resume exactly."""
        state = {"iterations": np.array(int(self._iterations.data), dtype=np.int64)}
        for i, slots in enumerate(self._slots):
            if slots is not None:
                for name in self.slot_names:
                    state[f"{i}/{name}"] = np.array(backend.to_host(slots[name]))  # a copy (and off the GPU)
        state.update({f"{i}/average": np.array(backend.to_host(a)) for i, a in self._averages.items()})
        state.update({k: np.array(v) for k, v in self._pending.items()})
        return state

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`'s arrays; slots of variables not seen yet are kept until they first appear."""
        pattern = re.compile(r"(\d+)/(\w+)")
        for key, value in state.items():
            match = pattern.fullmatch(key)
            if key != "iterations" and (match is None or match.group(2) not in (*self.slot_names, "average")):
                raise ValueError(f"{type(self).__name__}.set_state: unexpected entry {key!r}; this optimizer keeps "
                                 f"'iterations' and '<position>/<slot>' for slots {list(self.slot_names)}")
        for key, value in state.items():
            if key == "iterations":
                self._iterations.data[...] = int(np.asarray(value))
                continue
            i = int(key.split("/")[0])
            if key.endswith("/average"):  # use_ema's moving average
                self._averages[i] = backend.xp.array(value)
                continue
            slots = self._slots[i] if i < len(self._slots) else None
            if slots is None:
                self._pending[key] = np.array(value)
                continue
            target = slots[key.split("/")[1]]
            if np.shape(value) != target.shape:
                raise ValueError(f"{type(self).__name__}.set_state: {key!r} has shape {np.shape(value)}, the "
                                 f"variable has shape {target.shape}")
            target[...] = backend.xp.asarray(value)

    def get_config(self) -> dict:
        lr = self._learning_rate
        lr = schedules.serialize(lr) if isinstance(lr, LearningRateSchedule) else float(self.learning_rate)
        config = {"name": self.name, "learning_rate": lr,
                  "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                  "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue}
        if self.loss_scale_factor is not None:
            config["loss_scale_factor"] = self.loss_scale_factor
        if self.use_ema:
            config.update(use_ema=True, ema_momentum=self.ema_momentum,
                          ema_overwrite_frequency=self.ema_overwrite_frequency)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Optimizer":
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} learning_rate={float(self.learning_rate):g}>"
