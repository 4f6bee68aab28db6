"""Pipeline (``keras.layers.Pipeline``): a list of layers applied in turn, as one layer rather than a model (a
preprocessing or augmentation pipeline for a ``tf.data`` map or the front of a model). ``training`` reaches each
layer that takes it; a dict of images and labels passes through augmentation layers as they handle it.

>>> import numpy as np
>>> from chainrule.keras.layers import RandomFlip, Rescaling
>>> pipeline = Pipeline([Rescaling(1 / 255), RandomFlip(seed=0)])
>>> pipeline(np.full((1, 2, 2, 1), 255.0, "float32")).numpy().ravel().tolist()
[1.0, 1.0, 1.0, 1.0]
"""
from __future__ import annotations

from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.serialization import deserialize, serialize


class Pipeline(Layer):
    """``layers`` (a list of layers) applied one after the other."""

    def __init__(self, layers, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        layers = list(layers) if isinstance(layers, (list, tuple)) else None
        if layers is None or not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError(f"Pipeline: `layers` must be a list of Keras layers. Received: layers={layers!r}")
        self._pipeline_layers = layers

    @property
    def layers(self) -> list:
        return self._pipeline_layers

    def _convert(self, inputs):
        return inputs  # each layer converts what it takes (strings, dicts of images and labels)

    def call(self, inputs, training=True):
        for layer in self._pipeline_layers:
            inputs = layer(inputs, training=training)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self) -> dict:
        return {"layers": [serialize(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Pipeline":
        config = dict(config)
        config["layers"] = [deserialize(layer, custom_objects) for layer in config["layers"]]
        return cls(**config)
