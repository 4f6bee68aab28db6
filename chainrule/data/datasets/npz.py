"""Read a NumPy ``.npz`` archive from bytes without running pickled code: number arrays are read with pickling
off, and an object array (Keras's imdb.npz and reuters.npz keep their ragged sequences that way) only through
:func:`chainrule.data.datasets.numpy_pickle.loads_int_lists`, which admits lists of ints and nothing else.

>>> import io, numpy as np
>>> buffer = io.BytesIO()
>>> np.savez(buffer, x=np.array([[1, 2], [3]], dtype=object), y=np.array([0, 1]))
>>> arrays = read_npz(buffer.getvalue())
>>> arrays["x"].tolist(), arrays["y"].tolist()
([[1, 2], [3]], [0, 1])
"""
from __future__ import annotations

import io
import zipfile

import numpy as np

from chainrule.data.datasets.numpy_pickle import loads_int_lists


def read_npz(data: bytes) -> dict[str, np.ndarray]:
    """Each ``NAME.npy`` member of the archive ``data`` as ``{NAME: array}``."""
    arrays = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                arrays[member[:-len(".npy")]] = read_npy(archive.read(member))
    return arrays


def read_npy(data: bytes) -> np.ndarray:
    """One ``.npy`` file: its header, then raw numbers, or the pickle of an object array of lists of ints."""
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version[0] == 1:
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version[0] in (2, 3):  # 3.0 differs from 2.0 only in the header's text encoding
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"Unsupported .npy format version {version}")
    if dtype.hasobject:
        array = loads_int_lists(stream.read())
        if array.shape != tuple(shape):
            raise ValueError(f"The pickled array has shape {array.shape}; its .npy header says {tuple(shape)}")
        return array
    stream.seek(0)
    return np.lib.format.read_array(stream, allow_pickle=False)
