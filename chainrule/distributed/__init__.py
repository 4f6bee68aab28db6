"""Data-parallel training on MPI (mpi4py), with Horovod's names: one process per rank, each on its share of every
batch, gradients averaged across ranks before each update.

    from chainrule import distributed as dist
    dist.init()
    opt = dist.DistributedOptimizer(keras.optimizers.Adam(1e-3 * dist.size()))
    model.compile(optimizer=opt, loss=...)       # or, TensorFlow's way: with MultiWorkerMirroredStrategy().scope()
    model.fit(x_shard, y_shard, callbacks=[...] if dist.rank() == 0 else [])

Run it with ``mpiexec -n 4 python train.py`` (``pip install 'chainrule[mpi]'`` brings mpi4py and MPICH). Without an
MPI launcher, or without mpi4py, every call works for one process (rank 0 of 1). See docs/distributed.md.

>>> from chainrule import distributed as dist
>>> dist.init(); (dist.rank(), dist.size(), dist.local_rank())
(0, 1, 0)
>>> float(dist.allreduce(3.0))
3.0
"""
from __future__ import annotations

from chainrule.distributed.batchnorm import SyncBatchNormalization
from chainrule.distributed.collectives import (allgather, allgather_object, allreduce, broadcast, broadcast_object,
                                               broadcast_variables)
from chainrule.distributed.comm import (barrier, init, is_initialized, launched_by_mpi, local_rank, local_size,
                                        mpi_enabled, rank, size)
from chainrule.distributed.data_parallel import DataParallel
from chainrule.distributed.optimizer import Compression, DistributedOptimizer, is_distributed

Average, Sum = "average", "sum"  # Horovod's op names

__all__ = ["Average", "Compression", "DataParallel", "DistributedOptimizer", "Sum", "SyncBatchNormalization",
           "allgather", "allgather_object", "allreduce", "barrier", "broadcast", "broadcast_object",
           "broadcast_variables", "init", "is_distributed", "is_initialized", "launched_by_mpi", "local_rank",
           "local_size", "mpi_enabled", "rank", "size"]
