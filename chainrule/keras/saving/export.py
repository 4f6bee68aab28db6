"""A Keras model exported to a folder for inference: the folder that ``model.export(path)`` and
``tf.saved_model.save(model, path)`` write and ``tf.saved_model.load(path)`` reads (chainrule.compat.tf.saved_model).

It holds chainrule's model file (``model.keras``: architecture and weights, no pickle) and ``saved_model.json`` (what
was exported and the names of the outputs).

>>> import json, os, tempfile
>>> from chainrule import keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="out")])
>>> folder = os.path.join(tempfile.mkdtemp(), "exported")
>>> export_model(model, folder)
>>> sorted(os.listdir(folder)), json.load(open(os.path.join(folder, INFO_FILE)))["output_names"]
(['model.keras', 'saved_model.json'], ['out'])
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from chainrule.keras.saving.atomic import atomic_write

MODEL_FILE = "model.keras"
INFO_FILE = "saved_model.json"
FORMAT = "chainrule-saved-model"


def output_names(model) -> list[str]:
    """The names of the model's output layers (a functional model's ``output_names``; a Sequential's last layer)."""
    names = getattr(model, "output_names", None)
    if names:
        return list(names)
    try:
        return [t.node.layer.name for t in model.outputs]
    except (AttributeError, TypeError, ValueError):
        layers = getattr(model, "layers", None)
        return [layers[-1].name] if layers else []


def export_model(model, export_dir: str | os.PathLike, who: str = "tf.saved_model.save") -> None:
    """Write ``model`` (a Keras model) into the folder ``export_dir`` (made if needed)."""
    folder = Path(export_dir)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{who}: {folder} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / MODEL_FILE)
    info = {"format": FORMAT, "version": 1, "model_class": type(model).__name__, "model_name": model.name,
            "output_names": output_names(model)}
    atomic_write(folder / INFO_FILE, [json.dumps(info, indent=1).encode()])


__all__ = ["FORMAT", "INFO_FILE", "MODEL_FILE", "export_model", "output_names"]
