"""Checks every layer test runs: weights round trip, config round trip, gradients reaching every trainable weight."""
from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr


def rand(*shape, seed: int = 0, dtype="float32") -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def check_weights_round_trip(layer) -> None:
    """set_weights(get_weights()) restores values; wrong shapes and counts raise errors that say what is wrong."""
    original = layer.get_weights()
    assert original, "the layer has no weights to check"
    changed = [w + np.float32(0.5) for w in original]
    layer.set_weights(changed)
    for got, want in zip(layer.get_weights(), changed):
        np.testing.assert_array_equal(got, want)
    got = layer.get_weights()
    got[0][...] = 123.0  # get_weights returns copies
    assert not np.any(layer.get_weights()[0] == 123.0)
    wrong = [np.zeros(w.shape + (1,), w.dtype) if i == 0 else w for i, w in enumerate(original)]
    with pytest.raises(ValueError) as e:
        layer.set_weights(wrong)
    assert layer.name in str(e.value) and str(original[0].shape) in str(e.value) and str(wrong[0].shape) in str(e.value)
    with pytest.raises(ValueError, match=f"expects {len(original)} weights"):
        layer.set_weights(original[:-1])
    layer.set_weights(original)


def check_config_round_trip(layer, x, **call_kwargs) -> None:
    """from_config(get_config()) after a JSON round trip gives the same config and, with the same weights, the same
    outputs."""
    config = layer.get_config()
    text = json.dumps(config)  # JSON-serializable
    clone = type(layer).from_config(json.loads(text))
    assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(json.loads(text), sort_keys=True)
    want = layer(x, **call_kwargs).numpy()
    got_first = clone(x, **call_kwargs)  # builds the clone
    if layer.weights:
        clone.set_weights(layer.get_weights())
        got_first = clone(x, **call_kwargs)
    np.testing.assert_allclose(got_first.numpy(), want, rtol=1e-6, atol=1e-6)


def check_gradients_reach_weights(layer, x, **call_kwargs) -> list:
    """Every trainable weight gets a finite, non-zero gradient of a random projection of the output."""
    if not layer.built:
        layer(x, **call_kwargs)
    assert layer.trainable_variables, "no trainable weights"
    with cr.GradientTape() as tape:
        y = layer(x, training=True, **call_kwargs) if layer._call_takes_training() else layer(x, **call_kwargs)
        loss = cr.reduce_sum(y * rand(*y.shape, seed=7))
    grads = tape.gradient(loss, layer.trainable_variables)
    for var, g in zip(layer.trainable_variables, grads):
        assert g is not None, f"no gradient for {var.name}"
        assert g.shape == var.shape and g.dtype == var.dtype
        assert np.all(np.isfinite(g.numpy())) and np.any(g.numpy() != 0), f"zero gradient for {var.name}"
    return grads
