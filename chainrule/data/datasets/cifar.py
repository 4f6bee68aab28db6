"""What ``keras.datasets.cifar10`` and ``cifar100`` share: the CIFAR "python version" archive (a ``.tar.gz`` of
pickled batches, each a dict with ``data``, a (N, 3072) uint8 array of channel-first 32x32 images, and label lists),
fetched from the CIFAR homepage (or ``sources``), checked against Keras's published SHA-256 and cached like MNIST,
then unpickled with NumPy arrays as the only callables admitted (numpy_pickle.py).

>>> import pickle, numpy as np
>>> batch = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 5]}, protocol=4)
>>> images, labels = read_batch(batch)
>>> images.shape, labels.tolist()
((2, 32, 32, 3), [3, 5])
"""
from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence

import numpy as np

from chainrule.data.datasets.loader import fetch
from chainrule.data.datasets.numpy_pickle import loads_arrays
from chainrule.data.datasets.sources import Source, Url

ORIGIN = "https://www.cs.toronto.edu/~kriz/"
Splits = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def archive_members(dataset: str, archive: str, digest: str, members: Sequence[str],
                    sources: Sequence[Source] | None) -> dict[str, bytes]:
    """The bytes of each of ``members`` (paths inside the archive) of the cached or fetched ``archive``."""
    data = fetch(dataset, {archive: digest}, [Url(ORIGIN + archive)] if sources is None else sources)[archive]
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in members:
            try:
                handle = tar.extractfile(member)
            except KeyError:
                handle = None
            if handle is None:
                raise ValueError(f"{archive} of the {dataset} dataset has no file {member}")
            found[member] = handle.read()
    return found


def read_batch(data: bytes, label_key: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch as ``(images, labels)``: uint8 (N, 32, 32, 3) channels-last images (Keras's layout with
    ``image_data_format() == 'channels_last'``) and uint8 labels from ``label_key``."""
    batch = loads_arrays(data)
    if not isinstance(batch, dict):
        raise ValueError(f"a CIFAR batch is a pickled dict, found {type(batch).__name__}")
    # Python 2's pickles give str keys when read as latin-1, Python 3's give bytes, as they were written.
    batch = {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise ValueError(f"a CIFAR batch holds 'data' and {label_key!r}; found {sorted(batch)}")
    pixels = np.asarray(batch["data"], dtype=np.uint8)
    if pixels.ndim != 2 or pixels.shape[1] != 3 * 32 * 32:
        raise ValueError(f"CIFAR batch data must be (N, 3072) uint8, found {pixels.shape}")
    labels = np.asarray(batch[label_key], dtype=np.uint8)
    if labels.shape != (len(pixels),):
        raise ValueError(f"a CIFAR batch has {len(pixels)} images but {labels.shape} labels")
    return pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def splits(train: Sequence[tuple[np.ndarray, np.ndarray]], test: tuple[np.ndarray, np.ndarray]) -> Splits:
    """The training batches joined, labels as (N, 1) columns, as Keras returns them."""
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train]).reshape(-1, 1)
    return (x_train, y_train), (np.ascontiguousarray(test[0]), test[1].reshape(-1, 1))
