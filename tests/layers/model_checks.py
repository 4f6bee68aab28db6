"""Checks of a layer inside a model: one training step through it, and a save / load_model round trip."""
from __future__ import annotations

import json

import numpy as np

from chainrule import keras
from chainrule.keras import layers


def model_around(layer, input_shape: tuple, units: int = 3):
    """Input -> layer -> Flatten -> Dense(units): a model whose loss reaches the layer's output."""
    return keras.Sequential([keras.Input(input_shape), layer, layers.Flatten(), layers.Dense(units)])


def check_trains_and_reloads(layer, x: np.ndarray, tmp_path, units: int = 3) -> None:
    """Fit one batch through ``layer`` (its weights change, the loss is finite, gradients reach what is before it),
    then save the model and load it back: same config, same weights, same predictions."""
    model = model_around(layer, x.shape[1:], units)
    before = [w.copy() for w in layer.get_weights()]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    y = np.random.default_rng(1).standard_normal((x.shape[0], units)).astype("float32")
    history = model.fit(x, y, batch_size=x.shape[0], epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    for old, new in zip(before, layer.get_weights()):
        assert not np.array_equal(old, new), f"a weight of {layer.name} did not change in a training step"
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    twin = loaded.layers[0]
    assert type(twin) is type(layer)
    assert json.dumps(twin.get_config(), sort_keys=True) == json.dumps(layer.get_config(), sort_keys=True)
    for mine, theirs in zip(layer.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
