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
from chainrule.keras.models import Sequential

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


MODELS: dict[str, Callable[..., Sequential]] = {"cnn": cnn, "mlp": mlp, "deep-cnn": deep_cnn, "lstm": lstm}


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
