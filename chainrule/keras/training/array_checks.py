"""What fit/evaluate/predict say about data that is not arrays of numbers, in the words of the call: the argument
(``x``, ``y[1]``, ``x['image']``), the dtype, the shapes, and what to do instead of NumPy's own messages.

>>> import numpy as np
>>> as_number_array(np.array([1, 2], dtype=object), "y")
array([1, 2])
>>> as_number_array(np.array(["cat", "dog"]), "y")
Traceback (most recent call last):
...
TypeError: y holds strings (dtype U3, e.g. 'cat'): a model takes numbers. Map the labels to integer class ids \
first (ids = np.unique(y, return_inverse=True)[1])
>>> print(ragged_list_message([[1, 2, 3], [4, 5]], "x"))
x is a ragged list: x[0] has shape (3,) but x[1] has shape (2,). Every sample must have the same shape: pad the \
sequences to one length, or pass one NumPy array
"""
from __future__ import annotations

import contextvars
import functools
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

NUMBER_KINDS = "biuf"  # bool, signed and unsigned integers, floats
# set while a model with a string input (keras.Input(dtype="string")) runs fit/evaluate/predict: x may hold text
_TEXT_INPUTS: contextvars.ContextVar[bool] = contextvars.ContextVar("text_inputs", default=False)


def accepts_text_inputs(method: Callable) -> Callable:
    """Decorates fit/evaluate/predict: a model that has a string input, or starts with a text layer (one whose
    ``takes_text`` is true: TextVectorization, StringLookup, Hashing), takes strings as ``x``; other models keep
    refusing them."""
    @functools.wraps(method)
    def run(model, *args, **kwargs):
        takes_text = _takes_text(model)
        token = _TEXT_INPUTS.set(takes_text)
        try:
            return method(model, *args, **kwargs)
        finally:
            _TEXT_INPUTS.reset(token)
    return run


def _takes_text(model) -> bool:
    """Whether ``model`` has a string input, or (a Sequential without an Input) starts with a text layer."""
    if any(np.dtype(t.dtype).kind in "US" for t in getattr(model, "inputs", None) or ()):
        return True
    first = next(iter(getattr(model, "layers", None) or ()), None)
    return bool(getattr(first, "takes_text", False))


def _as_text(array: np.ndarray) -> np.ndarray | None:
    """``array`` as a NumPy str array when it holds only text (str or UTF-8 bytes), else None."""
    if array.dtype.kind not in "USO":
        return None
    from chainrule.keras.layers.preprocessing.strings import as_string_array

    try:
        return as_string_array(array)
    except TypeError:  # objects that are not all text
        return None


def as_number_array(array: np.ndarray, role: str) -> np.ndarray:
    """``array`` when it holds numbers; an object array of numbers (a mixed pandas frame's ``.values``) converted
    to a number array; anything else a TypeError naming ``role``, its dtype and what to do."""
    kind = array.dtype.kind
    if kind in NUMBER_KINDS:
        return array
    if _TEXT_INPUTS.get() and role.startswith("x") and (text := _as_text(array)) is not None:
        return text
    if kind == "O":
        return _from_objects(array, role)
    if kind in "US":
        hint = ("Map the labels to integer class ids first (ids = np.unique(y, return_inverse=True)[1])"
                if role.startswith("y") else f"Turn the text into numbers first ({role}.astype('float32') if the "
                                             f"strings are numbers, else a vocabulary lookup; a model whose input is "
                                             f"keras.Input(shape=(1,), dtype='string') takes text, for its "
                                             f"TextVectorization or StringLookup layer)")
        example = array.flat[0] if array.size else ""
        raise TypeError(f"{role} holds strings (dtype {array.dtype.str.lstrip('<>|=')}, e.g. {_short(example)}): a "
                        f"model takes numbers. {hint}")
    if kind == "c":
        raise TypeError(f"{role} has dtype {array.dtype}: a model takes real numbers; pass the real and imaginary "
                        f"parts as separate features (np.real, np.imag)")
    if kind in "Mm":
        raise TypeError(f"{role} has dtype {array.dtype}: a model takes numbers; convert the times to numbers first "
                        f"(e.g. seconds: {role}.astype('datetime64[s]').astype('int64'))")
    if kind == "V" and array.dtype.names:
        raise TypeError(f"{role} is a structured array with fields {list(array.dtype.names)}: pass each field as its "
                        f"own array (a list or a dict of arrays, one per model input)")
    raise TypeError(f"{role} has dtype {array.dtype}, which holds no numbers a model can take")


