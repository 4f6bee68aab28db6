"""Looking inside a training checkpoint: ``tf.train.load_checkpoint``, ``list_variables`` and ``load_variable``.

>>> import os, tempfile
>>> import chainrule as tf
>>> folder = tempfile.mkdtemp()
>>> _ = tf.train.Checkpoint(step=tf.Variable(3)).save(os.path.join(folder, "ckpt"))
>>> tf.train.list_variables(folder)[-1], int(tf.train.load_variable(folder, "step/.ATTRIBUTES/VARIABLE_VALUE"))
(('step/.ATTRIBUTES/VARIABLE_VALUE', []), 3)
"""
from __future__ import annotations

import json
import os

import numpy as np

from chainrule.compat.tf import errors
from chainrule.compat.tf.train.checkpoint import OBJECT_GRAPH_KEY, read_checkpoint
from chainrule.compat.tf.train.management import latest_checkpoint


def _prefix(ckpt_dir_or_file) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}")
        return found
    return path


class CheckpointReader:
    """The values a checkpoint holds, by key (TensorFlow's ``CheckpointReader``)."""

    def __init__(self, prefix: str):
        self._nodes, self._arrays = read_checkpoint(prefix)
        # TensorFlow lists its object graph among the values
        self._arrays = {OBJECT_GRAPH_KEY: np.array(json.dumps(self._nodes)), **self._arrays}

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {key: list(value.shape) for key, value in self._arrays.items()}

    def get_variable_to_dtype_map(self) -> dict:
        from chainrule.compat.tf.dtypes import as_dtype

        return {key: as_dtype(value.dtype) for key, value in self._arrays.items()}

    def has_tensor(self, key: str) -> bool:
        return key in self._arrays

    def get_tensor(self, key: str) -> np.ndarray:
        if key not in self._arrays:
            raise errors.NotFoundError(None, None, f"Key {key} not found in checkpoint")
        return self._arrays[key].copy()


def load_checkpoint(ckpt_dir_or_file) -> CheckpointReader:
    """A reader for the checkpoint at a prefix, or the newest one in a folder."""
    return CheckpointReader(_prefix(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file) -> list[tuple[str, list[int]]]:
    """``(key, shape)`` of every value in the checkpoint, sorted by key."""
    return sorted(load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map().items())


def load_variable(ckpt_dir_or_file, name: str) -> np.ndarray:
    """The value saved under ``name`` (a key that :func:`list_variables` lists)."""
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


__all__ = ["CheckpointReader", "list_variables", "load_checkpoint", "load_variable"]
