"""Tensor fusion (Horovod's) in buckets (PyTorch DDP's): the gradients of one step travel in a few large allreduces
instead of one per variable, because each MPI call pays a fixed latency that dwarfs the transfer time of a small
bias vector.

:class:`GradientReducer` lays a step's gradients out in flat buckets, in reverse order of the variables (the order
in which backward finishes them), closing the first bucket at ``first_bucket_bytes`` (so that it can start early in
backward) and each later one at ``bucket_bytes``. Each gradient is copied into its bucket scaled by this rank's
weight, each bucket is summed across ranks in place (in pieces of at most ``threshold_bytes``), and the results are
views of the buckets shaped like the gradients: one copy in, none out. With ``compression="fp16"`` the buckets are
float16 (half the bytes on the wire) and the sums come back in the gradients' dtype.

The buckets start in order as they fill: all at once in :meth:`GradientReducer.reduce`, or one by one while
backward is still running when the exchange is overlapped (:mod:`chainrule.distributed.overlap`). Either way the
same buckets are summed, so the results are the same bit for bit.

>>> import numpy as np
>>> reducer = GradientReducer()
>>> [None if g is None else g.tolist() for g in reducer.reduce([np.ones(2, np.float32), None, np.full((1, 1), 3.0, np.float32)], 0.5)]
[[0.5, 0.5], None, [[1.5]]]
"""
from __future__ import annotations

import os

import numpy as np

from chainrule.distributed import overlap
from chainrule.distributed.comm import communicator

DEFAULT_THRESHOLD_BYTES = 64 * 1024 * 1024  # Horovod's HOROVOD_FUSION_THRESHOLD: the most one allreduce carries
FIRST_BUCKET_BYTES = 1024 * 1024  # DDP's first bucket (torch.distributed's _DEFAULT_FIRST_BUCKET_BYTES)
BUCKET_BYTES = 25 * 1024 * 1024  # DDP's bucket_cap_mb
COMPRESSIONS = ("none", "fp16")
# a loop that changes its gradients between backward and apply (clipping them, say) would send every step twice:
# after this many such steps, the exchange no longer starts during backward
RESENDS_BEFORE_STOPPING = 2


OVERLAP = False  # whether exchanges overlap backward unless told (docs/distributed.md: measured no gain here)


def overlap_default() -> bool:
    """Whether exchanges overlap backward unless told: ``CHAINRULE_OVERLAP=1`` or ``0`` in the environment, else
    :data:`OVERLAP`."""
    setting = os.environ.get("CHAINRULE_OVERLAP")
    return OVERLAP if setting is None else setting != "0"


class Plan:
    """Where each gradient of one layout goes: ``into[k]`` (its place in its bucket), ``bucket_of[k]``, the
    buckets (flat arrays, in the order they start), how many gradients fill each, and where each result is read."""

    __slots__ = ("key", "buckets", "sizes", "into", "bucket_of", "results", "piece", "packs", "full")

    def __init__(self, key: tuple, grads: list, compression: str, first_bytes: int, bytes_: int, threshold: int):
        self.key = key
        members: list[list[int]] = []
        wires: list[np.dtype] = []
        filled = 0
        for k in reversed(range(len(grads))):  # the last variables' gradients are the first backward finishes
            g = grads[k]
            if g is None:
                continue
            wire = np.dtype(np.float16) if compression == "fp16" and g.dtype.kind == "f" else g.dtype
            cap = first_bytes if len(members) <= 1 else bytes_
            if not members or wire != wires[-1] or filled >= cap:
                members.append([])
                wires.append(wire)
                filled = 0
            members[-1].append(k)
            filled += g.size * wire.itemsize
        self.buckets, self.sizes = [], []
        self.into, self.bucket_of, self.results = [None] * len(grads), [None] * len(grads), []
        for b, (ks, wire) in enumerate(zip(members, wires)):
            flat = np.empty(sum(grads[k].size for k in ks), dtype=wire)
            offset = 0
            for k in ks:
                n, shape, dtype = grads[k].size, grads[k].shape, grads[k].dtype
                into = self.into[k] = flat[offset:offset + n].reshape(shape)
                self.bucket_of[k] = b
                self.results.append((k, into, None) if wire == dtype else (k, np.empty(shape, dtype), into))
                offset += n
            self.buckets.append(flat)
            self.sizes.append(len(ks))
        self.piece = max(1, threshold)  # bytes
        self.packs = [(k, into) for k, into in enumerate(self.into) if into is not None]
        self.full = [0] * len(self.buckets)  # (every bucket packed)

    def exchange(self, weight: float) -> "Exchange":
        return Exchange(self, weight)


