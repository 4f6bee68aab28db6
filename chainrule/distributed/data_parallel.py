"""Data parallelism for ``fit``: what the trainer asks of the active distribution (see
:mod:`chainrule.keras.distribution`), so that N ranks with a global batch B train as one process with batch B.

- every global batch is split by rows, rank r taking rows ``[B*r//N, B*(r+1)//N)``, and the gradient exchange
  weighs each rank's gradients by its share of the rows (exact when B is not a multiple of N);
- before the first step, every rank takes rank 0's weights, optimizer state and random generator, so shuffles agree;
  random ops inside a step (Dropout) draw from a stream of each rank's own, so masks differ between ranks;
- each step's loss is the mean over the global batch on every rank (so all ranks agree to skip a non-finite step);
  the logs sum every metric's state over the ranks before ``result()`` (Keras metric variables add up), so the
  logs equal a one-process run's;
- callbacks, the progress bar and whatever they write run on rank 0 alone (but BackupAndRestore, which runs on
  every rank: rank 0 writes the backup, every rank resumes from it); after each batch and epoch, rank 0's
  ``stop_training`` and learning rate (what callbacks change) are copied to the others.

>>> dp = DataParallel()
>>> dp.bounds(10), dp.num_replicas_in_sync
((0, 10), 1)
"""
from __future__ import annotations

import contextlib
import math
import zlib

import numpy as np

from chainrule import backend
from chainrule.distributed.collectives import (allgather_object, allreduce_arrays, broadcast_arrays,
                                               broadcast_object)
from chainrule.distributed.comm import communicator
from chainrule.distributed.fusion import DEFAULT_THRESHOLD_BYTES
from chainrule.distributed.optimizer import DistributedOptimizer, is_distributed, sync_from_root
from chainrule.distributed.replica import step_weight
from chainrule.engine.tensor import Tensor
from chainrule.keras.callbacks import Callback as _Callback
from chainrule.utils import tree


