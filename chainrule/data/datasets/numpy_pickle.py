"""Read pickles that hold only NumPy arrays (in tuples, lists, dicts), refusing every other callable.

A pickle can name any importable function and call it while it loads (``os.system`` included). This unpickler
resolves exactly the three names that an array pickle uses and fails on anything else, before anything runs.
Pickle protocols up to 4 are read (protocol 5 pickles arrays through another function, which is not admitted).

>>> import pickle, numpy as np
>>> loads_arrays(pickle.dumps((np.arange(3), np.eye(2)), protocol=4))[0]
array([0, 1, 2])
>>> loads_int_lists(pickle.dumps(np.array([[1, 2], [3]], dtype=object), protocol=3)).tolist()
[[1, 2], [3]]
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


def loads_int_lists(data: bytes) -> np.ndarray:
    """Unpickle an object array whose elements are lists of ints (the ragged word-index sequences of Keras's
    imdb.npz and reuters.npz) and nothing else: any other element (a string, a float, a dict) is refused."""
    array = loads_arrays(data)
    if not isinstance(array, np.ndarray) or array.dtype != object:
        raise pickle.UnpicklingError(f"expected an object array of lists of ints, found {type(array).__name__}"
                                     f"{'' if not isinstance(array, np.ndarray) else ' of dtype ' + str(array.dtype)}")
    for i, item in enumerate(array.flat):
        if not isinstance(item, list) or not all(type(w) is int for w in item):
            bad = type(item).__name__ if not isinstance(item, list) else \
                type(next(w for w in item if type(w) is not int)).__name__ + " inside a list"
            raise pickle.UnpicklingError(f"refusing element {i} of the object array: a {bad}; only lists of ints "
                                         f"are allowed")
    return array
