"""The array backend: which array module runs the math, the default float type, and the seeded generator.

Every op is written on the array namespace of its inputs (:func:`array_namespace`, Chainer's ``get_array_module``),
so that NumPy, CuPy and the array API standard share one definition; ``xp`` is the chosen backend's namespace, for
arrays made from nothing. :func:`set_backend` ('numpy', 'strict', 'cupy') or ``CHAINRULE_BACKEND`` chooses one for the
process (``CHAINRULE_DEVICE=gpu`` means 'cupy', ``cpu`` means 'numpy'); what the standard lacks, each backend provides
as the extras of :mod:`chainrule.backend.extras`.

>>> from chainrule import backend
>>> backend.floatx(), backend.current()
('float32', 'numpy')
"""
from __future__ import annotations

import os
import threading
from types import ModuleType
from typing import Callable

import numpy as np

from chainrule.backend import allocator, cupy_backend
from chainrule.backend.cupy_backend import CUPY
from chainrule.backend.extras import Backend
from chainrule.backend.numpy_backend import NUMPY
from chainrule.backend.strict_backend import STRICT
from chainrule.backend.strict_backend import numpy_dtype as strict_numpy_dtype

allocator.keep_freed_memory()  # freed arrays serve the next training step (allocator.py)

xp = np
_BACKENDS: dict[str, Backend] = {b.name: b for b in (NUMPY, STRICT, CUPY)}
_DEVICE_BACKENDS = {"cpu": "numpy", "gpu": "cupy", "cuda": "cupy"}
_current: Backend = NUMPY
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


def set_backend(name: str) -> None:
    """Compute with the backend ``name`` ('numpy', 'strict' or 'cupy') from now on in this process.

    >>> set_backend("numpy"); current()
    'numpy'
    >>> set_backend("jax")
    Traceback (most recent call last):
    ...
    ValueError: backend must be one of 'numpy', 'strict', 'cupy', got 'jax'
    """
    global xp, _current
    chosen = _BACKENDS.get(name)
    if chosen is None:
        raise ValueError(f"backend must be one of {', '.join(map(repr, _BACKENDS))}, got {name!r}")
    namespace = chosen.xp  # raises the backend's ImportError (how to install it) before anything changes
    _current, xp = chosen, namespace


def current() -> str:
    """The name of the backend new arrays are made on."""
    return _current.name


def get_backend(name: str | None = None) -> Backend:
    """The backend object ``name`` (the current one when None), with its extras."""
    if name is None:
        return _current
    if name not in _BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, _BACKENDS))}, got {name!r}")
    return _BACKENDS[name]


_backend_of_type: dict[type, Backend | None] = {np.ndarray: NUMPY}


def _owner(array) -> Backend | None:
    """The backend whose array ``array`` is (None for Python numbers, lists, None), remembered per type."""
    kind = type(array)
    try:
        return _backend_of_type[kind]
    except KeyError:
        owner = next((b for b in _BACKENDS.values() if b.owns(array)), None)
        _backend_of_type[kind] = owner
        return owner


def extras_for(*arrays) -> Backend:
    """The backend of the first non-NumPy array among ``arrays`` (NumPy if they all are; the current backend when
    none is an array): whose extras an op calls on them.

    >>> extras_for(np.ones(2), 1.0).name
    'numpy'
    """
    found = None
    for array in arrays:
        if type(array) is np.ndarray:  # the common case first: no lookup
            found = NUMPY
            continue
        owner = _owner(array)
        if owner is NUMPY:
            found = NUMPY
        elif owner is not None:
            return owner
    return found or _current


def array_namespace(*arrays) -> ModuleType:
    """The array namespace of ``arrays`` (array-api-compat's ``array_namespace``, Chainer's ``get_array_module``):
    the module whose functions an op calls on them.

    >>> array_namespace(np.ones(2), 2.0).__name__
    'numpy'
    """
    return extras_for(*arrays).namespace


def is_array(value) -> bool:
    """True for an array of any backend (not a NumPy scalar, a Tensor or a list): ``isinstance(value, xp.ndarray)``
    for every namespace at once.

    >>> is_array(np.ones(2)), is_array(np.float32(1)), is_array([1.0])
    (True, False, False)
    """
    if isinstance(value, np.ndarray):
        return True
    owner = _owner(value)
    return owner is not None and owner is not NUMPY