def _from_objects(array: np.ndarray, role: str) -> np.ndarray:
    """An object array as numbers: each element a number (or each a sequence of numbers of one shape)."""
    items = array.tolist()
    try:
        converted = np.asarray(items)
    except (ValueError, TypeError):
        converted = None  # sequences of different shapes
    if converted is not None and converted.dtype.kind in NUMBER_KINDS:
        return converted
    for index, item in np.ndenumerate(array):  # say which element is no number
        if isinstance(item, (list, tuple, np.ndarray)) or (
                isinstance(item, (numbers.Number, np.bool_)) and not isinstance(item, complex)):
            continue
        where = f"{role}[{', '.join(map(str, index))}]"
        what = "None (a missing value? fill it in first)" if item is None else \
            f"the {type(item).__name__} {_short(item)}, not a number"
        raise TypeError(f"{role} is an object array (dtype object) and {where} is {what}; a model takes arrays of "
                        f"numbers")
    if converted is None:
        raise TypeError(f"{role} is an object array of sequences: {ragged_list_message(items, role).split(': ', 1)[1]}")
    return as_number_array(converted, role)  # sequences of strings, say


def ragged_list_message(data: Any, role: str) -> str:
    """Why nested lists ``data`` make no array: the first two items, at the outermost level that differs, whose
    shapes differ."""
    found = _first_mismatch(data, role)
    if found is None:
        return f"{role} ({type(data).__name__}) cannot be made into one array of numbers"
    (first, first_shape), (other, other_shape) = found
    return (f"{role} is a ragged list: {first} has shape {first_shape} but {other} has shape {other_shape}. Every "
            f"sample must have the same shape: pad the sequences to one length, or pass one NumPy array")


def _first_mismatch(data: Any, name: str):
    if not isinstance(data, (list, tuple)) or not data:
        return None
    shapes = []
    for i, item in enumerate(data):
        inner = _first_mismatch(item, f"{name}[{i}]")
        if inner is not None:
            return inner
        try:
            shapes.append(np.shape(item))
        except ValueError:  # ragged below, though no list there differed: a mix of arrays and lists
            return None
    for i, shape in enumerate(shapes[1:], 1):
        if shape != shapes[0]:
            return (f"{name}[0]", shapes[0]), (f"{name}[{i}]", shape)
    return None


def sample_count_message(named_shapes: list[tuple[str, tuple]], several_inputs: bool) -> str:
    """The error for arrays (``(name, shape)``) that hold different numbers of samples. ``several_inputs``: ``x``
    is a list of arrays, read as one array per model input, which a ragged list of samples also looks like."""
    listed = ", ".join(f"{name} has {shape[0]} samples (shape {shape})" for name, shape in named_shapes)
    message = f"Data cardinality is ambiguous: make sure all arrays contain the same number of samples ({listed})"
    if several_inputs:
        message += (". x is a list of arrays, which is read as one array per model input; if each array is one "
                    "sample, make them one array first (np.stack(x); samples of different lengths must be padded "
                    "to one length)")
    return message


def named_leaves(structure: Any, role: str) -> list[tuple[str, Any]]:
    """``(name, leaf)`` for each array of a structure, named as it was passed: ``x``, ``x[1]``, ``x['image']``."""
    if isinstance(structure, dict):
        return [pair for key in sorted(structure) for pair in named_leaves(structure[key], f"{role}[{key!r}]")]
    if isinstance(structure, (list, tuple)):
        return [pair for i, item in enumerate(structure) for pair in named_leaves(item, f"{role}[{i}]")]
    return [] if structure is None else [(role, structure)]


def _short(value: Any) -> str:
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= 40 else text[:37] + "..."