class Exchange:
    """One step's exchange through a :class:`Plan`: :meth:`pack` each gradient (in any order); a bucket starts as
    soon as it and every bucket before it are full; :meth:`finish` waits for all and returns the results."""

    __slots__ = ("plan", "weight", "packed", "missing", "started", "requests", "comm")

    def __init__(self, plan: Plan, weight: float):
        self.plan, self.weight = plan, weight
        self.packed = [None] * len(plan.into)  # the array packed for each gradient (to check it is the one applied)
        self.missing = list(plan.sizes)  # gradients still to pack, per bucket
        self.started = 0  # the buckets started so far (in order: every rank issues the same collectives in turn)
        self.requests: list = []
        self.comm = communicator()

    def pack(self, k: int, g: np.ndarray) -> None:
        """Copy gradient ``k``, scaled by the weight, into its bucket; start whatever buckets are now ready."""
        plan = self.plan
        np.multiply(g, self.weight, out=plan.into[k], casting="unsafe")
        self.packed[k] = g
        b = plan.bucket_of[k]
        self.missing[b] -= 1
        if b == self.started and not self.missing[b]:
            self._start_ready()

    def _start_ready(self) -> None:
        plan, comm, missing = self.plan, self.comm, self.missing
        while self.started < len(missing) and not missing[self.started]:
            flat = plan.buckets[self.started]
            step = max(1, plan.piece // flat.itemsize)
            for start in range(0, flat.size, step):
                piece = flat[start:start + step]
                if flat.dtype == np.float16:  # (a user-defined MPI operation: summed at once, not in flight)
                    comm.allreduce_array(piece, "sum")
                else:
                    self.requests.append((comm.start_sum(piece), piece.nbytes))
            self.started += 1

    def progress(self) -> None:
        """Let MPI move the oldest unfinished sum along (nonblocking MPI progresses only inside MPI calls)."""
        requests = self.requests
        while requests and self.comm.done(requests[0][0]):
            requests.pop(0)

    def holds(self, grads: list) -> bool:
        """Whether every gradient packed so far is the very array in ``grads`` (the ones an apply now combines)."""
        return all(p is None or p is g for p, g in zip(self.packed, grads))

    def finish(self, grads: list) -> list:
        """Pack the gradients not packed yet, start the remaining buckets, wait for all; the results as
        :meth:`GradientReducer.reduce` returns them."""
        plan, packed, weight, multiply = self.plan, self.packed, self.weight, np.multiply
        for k, into in plan.packs:  # (the plain exchange packs everything here: no bookkeeping per gradient)
            if packed[k] is None:
                multiply(grads[k], weight, out=into, casting="unsafe")
        self.missing = plan.full
        self._start_ready()
        self.complete()
        out = list(grads)
        for k, view, source in plan.results:
            if source is not None:  # (compressed: back to the gradient's dtype)
                np.copyto(view, source, casting="unsafe")
            out[k] = view
        return out

    def complete(self) -> None:
        """Wait for every sum started (an exchange that no apply takes must still end on every rank alike)."""
        wait = self.comm.wait
        for request, nbytes in self.requests:
            wait(request, nbytes)
        self.requests = []


class GradientReducer:
    """Weighted sums of gradient lists across ranks through reused fused buffers; with ``overlap`` (default:
    :func:`overlap_default`), the sums start during the next backward walk (:mod:`chainrule.distributed.overlap`)."""

    def __init__(self, compression: str = "none", threshold_bytes: int = DEFAULT_THRESHOLD_BYTES,
                 overlap: bool | None = None, first_bucket_bytes: int = FIRST_BUCKET_BYTES,
                 bucket_bytes: int = BUCKET_BYTES):
        compression = getattr(compression, "name", compression)  # (Horovod's Compression.fp16 objects too)
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
        for name, value in (("threshold_bytes", threshold_bytes), ("first_bucket_bytes", first_bucket_bytes),
                            ("bucket_bytes", bucket_bytes)):
            if int(value) <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        self.compression = compression
        self.threshold_bytes = int(threshold_bytes)
        self.first_bucket_bytes, self.bucket_bytes = int(first_bucket_bytes), int(bucket_bytes)
        self.overlap = overlap_default() if overlap is None else bool(overlap)
        self._plans: dict[tuple, Plan] = {}  # layout of the gradients -> its buckets and views, kept between steps
        self.armed = None  # (plan, {id(variable): k}, weight) for the next backward walk (overlap.py)
        self.pending: Exchange | None = None  # the exchange that walk started, for the next reduce to finish
        self.last_weight = 1.0  # the weight of the last reduce: the next walk's, when no step says otherwise
        self.started_in_backward = 0  # how many of the last exchange's buckets had started before reduce
        self.resent = 0  # exchanges sent again because the gradients applied were not those backward finished

    def plan(self, grads: list) -> Plan:
        """The buckets for this layout of gradients (made once per layout)."""
        key = tuple(None if g is None else (g.shape, g.dtype.num) for g in grads)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Plan(key, grads, self.compression, min(self.first_bucket_bytes,
                                           self.bucket_bytes), self.bucket_bytes, self.threshold_bytes)
        return plan

    def reduce(self, grads: list, weight: float, variables: list | None = None) -> list:
        """``sum over ranks of weight * g`` for each array ``g`` of ``grads`` (None stays None), as arrays shaped
        like the inputs: views of the fused buffers, valid until the next backward walk or call. With
        ``variables`` (those the gradients are for) and ``overlap``, the next backward walk that computes all of
        their gradients starts the sums while it runs, and the next call finishes them."""
        plan = self.plan(grads)
        exchange, self.pending = self.pending, None
        if exchange is not None and not (exchange.plan is plan and exchange.weight == weight and
                                         exchange.holds(grads)):
            exchange.complete()  # (what it sent was not these gradients: sent again below, as every rank does)
            self.resent += exchange.plan is plan and exchange.weight == weight  # (the loop changed its gradients)
            exchange = None
        if exchange is None:
            exchange = plan.exchange(weight)
        self.started_in_backward = exchange.started
        out = exchange.finish(grads)
        self.last_weight = weight
        if variables is not None and self.overlap and self.resent < RESENDS_BEFORE_STOPPING:
            overlap.arm(self, plan, variables, grads)
        else:
            self.armed = None
        return out
