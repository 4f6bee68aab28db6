"""Read pickles that hold only NumPy arrays (in tuples, lists, dicts), refusing every other callable.

A pickle can name any importable function and call it while it loads (``os.system`` included). This unpickler
resolves exactly the three names that an array pickle uses and fails on anything else, before anything runs.
Pickle protocols up to 4 are read (protocol 5 pickles arrays through another function, which is not admitted).

>>> import pickle, numpy as np
>>> loads_arrays(pickle.dumps((np.arange(3), np.eye(2)), protocol=4))[0]
array([0, 1, 2])
"""
from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np
from numpy._core.multiarray import _reconstruct

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # the name NumPy 1.x wrote
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,  # the name NumPy 2.x writes
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ArraysOnlyUnpickler(pickle.Unpickler):
    """An Unpickler whose ``find_class`` knows only NumPy's array reconstruction."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays are allowed") from None


def loads_arrays(data: bytes) -> Any:
    """Unpickle ``data`` (Python 2 pickles too: their byte strings are read as latin-1, as NumPy needs)."""
    return ArraysOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
