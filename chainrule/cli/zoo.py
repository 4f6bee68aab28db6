"""The named models of ``chainrule train --model NAME``: small Keras networks for images, softmax over the classes.

- ``cnn``: the seed programs' CNN: Conv2D(32, 3x3, relu), MaxPooling2D(2x2), Flatten, Dense(128, relu),
  Dense(10, softmax); about 0.7 M weights, ~98.5% on MNIST after a few epochs.
- ``mlp``: the smallest seed network, Dense(10, relu) then Dense(10, softmax), behind a Flatten so it takes the
  same 28x28x1 images as the others.
- ``deep-cnn``: seed 001's network: four blocks of Conv2D(3x3, 'same', relu) + MaxPooling2D(2x2) with 32, 64, 128
  and 256 filters (28 -> 14 -> 7 -> 3 -> 1 pixels), Flatten, Dense(10, softmax). (The seed reshaped the last
  block to ``(-1, num_classes)``, which cannot work for 256 channels; Flatten is what it meant.)
- ``lstm``: Keras's guide "Working with RNNs" model on images read row by row (28 steps of 28 features for
  MNIST): LSTM(64), BatchNormalization, Dense(10, softmax) (the guide's logits, with the softmax the CLI's loss takes).
- ``transformer``: a small Transformer encoder over the image rows as tokens: Dense(64) per row plus a learned
  position embedding, two post-norm blocks (MultiHeadAttention with 4 heads of 16, LayerNormalization, Dense(128,
  relu) -> Dense(64)), GlobalAveragePooling1D, Dense(10, softmax).

>>> model = build("mlp")                       # doctest: +SKIP
>>> model.count_params()                       # doctest: +SKIP
7960
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from chainrule.keras import layers
from chainrule.keras.layers import Input
from chainrule.keras.models import Model, Sequential
from chainrule.keras.saving import register_keras_serializable

Shape = tuple[int, ...]


def cnn(input_shape: Shape = (28, 28, 1), num_classes: int = 10) -> Sequential:
    return Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=input_shape),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ], name="cnn")


def mlp(input_shape: Shape = (28, 28, 1), num_classes: int = 10) -> Sequential:
    return Sequential([
        layers.Flatten(input_shape=input_shape),
        layers.Dense(10, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ], name="mlp")


def deep_cnn(input_shape: Shape = (28, 28, 1), num_classes: int = 10) -> Sequential:
    blocks = []
    for i, filters in enumerate((32, 64, 128, 256)):
        extra = {"input_shape": input_shape} if i == 0 else {}
        blocks += [layers.Conv2D(filters, (3, 3), padding="same", activation="relu", **extra),
                   layers.MaxPooling2D((2, 2), strides=(2, 2))]
    return Sequential([*blocks, layers.Flatten(), layers.Dense(num_classes, activation="softmax")],
                      name="deep_cnn")


def lstm(input_shape: Shape = (28, 28, 1), num_classes: int = 10) -> Sequential:
    rows, rest = input_shape[0], 1
    for size in input_shape[1:]:
        rest *= size
    return Sequential([
        layers.Reshape((rows, rest), input_shape=input_shape),  # each image row is one time step
        layers.LSTM(64),
        layers.BatchNormalization(),
        layers.Dense(num_classes, activation="softmax"),
    ], name="lstm")


@register_keras_serializable(package="chainrule")
class AddPositionEmbedding(layers.Layer):
    """Add a learned embedding of each step's position to a (batch, steps, features) sequence (a Transformer's
    learned positions, as keras-io's ``TokenAndPositionEmbedding`` adds them); one weight (steps, features)."""

    def __init__(self, sequence_length: int, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.initializer = initializer
        self.embeddings = None

    def build(self, input_shape):
        if input_shape[-2] != self.sequence_length:
            raise ValueError(f"Layer '{self.name}' embeds {self.sequence_length} positions but got sequences of "
                             f"{input_shape[-2]} steps (input shape {tuple(input_shape)})")
        self.embeddings = self.add_weight(shape=(self.sequence_length, input_shape[-1]), initializer=self.initializer,
                                          name="embeddings")
        self.built = True

    def call(self, inputs):
        return inputs + self.embeddings

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length, "initializer": self.initializer}


def transformer(input_shape: Shape = (28, 28, 1), num_classes: int = 10, width: int = 64, heads: int = 4,
                feed_forward: int = 128, blocks: int = 2) -> Model:
    """A small Transformer encoder over image rows as tokens: each row projected to ``width`` features plus a
    learned position, ``blocks`` post-norm blocks (MultiHeadAttention, add & LayerNormalization, Dense(relu) ->
    Dense, add & LayerNormalization, dropout 0.1 as keras-io's text classifier), average pooling, softmax."""
    rows, rest = input_shape[0], 1
    for size in input_shape[1:]:
        rest *= size
    inputs = Input(input_shape)
    x = layers.Dense(width)(layers.Reshape((rows, rest))(inputs))  # each image row is one token
    x = AddPositionEmbedding(rows)(x)
    for _ in range(blocks):
        attention = layers.MultiHeadAttention(heads, width // heads)(x, x)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, layers.Dropout(0.1)(attention)]))
        ff = layers.Dense(width)(layers.Dense(feed_forward, activation="relu")(x))
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, layers.Dropout(0.1)(ff)]))
    x = layers.Dropout(0.1)(layers.GlobalAveragePooling1D()(x))
    return Model(inputs, layers.Dense(num_classes, activation="softmax")(x), name="transformer")


MODELS: dict[str, Callable[..., Model]] = {"cnn": cnn, "mlp": mlp, "deep-cnn": deep_cnn, "lstm": lstm,
                                          "transformer": transformer}


def build(name: str | os.PathLike, input_shape: Shape = (28, 28, 1), num_classes: int = 10):
    """The model called ``name`` (see :data:`MODELS`), or the one described by a JSON file: ``model.to_json()``'s
    ``{"class_name": ..., "config": ...}``, as Keras writes it. Raises ValueError for an unknown name."""
    if str(name) in MODELS:
        return MODELS[str(name)](tuple(input_shape), num_classes)
    path = Path(name)
    if path.suffix.lower() != ".json" and not path.exists():
        raise ValueError(f"unknown model {str(name)!r}: use one of {', '.join(MODELS)}, or the path of a JSON "
                         f"model config (model.to_json())")
    from chainrule.keras.saving import model_from_config

    try:
        config = json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"cannot read the model config {path}: {error.strerror or error}") from error
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    return model_from_config(config, path)
