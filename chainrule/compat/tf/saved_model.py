"""``tf.saved_model.save`` / ``load``: a Keras model exported to a folder and loaded back as a callable object.

A TensorFlow SavedModel holds TensorFlow graphs (``saved_model.pb``), which only TensorFlow runs. chainrule's export
folder holds chainrule's own model file (``model.keras``: architecture, weights, no pickle) and ``saved_model.json``
(what was exported, and the input signature). ``load`` gives what TensorFlow's gives a program: an object that is
called on inputs (inference mode), with ``signatures["serving_default"]`` returning a dict of named outputs, and
``variables`` / ``trainable_variables``. Only Keras models (and layers inside a model) can be exported: a plain
``tf.Module`` is Python code, which a file cannot carry safely.

>>> import os, tempfile
>>> import numpy as np
>>> import chainrule as tf
>>> model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(2, name="out")])
>>> folder = os.path.join(tempfile.mkdtemp(), "exported")
>>> tf.saved_model.save(model, folder)
>>> loaded = tf.saved_model.load(folder)
>>> x = np.ones((1, 3), "float32")
>>> bool(np.allclose(loaded(x).numpy(), model(x).numpy()))
True
>>> sorted(loaded.signatures["serving_default"](x))
['out']
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chainrule.keras.saving import load_model
from chainrule.keras.saving.export import FORMAT, INFO_FILE, MODEL_FILE, export_model

SERVING = "serving_default"


class LoadedModel:
    """What ``tf.saved_model.load`` returns: call it on inputs; ``signatures["serving_default"]`` maps inputs to a
    dict of outputs named by the model's output layers; ``keras_model`` is the rebuilt Keras model."""

    def __init__(self, model, info: dict):
        self.keras_model = model
        self._output_names = list(info.get("output_names") or [])
        self.signatures = {SERVING: self._serving_default}
        self.tensorflow_version = info.get("tensorflow_version")

    def __call__(self, *args, **kwargs):
        kwargs.setdefault("training", False)
        return self.keras_model(*args, **kwargs)

    def serve(self, *args, **kwargs):
        """The model's outputs in inference mode, as the model returns them (the endpoint ``model.export`` makes)."""
        return self.keras_model(*args, training=False, **kwargs)

    def _serving_default(self, *args, **kwargs) -> dict[str, Any]:
        """The model's outputs in inference mode, as ``{output name: tensor}``."""
        outputs = self.keras_model(*args, training=False, **kwargs)
        if isinstance(outputs, dict):
            return dict(outputs)
        flat = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        names = self._output_names if len(self._output_names) == len(flat) else \
            [f"output_{i}" for i in range(len(flat))]
        return dict(zip(names, flat))

    @property
    def variables(self) -> list:
        return list(self.keras_model.weights)

    @property
    def trainable_variables(self) -> list:
        return list(self.keras_model.trainable_weights)

    def __repr__(self) -> str:
        return f"<chainrule saved model of {type(self.keras_model).__name__} '{self.keras_model.name}'>"


def save(obj, export_dir: str | os.PathLike, signatures=None, options=None) -> None:
    """Export the Keras model ``obj`` into the folder ``export_dir`` (made if needed): its model file and a
    description. ``signatures`` other than the model's own call are refused: the call is what is exported."""
    from chainrule.keras.models.model import Model

    if not isinstance(obj, Model):
        raise TypeError(f"tf.saved_model.save: chainrule exports Keras models only, got {type(obj).__name__} (a "
                        f"tf.Module's methods are Python code, which chainrule never writes into files); build the "
                        f"computation as a keras.Model, or save its variables with tf.train.Checkpoint-style "
                        f"model.save_weights")
    if signatures is not None and not (isinstance(signatures, dict) and set(signatures) <= {SERVING}) and \
            not callable(signatures):
        raise ValueError(f"tf.saved_model.save: signatures must be None or the model's call, got {signatures!r}")
    export_model(obj, export_dir)


def contains_saved_model(export_dir: str | os.PathLike) -> bool:
    """Whether ``export_dir`` holds a model exported by ``save`` (chainrule's format)."""
    return (Path(export_dir) / INFO_FILE).is_file() and (Path(export_dir) / MODEL_FILE).is_file()


def load(export_dir: str | os.PathLike, tags=None, options=None) -> LoadedModel:
    """The model exported into ``export_dir`` by ``save``, as a callable object (see :class:`LoadedModel`)."""
    folder = Path(export_dir)
    if not folder.is_dir():
        raise OSError(f"SavedModel file does not exist at: {folder}")
    if not contains_saved_model(folder):
        if (folder / "saved_model.pb").exists():
            raise OSError(f"{folder} is a TensorFlow SavedModel (saved_model.pb): it holds TensorFlow graphs, which "
                          f"chainrule cannot run. Export the model with chainrule (tf.saved_model.save or "
                          f"model.save('model.keras')) instead")
        raise OSError(f"SavedModel file does not exist at: {folder} (no {INFO_FILE} and {MODEL_FILE} in it)")
    try:
        info = json.loads((folder / INFO_FILE).read_text())
    except ValueError as error:
        raise OSError(f"{folder / INFO_FILE} is not valid JSON: {error}") from error
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise OSError(f"{folder / INFO_FILE} does not describe a chainrule export (format {info.get('format')!r} "
                      f"where {FORMAT!r} was expected)" if isinstance(info, dict) else
                      f"{folder / INFO_FILE} does not describe a chainrule export")
    return LoadedModel(load_model(folder / MODEL_FILE, compile=False), info)


__all__ = ["LoadedModel", "contains_saved_model", "load", "save"]