class DataParallel:
    """The distribution ``fit`` runs under: one replica per MPI rank, gradients combined in fused allreduces."""

    def __init__(self, compression: str = "none", fusion_threshold_bytes: int = DEFAULT_THRESHOLD_BYTES):
        self.comm = communicator()
        self.compression = compression
        self.fusion_threshold_bytes = fusion_threshold_bytes
        self._rank_rng: np.random.Generator | None = None
        self._chief_batch_hooks = True  # (rank_callbacks learns it at the start of fit)

    @property
    def num_replicas_in_sync(self) -> int:
        return self.comm.size

    @property
    def is_chief(self) -> bool:
        return self.comm.rank == 0

    # --- compile and the start of fit ---------------------------------------------------------------------------
    def distribute_optimizer(self, optimizer):
        """The optimizer whose ``apply`` combines the ranks' gradients."""
        if is_distributed(optimizer):
            return optimizer
        return DistributedOptimizer(optimizer, compression=self.compression,
                                    fusion_threshold_bytes=self.fusion_threshold_bytes)

    def begin_training(self, model) -> None:
        """Rank 0's weights, optimizer state and generator on every rank; a stream of this rank's own for the
        random ops inside steps."""
        comm = self.comm
        if comm.size == 1:
            return
        generator = backend.rng()
        generator.bit_generator.state = broadcast_object(generator.bit_generator.state)
        # a stream per rank, seeded from the shared state without drawing from it (so that the shared sequence, and
        # with it the shuffles, stays a one-process run's)
        self._rank_rng = np.random.default_rng([zlib.crc32(repr(generator.bit_generator.state).encode()), comm.rank])
        if getattr(model, "built", True) and model.variables:
            broadcast_arrays([v.data for v in model.variables])
        optimizer = getattr(model, "optimizer", None)
        if is_distributed(optimizer) and model.trainable_variables:
            sync_from_root(optimizer, list(model.trainable_variables))

    def rank_callbacks(self, callbacks, verbose: int) -> tuple[list, int]:
        """The callbacks and verbosity of this rank: all on rank 0; elsewhere (and without a progress bar) only
        those that run on every rank (BackupAndRestore: rank 0 writes the backup, every rank resumes from it),
        and one that asks for the logs after the same batches as rank 0's do, since reading the logs is a
        collective."""
        from chainrule.keras.callbacks import CallbackList

        callbacks = list(callbacks or [])
        every_rank = [cb for cb in callbacks if getattr(cb, "runs_on_every_rank", False)]
        hooks = None
        if self.is_chief:
            chief = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose)
            hooks = (chief._implements_train_batch_hooks, chief._implements_test_batch_hooks)
        if self.comm.size > 1:
            hooks = broadcast_object(hooks)
            kinds = allgather_object([type(cb).__name__ for cb in every_rank])
            if any(k != kinds[0] for k in kinds):
                raise ValueError(f"fit: callbacks that run on every rank must be given on every rank, the same on "
                                 f"each (BackupAndRestore: rank 0 writes the backup, every rank resumes from it); "
                                 f"rank by rank they are {kinds}")
        self._chief_batch_hooks = hooks[0]
        return (callbacks, verbose) if self.is_chief else ([_BatchHooksOf(*hooks), *every_rank], 0)

    def from_chief(self, value):
        """Rank 0's ``value`` (any object that pickles) on every rank."""
        return broadcast_object(value) if self.comm.size > 1 else value

    # --- each step ----------------------------------------------------------------------------------------------
    def bounds(self, rows: int) -> tuple[int, int]:
        """This rank's rows ``[start, stop)`` of a global batch of ``rows`` rows."""
        n, r = self.comm.size, self.comm.rank
        return rows * r // n, rows * (r + 1) // n

    def run_step(self, function, data, model=None):
        """``function`` (a traced step) on this rank's rows of the global batch ``data``, its gradients weighted by
        this rank's share of the rows; a dict of logs it returns is averaged over the ranks the same way."""
        comm = self.comm
        if comm.size == 1:
            return function(data)
        leaves = [leaf for leaf in tree.flatten(data) if leaf is not None]
        rows = len(leaves[0])
        start, stop = self.bounds(rows)
        if stop == start:
            raise ValueError(f"A global batch of {rows} rows cannot be split across {comm.size} ranks: give a "
                             f"batch_size of at least {comm.size}, and a number of samples whose last batch has at "
                             f"least {comm.size} rows (or batch a Dataset with drop_remainder=True)")
        local = tree.map_structure(lambda a: None if a is None else a[start:stop], data)
        weight = (stop - start) / rows
        built = getattr(model, "built", True)
        with step_weight(weight, uniform=rows % comm.size == 0, owned=_builtin_train_step(function, model)), \
                self._rank_stream(built):
            result = function(local)
        if isinstance(result, dict):
            result = self.average_logs(result, weight)
        return result

    @contextlib.contextmanager
    def _rank_stream(self, enabled: bool):
        """Within the block, random ops draw from this rank's own stream (an unbuilt model's weights from the
        shared one, so that they come out the same on every rank)."""
        if not enabled or self._rank_rng is None:
            yield
            return
        stream = self._rank_rng
        backend.use_thread_rng(lambda: stream)
        try:
            yield
        finally:
            backend.use_thread_rng(None)

    def average_logs(self, logs: dict, weight: float) -> dict:
        """A custom step's logs (numbers) as their row-weighted mean over the ranks."""
        names = [k for k, v in logs.items() if np.size(_value(v)) == 1]
        if not names:
            return logs
        values = np.array([float(np.asarray(_value(logs[k])).reshape(())) * weight for k in names], np.float64)
        self.comm.allreduce_array(values, "sum")
        return {**logs, **dict(zip(names, (float(v) for v in values)))}

    def apply_step(self, optimizer, grads: list | None, variables: list, value: float, rows: int) -> float:
        """The update of a training step (``grads`` for ``variables``; None: no update) whose loss is ``value``, the
        mean over this rank's ``rows`` rows: returns the global batch's loss, and updates only when it is finite (on
        every rank alike). A distributed optimizer sums the loss in the exchange of the gradients (one collective a
        step); anything else, in an allreduce of its own first."""
        if grads is not None and self.comm.size > 1 and is_distributed(optimizer):
            return optimizer.apply_with_loss(grads, variables, value)
        value = self.global_loss(value, rows)
        if grads is not None and math.isfinite(value):
            optimizer.apply(grads, variables)
        return value

    def global_loss(self, value: float, rows: int) -> float:
        """The mean loss over the global batch from each rank's mean over its rows."""
        if self.comm.size == 1:
            return value
        both = np.array([value * rows, rows], dtype=np.float64)
        self.comm.allreduce_array(both, "sum")
        return float(both[0] / both[1])

    @contextlib.contextmanager
    def summed_metrics(self, metrics):
        """Within the block, every metric holds the sum of its state over the ranks (its own state afterwards)."""
        variables = list({id(v): v for m in metrics for v in getattr(m, "variables", ())}.values())
        if self.comm.size == 1 or not variables:
            yield
            return
        saved = [np.array(v.data) for v in variables]
        allreduce_arrays([v.data for v in variables], "sum")
        try:
            yield
        finally:
            for v, old in zip(variables, saved):
                v.data[...] = old

    def sync_training_state(self, model, batch: bool = False) -> None:
        """Rank 0's ``stop_training`` and learning rate on every rank (the callbacks that change them ran there):
        after each epoch, and after each batch (``batch``) when rank 0's callbacks have batch hooks."""
        if self.comm.size == 1 or (batch and not self._chief_batch_hooks):
            return
        optimizer = getattr(model, "optimizer", None)
        lr = float(optimizer.learning_rate) if optimizer is not None else 0.0
        state = np.array([float(bool(model.stop_training)), lr], dtype=np.float64)
        self.comm.bcast_array(state, 0)
        model.stop_training = bool(state[0])
        if optimizer is not None and state[1] != lr and not callable(optimizer._learning_rate):
            optimizer.learning_rate = float(state[1])


class _BatchHooksOf(_Callback):
    """A callback that does nothing but has batch hooks where rank 0's callbacks have them, so that every rank reads
    the logs (summing the metrics over the ranks) after the same batches."""

    def __init__(self, train: bool, test: bool):
        super().__init__()
        self._train, self._test = train, test

    @property
    def _implements_train_batch_hooks(self) -> bool:
        return self._train

    @property
    def _implements_test_batch_hooks(self) -> bool:
        return self._test


def _builtin_train_step(function, model) -> bool:
    """Whether ``function`` runs ``model``'s built-in training step, whose gradients nothing reads after the update
    (a ``train_step`` of one's own may keep them: its gradients are copied, not summed in place)."""
    step = getattr(function, "python_function", None)
    return model is not None and getattr(step, "__self__", None) is model and \
        getattr(step, "__name__", None) == "_train_batch"


def _value(v):
    return v.data if isinstance(v, Tensor) else v

