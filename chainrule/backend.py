"""The array backend: which array module runs the math, the default float type, and the seeded generator.

Every op is written against ``xp`` so that NumPy and CuPy share one definition.

>>> from chainrule import backend
>>> backend.floatx()
'float32'
"""
from __future__ import annotations

import numpy as np

xp = np
_FLOATX = "float32"
_rng = np.random.default_rng()


def floatx() -> str:
    """The default float dtype name for new tensors and layer weights."""
    return _FLOATX


def set_floatx(dtype: str) -> None:
    """Set the default float dtype ('float32' or 'float64')."""
    global _FLOATX
    if dtype not in ("float32", "float64"):
        raise ValueError(f"floatx must be 'float32' or 'float64', got {dtype!r}")
    _FLOATX = dtype


def rng() -> np.random.Generator:
    """The generator behind every random initializer, dropout mask and shuffle."""
    return _rng


def set_seed(seed: int | None) -> None:
    """Reseed the generator; the same seed gives bit-identical runs on the CPU."""
    global _rng
    _rng = np.random.default_rng(seed)
