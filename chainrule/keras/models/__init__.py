"""Models: ``Sequential``, the functional ``Model(inputs, outputs)``, and subclassed ``Model`` with ``call``.

The three ways to make one, as in Keras (one module each: model.py, sequential.py, functional.py; serialization.py
writes and reads them as configs, JSON and files):

>>> import numpy as np
>>> from chainrule.keras import layers
>>> seq = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(2)])
>>> x = layers.Input(shape=(4,))
>>> fn = Model(x, layers.Dense(2)(layers.Dense(8)(x)))
>>> type(fn).__name__, seq.output_shape, fn.output_shape
('Functional', (None, 2), (None, 2))
"""
from chainrule.keras.models.functional import Functional
from chainrule.keras.models.model import Model
from chainrule.keras.models.sequential import Sequential
from chainrule.keras.models.serialization import (deserialize_layer, load_model, model_from_config, model_from_json,
                                                  serialize_layer)
from chainrule.keras.models.cloning import clone_model
from chainrule.keras.saving.model_files import save_model  # Keras exports it here too

__all__ = ["Functional", "Model", "Sequential", "clone_model", "deserialize_layer", "load_model", "model_from_config",
           "model_from_json", "save_model", "serialize_layer"]
