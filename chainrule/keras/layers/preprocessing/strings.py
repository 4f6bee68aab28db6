"""String tensors in chainrule: NumPy arrays of ``str`` (dtype ``<U``), wrapped in a Tensor like any other array.

Text arrives as lists of ``str``, NumPy ``str``/``bytes``/object arrays or string Tensors (a ``tf.data`` pipeline
yields those); :func:`as_string_array` turns each into one ``<U`` array (bytes decoded as UTF-8) and refuses numbers
with an error that names the layer. The text operations TensorFlow's ``tf.strings`` gives ``TextVectorization``
(lower-casing, regex replacement, splitting, n-grams) work on those arrays; splitting gives one Python list of tokens
per string (a ragged batch).

>>> as_string_array([b"caf\\xc3\\xa9", "Tea"]).tolist()
['café', 'Tea']
>>> lower(np.array(["ÉTÉ Tea"])).tolist(), lower(np.array(["ÉTÉ"]), encoding="utf-8").tolist()
(['ÉtÉ tea'], ['été'])
>>> ngrams(["a", "b", "c"], (1, 2))
['a', 'b', 'c', 'a b', 'b c']
"""
from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence

import numpy as np

from chainrule.engine.tensor import Tensor

# Keras's pattern for 'strip_punctuation' (ASCII punctuation, as tf.strings.regex_replace applies it)
PUNCTUATION_PATTERN = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def is_string_dtype(dtype) -> bool:
    """Whether ``dtype`` holds text: NumPy ``str`` or ``bytes`` (``tf.string`` has no NumPy dtype of its own)."""
    return np.dtype(dtype).kind in "US"


def as_string_array(value, who: str = "This layer") -> np.ndarray:
    """``value`` (list, array, Tensor, str) as a NumPy ``str`` array, bytes decoded as UTF-8; anything that is not
    text raises a TypeError that names ``who``."""
    array = value.numpy() if isinstance(value, Tensor) else value
    if not isinstance(array, np.ndarray):
        try:
            array = np.asarray(array)
        except UnicodeDecodeError:  # str and non-ASCII bytes mixed: keep the objects, decode them below
            array = np.asarray(array, dtype=object)
        except ValueError as error:  # ragged nested lists
            raise TypeError(f"{who} expects a rectangular batch of strings; received {type(value).__name__} that "
                            f"NumPy cannot make an array of ({error})") from None
    if array.dtype.kind == "U":
        return array
    if array.size == 0:  # [] has no dtype of its own
        return array.astype(str)
    if array.dtype.kind == "S":
        return np.char.decode(array, "utf-8")
    if array.dtype.kind == "O" and all(isinstance(x, (str, bytes)) for x in array.flat):
        return np.vectorize(_text, otypes=[str])(array) if array.size else array.astype(str)
    raise TypeError(f"{who} expects strings (a list of str, a NumPy str/bytes/object array or a string tensor); "
                    f"received {type(value).__name__} of dtype {array.dtype}. Text is NumPy str arrays in "
                    f"chainrule: keras.Input(shape=(1,), dtype='string') for a model input")


def _text(x: str | bytes) -> str:
    return x.decode("utf-8") if isinstance(x, bytes) else x


def _map(array: np.ndarray, function: Callable[[str], str]) -> np.ndarray:
    out = np.array([function(x) for x in array.ravel().tolist()], dtype=str)
    return out.reshape(array.shape) if out.size else array.astype(str)


def lower(array: np.ndarray, encoding: str = "") -> np.ndarray:
    """Lower-case, as ``tf.strings.lower``: ASCII letters only, unless ``encoding='utf-8'``."""
    if encoding.lower().replace("-", "") == "utf8":
        return _map(array, str.lower)
    return _map(array, lambda x: x.translate(_ASCII_LOWER))


def upper(array: np.ndarray, encoding: str = "") -> np.ndarray:
    """Upper-case, as ``tf.strings.upper``: ASCII letters only, unless ``encoding='utf-8'``."""
    if encoding.lower().replace("-", "") == "utf8":
        return _map(array, str.upper)
    return _map(array, lambda x: x.translate(_ASCII_UPPER))


def regex_replace(array: np.ndarray, pattern: str, rewrite: str, replace_global: bool = True) -> np.ndarray:
    """Replace the matches of ``pattern`` (all, or the first) with ``rewrite`` (``\\1`` names a group)."""
    compiled = re.compile(pattern)
    count = 0 if replace_global else 1
    return _map(array, lambda x: compiled.sub(rewrite, x, count=count))


def split_whitespace(array: np.ndarray) -> list[list[str]]:
    """The words of each string of a 1-D array, runs of whitespace as one separator, ends stripped."""
    return [text.split() for text in array.tolist()]


def split_characters(array: np.ndarray) -> list[list[str]]:
    """The Unicode characters of each string of a 1-D array."""
    return [list(text) for text in array.tolist()]


def ngrams(tokens: Sequence[str], widths: Sequence[int], separator: str = " ") -> list[str]:
    """All n-grams of each width in ``widths``, widths in the order given, as ``tf.strings.ngrams`` (a sequence
    shorter than a width gives none of that width)."""
    tokens = list(tokens)
    out: list[str] = []
    for width in widths:
        out.extend(separator.join(tokens[i:i + width]) for i in range(len(tokens) - width + 1))
    return out
