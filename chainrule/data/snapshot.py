"""``tf.data.Dataset.snapshot``: the elements of a dataset's first complete pass written to a folder, and read from
there by later passes and by later programs that build the same pipeline (same element structure, shapes and
dtypes), so that the work before ``snapshot`` runs once.

The folder holds ``elements.npz`` (every element's arrays, NumPy's format without pickles) and ``snapshot.json``
(the element spec they were written under); a folder written under another spec is written anew.

>>> import os, tempfile
>>> import numpy as np
>>> from chainrule.data import Dataset
>>> path = os.path.join(tempfile.mkdtemp(), "squares.snap")
>>> calls = []
>>> ds = Dataset.from_tensor_slices(np.arange(3)).map(lambda x: calls.append(1) or x * x).snapshot(path)
>>> first = [int(x) for x in ds]; made = len(calls)
>>> first, [int(x) for x in ds], len(calls) == made, sorted(os.listdir(path))
([0, 1, 4], [0, 1, 4], True, ['elements.npz', 'snapshot.json'])
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator

import numpy as np

from chainrule.data import blocks as bl
from chainrule.data.structure import leaves, pack

ELEMENTS, INFO = "elements.npz", "snapshot.json"


def _read(path: str, spec_text: str) -> list | None:
    """The elements a complete snapshot of this spec holds, or None (none written, or under another spec)."""
    try:
        with open(os.path.join(path, INFO)) as file:
            info = json.load(file)
    except (OSError, ValueError):
        return None
    if info.get("element_spec") != spec_text:
        return None
    with np.load(os.path.join(path, ELEMENTS), allow_pickle=False) as arrays:
        count, width = int(info["elements"]), int(info["leaves"])
        return [[arrays[f"e{i}_{j}"] for j in range(width)] for i in range(count)]


def _write(path: str, spec_text: str, elements: list[list[np.ndarray]]) -> None:
    os.makedirs(path, exist_ok=True)
    arrays = {f"e{i}_{j}": np.asarray(leaf) for i, flat in enumerate(elements) for j, leaf in enumerate(flat)}
    if any(a.dtype == object for a in arrays.values()):
        raise TypeError("Dataset.snapshot: elements of Python objects (dtype=object) cannot be written without "
                        "pickles")
    np.savez(os.path.join(path, ELEMENTS), **arrays)
    info = {"element_spec": spec_text, "elements": len(elements), "leaves": len(elements[0]) if elements else 0}
    with open(os.path.join(path, INFO), "w") as file:  # written last: its presence says the snapshot is complete
        json.dump(info, file)


def snapshot(dataset, path: str):
    """``dataset`` whose first complete pass is written to ``path`` (or read from there when a snapshot of the same
    element spec is already written)."""
    path = os.fspath(path)
    structure = dataset.element_spec
    spec_text = repr(structure)

    def make_blocks() -> Iterator[np.ndarray]:
        stored = _read(path, spec_text)
        if stored is not None:
            yield bl.as_objects([pack(structure, flat) for flat in stored])
            return
        seen = []
        for block in dataset._element_blocks():
            seen.extend(leaves(element) for element in block)
            yield block
        _write(path, spec_text, seen)

    return dataset._derived(make_blocks, dataset._cardinality, None, structure)


__all__ = ["snapshot"]
