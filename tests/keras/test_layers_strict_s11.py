"""Keras layers and initializers on the strict backend (array-api-strict's arrays, which NumPy cannot read): what
sits above the ops must not call NumPy-only methods on a device's arrays (issue 17)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

from chainrule import backend, keras  # noqa: E402
from chainrule.engine.tensor import Tensor  # noqa: E402


@pytest.fixture
def strict():
    """Switch to the strict backend for one test, and back to the one before."""
    before = backend.current()
    backend.set_backend("strict")
    yield backend.get_backend()
    backend.set_backend(before)


@pytest.mark.parametrize("name", ["zeros", "ones", "glorot_uniform", "he_normal", "truncated_normal", "orthogonal",
                                  "identity"])
def test_initializers_return_tensors_on_the_device(strict, name):
    value = keras.initializers.get(name)((3, 3))
    assert isinstance(value, Tensor) and strict.owns(value.data)
    assert value.numpy().shape == (3, 3)


def test_initializer_values_equal_numpys(strict):
    on_strict = keras.initializers.GlorotUniform(seed=3)((4, 5)).numpy()
    backend.set_backend("numpy")
    assert np.array_equal(on_strict, keras.initializers.GlorotUniform(seed=3)((4, 5)).numpy())


def test_masking_on_the_device(strict):
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], "float32")
    out = keras.layers.Masking(mask_value=0.0)(backend.to_device(x))
    assert strict.owns(out.data) and strict.owns(out._keras_mask.data)
    assert backend.to_host(out._keras_mask.data).tolist() == [[True, False, True]]
    assert out.numpy().tolist() == x.tolist()
