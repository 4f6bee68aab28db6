"""The differentiable collectives, registered ops like every other (the meta-test holds each to a finite-difference
check and a PyTorch comparison): ``allreduce_sum``, a Tensor summed over the ranks, and ``allreduce_mean``, the
ranks' local sums over their counts (SyncBatchNormalization's statistics). The backward of each is an allreduce.

In a data-parallel step the optimizer sums ``w_r * gradient_r`` over the ranks, ``w_r`` being rank r's share of
the global batch (chainrule/distributed/replica.py). For that sum to be the gradient of the global loss
``Σ_q w_q L_q``, the gradient these ops hand back on rank r is ``Σ_q w_q g_q / w_r``; with equal shares (``1/N``,
Horovod's and PyTorch DDP's averaging) it is ``Σ_q g_q``, the backward of PyTorch's
``torch.distributed.nn.functional.all_reduce``.

>>> import numpy as np
>>> from chainrule import Tensor, grad
>>> x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
>>> mean = allreduce_mean(x, 4)  # one process: the local sum over the local count
>>> mean.numpy(), grad(mean.sum(), [x])[0].numpy()
(array([0.25, 0.5 ]), array([0.25, 0.25]))
"""
from __future__ import annotations

import numpy as np

from chainrule.distributed.comm import communicator
from chainrule.distributed.replica import current_weight
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor


def _rank_weight() -> float:
    """This rank's weight in the step's gradient sum: its share of the global batch, or 1/N outside a step."""
    weight = current_weight()
    return 1.0 / communicator().size if weight is None else weight


class AllreduceSum(Function):
    # y = Σ_q x_q   ->   dx_r = Σ_q w_q g_q / w_r
    def forward(self, x):
        self.weight = _rank_weight()
        return communicator().allreduce_array(np.array(x, order="C"), "sum")  # (a copy: it reduces in place)

    def backward(self, g):
        return AllreduceSum.apply(g * self.weight) / self.weight


class AllreduceMean(Function):
    # m = Σ_q s_q / Σ_q n_q   ->   ds_r = Σ_q w_q g_q / (w_r Σ_q n_q)   (n: the counts, constants)
    def forward(self, local_sum, count):
        buffer = np.append(np.asarray(local_sum, np.float64).reshape(-1), float(count))  # one message for both
        communicator().allreduce_array(buffer, "sum")
        self.total = float(buffer[-1])  # (a Python number: a NumPy float64 would promote float32 gradients)
        self.weight = _rank_weight()
        return (buffer[:-1] / self.total).astype(local_sum.dtype).reshape(np.shape(local_sum))

    def backward(self, g):
        return AllreduceSum.apply(g * self.weight) / (self.weight * self.total), None


@op
def allreduce_sum(x: Tensor) -> Tensor:
    """``x`` summed over all ranks (every rank passes the same shape); differentiable, its gradient an allreduce
    of the ranks' gradients (``torch.distributed.nn.functional.all_reduce``)."""
    return AllreduceSum.apply(x)


@op
def allreduce_mean(local_sum: Tensor, count: int) -> Tensor:
    """``Σ_ranks local_sum / Σ_ranks count``: the mean over every rank's rows of what each rank summed over its
    ``count`` rows (one allreduce of both); differentiable in ``local_sum``."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"allreduce_mean: count must be this rank's number of rows (an int >= 0), got {count!r}")
    return AllreduceMean.apply(local_sum, int(count))
