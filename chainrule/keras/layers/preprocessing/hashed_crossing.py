"""HashedCrossing (``keras.layers.HashedCrossing``): the cross of two or more categorical features hashed into
``num_bins`` bins, as TensorFlow's ``tf.sparse.cross_hashed`` computes it (Keras's implementation): starting from
the key 0xDECAFCAFFE, each feature's hash is folded in with FarmHash's ``FingerprintCat64`` (a string's hash is its
``Fingerprint64``, an integer is its own), and the result taken modulo ``num_bins``.

>>> import numpy as np
>>> layer = HashedCrossing(num_bins=5)
>>> out = layer((np.array([1, 2, 1]), np.array(["a", "b", "a"])))
>>> out.shape, bool(out.numpy()[0] == out.numpy()[2])
(TensorShape([3]), True)
"""
from __future__ import annotations

import numbers

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras import backend as keras_backend
from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.preprocessing.hash_functions import fingerprint64
from chainrule.keras.layers.preprocessing.index_lookup import encode_categorical
from chainrule.keras.layers.preprocessing.strings import as_string_array

HASH_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default key
_MUL = np.uint64(0xC6A4A7935BD1E995)
_SHIFT = np.uint64(47)


def _shift_mix(x: np.ndarray) -> np.ndarray:
    return x ^ (x >> _SHIFT)


def fingerprint_cat64(fp1: np.ndarray, fp2: np.ndarray) -> np.ndarray:
    """TensorFlow's ``FingerprintCat64`` on arrays of uint64 (arithmetic modulo 2**64)."""
    with np.errstate(over="ignore"):
        result = fp1 ^ _MUL
        result = result ^ (_shift_mix(fp2 * _MUL) * _MUL)
        result = result * _MUL
        result = _shift_mix(result) * _MUL
        return _shift_mix(result)


def _feature_hashes(values: np.ndarray) -> np.ndarray:
    """Each feature's uint64 hash: an integer as itself (two's complement), a string's Fingerprint64."""
    if values.dtype.kind in "iub":
        return values.astype(np.int64).view(np.uint64)
    strings = as_string_array(values, "HashedCrossing")
    return np.array([fingerprint64(s.encode("utf-8")) for s in strings.ravel().tolist()],
                    dtype=np.uint64).reshape(strings.shape)


def cross_hashed(features: list[np.ndarray], num_bins: int) -> np.ndarray:
    """The bin of each row's cross of ``features`` (arrays of one shape)."""
    hashed = np.full(features[0].shape, HASH_KEY, dtype=np.uint64)
    for values in features:
        hashed = fingerprint_cat64(hashed, _feature_hashes(values))
    return (hashed % np.uint64(num_bins)).astype(np.int64)


class HashedCrossing(Layer):
    """Cross a list or tuple of integer or string features of one shape (``()``, ``(batch,)`` or ``(batch, 1)``)
    into ``num_bins`` bins; ``output_mode`` 'int' (the bin) or 'one_hot'."""

    takes_text = True
    _traceable = False  # it computes in NumPy: a traced step runs it eagerly

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False, name=None, dtype=None,
                 **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype or keras_backend.floatx(), **kwargs)
        if isinstance(num_bins, bool) or not isinstance(num_bins, numbers.Integral) or num_bins <= 0:
            raise ValueError(f"HashedCrossing: `num_bins` must be a positive int. Received: num_bins={num_bins!r}")
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"Invalid value for argument `output_mode`. Expected one of ('int', 'one_hot'). "
                             f"Received: output_mode={output_mode}")
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend (chainrule has no sparse "
                             "tensors).")
        self.num_bins, self.output_mode, self.sparse = int(num_bins), output_mode, False
        self.built = True

    def _convert(self, inputs):
        return inputs  # call() converts: strings and ints must not become float Tensors

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"`HashedCrossing` should be called on a list or tuple of inputs. Received: "
                             f"inputs={inputs}")
        if len(inputs) < 2:
            raise ValueError(f"`HashedCrossing` should be called on at least two inputs. Received: inputs={inputs}")
        features = [np.asarray(x.numpy() if isinstance(x, Tensor) else x) for x in inputs]
        shape = features[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(f"All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                             f"`(batch_size, 1)`. Received: inputs={inputs}")
        if any(f.shape != shape for f in features[1:]):
            raise ValueError(f"All `HashedCrossing` inputs should have equal shape. Received: inputs={inputs}")
        if not all(f.dtype.kind in "iuSUO" for f in features):
            raise ValueError(f"All `HashedCrossing` inputs should have an integer or string dtype. Received: "
                             f"inputs={inputs}")
        bins = cross_hashed(features, self.num_bins)
        if self.output_mode == "int":
            return Tensor._wrap(bins.astype(self.dtype))
        return Tensor._wrap(encode_categorical(bins, "one_hot", self.num_bins, self.dtype))

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0])
        if self.output_mode == "int":
            return shape
        if shape and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (self.num_bins,)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse}
