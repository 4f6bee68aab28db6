"""Weight initializers (``keras.initializers``): callables ``init(shape, dtype=None) -> array``.

Without a seed they draw from ``chainrule.backend.rng()`` (so ``backend.set_seed`` makes a whole model reproducible);
with an integer ``seed`` every call returns the same values. ``dtype=None`` means ``backend.floatx()``.

>>> w = GlorotUniform(seed=0)((784, 10)).numpy()
>>> w.shape, w.dtype, bool(abs(w).max() <= (6 / (784 + 10)) ** 0.5)
((784, 10), dtype('float32'), True)
"""
from __future__ import annotations

import functools
import math

import numpy as np

from chainrule import backend
from chainrule.engine.tensor import Tensor
from chainrule.keras import configurable as _config
from chainrule.keras.configurable import serialize
from chainrule.ops import signal as _signal

_TRUNCATED_STD = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


def compute_fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) as Keras computes them: a kernel (..., in, out) multiplies in/out by its receptive field
    (kh * kw for a Conv2D kernel (kh, kw, in, out)); a vector uses its length for both; a scalar counts as 1."""
    shape = tuple(int(n) for n in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _dtype(dtype, float_only: bool = True) -> np.dtype:
    dtype = np.dtype(backend.floatx() if dtype is None else dtype)
    if float_only and dtype.kind != "f":
        raise TypeError(f"random initializers make floating-point values, got dtype {dtype}")
    return dtype


def _returning_tensor(call):
    """An initializer's ``__call__`` that hands its array back as a tensor, as Keras's initializers return backend
    tensors (``float(init(shape=(1, 1)))``, ``init(shape).numpy()``)."""

    @functools.wraps(call)
    def wrapper(self, *args, **kwargs):
        value = call(self, *args, **kwargs)
        return Tensor._wrap(value) if isinstance(value, np.generic) or backend.is_array(value) else value

    wrapper.__returns_tensor__ = True
    return wrapper


class Initializer(_config.Configurable):
    """Base class: subclasses define ``__call__(shape, dtype=None)`` and, when they take arguments, ``get_config``;
    what their ``__call__`` returns reaches the caller as a tensor."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is not None and not getattr(call, "__returns_tensor__", False):
            cls.__call__ = _returning_tensor(call)

    def __call__(self, shape, dtype=None) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(shape, dtype=None)")

    def clone(self) -> "Initializer":
        return type(self).from_config(self.get_config())


class Constant(Initializer):
    """Every element equal to ``value``."""

    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return backend.xp.full(tuple(shape), self.value, dtype=_dtype(dtype, float_only=False))

    def get_config(self) -> dict:
        return {"value": self.value}


class Zeros(Constant):
    """All zeros (Keras's default for biases)."""

    def __init__(self):
        super().__init__(0.0)

    def get_config(self) -> dict:
        return {}


class Ones(Constant):
    """All ones (batch normalization's gamma)."""

    def __init__(self):
        super().__init__(1.0)

    def get_config(self) -> dict:
        return {}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None) -> np.ndarray:
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, got {tuple(shape)}")
        return backend.xp.eye(*shape, dtype=_dtype(dtype, float_only=False)) * self.gain

    def get_config(self) -> dict:
        return {"gain": self.gain}


