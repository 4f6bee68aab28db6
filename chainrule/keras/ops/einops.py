"""``keras.ops.rearrange``: einops-style reordering, merging and splitting of axes, e.g.
``'b (h h1) (w w1) c -> b h w (c h1 w1)'`` (a reshape, a transpose and a reshape: differentiable).

>>> import numpy as np
>>> from chainrule.keras import ops
>>> images = np.zeros((32, 30, 40, 3), "float32")
>>> ops.rearrange(images, "b h w c -> b c h w").shape
TensorShape([32, 3, 30, 40])
>>> ops.rearrange(images, "b (h1 h) (w1 w) c -> (b h1 w1) h w c", h1=2, w1=2).shape
TensorShape([128, 15, 20, 3])
"""
from __future__ import annotations

import math
import re

from chainrule.engine.tensor import Tensor, TensorLike
from chainrule.keras.ops.core import to_tensor
from chainrule.keras.ops.symbolic import wrap_namespace
from chainrule.ops import shape as _shape

_TOKEN = re.compile(r"\(([^()]*)\)|(\w+)|(\S)")


def _groups(side: str, pattern: str) -> list[list[str]]:
    """One side of a pattern as its axes, each a group of elementary axis names ('(h w)' -> ['h', 'w'])."""
    groups = []
    for group, name, other in _TOKEN.findall(side):
        if other:
            raise ValueError(f"rearrange: unexpected {other!r} in pattern {pattern!r} (axis names, parenthesised "
                             f"groups and '->' only)")
        names = group.split() if group or not name else [name]
        for unit in [n for n in names if n.isdigit()]:  # einops' anonymous axes: '1' (or '()') is a unit axis
            if unit != "1":
                raise ValueError(f"rearrange: non-unitary anonymous axes are not supported: {unit!r} in pattern "
                                 f"{pattern!r} (name the axis and give its length)")
        groups.append([n for n in names if n != "1"])
    return groups


def rearrange(tensor: TensorLike, pattern: str, **axes_lengths) -> Tensor:
    """Reorder (``'b h w c -> b c h w'``), merge (``'(b h)'``) and split (``'(h1 h)'`` with ``h1=2``) axes as the
    einops pattern says; every input axis name must appear on the output side and vice versa. A ``1`` (or ``()``)
    is a unit axis: dropped on the input side, added on the output side.

    >>> import numpy as np
    >>> tuple(rearrange(np.zeros((5, 2, 1)), "t batch 1 -> batch t").shape)
    (2, 5)
    """
    x = to_tensor(tensor, "tensor")
    if pattern.count("->") != 1:
        raise ValueError(f"rearrange: the pattern must have one '->'. Received: pattern={pattern!r}")
    left, right = (_groups(side, pattern) for side in pattern.split("->"))
    if len(left) != x.ndim:
        raise ValueError(f"rearrange: the pattern's input side has {len(left)} axes, the tensor has {x.ndim} "
                         f"(shape {tuple(x.shape)})")
    inputs, outputs = [n for g in left for n in g], [n for g in right for n in g]
    if sorted(inputs) != sorted(outputs) or len(set(inputs)) != len(inputs):
        raise ValueError(f"rearrange: both sides must name the same axes, each once. Received: pattern={pattern!r}")
    unknown = set(axes_lengths) - set(inputs)
    if unknown:
        raise ValueError(f"rearrange: axes_lengths names axes not in the pattern: {sorted(unknown)}")
    sizes = {}
    for group, size in zip(left, x.shape):
        known = [axes_lengths[n] for n in group if n in axes_lengths]
        missing = [n for n in group if n not in axes_lengths]
        if len(missing) > 1:
            raise ValueError(f"rearrange: cannot split an axis of size {size} into {group}: give the lengths of all "
                             f"but one of them")
        if missing:
            whole = math.prod(known)
            if size % whole:
                raise ValueError(f"rearrange: an axis of size {size} does not split into {group} with "
                                 f"{dict((n, axes_lengths[n]) for n in group if n in axes_lengths)}")
            sizes[missing[0]] = size // whole
        elif not group and size != 1:
            raise ValueError(f"rearrange: an anonymous axis ('1' or '()') must have size 1, got size {size} in "
                             f"pattern {pattern!r}")
        elif math.prod(known) != size:
            raise ValueError(f"rearrange: the lengths of {group} do not multiply to the axis's size {size}")
        sizes.update((n, axes_lengths[n]) for n in group if n in axes_lengths)
    x = _shape.reshape(x, tuple(sizes[n] for n in inputs))
    x = _shape.transpose(x, tuple(inputs.index(n) for n in outputs))
    return _shape.reshape(x, tuple(math.prod(sizes[n] for n in group) for group in right))


__all__ = ["rearrange"]
wrap_namespace(globals(), __all__, "keras.ops.")
