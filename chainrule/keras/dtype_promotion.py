"""``keras.backend.result_type``: Keras 3's type promotion, the least upper bound of the dtypes on its promotion
lattice (JAX's), Python ``int`` and ``float`` taking part as weak types that yield to the array dtypes.

chainrule keeps 64-bit results, as Keras's TensorFlow backend does (Keras's JAX-like backends narrow int64 and
float64 results to 32 bits).

>>> result_type("int32", "float16"), result_type("uint8", "int8"), result_type(float, "int32")
('float16', 'int16', 'float32')
>>> result_type("bfloat16", "float16")
'float32'
"""
from __future__ import annotations

import functools

from chainrule import backend

INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
FLOAT8_TYPES = ("float8_e4m3fn", "float8_e5m2")
_PYTHON = {bool: "bool", int: "int64", float: "float32", complex: "complex128", "int": "int64"}


def _lattice() -> dict[str, list[str]]:
    """Each type and the types just above it ('int' and 'float' are the weak Python types)."""
    return {"bool": ["int"], "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
            "uint32": ["int64", "uint64"], "uint64": ["float"], "int": ["uint8", "int8", "complex64"],
            "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
            "float": ["bfloat16", "float16"], "bfloat16": ["float32"], "float16": ["float32"],
            "float32": ["float64", "complex64"], "float64": ["complex128"], "complex64": ["complex128"],
            "complex128": []}


def _upper_bounds() -> dict[str, set[str]]:
    lattice = _lattice()
    bounds = {node: {node} for node in lattice}
    for node in lattice:
        while True:
            above = set().union(*(lattice[b] for b in bounds[node]))
            if above <= bounds[node]:
                break
            bounds[node] |= above
    return bounds


_UPPER = _upper_bounds()


@functools.lru_cache(512)
def _least_upper_bound(*nodes: str) -> str:
    unknown = [n for n in nodes if n not in _UPPER]
    if unknown:
        raise ValueError(f"dtype={unknown[0]!r} is not a valid dtype for Keras type promotion.")
    common = set.intersection(*(_UPPER[n] for n in nodes))
    least = (common & set(nodes)) or {c for c in common if common <= _UPPER[c]}
    if len(least) != 1:
        raise ValueError(f"Input dtypes {tuple(nodes)} have no available implicit dtype promotion path. Try "
                         f"explicitly casting inputs to the desired output type.")
    return least.pop()


def _dtype_and_weakness(value) -> tuple[str, bool]:
    weak = value is int or value is float
    if value in _PYTHON:
        return _PYTHON[value], weak
    if isinstance(value, str) and value in ("bfloat16", *FLOAT8_TYPES):
        return value, weak
    if hasattr(value, "dtype") and not isinstance(value, type):
        value = value.dtype
    return backend.as_dtype(value).name, weak


def _weak(dtype: str) -> str:
    """A dtype's weak kind: 'float' or 'int' ('bool' and complex as they are)."""
    if "float" in dtype:
        return "float"
    if "int" in dtype:
        return "int"
    return dtype


def result_type(*dtypes) -> str:
    """The dtype Keras gives an operation on arguments of these dtypes (None is floatx; no argument: floatx)."""
    if not dtypes:
        return backend.floatx()
    if any(d in FLOAT8_TYPES for d in dtypes if isinstance(d, str)):
        raise ValueError(f"There is no implicit conversions from float8 dtypes to others. You must cast it "
                         f"internally. Received: {dtypes}")
    parsed = [_dtype_and_weakness(backend.floatx() if d is None else d) for d in dtypes]
    names, weak = [n for n, _ in parsed], [w for _, w in parsed]
    if len(names) == 1:
        out, out_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        out, out_weak = names[0], False
    elif all(weak):
        out, out_weak = _least_upper_bound(*sorted(set(names))), True
    else:
        out = _least_upper_bound(*sorted({_weak(n) if w else n for n, w in parsed}))
        out_weak = out in ("int", "float")
    if out != "bool" and out_weak:  # a weak result takes floatx's precision
        precision = backend.floatx()[-2:]
        out = {"i": f"int{precision}", "u": f"uint{precision}", "b": "bool"}.get(out[:1], f"float{precision}")
    return out