class RandomInitializer(Initializer):
    """Base of the random initializers: ``seed=None`` draws from the shared generator, an int makes every call equal."""

    def __init__(self, seed: int | None = None):
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f"{type(self).__name__}: seed must be an int or None, got {seed!r}")
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        return backend.rng() if self.seed is None else np.random.default_rng(int(self.seed))

    def _normal(self, shape, dtype, mean: float, stddev: float) -> np.ndarray:
        dtype = _dtype(dtype)
        out = self._rng().standard_normal(tuple(shape), dtype=dtype)
        out *= stddev
        out += mean
        return backend.xp.asarray(out)

    def _uniform(self, shape, dtype, low: float, high: float) -> np.ndarray:
        dtype = _dtype(dtype)
        out = self._rng().random(tuple(shape), dtype=dtype)
        out *= high - low
        out += low
        return backend.xp.asarray(out)

    def _truncated_normal(self, shape, dtype, mean: float, stddev: float) -> np.ndarray:
        """Normal draws, redrawing any beyond two standard deviations (``tf.random.truncated_normal``)."""
        dtype = _dtype(dtype)
        gen = self._rng()
        out = gen.standard_normal(tuple(shape), dtype=dtype)
        outside = np.abs(out) > 2
        while outside.any():
            out[outside] = gen.standard_normal(int(outside.sum()), dtype=dtype)
            outside = np.abs(out) > 2
        out *= stddev
        out += mean
        return backend.xp.asarray(out)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Normal draws with ``mean`` and ``stddev``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return self._normal(shape, dtype, self.mean, self.stddev)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal draws with ``mean`` and ``stddev``, none farther than two ``stddev`` from the mean."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return self._truncated_normal(shape, dtype, self.mean, self.stddev)


class RandomUniform(RandomInitializer):
    """Uniform draws in ``[minval, maxval)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return self._uniform(shape, dtype, self.minval, self.maxval)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(RandomInitializer):
    """Draws with variance ``scale / n``, where n is fan_in, fan_out or their mean (``mode``). ``distribution``:
    'truncated_normal' (std corrected for the truncation), 'untruncated_normal', or 'uniform' (limit sqrt(3 var))."""

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in self.MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {self.MODES}, got {mode!r}")
        distribution = "truncated_normal" if distribution == "normal" else distribution.lower()
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: distribution must be one of {self.DISTRIBUTIONS}, got {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def variance(self, shape) -> float:
        """The variance of the values this initializer draws for ``shape``."""
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        return self.scale / max(1.0, n)

    def __call__(self, shape, dtype=None) -> np.ndarray:
        var = self.variance(shape)
        if self.distribution == "truncated_normal":
            return self._truncated_normal(shape, dtype, 0.0, math.sqrt(var) / _TRUNCATED_STD)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, dtype, 0.0, math.sqrt(var))
        limit = math.sqrt(3.0 * var)
        return self._uniform(shape, dtype, -limit, limit)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _variance_scaling(name: str, scale: float, mode: str, distribution: str, doc: str):
    """A named VarianceScaling preset (GlorotUniform, HeNormal, ...) whose config holds only the seed."""
    def __init__(self, seed: int | None = None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc,
                                            "__module__": __name__})


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform",
                                  "Uniform in ±sqrt(6 / (fan_in + fan_out)): Keras's default kernel initializer.")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                                 "Truncated normal with variance 2 / (fan_in + fan_out).")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform", "Uniform in ±sqrt(6 / fan_in).")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal",
                             "Truncated normal with variance 2 / fan_in (for ReLU networks).")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform", "Uniform in ±sqrt(3 / fan_in).")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal",
                                "Truncated normal with variance 1 / fan_in (for SELU networks).")


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix (rows or columns orthonormal) times ``gain``; higher-rank shapes are flattened to
    (prod(shape[:-1]), shape[-1]), as Keras does for recurrent and convolution kernels."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank 2 or more, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # make the decomposition unique, so the result is uniformly distributed
        q = q if rows >= cols else q.T
        return backend.xp.asarray((self.gain * q).reshape(shape).astype(_dtype(dtype)))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


# the windows SciPy's get_window knows that chainrule computes: name -> (length, periodic) -> samples
_WINDOWS = {"hann": _signal.hann_window, "hamming": _signal.hamming_window,
            "boxcar": lambda length, periodic, dtype: np.ones(length, dtype)}


def named_window(name: str, length: int, periodic: bool) -> np.ndarray:
    """The window SciPy's ``get_window(name, length, fftbins=periodic)`` gives, for the names chainrule has."""
    if name not in _WINDOWS:
        raise ValueError(f"Unknown window type {name!r}: chainrule has {', '.join(map(repr, _WINDOWS))} (or pass the "
                         f"window's samples)")
    return _WINDOWS[name](length, periodic, "float64")


