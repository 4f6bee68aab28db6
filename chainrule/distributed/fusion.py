"""Tensor fusion (Horovod's) in buckets (PyTorch DDP's): the gradients of one step travel in a few large allreduces
instead of one per variable, because each MPI call pays a fixed latency that dwarfs the transfer time of a small
bias vector.

:class:`GradientReducer` lays a step's gradients out in flat buckets, in reverse order of the variables (the order
in which backward finishes them), closing the first bucket at ``first_bucket_bytes`` (so that it can start early in
backward) and each later one at ``bucket_bytes``; a gradient of at least ``solo_bytes`` has a bucket of its own
(fusing it would save one latency, a few microseconds, for a copy of its bytes that costs more), and the small
gradients after it go on filling the bucket they were filling before it (a bias between two large kernels would
otherwise open a bucket of its own: one more allreduce, one more latency per step), the buckets ordered by when
backward completes them. Each gradient is copied into its bucket scaled by this rank's weight, each bucket is
summed across ranks in place (in pieces of at most ``threshold_bytes``), and the results are views of the buckets
shaped like the gradients: one copy in, none out. Two cases skip even that copy: with ``scale_later`` the weight
is left to the caller (the optimizer's update multiplies by it for free, chainrule/distributed/optimizer.py), and
with ``consume`` (the step's own gradients, which nothing reads afterwards) a gradient alone in its bucket is summed
where it lies, so that the exchange is the raw allreduce of the gradients' bytes. With ``compression="fp16"`` the buckets are float16 (half the bytes on the
wire) and the sums come back in the gradients' dtype.

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
# a gradient this large travels alone: from about this size one more allreduce costs less than copying the gradient
# into a fused buffer (docs/distributed.md), and a gradient alone in its bucket can be summed where it lies
SOLO_BYTES = 256 * 1024
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
    buckets (flat arrays, in the order they start), how many gradients fill each, ``solo[b]`` (the gradient alone
    in bucket b, or None), where each result is read, ``carrier`` (the slot of one number more, with ``carry``),
    ``start_order`` (when all start at once: the smallest first) and whether the exchange is ``single`` (one
    bucket, one sum)."""

    __slots__ = ("key", "layout", "carry", "buckets", "sizes", "into", "bucket_of", "results", "views", "piece",
                 "packs", "full", "solo", "direct", "carrier", "single", "start_order")

    def __init__(self, key: tuple, grads: list, compression: str, first_bytes: int, bytes_: int, threshold: int,
                 solo_bytes: int = SOLO_BYTES, carry: bool = False):
        self.key, self.carry = key, carry
        self.layout = layout(grads)
        members: list[list[int]] = []
        wires: list[np.dtype] = []
        alone: list[bool] = []  # whether each bucket is one gradient of solo_bytes or more
        filling: dict[np.dtype, tuple[int, int]] = {}  # wire dtype -> (its bucket of small gradients open, bytes)
        done: list[int] = []  # each bucket's completion: its last gradient's place in backward's order
        first_small = None  # the first bucket of small gradients (closed at first_bytes, to start early)
        for place, k in enumerate(reversed(range(len(grads)))):  # the last variables' gradients come first
            g = grads[k]
            if g is None:
                continue
            wire = np.dtype(np.float16) if compression == "fp16" and g.dtype.kind == "f" else g.dtype
            nbytes = g.size * wire.itemsize
            if wire == g.dtype and nbytes >= solo_bytes:  # (alone: small gradients after it keep their bucket)
                members.append([k])
                wires.append(wire)
                alone.append(True)
                done.append(place)
                continue
            b, filled = filling.get(wire, (None, 0))
            if b is None or filled >= (first_bytes if b == first_small else bytes_):
                b, filled = len(members), 0
                first_small = b if first_small is None else first_small
                members.append([])
                wires.append(wire)
                alone.append(False)
                done.append(place)
            members[b].append(k)
            done[b] = place
            filling[wire] = (b, filled + nbytes)
        # buckets start in order on every rank, so they are ordered by when backward completes them
        order = sorted(range(len(members)), key=done.__getitem__)
        members, wires, alone = [members[b] for b in order], [wires[b] for b in order], [alone[b] for b in order]
        self.buckets, self.sizes = [], []
        self.solo = [ks[0] if solo else None for ks, solo in zip(members, alone)]
        self.into, self.bucket_of, self.results = [None] * len(grads), [None] * len(grads), []
        # with ``carry``, one number more rides at the end of the last bucket of floats of 4 bytes or more that is
        # not a gradient alone (the loss, so that it needs no allreduce of its own)
        carrier = next((b for b in reversed(range(len(members))) if wires[b].kind == "f" and
                        wires[b].itemsize >= 4 and not alone[b]), None) if carry else None
        self.carrier = None
        for b, (ks, wire) in enumerate(zip(members, wires)):
            flat = np.empty(sum(grads[k].size for k in ks) + (b == carrier), dtype=wire)
            if b == carrier:
                self.carrier = flat[-1:]
            offset = 0
            for k in ks:
                n, shape, dtype = grads[k].size, grads[k].shape, grads[k].dtype
                into = self.into[k] = flat[offset:offset + n].reshape(shape)
                self.bucket_of[k] = b
                self.results.append((k, into, None) if wire == dtype else (k, np.empty(shape, dtype), into))
                offset += n
            self.buckets.append(flat)
            self.sizes.append(len(ks))
        self.views = [None] * len(grads)  # what the exchange returns: the result of each gradient, None for None
        for k, view, _ in self.results:
            self.views[k] = view
        self.piece = max(1, threshold)  # bytes
        self.packs = [(k, into) for k, into in enumerate(self.into) if into is not None]
        self.full = [0] * len(self.buckets)  # (every bucket packed)
        self.direct = [(b, k) for b, k in enumerate(self.solo) if k is not None]
        smallest = min(range(len(self.buckets)), key=lambda b: self.buckets[b].nbytes) if self.buckets else 0
        self.start_order = [smallest] + [b for b in range(len(self.buckets)) if b != smallest]
        # one bucket, one sum, no cast back: the exchange without an Exchange's bookkeeping (:meth:`sum_at_once`)
        self.single = len(self.buckets) == 1 and not self.direct and self.buckets[0].nbytes <= self.piece and \
            self.buckets[0].dtype != np.float16 and all(source is None for _, _, source in self.results)

    def sum_at_once(self, grads: list, weight: float, extra: float | None) -> list:
        """The whole exchange of a :attr:`single` plan: pack, one sum, the views."""
        if extra is not None:
            self.carrier[0] = extra
        pack(self.packs, grads, weight)
        comm, flat = communicator(), self.buckets[0]
        comm.wait(comm.start_sum(flat), flat.nbytes)
        return list(self.views)

    def exchange(self, weight: float) -> "Exchange":
        return Exchange(self, weight)


