"""``keras.utils.to_categorical``: class ids to one-hot rows.

>>> to_categorical([0, 2, 1], num_classes=3)
array([[1., 0., 0.],
       [0., 0., 1.],
       [0., 1., 0.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot float32 rows for integer class ids; the output shape is ``x.shape + (num_classes,)`` (a trailing axis
    of size 1 is dropped first, as Keras does). ``num_classes`` defaults to ``max(x) + 1``."""
    x = np.asarray(getattr(x, "data", x))
    if x.dtype.kind == "f":
        if not np.all(np.equal(np.mod(x, 1), 0)):
            raise ValueError("to_categorical expects integer class ids; got non-integer values")
        x = x.astype(np.int64)
    elif x.dtype.kind not in "iu":
        raise TypeError(f"to_categorical expects integer class ids, got dtype {x.dtype}")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    num_classes = int(num_classes)
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"to_categorical: class ids must be in [0, {num_classes}), got values from {int(x.min())} "
                         f"to {int(x.max())}")
    out = np.zeros(x.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(out, x[..., None].astype(np.intp), 1.0, axis=-1)
    return out


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """``x`` divided by its L-``order`` norm along ``axis`` (zeros stay zeros)."""
    x = np.asarray(getattr(x, "data", x))
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
