"""The communicator: which process this is among how many, and the collectives that move arrays between them.

Under ``mpiexec`` (any MPI launcher) the calls go through mpi4py's ``COMM_WORLD``; in a plain process, or when
mpi4py is not installed, a single-process communicator answers the same calls (rank 0 of 1, every collective
returns its input), so a script runs unchanged with or without MPI. Arrays travel with mpi4py's buffer calls
(``Allreduce``, ``Bcast``, ``Allgatherv``), never pickled; other Python objects use the pickling ones.

>>> from chainrule import distributed as dist
>>> dist.init(); dist.rank(), dist.size()
(0, 1)
>>> dist.allreduce([1.0, 3.0], op="sum")
array([1., 3.])
"""
from __future__ import annotations

import os
import time

import numpy as np

# the variables MPI launchers set in the processes they start (MPICH/Hydra, Open MPI, PMIx, Slurm's srun)
_LAUNCHER_VARIABLES = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALRANKID")
OPS = ("sum", "average", "min", "max", "prod")
# float16 reductions, which MPI has no type for: each a user-defined operation over 2-byte words
_HALF_UFUNCS = {"sum": np.add, "average": np.add, "min": np.minimum, "max": np.maximum, "prod": np.multiply}
_yield = getattr(os, "sched_yield", lambda: None)  # (not on Windows, where MPI's Test loop then spins)
# how long a wait polls without sleeping: a fixed time, and the time to move its bytes at a quarter of this
# machine's shared-memory allreduce bandwidth (docs/distributed.md)
YIELDING_S, YIELDING_BYTES_PER_S = 200e-6, 1e9
# how many times a wait tests its sum before offering the core at all: a small sum whose peer is there completes
# within a few tests (~0.1 us each), and offering the core is a system call that costs more (docs/distributed.md)
POLLS_BEFORE_YIELDING = 8


def launched_by_mpi() -> bool:
    """Whether an MPI launcher (mpiexec, mpirun, srun) started this process; ``CHAINRULE_MPI=1`` says so too."""
    return os.environ.get("CHAINRULE_MPI") == "1" or any(name in os.environ for name in _LAUNCHER_VARIABLES)


class LocalCommunicator:
    """One process alone: rank 0 of 1, every collective returns (a copy of) its input."""

    rank, size, local_rank, local_size = 0, 1, 0, 1
    mpi = None

    def Barrier(self) -> None:
        return None

    def allreduce_array(self, array: np.ndarray, op: str) -> np.ndarray:
        return array

    def start_sum(self, array: np.ndarray) -> None:
        return None

    def done(self, request) -> bool:
        return True

    def wait(self, request, nbytes: int = 0, peers_arrived: bool = False) -> None:
        return None

    def bcast_array(self, array: np.ndarray, root: int) -> np.ndarray:
        return array

    def allgather_arrays(self, array: np.ndarray) -> list[np.ndarray]:
        return [array]

    def bcast_object(self, obj, root: int):
        return obj

    def allgather_object(self, obj) -> list:
        return [obj]

    def abort(self, code: int) -> None:
        os._exit(code)


