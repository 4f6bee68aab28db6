"""``tf.distribute`` on MPI: ``MultiWorkerMirroredStrategy`` with one replica per rank of ``mpiexec``.

As in TensorFlow, a model made and compiled in ``strategy.scope()`` trains data-parallel in ``fit``: ``batch_size``
is the global batch, each rank computes its share of every batch, gradients are summed across ranks before the
update, and the logs, callbacks and files come out as in one process (chainrule/distributed/data_parallel.py says
how). In a custom loop, ``strategy.run(step, args=(batch,))`` runs the step on this rank's batch from
``experimental_distribute_dataset``, and ``optimizer.apply_gradients`` inside it sums the gradients over the ranks
(TensorFlow's rule: scale each rank's loss by the global batch, e.g. with ``tf.nn.compute_average_loss``).

>>> import chainrule as tf
>>> strategy = tf.distribute.MultiWorkerMirroredStrategy()
>>> strategy.num_replicas_in_sync
1
>>> with strategy.scope():
...     tf.distribute.get_strategy() is strategy
True
>>> float(strategy.reduce(tf.distribute.ReduceOp.SUM, tf.constant([1.0, 2.0]), axis=0))
3.0
"""
from __future__ import annotations

import contextlib

import numpy as np

from chainrule import ops
from chainrule.compat.tf.placement import DeviceSpec, device
from chainrule.distributed import Compression, DataParallel, is_distributed
from chainrule.distributed.fusion import DEFAULT_THRESHOLD_BYTES, GradientReducer
from chainrule.distributed.optimizer import combine_gradients
from chainrule.distributed.comm import communicator
from chainrule.distributed.replica import step_weight
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor
from chainrule.keras import distribution as _distribution


class ReduceOp:
    """How ``strategy.reduce`` combines the replicas' values."""

    SUM = "SUM"
    MEAN = "MEAN"


class CommunicationImplementation:
    """The collectives' implementation (``tf.distribute.experimental.CommunicationImplementation``): MPI here."""

    AUTO = "AUTO"
    RING = "RING"
    NCCL = "NCCL"


class CommunicationOptions:
    """``tf.distribute.experimental.CommunicationOptions``; ``compression='fp16'`` (chainrule's) sends gradients
    as float16."""

    def __init__(self, bytes_per_pack: int = 0, timeout_seconds=None, implementation=CommunicationImplementation.AUTO,
                 compression: str = Compression.none):
        self.bytes_per_pack, self.timeout_seconds = int(bytes_per_pack), timeout_seconds
        self.implementation, self.compression = implementation, compression


class ClusterResolver:
    """What ``strategy.cluster_resolver`` tells: this process's task (``'worker'``, its rank) among the ranks."""

    task_type = "worker"

    def __init__(self):
        comm = communicator()
        self.task_id, self.num_workers = comm.rank, comm.size


class experimental:  # noqa: N801  (the tf.distribute.experimental namespace)
    CommunicationImplementation = CommunicationImplementation
    CommunicationOptions = CommunicationOptions


class Strategy:
    """The strategy with one replica per MPI rank (one in a plain process)."""

    def __init__(self, communication_options: CommunicationOptions | None = None):
        options = communication_options or CommunicationOptions()
        threshold = options.bytes_per_pack or DEFAULT_THRESHOLD_BYTES
        self._distribution = DataParallel(options.compression, threshold)
        self.cluster_resolver = ClusterResolver()
        self._reducer = GradientReducer(options.compression, threshold)

    @property
    def num_replicas_in_sync(self) -> int:
        return self._distribution.num_replicas_in_sync

    @contextlib.contextmanager
    def scope(self):
        """Models compiled within train data-parallel; ``tf.distribute.get_strategy()`` returns this strategy."""
        global _current
        previous, previous_distribution = _current, _distribution.distribution()
        _current = self
        _distribution.set_distribution(self._distribution)
        try:
            yield self
        finally:
            _current = previous
            _distribution.set_distribution(previous_distribution)

    @replayed  # (in a tf.function, every call runs the replica's step and its exchange again)
    def run(self, fn, args=(), kwargs=None):
        """``fn(*args, **kwargs)`` on this rank (its replica); an optimizer's ``apply`` inside sums the gradients
        over the ranks (TensorFlow's rule: scale the loss by the global batch size)."""
        with step_weight(1.0), _distribution.replica_step(self._combine):
            return fn(*args, **(kwargs or {}))

    def _combine(self, optimizer, grads: list, variables: list) -> list:
        if is_distributed(optimizer):  # (it combines them itself)
            return grads
        return combine_gradients(optimizer, grads, variables, self._reducer, 1.0)

    @replayed
    def reduce(self, reduce_op, value, axis=None):
        """``value`` (this replica's) combined over the replicas: summed or averaged, first over ``axis`` of each
        replica's value when given (then MEAN is the mean over all the replicas' elements along it)."""
        op = str(getattr(reduce_op, "value", reduce_op)).upper()
        if op not in (ReduceOp.SUM, ReduceOp.MEAN):
            raise ValueError(f"reduce_op must be tf.distribute.ReduceOp.SUM or MEAN, got {reduce_op!r}")
        array = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
        comm = communicator()
        if axis is None:
            total = comm.allreduce_array(np.array(array), "sum")
            result = total if op == ReduceOp.SUM else total / comm.size
        else:
            both = np.concatenate([array.sum(axis=axis).reshape(-1), [array.shape[axis]]])
            both = comm.allreduce_array(both, "sum")
            total = both[:-1].reshape(array.sum(axis=axis).shape)
            result = total if op == ReduceOp.SUM else total / both[-1]
        dtype = value.dtype if isinstance(value, Tensor) else np.result_type(np.asarray(value), np.float32)
        return Tensor(np.asarray(result, dtype=dtype))

    def experimental_distribute_dataset(self, dataset, options=None):
        """The dataset's batches (global batches) as this rank's rows of each, rank r taking rows
        ``[B*r//N, B*(r+1)//N)``."""
        return _RankShards(dataset, self._distribution)

    def gather(self, value, axis: int = 0):
        """Every replica's ``value`` concatenated along ``axis`` (``strategy.gather``)."""
        from chainrule.distributed import allgather

        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        gathered = allgather(np.moveaxis(array, axis, 0))
        return Tensor(np.moveaxis(gathered, 0, axis))

    def experimental_local_results(self, value) -> tuple:
        """This process's replica's value, in a tuple (one replica per process)."""
        return (value,)


