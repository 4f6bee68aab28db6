"""``DistributedOptimizer(optimizer)`` (Horovod's name and semantics): the same optimizer, whose ``apply`` first
combines the gradients of all ranks, so that every rank applies the same update to the same weights.

``apply`` is the one door every gradient passes through (``fit``, ``train_on_batch``, ``apply_gradients`` and
``minimize`` in a GradientTape loop), so wrapping it is all data parallelism needs. The first ``apply`` also copies
rank 0's variables and optimizer state to every rank (Horovod's ``broadcast_variables`` at the first step), so that
a model initialized or restored differently on each rank trains as one.

The result is an instance of a subclass of the optimizer's own class, with the same class name (so a model saved
with it loads with the plain optimizer), sharing the original's state.

>>> from chainrule import distributed as dist
>>> from chainrule.keras.optimizers import SGD
>>> import chainrule as cr
>>> opt = dist.DistributedOptimizer(SGD(0.1))
>>> w = cr.Variable([1.0])
>>> _ = opt.apply([cr.constant([2.0])], [w]); w.numpy(), type(opt).__name__, isinstance(opt, SGD)
(array([0.8], dtype=float32), 'SGD', True)
"""
from __future__ import annotations

import math

import numpy as np

from chainrule.distributed.collectives import broadcast_arrays
from chainrule.distributed.comm import communicator
from chainrule.distributed.fusion import DEFAULT_THRESHOLD_BYTES, GradientReducer
from chainrule.distributed.replica import current_weight, gradients_owned, weights_uniform
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor
from chainrule.keras.optimizers import Optimizer, get as get_optimizer

_AVERAGE, _SUM = "average", "sum"


class Compression:
    """Horovod's ``Compression.none`` and ``Compression.fp16``: how gradients travel."""

    none = "none"
    fp16 = "fp16"


def sync_from_root(optimizer: Optimizer, variables: list, root_rank: int = 0) -> None:
    """Give every rank rank ``root_rank``'s variables and ``optimizer``'s state (its slots, made now if need be,
    and ``iterations``): what the first distributed update does, so that every rank starts from the same place."""
    optimizer.build(variables)
    arrays = [v.data for v in variables] + [optimizer.iterations.data]
    arrays += [slots[name] for slots in optimizer._slots if slots is not None for name in optimizer.slot_names]
    broadcast_arrays(arrays, root_rank)
    optimizer.__dict__["_distributed_synced"] = True


def combine_gradients(optimizer: Optimizer, grads: list, variables: list, reducer: GradientReducer,
                      default_weight: float, scale_later: bool = False, extra: float | None = None) -> list:
    """``grads`` summed over the ranks, each rank's weighted by the running step's weight (``default_weight``
    outside a distributed step); rank 0's variables and optimizer state first, at the first call. With
    ``scale_later`` the plain sums, which the caller multiplies by the weight (every rank's being the same);
    ``extra``, a number summed over the ranks in the same exchange (``reducer.extra_sum``)."""
    comm = communicator()
    if comm.size == 1:
        reducer.extra_sum = extra
        return grads
    if len(grads) != len(variables):
        raise ValueError(f"{type(optimizer).__name__}: got {len(grads)} gradients for {len(variables)} variables")
    if not optimizer.__dict__.get("_distributed_synced"):
        sync_from_root(optimizer, list(variables))
    weight = current_weight()
    arrays = [g if g is None or type(g) is np.ndarray else np.asarray(g.data if isinstance(g, Tensor) else g)
              for g in grads]
    return reducer.reduce(arrays, default_weight if weight is None else weight, variables, scale_later,
                          gradients_owned(), extra)


def scales_gradients_for_free(optimizer: Optimizer) -> bool:
    """Whether ``optimizer``'s update can multiply every gradient by a number at no cost: its class's own
    ``apply`` and built-in fused update (whose kernels take a gradient scale, as clipping uses), and no clipping or
    loss scale that would read the gradients before."""
    return (optimizer._update is not None and _builtin_update(type(optimizer)) and
            not (optimizer.clipnorm or optimizer.global_clipnorm or optimizer.clipvalue) and
            optimizer.loss_scale_factor is None)


_builtin: dict[type, bool] = {}


def _builtin_update(cls: type) -> bool:
    """Whether the optimizer class wrapped by the made class ``cls`` keeps Optimizer's own ``apply`` and built-in
    update (asked once per class)."""
    found = _builtin.get(cls)
    if found is None:
        base = cls.__mro__[2]  # (the wrapped class: after the made class and _Distributed)
        found = _builtin[cls] = (base.apply is Optimizer.apply and base._apply_update is Optimizer._apply_update
                                 and base.update_step is Optimizer.update_step)
    return found