class MPICommunicator:
    """``MPI.COMM_WORLD`` through mpi4py's buffer interface."""

    def __init__(self):
        from mpi4py import MPI

        self.mpi = MPI
        self.comm = MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)  # the ranks on this machine
        self.local_rank, self.local_size = node.Get_rank(), node.Get_size()
        node.Free()
        self._ops = {"sum": MPI.SUM, "average": MPI.SUM, "min": MPI.MIN, "max": MPI.MAX, "prod": MPI.PROD}
        self._float16_ops: dict = {}  # ufunc -> its MPI operation on float16 words, made on first use
        # CHAINRULE_MPI_WAIT=spin: MPI's own blocking wait (for machines whose cores the ranks have to themselves);
        # yielding was faster on a machine shared with other work (docs/distributed.md)
        self._spin = os.environ.get("CHAINRULE_MPI_WAIT") == "spin"
        self._sum = MPI.SUM

    def Barrier(self) -> None:
        self.comm.Barrier()

    def allreduce_array(self, array: np.ndarray, op: str) -> np.ndarray:
        """Reduce a C-contiguous array in place across ranks (``average`` divides the sum by the size)."""
        if array.dtype == np.float16:  # MPI has no half-precision type: a user-defined operation on 2-byte words
            self.comm.Allreduce(self.mpi.IN_PLACE, [array, self.mpi.UINT16_T], op=self._half_op(op))
        elif self._spin:
            self.comm.Allreduce(self.mpi.IN_PLACE, array, op=self._ops[op])
        else:
            self.wait(self.comm.Iallreduce(self.mpi.IN_PLACE, array, op=self._ops[op]), array.nbytes)
        if op == "average":
            array /= array.dtype.type(self.size)
        return array

    def start_sum(self, array: np.ndarray):
        """Start summing a C-contiguous array (not float16) in place across ranks; the request to :meth:`wait` on
        (or to poll with :meth:`done`, which also moves MPI's progress along)."""
        return self.comm.Iallreduce(self.mpi.IN_PLACE, array, op=self._sum)

    def done(self, request) -> bool:
        return request.Test()

    def wait(self, request, nbytes: int = 0, peers_arrived: bool = False) -> None:
        """Until ``request`` (a sum of ``nbytes``) completes: MPI's own (spinning) wait with
        ``CHAINRULE_MPI_WAIT=spin``; else polls, offering the core between polls (``sched_yield``, back at once when
        no one else wants it) for as long as the sum itself could take (:data:`YIELDING_S` plus its bytes at
        :data:`YIELDING_BYTES_PER_S`: MPI moves the bytes only inside these polls), then sleeping between them
        (``time.sleep(0)``, the kernel's timer slack: a peer that is not running gets this core). With
        ``peers_arrived`` (a sum started after one that has completed: every rank is in the exchange) it never
        sleeps: a poll every timer slack would move a large sum one step at a time (docs/distributed.md)."""
        if self._spin:
            request.Wait()
            return
        test = request.Test
        for _ in range(POLLS_BEFORE_YIELDING):
            if test():
                return
        if peers_arrived:
            while not request.Test():
                _yield()
            return
        until = time.perf_counter() + YIELDING_S + nbytes / YIELDING_BYTES_PER_S
        while not request.Test():
            if time.perf_counter() < until:
                _yield()
            else:
                time.sleep(0)

    def _half_op(self, op: str):
        """The MPI operation that combines float16 arrays by ``op`` (NumPy's ufunc on the words as float16)."""
        ufunc = _HALF_UFUNCS[op]
        found = self._float16_ops.get(ufunc)
        if found is None:
            def combine(inbuf, outbuf, datatype):
                out = np.frombuffer(outbuf, dtype=np.float16)
                ufunc(np.frombuffer(inbuf, dtype=np.float16), out, out=out)
            found = self._float16_ops[ufunc] = self.mpi.Op.Create(combine, commute=True)
        return found

    def bcast_array(self, array: np.ndarray, root: int) -> np.ndarray:
        self.comm.Bcast(array, root=root)
        return array

    def allgather_arrays(self, array: np.ndarray) -> list[np.ndarray]:
        """Every rank's array (their first dimensions may differ), in rank order."""
        shapes = self.comm.allgather(array.shape)
        if any(s[1:] != array.shape[1:] for s in shapes):
            raise ValueError(f"allgather: every rank's array must have the same shape past the first dimension, "
                             f"got {shapes}")
        counts = [int(np.prod(s)) for s in shapes]
        out = np.empty(sum(counts), dtype=array.dtype)
        self.comm.Allgatherv(np.ascontiguousarray(array).reshape(-1), [out, counts])
        offsets = np.cumsum([0] + counts)
        return [out[a:b].reshape(s) for a, b, s in zip(offsets[:-1], offsets[1:], shapes)]

    def bcast_object(self, obj, root: int):
        return self.comm.bcast(obj, root=root)

    def allgather_object(self, obj) -> list:
        return self.comm.allgather(obj)

    def abort(self, code: int) -> None:
        self.comm.Abort(code)


_communicator: LocalCommunicator | MPICommunicator | None = None


def communicator() -> LocalCommunicator | MPICommunicator:
    """The process's communicator, made on first use."""
    return _communicator if _communicator is not None else _start()


def init() -> None:
    """Start MPI when an MPI launcher started this process (and mpi4py is installed), else the single-process
    communicator; calling it again changes nothing (Horovod's ``hvd.init()``)."""
    communicator()


def _start() -> LocalCommunicator | MPICommunicator:
    """The communicator: with several ranks, an exception that no one catches then ends every rank (see
    :mod:`chainrule.distributed.failure`)."""
    global _communicator
    if _communicator is None:
        if launched_by_mpi():
            try:
                _communicator = MPICommunicator()
            except ImportError as error:
                raise ImportError("chainrule.distributed: this process was started by an MPI launcher but mpi4py "
                                  "is not installed; install it with: pip install 'chainrule[mpi]'") from error
        else:
            _communicator = LocalCommunicator()
        if _communicator.size > 1:
            from chainrule.distributed import failure

            failure.install(_communicator)
    return _communicator


def is_initialized() -> bool:
    """Whether :func:`init` has run (Horovod's ``is_initialized``)."""
    return _communicator is not None


def mpi_enabled() -> bool:
    """Whether the communicator is MPI's (Horovod's ``mpi_enabled``)."""
    return communicator().mpi is not None


def rank() -> int:
    """This process's number among all, 0 to ``size() - 1``."""
    return communicator().rank


def size() -> int:
    """How many processes take part."""
    return communicator().size


def local_rank() -> int:
    """This process's number among those on the same machine."""
    return communicator().local_rank


def local_size() -> int:
    """How many processes run on this machine."""
    return communicator().local_size


def barrier() -> None:
    """Wait until every rank has got here."""
    communicator().Barrier()