class _RankShards:
    """Iterates a batched dataset, yielding this rank's rows of every batch."""

    def __init__(self, dataset, distribution: DataParallel):
        self.dataset, self.distribution = dataset, distribution

    def __iter__(self):
        from chainrule.utils import tree

        for batch in self.dataset:
            leaves = [leaf for leaf in tree.flatten(batch) if leaf is not None]
            start, stop = self.distribution.bounds(len(leaves[0]))
            yield tree.map_structure(lambda a: None if a is None else a[start:stop], batch)


class MultiWorkerMirroredStrategy(Strategy):
    """TensorFlow's synchronous data parallelism over workers, one worker per MPI rank.

    ``cluster_resolver`` is accepted for TensorFlow's signature; the ranks come from MPI, not TF_CONFIG."""

    def __init__(self, cluster_resolver=None, communication_options: CommunicationOptions | None = None):
        super().__init__(communication_options)


class MirroredStrategy(Strategy):
    """TensorFlow's synchronous replicas on one machine's devices. chainrule runs one device per process, so the
    replicas are the ranks of ``mpiexec`` (one in a plain process); ``devices`` and ``cross_device_ops`` are accepted
    for TensorFlow's signature."""

    def __init__(self, devices=None, cross_device_ops=None):
        super().__init__()


class OneDeviceStrategy(Strategy):
    """TensorFlow's strategy for one device: one replica, nothing exchanged (also under ``mpiexec``: each process
    trains alone), its work inside ``tf.device(device)``. ``device`` is checked as ``tf.device`` checks it."""

    def __init__(self, device: str):
        self._device = device.to_string() if isinstance(device, DeviceSpec) else str(device)
        DeviceSpec.from_string(self._device)  # a misspelt device is refused now, as TensorFlow does
        self.cluster_resolver = ClusterResolver()

    @property
    def num_replicas_in_sync(self) -> int:
        return 1

    @contextlib.contextmanager
    def scope(self):
        """``tf.distribute.get_strategy()`` returns this strategy; models compiled within train as without one."""
        global _current
        previous, _current = _current, self
        try:
            with device(self._device):
                yield self
        finally:
            _current = previous

    def run(self, fn, args=(), kwargs=None):
        """``fn(*args, **kwargs)`` on the strategy's device (the one replica)."""
        with device(self._device):
            return fn(*args, **(kwargs or {}))

    def reduce(self, reduce_op, value, axis=None):
        """The one replica's ``value``, summed or averaged over ``axis`` when given."""
        op = str(getattr(reduce_op, "value", reduce_op)).upper()
        if op not in (ReduceOp.SUM, ReduceOp.MEAN):
            raise ValueError(f"reduce_op must be tf.distribute.ReduceOp.SUM or MEAN, got {reduce_op!r}")
        tensor = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
        if axis is None:
            return tensor
        return ops.sum(tensor, axis=axis) if op == ReduceOp.SUM else ops.mean(tensor, axis=axis)

    def experimental_distribute_dataset(self, dataset, options=None):
        """The dataset itself: the one replica takes whole batches."""
        return dataset

    def gather(self, value, axis: int = 0):
        """The one replica's ``value``."""
        return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


_current: Strategy | None = None


def get_strategy() -> Strategy:
    """The strategy of the enclosing ``scope()``, or the default one-process strategy."""
    global _default
    if _current is not None:
        return _current
    if _default is None:
        _default = Strategy()
    return _default


def has_strategy() -> bool:
    """Whether a strategy's ``scope()`` is open."""
    return _current is not None


def in_cross_replica_context() -> bool:
    """True outside ``strategy.run`` (TensorFlow's cross-replica context)."""
    from chainrule.distributed.replica import current_weight

    return current_weight() is None


_default: Strategy | None = None
