"""Tensor fusion (Horovod's): the gradients of one step travel in a few large allreduces instead of one per
variable, because each MPI call pays a fixed latency that dwarfs the transfer time of a small bias vector.

:class:`GradientReducer` copies a step's gradients into one flat buffer per dtype (split into pieces of at most
``threshold_bytes``), scaling each by this rank's weight on the way in, sums the buffer across ranks in place, and
hands back views of it shaped like the gradients: one copy in, none out. With ``compression="fp16"`` the buffer is
float16 (half the bytes on the wire) and the sums come back in the gradients' dtype.

>>> import numpy as np
>>> reducer = GradientReducer()
>>> [None if g is None else g.tolist() for g in reducer.reduce([np.ones(2, np.float32), None, np.full((1, 1), 3.0, np.float32)], 0.5)]
[[0.5, 0.5], None, [[1.5]]]
"""
from __future__ import annotations

import numpy as np

from chainrule.distributed.comm import communicator

DEFAULT_THRESHOLD_BYTES = 64 * 1024 * 1024  # Horovod's HOROVOD_FUSION_THRESHOLD
COMPRESSIONS = ("none", "fp16")


class GradientReducer:
    """Weighted sums of gradient lists across ranks through reused fused buffers."""

    def __init__(self, compression: str = "none", threshold_bytes: int = DEFAULT_THRESHOLD_BYTES):
        compression = getattr(compression, "name", compression)  # (Horovod's Compression.fp16 objects too)
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
        if int(threshold_bytes) <= 0:
            raise ValueError(f"threshold_bytes must be positive, got {threshold_bytes}")
        self.compression = compression
        self.threshold_bytes = int(threshold_bytes)
        self._plans: dict[tuple, tuple] = {}  # layout of the gradients -> buffers and views, kept between steps

    def reduce(self, grads: list, weight: float) -> list:
        """``sum over ranks of weight * g`` for each array ``g`` of ``grads`` (None stays None), as arrays shaped
        like the inputs: views of the fused buffer, valid until the next call."""
        key = tuple(None if g is None else (g.shape, g.dtype.num) for g in grads)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(grads)
        packs, buffers, results = plan
        for k, into in packs:  # pack, scaled by this rank's weight (and cast, for compression)
            np.multiply(grads[k], weight, out=into, casting="unsafe")
        comm = communicator()
        for flat, step in buffers:
            for start in range(0, flat.size, step):
                comm.allreduce_array(flat[start:start + step], "sum")
        out = list(grads)
        for k, view, source in results:
            if source is not None:  # (compressed: back to the gradient's dtype)
                np.copyto(view, source, casting="unsafe")
            out[k] = view
        return out

    def _plan(self, grads: list) -> tuple:
        """For one layout of gradients: (where each is packed, the flat buffers with their piece size, and where
        each result is read), all views made once."""
        groups: dict[np.dtype, list[int]] = {}
        for k, g in enumerate(grads):
            if g is not None:
                groups.setdefault(g.dtype, []).append(k)
        packs, buffers, results = [], [], []
        for dtype, members in groups.items():
            wire = np.dtype(np.float16) if self.compression == "fp16" and dtype.kind == "f" else dtype
            flat = np.empty(sum(grads[k].size for k in members), dtype=wire)
            buffers.append((flat, max(1, self.threshold_bytes // wire.itemsize)))
            offset = 0
            for k in members:
                n, shape = grads[k].size, grads[k].shape
                into = flat[offset:offset + n].reshape(shape)
                packs.append((k, into))
                results.append((k, into, None) if wire == dtype else (k, np.empty(shape, dtype), into))
                offset += n
        return packs, buffers, results