class _Distributed:
    """Mixed in before the optimizer's class: combine gradients across ranks, then the optimizer's own apply. When
    every rank's gradients weigh the same and the update can scale them for free, the exchange sums the plain
    gradients and the update multiplies them by the weight (no pass over the gradients for it)."""

    _reducer: GradientReducer
    _op: str
    _gradient_scale = 1.0

    @replayed  # (a traced step repeats the exchange on every replay, as it does the update)
    def apply(self, grads: list, trainable_variables: list | None = None):
        variables = self._variables if trainable_variables is None else list(trainable_variables)
        return self._combine_and_apply(list(grads), variables)

    def apply_with_loss(self, grads: list, variables: list, loss: float) -> float:
        """The update of a training step whose loss on this rank's rows is ``loss``: the loss weighted by this
        rank's share summed over the ranks in the same exchange as the gradients (one collective a step, not two),
        the update applied only when that global loss is finite (so every rank skips the same steps); returns it.
        With the exchange overlapped, the loss goes first on its own and a non-finite one sends nothing."""
        weight = current_weight()
        share = loss * (weight if weight is not None else 1.0 / communicator().size)
        if self._reducer.overlap:
            total = float(communicator().allreduce_array(np.array([share], np.float64), "sum")[0])
            if math.isfinite(total):
                self._combine_and_apply(grads, variables)
            return total
        self._combine_and_apply(grads, variables, share)
        return self._reducer.extra_sum

    def _combine_and_apply(self, grads: list, variables: list, extra: float | None = None):
        size = communicator().size
        default = 1.0 / size if self._op == _AVERAGE else 1.0
        weight = current_weight()
        weight = default if weight is None else weight
        later = size > 1 and weight != 1.0 and weights_uniform() and scales_gradients_for_free(self)
        grads = combine_gradients(self, grads, variables, self._reducer, default, later, extra)
        if extra is not None and not math.isfinite(self._reducer.extra_sum):
            return self.iterations  # (a step skipped on every rank, as one process skips it)
        if not later:
            return super().apply(grads, variables)
        self._gradient_scale = weight
        try:
            return super().apply(grads, variables)
        finally:
            del self._gradient_scale

    def _apply_update(self, work: list, scales: list | None, lr: float, keep: float, only_if_finite=None) -> None:
        scale = self._gradient_scale
        if scale != 1.0:  # (the exchange's weight, left to the update)
            scales = [scale] * len(work) if scales is None else [s * scale for s in scales]
        super()._apply_update(work, scales, lr, keep, only_if_finite)


_classes: dict[type, type] = {}


def _distributed_class(cls: type) -> type:
    found = _classes.get(cls)
    if found is None:
        found = _classes[cls] = type(cls.__name__, (_Distributed, cls), {"__module__": cls.__module__,
                                                                      "__qualname__": cls.__qualname__})
    return found


def DistributedOptimizer(optimizer, name: str | None = None, compression=Compression.none,
                         op: str = _AVERAGE, fusion_threshold_bytes: int = DEFAULT_THRESHOLD_BYTES,
                         overlap: bool | None = None) -> Optimizer:
    """``optimizer`` (an instance or a name) whose ``apply`` averages (``op='average'``, Horovod's default) or sums
    the gradients over all ranks in fused buffers before updating; ``compression=Compression.fp16`` (or ``'fp16'``)
    sends them as float16; ``overlap=True`` starts the exchange during backward (chainrule/distributed/overlap.py;
    without, it starts in ``apply``, with the same results; the default: ``CHAINRULE_OVERLAP=1`` or ``0``, else
    off)."""
    optimizer = get_optimizer(optimizer)
    op = getattr(op, "name", op)
    if op not in (_AVERAGE, _SUM):
        raise ValueError(f"DistributedOptimizer: op must be 'average' or 'sum', got {op!r}")
    if isinstance(optimizer, _Distributed):
        return optimizer
    wrapped = object.__new__(_distributed_class(type(optimizer)))
    wrapped.__dict__.update(optimizer.__dict__)  # the same state (variables, slots, iterations), not a copy
    if name is not None:
        wrapped.name = name
    wrapped._reducer = GradientReducer(compression, fusion_threshold_bytes, overlap)
    wrapped._op = op
    return wrapped


def is_distributed(optimizer) -> bool:
    """Whether ``optimizer`` was made by :func:`DistributedOptimizer`."""
    return isinstance(optimizer, _Distributed)