def is_device_array(value) -> bool:
    """True for an array of a backend other than NumPy's (CuPy's, strict's): values the host reads only by a copy.

    >>> is_device_array(np.ones(2)), is_device_array(1.0)
    (False, False)
    """
    if type(value) is np.ndarray:
        return False
    owner = _owner(value)
    return owner is not None and owner is not NUMPY


def to_device(array):
    """``array`` on the current backend: a NumPy array copied over once when the backend is another, anything else
    as it is (a batch from a NumPy dataset enters a step through here)."""
    if _current is NUMPY or not isinstance(array, np.ndarray):
        return array
    return _current.from_host(array)


def copy(array):
    """A new array with ``array``'s values (C order for a NumPy array, as ``ndarray.copy``), on its backend."""
    if isinstance(array, np.ndarray):
        return array.copy()
    return array_namespace(array).asarray(array, copy=True)


def to_host(array) -> np.ndarray:
    """An array's values as a NumPy array, from whichever backend it lives on (no copy for a NumPy array)."""
    if type(array) is np.ndarray:
        return array
    return extras_for(array).to_host(array)


def numpy_dtype(dtype) -> np.dtype:
    """The NumPy dtype of a dtype of any backend: what a Tensor's ``dtype`` is everywhere (CuPy's are NumPy's; the
    standard's dtypes have no ``kind``, ``itemsize`` or NumPy equality).

    >>> numpy_dtype(np.float32), numpy_dtype(STRICT.xp.int64)
    (dtype('float32'), dtype('int64'))
    """
    if isinstance(dtype, np.dtype):
        return dtype
    if "array_api_strict" in type(dtype).__module__:
        return strict_numpy_dtype(dtype)
    return np.dtype(dtype)


def dtype_kind(dtype) -> str:
    """NumPy's one-letter kind ('f', 'c', 'i', 'u', 'b', ...) of a dtype of any backend.

    >>> dtype_kind(np.dtype("float32")), dtype_kind(STRICT.xp.int64)
    ('f', 'i')
    """
    return dtype.kind if isinstance(dtype, np.dtype) else numpy_dtype(dtype).kind


def physical_devices() -> list[tuple[str, int]]:
    """(device type, index) of every device there is: the CPU, and each GPU CuPy sees (none without CuPy).

    >>> physical_devices()[0]
    ('CPU', 0)
    """
    return [("CPU", 0)] + [("GPU", i) for i in range(CUPY.device_count())]


def move(array, device: str):
    """``array`` on ``device`` ('cpu', or 'cuda'/'gpu' with an optional ':index'): a NumPy array on the CPU, a CuPy
    array on the GPU; no copy when it is there already (PyTorch's ``Tensor.to``).

    >>> move(np.ones(2), "cpu").tolist()
    [1.0, 1.0]
    """
    kind, _, index = str(device).lower().partition(":")
    if kind == "cpu":
        return to_host(array)
    if kind not in ("cuda", "gpu"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:<index>', got {device!r}")
    count = CUPY.device_count()
    if count == 0:
        raise RuntimeError(f"cannot move a tensor to {device!r}: no GPU is visible (the GPU needs CuPy and an NVIDIA "
                           f"GPU: {cupy_backend.INSTALL_HINT})")
    gpu = int(index or 0)
    if not 0 <= gpu < count:
        raise RuntimeError(f"cannot move a tensor to {device!r}: there are {count} GPUs")
    with CUPY.xp.cuda.Device(gpu):
        return CUPY.xp.asarray(array if CUPY.owns(array) else to_host(array))


def _backend_from_environment() -> str:
    """CHAINRULE_BACKEND, else the backend of CHAINRULE_DEVICE (cpu, gpu), else 'numpy'."""
    name = os.environ.get("CHAINRULE_BACKEND", "").strip().lower()
    if name:
        return name
    device = os.environ.get("CHAINRULE_DEVICE", "").strip().lower()
    if device and device not in _DEVICE_BACKENDS:
        raise ValueError(f"CHAINRULE_DEVICE must be 'cpu' or 'gpu', got {device!r}")
    return _DEVICE_BACKENDS.get(device, "numpy")


set_backend(_backend_from_environment())