def check_stft_scaling(scaling) -> None:
    """Keras's check of an STFT's ``scaling`` argument."""
    if scaling is not None and scaling not in ["density", "spectrum"]:
        raise ValueError(f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling}")


class STFT(Initializer):
    """Kernels (frame_length, input_channels, bins) of the STFT as a convolution: cos (``side='real'``) or sin
    (``'imag'``) of -2π·t·k / (2·(bins - 1)), times the window, divided by its root power (``scaling='density'``)
    or its sum (``'spectrum'``), as Keras's ``keras.initializers.STFT``.

    >>> kernel = STFT("real", window=None)((4, 1, 3)).numpy()  # 4 samples, 1 channel, 3 bins of a 4-point FFT
    >>> kernel.shape, bool(np.allclose(kernel[:, 0, 1], np.cos(-np.pi * np.arange(4) / 2)))
    ((4, 1, 3), True)
    """

    def __init__(self, side: str = "real", window="hann", scaling: str | None = "density", periodic: bool = False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            named_window(window, 1, periodic)
        check_stft_scaling(scaling)
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None) -> np.ndarray:
        frame_length, _, bins = shape
        time = np.arange(frame_length, dtype=np.float64).reshape(frame_length, 1, 1)
        frequency = np.arange(bins, dtype=np.float64).reshape(1, 1, bins) / ((bins - 1) * 2)
        angles = -2 * time * frequency * np.pi
        kernel = np.cos(angles) if self.side == "real" else np.sin(angles)
        if self.window is not None:
            window = (named_window(self.window, frame_length, self.periodic) if isinstance(self.window, str)
                      else np.asarray(self.window, dtype=np.float64))
            if window.ndim != 1 or window.shape[-1] != frame_length:
                raise ValueError(f"The shape of `window` must be equal to [frame_length].Received: window shape="
                                 f"{window.shape}")
            window = window.reshape(frame_length, 1, 1)
            scale = {"density": np.sqrt(np.sum(window ** 2)), "spectrum": np.sum(np.abs(window))}.get(self.scaling, 1)
            kernel = kernel * window / scale
        return kernel.astype(dtype or "float32")

    def get_config(self) -> dict:
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}


ALL_INITIALIZERS = {cls.__name__: cls for cls in (
    Constant, Zeros, Ones, Identity, RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling, GlorotUniform,
    GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, STFT)}
ALIASES = {"glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
           "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "zeros": Zeros,
           "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant, "identity": Identity,
           "random_normal": RandomNormal, "normal": RandomNormal, "random_uniform": RandomUniform,
           "uniform": RandomUniform, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
           "orthogonal": Orthogonal, "stft": STFT, "STFTInitializer": STFT}

# the lowercase function names Keras also exports: ``keras.initializers.glorot_uniform(seed=0)``
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
STFTInitializer = STFT  # Keras's other name for it
lecun_uniform, lecun_normal, zeros, ones, constant = LecunUniform, LecunNormal, Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal, orthogonal = RandomNormal, RandomUniform, TruncatedNormal, Orthogonal
# Keras 3's other public names for these classes
identity, IdentityInitializer, OrthogonalInitializer = Identity, Identity, Orthogonal
variance_scaling, stft = VarianceScaling, STFT


def deserialize(config: dict, custom_objects: dict | None = None) -> Initializer:
    cls, config = _config.resolve(config, {**ALL_INITIALIZERS, **ALIASES}, "initializer", custom_objects)
    return cls.from_config(config)


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'HeNormal', 'zeros', ...), a config dict, an instance, a class,
    or any callable ``f(shape, dtype)`` (returned as is). None gives None."""
    return _config.lookup(identifier, "initializer", Initializer, {**ALL_INITIALIZERS, **ALIASES}, deserialize,
                          on_callable=lambda fn: fn)
