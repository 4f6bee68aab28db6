"""The array backend: which array module runs the math, the default float type, and the seeded generator.

Every op is written against ``xp`` so that NumPy and CuPy share one definition.

>>> from chainrule import backend
>>> backend.floatx()
'float32'
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np

xp = np
_FLOATX = "float32"
_rng = np.random.default_rng()
_op_rngs: dict[int, np.random.Generator] = {}


# TensorFlow's DataType numbers, which tf.zeros(shape, 1) and similar calls pass as a dtype
_TF_DATATYPE_NUMBERS = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 9: "int64",
                        10: "bool", 19: "float16"}


def as_dtype(dtype) -> np.dtype:
    """A NumPy dtype from a dtype, its name, TensorFlow's DataType number, or None (floatx).

    >>> as_dtype(None), as_dtype("int32"), as_dtype(1)
    (dtype('float32'), dtype('int32'), dtype('float32'))
    """
    if dtype is None:
        return np.dtype(_FLOATX)
    if isinstance(dtype, str) and dtype == "string":  # Keras's and TensorFlow's name for text: NumPy str arrays
        return np.dtype(np.str_)
    if isinstance(dtype, (int, np.integer)) and not isinstance(dtype, bool):
        if int(dtype) not in _TF_DATATYPE_NUMBERS:
            raise TypeError(f"dtype {dtype!r} is not a dtype: pass a name such as 'float32' or a NumPy dtype")
        return np.dtype(_TF_DATATYPE_NUMBERS[int(dtype)])
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype {dtype!r} is not a dtype: pass a name such as 'float32' or a NumPy dtype") from None


def floatx() -> str:
    """The default float dtype name for new tensors and layer weights."""
    return _FLOATX


def set_floatx(dtype: str) -> None:
    """Set the default float dtype ('float32' or 'float64')."""
    global _FLOATX
    if dtype not in ("float32", "float64"):
        raise ValueError(f"floatx must be 'float32' or 'float64', got {dtype!r}")
    _FLOATX = dtype


class _ThreadRng(threading.local):
    make: Callable[[], np.random.Generator] | None = None  # set on a tf.data worker thread (use_thread_rng)
    generator: np.random.Generator | None = None  # made from ``make`` when first asked for


_thread = _ThreadRng()


def rng() -> np.random.Generator:
    """The generator behind every random initializer, dropout mask and shuffle (on a tf.data worker thread, that
    thread's own: see :func:`use_thread_rng`)."""
    local = _thread
    if local.make is None:
        return _rng
    if local.generator is None:
        local.generator = local.make()
    return local.generator


def use_thread_rng(make: Callable[[], np.random.Generator] | None) -> None:
    """On the calling thread, make :func:`rng` return the generator ``make()`` builds when first asked (None: the
    shared one again). tf.data's worker threads use it, so that what a ``map`` function draws there neither takes
    from the model's sequence nor depends on how the threads happen to interleave.

    >>> import threading
    >>> main, seen = rng(), []
    >>> def worker():
    ...     use_thread_rng(lambda: np.random.default_rng(7))
    ...     seen.append(rng().integers(100))
    >>> t = threading.Thread(target=worker); t.start(); t.join()
    >>> seen == [np.random.default_rng(7).integers(100)] and rng() is main
    True
    """
    _thread.make = make
    _thread.generator = None


def op_rng(seed: int) -> np.random.Generator:
    """The generator of an op-level seed (``tf.random.normal(..., seed=1)``): TensorFlow's rule, each call draws
    the next values of that seed's sequence, so a run repeats while two calls differ; ``set_seed`` restarts it."""
    rng = _op_rngs.get(seed)
    if rng is None:
        rng = _op_rngs[seed] = np.random.default_rng(seed)
    return rng


def set_seed(seed: int | None) -> None:
    """Reseed the generator (and restart the op-level seeds' sequences); the same seed gives bit-identical runs on
    the CPU."""
    global _rng
    _rng = np.random.default_rng(seed)
    _op_rngs.clear()
