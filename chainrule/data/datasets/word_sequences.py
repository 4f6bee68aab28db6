"""What ``keras.datasets.imdb`` and ``reuters`` share: their files (an ``.npz`` of ragged word-index sequences and
a JSON word index, from Keras's bucket, checked against Keras's published hashes and cached like MNIST) and the
preparation of the sequences, exactly as Keras does it: a seeded shuffle, ``start_char`` before each sequence,
indices shifted by ``index_from``, sequences of ``maxlen`` words or more dropped, and words outside
``[skip_top, num_words)`` replaced by ``oov_char`` (or removed when it is None).

>>> prepare([[1, 2, 9]], [1], num_words=5, skip_top=0, maxlen=None, start_char=1, oov_char=2, index_from=3)
([[1, 4, 2, 2]], [1])
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np

from chainrule.data.datasets.loader import fetch
from chainrule.data.datasets.npz import read_npz
from chainrule.data.datasets.sources import Folder, Source, Url

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def fetch_file(dataset: str, path: str, default_name: str, digest: str, sources: Sequence[Source] | None) -> bytes:
    """The bytes of a dataset file cached as ``path`` (Keras's ``fname``: a name, or a path whose folder is
    tried first), from ``sources`` or else Keras's bucket, checked against ``digest``."""
    folder, name = os.path.split(os.fspath(path))
    if sources is None:
        sources = [Url(ORIGIN + default_name)]
    if folder:
        sources = [Folder(folder), *sources]
    return fetch(dataset, {name: digest}, sources)[name]


def load_npz(dataset: str, path: str, default_name: str, digest: str,
             sources: Sequence[Source] | None) -> dict[str, np.ndarray]:
    """The arrays of a dataset's ``.npz`` (object arrays admitted only as lists of ints)."""
    return read_npz(fetch_file(dataset, path, default_name, digest, sources))


def load_word_index(dataset: str, path: str, default_name: str, digest: str,
                    sources: Sequence[Source] | None) -> dict[str, int]:
    """A dataset's word index: word -> rank by frequency (1 is the most frequent)."""
    return json.loads(fetch_file(dataset, path, default_name, digest, sources).decode("utf-8"))


def shuffled(rng: np.random.RandomState, *arrays: np.ndarray) -> list[np.ndarray]:
    """``arrays`` in one random order drawn from ``rng``, as Keras draws it (``RandomState(seed).shuffle``)."""
    indices = np.arange(len(arrays[0]))
    rng.shuffle(indices)
    return [array[indices] for array in arrays]


def shifted(sequences, start_char: int | None, index_from: int) -> list[list[int]]:
    """Each sequence's indices plus ``index_from``, after a ``start_char`` when one is given."""
    head = [] if start_char is None else [start_char]
    return [head + [int(w) + index_from for w in x] for x in sequences]


def without_long(maxlen: int | None, sequences: list, labels) -> tuple[list, list]:
    """The sequences shorter than ``maxlen`` and their labels (Keras drops the others rather than cutting them)."""
    if not maxlen:
        return list(sequences), list(labels)
    kept = [(x, y) for x, y in zip(sequences, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limited(sequences: list, num_words: int | None, skip_top: int, oov_char: int | None) -> list[list[int]]:
    """Words outside ``[skip_top, num_words)`` become ``oov_char`` (or go, when it is None); ``num_words`` None
    keeps every word."""
    if not num_words:
        num_words = max((max(x) for x in sequences if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]
    return [[w for w in x if skip_top <= w < num_words] for x in sequences]


def prepare(sequences, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from) -> tuple[list, list]:
    """One split prepared as Keras prepares it, apart from the shuffle and the vocabulary cut over both splits."""
    sequences, labels = without_long(maxlen, shifted(sequences, start_char, index_from), labels)
    return limited(sequences, num_words, skip_top, oov_char), labels


def as_object_array(sequences: list) -> np.ndarray:
    """A 1-D object array of lists (np.array would make a 2-D array of equal-length lists)."""
    out = np.empty(len(sequences), dtype=object)
    out[:] = sequences
    return out
