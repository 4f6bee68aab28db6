"""``keras.utils.pad_sequences`` (also ``keras.preprocessing.sequence.pad_sequences``): sequences of different
lengths as one array, padded and truncated at the start (``"pre"``, the default) or the end (``"post"``).

>>> sequence = [[1], [2, 3], [4, 5, 6]]
>>> pad_sequences(sequence)
array([[0, 0, 1],
       [0, 2, 3],
       [4, 5, 6]], dtype=int32)
>>> pad_sequences(sequence, padding="post", maxlen=2)
array([[1, 0],
       [2, 3],
       [5, 6]], dtype=int32)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pad_sequences(sequences: Sequence, maxlen: int | None = None, dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value=0.0) -> np.ndarray:
    """An array of shape ``(len(sequences), maxlen) + item_shape``: each sequence cut to its last (``truncating=
    "pre"``) or first (``"post"``) ``maxlen`` items, then filled up with ``value`` before (``padding="pre"``) or
    after (``"post"``) them. ``maxlen`` defaults to the longest sequence; the items may themselves be arrays (all of
    one shape). Strings need ``dtype=object`` (or a string dtype), as in Keras.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    lengths, item_shape = [], None
    for sequence in sequences:
        try:
            lengths.append(len(sequence))
        except TypeError as e:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {sequence}") from e
        if item_shape is None and len(sequence):
            item_shape = np.asarray(sequence).shape[1:]  # the shape of one item, from the first non-empty sequence
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif int(maxlen) < 0:
        raise ValueError(f"`maxlen` must be a non-negative integer, got {maxlen}")
    maxlen = int(maxlen)
    text_dtype = dtype is object or np.dtype(dtype).kind in "USO"
    if isinstance(value, str) and not text_dtype:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\nYou should set "
                         f"`dtype=object` for variable length strings.")
    out = np.full((len(sequences), maxlen) + item_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for index, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen], dtype=dtype)
        if kept.shape[1:] != item_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {index} is different from "
                             f"expected shape {item_shape}")
        if padding == "post":
            out[index, :len(kept)] = kept
        else:
            out[index, maxlen - len(kept):] = kept
    return out