def layout(grads: list) -> list:
    """Each gradient's (shape, dtype), None for None: what a :class:`Plan` is made for."""
    return [g if g is None else (g.shape, g.dtype) for g in grads]


def pack(places: list, grads: list, weight: float) -> None:
    """Copy each gradient ``grads[k]`` of ``places`` ((k, its place in a bucket) pairs), times ``weight``, into its
    place."""
    if weight == 1.0:
        for k, into in places:
            into[...] = grads[k]  # (a copy, cast to the bucket's dtype: the quickest call NumPy has for it)
    else:
        multiply = np.multiply
        for k, into in places:
            multiply(grads[k], weight, out=into, casting="unsafe")


def _summable_where_it_lies(g: np.ndarray, dtype: np.dtype) -> bool:
    """Whether an MPI sum can run on ``g`` itself: its own memory (not a view into another array), C-contiguous,
    writeable, of the bucket's dtype."""
    return g.base is None and g.dtype == dtype and g.flags.c_contiguous and g.flags.writeable


class Exchange:
    """One step's exchange through a :class:`Plan`: :meth:`pack` each gradient (in any order); a bucket starts as
    soon as it and every bucket before it are full; :meth:`finish` waits for all and returns the results."""

    __slots__ = ("plan", "weight", "packed", "missing", "started", "requests", "comm", "sources")

    def __init__(self, plan: Plan, weight: float):
        self.plan, self.weight = plan, weight
        self.packed = [None] * len(plan.into)  # the array packed for each gradient (to check it is the one applied)
        self.missing = list(plan.sizes)  # gradients still to pack, per bucket
        self.started = 0  # the buckets started so far (in order: every rank issues the same collectives in turn)
        self.requests: list = []
        self.comm = communicator()
        self.sources = None  # {bucket: the gradient summed in place instead of the bucket}

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
        missing = self.missing
        while self.started < len(missing) and not missing[self.started]:
            self._start(self.started)
            self.started += 1

    def _start(self, b: int) -> None:
        """Start summing bucket ``b`` (or the gradient summed where it lies instead), in pieces of at most the
        plan's piece."""
        plan, comm, sources = self.plan, self.comm, self.sources
        flat = plan.buckets[b] if sources is None else sources.get(b, plan.buckets[b])
        step = max(1, plan.piece // flat.itemsize)
        if flat.dtype == np.float16:  # (a user-defined MPI operation: summed at once, not in flight)
            for start in range(0, flat.size, step):
                comm.allreduce_array(flat[start:start + step], "sum")
        elif flat.size <= step:
            self.requests.append((comm.start_sum(flat), flat.nbytes))
        else:
            for start in range(0, flat.size, step):
                piece = flat[start:start + step]
                self.requests.append((comm.start_sum(piece), piece.nbytes))

    def progress(self) -> None:
        """Let MPI move the oldest unfinished sum along (nonblocking MPI progresses only inside MPI calls)."""
        requests = self.requests
        while requests and self.comm.done(requests[0][0]):
            requests.pop(0)

    def holds(self, grads: list) -> bool:
        """Whether every gradient packed so far is the very array in ``grads`` (the ones an apply now combines)."""
        return all(p is None or p is g for p, g in zip(self.packed, grads))

    def _sum_in_place(self, grads: list) -> set:
        """The gradients alone in buckets not started yet that can be summed where they lie (each scaled by the
        weight in place first): noted in :attr:`sources`; their positions."""
        plan, packed = self.plan, self.packed
        taken = set()
        for b, k in plan.direct:
            g = grads[k]
            if b >= self.started and packed[k] is None and _summable_where_it_lies(g, plan.buckets[b].dtype):
                taken.add(k)
        if len(taken) > 1 and len({id(grads[k]) for k in taken}) < len(taken):  # (one array for two variables)
            taken = set()
        if taken:
            weight = self.weight
            self.sources = {plan.bucket_of[k]: grads[k].reshape(-1) for k in taken}
            if weight != 1.0:
                for k in taken:
                    np.multiply(grads[k], weight, out=grads[k])
        return taken

    def finish(self, grads: list, consume: bool = False, extra: float | None = None) -> list:
        """Pack the gradients not packed yet (with ``consume``, sum those alone in their buckets where they lie
        instead: the arrays of ``grads`` then hold the results), and ``extra`` into the plan's carrier, start the
        remaining buckets, wait for all; the results as :meth:`GradientReducer.reduce` returns them."""
        plan, packed, weight = self.plan, self.packed, self.weight
        if extra is not None:
            plan.carrier[0] = extra
        taken = self._sum_in_place(grads) if consume and plan.direct else ()
        pack([(k, into) for k, into in plan.packs if packed[k] is None and k not in taken]
             if taken or self.missing != plan.sizes else plan.packs, grads, weight)  # (any packed: in backward)
        self.missing = plan.full
        if self.started:  # (some began in backward: the rest in order, each waited for as long as it could take)
            self._start_ready()
            self.complete()
        else:  # the smallest bucket first: waiting for it is waiting for every rank to come; then only bytes move
            for b in plan.start_order:
                self._start(b)
            self.started = len(plan.buckets)
            self.complete(arrival_first=True)
        out = list(plan.views)
        for k, view, source in plan.results:
            if source is not None:  # (compressed: back to the gradient's dtype)
                view[...] = source
        for k in taken:
            out[k] = grads[k]
        return out

    def complete(self, arrival_first: bool = False) -> None:
        """Wait for every sum started (an exchange that no apply takes must still end on every rank alike), each
        for as long as its bytes could take before sleeping between polls; with ``arrival_first`` (the first sum
        started after no compute, the others right after it, on every rank), only the first may wait for a late
        rank: the others are polled without sleeping, since every rank is there and only bytes are left to move."""
        requests, wait = self.requests, self.comm.wait
        for i, (request, nbytes) in enumerate(requests):
            wait(request, nbytes, arrival_first and i > 0)
        self.requests = []


class GradientReducer:
    """Weighted sums of gradient lists across ranks through reused fused buffers; with ``overlap`` (default:
    :func:`overlap_default`), the sums start during the next backward walk (:mod:`chainrule.distributed.overlap`)."""

    def __init__(self, compression: str = "none", threshold_bytes: int = DEFAULT_THRESHOLD_BYTES,
                 overlap: bool | None = None, first_bucket_bytes: int = FIRST_BUCKET_BYTES,
                 bucket_bytes: int = BUCKET_BYTES, solo_bytes: int = SOLO_BYTES):
        compression = getattr(compression, "name", compression)  # (Horovod's Compression.fp16 objects too)
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
        for name, value in (("threshold_bytes", threshold_bytes), ("first_bucket_bytes", first_bucket_bytes),
                            ("bucket_bytes", bucket_bytes), ("solo_bytes", solo_bytes)):
            if int(value) <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        self.compression = compression
        self.threshold_bytes = int(threshold_bytes)
        self.first_bucket_bytes, self.bucket_bytes = int(first_bucket_bytes), int(bucket_bytes)
        self.solo_bytes = int(solo_bytes)
        self.overlap = overlap_default() if overlap is None else bool(overlap)
        self._plans: dict[tuple, Plan] = {}  # layout of the gradients -> its buckets and views, kept between steps
        self._last_plan: Plan | None = None  # (a step's layout is nearly always the last one's: checked first)
        self.armed = None  # (plan, {id(variable): k}, weight) for the next backward walk (overlap.py)
        self.pending: Exchange | None = None  # the exchange that walk started, for the next reduce to finish
        self.last_weight = 1.0  # the weight of the last reduce: the next walk's, when no step says otherwise
        self.scales_later = False  # whether the last reduce left the weight to its caller (the next walk's guess)
        self.started_in_backward = 0  # how many of the last exchange's buckets had started before reduce
        self.resent = 0  # exchanges sent again because the gradients applied were not those backward finished
        self.summed_in_place = 0  # how many gradients the last exchange summed where they lay
        self.extra_sum: float | None = None  # the sum over the ranks of the last reduce's ``extra``

    def plan(self, grads: list, carry: bool = False) -> Plan:
        """The buckets for this layout of gradients (made once per layout); ``carry``: with a slot for one number
        more (:attr:`Plan.carrier`, None when no bucket can take it)."""
        shapes, last = layout(grads), self._last_plan
        if last is not None and last.carry == carry and last.layout == shapes:  # (no hashing of the layout)
            return last
        key = tuple([None if s is None else (s[0], s[1].num) for s in shapes])
        plan = self._plans.get((key, carry))
        if plan is None:
            plan = self._plans[key, carry] = Plan(key, grads, self.compression, min(
                self.first_bucket_bytes, self.bucket_bytes), self.bucket_bytes, self.threshold_bytes,
                self.solo_bytes, carry)
        self._last_plan = plan
        return plan

    def reduce(self, grads: list, weight: float, variables: list | None = None, scale_later: bool = False,
               consume: bool = False, extra: float | None = None) -> list:
        """``sum over ranks of weight * g`` for each array ``g`` of ``grads`` (None stays None), as arrays shaped
        like the inputs: views of the fused buffers, valid until the next backward walk or call. ``scale_later``
        (every rank's weight being the same): the plain sums, which the caller multiplies by the weight.
        ``consume``: the arrays of ``grads`` may be overwritten (a gradient alone in its bucket is summed where it
        lies, and returned). ``extra``: a number summed over the ranks too (as it is, unweighted), in a bucket of
        the gradients unless the exchange is overlapped: the sum in :attr:`extra_sum`. With ``variables`` (those
        the gradients are for) and ``overlap``, the next backward walk that computes all of their gradients starts
        the sums while it runs, and the next call finishes them."""
        carry = extra is not None and not self.overlap  # (an overlapped walk started the buckets without the slot)
        plan = self.plan(grads, carry)
        if extra is not None and plan.carrier is None:
            self.extra_sum = float(communicator().allreduce_array(np.array([extra], np.float64), "sum")[0])
            extra = None
        packing = 1.0 if scale_later else weight
        self.last_weight, self.scales_later = weight, scale_later
        if self.pending is None and plan.single and not (variables is not None and self.overlap):
            self.started_in_backward = self.summed_in_place = 0
            self.armed = None
            out = plan.sum_at_once(grads, packing, extra)
            if extra is not None:
                self.extra_sum = float(plan.carrier[0])
            return out
        exchange, self.pending = self.pending, None
        if exchange is not None and not (exchange.plan is plan and exchange.weight == packing and
                                         exchange.holds(grads)):
            exchange.complete()  # (what it sent was not these gradients: sent again below, as every rank does)
            self.resent += exchange.plan is plan and exchange.weight == packing  # (the loop changed its gradients)
            exchange = None
        if exchange is None:
            exchange = Exchange(plan, packing)
        self.started_in_backward = exchange.started
        out = exchange.finish(grads, consume, extra)
        if extra is not None:
            self.extra_sum = float(plan.carrier[0])
        self.summed_in_place = 0 if exchange.sources is None else len(exchange.sources)
        if variables is not None and self.overlap and self.resent < RESENDS_BEFORE_STOPPING:
            overlap.arm(self, plan, variables, grads)
        else:
            self.armed = None
        return out

    def packing_weight(self, weight: float, uniform: bool) -> float:
        """The weight the next walk packs with, for a step of ``weight``: 1 when the reducer left the weight to its
        caller last time and every rank's weight is the same (the guess is checked by the next reduce)."""
        return 1.0 if self.scales_later and uniform else weight
